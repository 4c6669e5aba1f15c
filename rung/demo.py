"""`rung demo` (what `make demo` runs): the tank example, drawn, then served by the emulator."""

import os

from rung.errors import CommandError

EXAMPLE = "tank.rung"


def _examples_dir():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(here, "examples")


def add_arguments(parser):
    parser.add_argument(
        "--no-sim", action="store_true", help="only compile and show the program, do not serve it"
    )
    parser.add_argument("--tcp", default="127.0.0.1:5020", help="Modbus TCP address to serve")


def run(args):
    from rung.cli import main as rung_main

    path = os.path.join(_examples_dir(), EXAMPLE)
    if not os.path.exists(path):
        raise CommandError("example program not found: " + path)
    rel = os.path.relpath(path)
    print("== Rung demo: " + rel + " ==\n")
    code = rung_main(["draw", rel])
    if code:
        return code
    if args.no_sim:
        return rung_main(["dis", rel])
    print("\nStarting the emulator; stop it with Ctrl-C.\n")
    return rung_main(["sim", rel, "--tcp", args.tcp])
