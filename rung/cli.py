"""The `rung` command: a table of subcommands, one error boundary.

Each subcommand lives in the module of its feature and exposes `add_arguments(parser)`
and `run(args) -> int`. Handlers raise `rung.errors.CommandError` for user errors; only
`main()` prints them, as one line, and sets the exit code.
"""

import argparse
import importlib
import sys

from rung.errors import CommandError

# name -> (module, one-line help)
COMMANDS = {
    "check": ("rung.compiler.commands.check", "check a program and print diagnostics"),
    "compile": ("rung.compiler.commands.compile", "compile a program to bytecode (.rbc)"),
    "dis": ("rung.compiler.commands.dis", "disassemble a program or .rbc file"),
    "draw": ("rung.compiler.commands.draw", "draw each rung as an ASCII ladder diagram"),
    "sim": ("rung.emulator.commands.sim", "run a program in real time behind Modbus"),
    "test": ("rung.emulator.commands.test", "run scenario files against programs"),
    "boards": ("rung.boards.commands.boards", "list the boards and their I/O"),
    "flash": ("rung.usb.flash", "make a board with MicroPython a PLC running a program"),
    "deploy": ("rung.usb.deploy", "replace the program on a board, atomically"),
    "config": ("rung.usb.config", "show or change a board's settings"),
    "status": ("rung.usb.status", "show a board's state over USB"),
    "demo": ("rung.demo", "run the demo (used by `make demo`)"),
    "monitor": ("rung.supervisor.commands.monitor", "live terminal monitor of a device"),
    "hmi": ("rung.supervisor.commands.hmi", "web HMI with a live ladder of a device"),
    "vboard": ("rung.vboard.command", "run a virtual board: the firmware on MicroPython's unix port"),
}


def build_parser(only=()):
    """The argument parser; every subcommand's module is imported for its arguments, or
    with `only` just those named (the others are listed in --help all the same)."""
    parser = argparse.ArgumentParser(prog="rung", description="Rung PLC toolchain")
    parser.add_argument("--version", action="version", version="rung " + _version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        if only and name not in only:
            continue  # not the command being run: its arguments are not needed
        try:
            importlib.import_module(module).add_arguments(p)
        except ImportError:
            p.set_defaults(_missing=True)
    return parser


def _version():
    from rung import __version__

    return __version__


def main(argv=None):
    """Entry point of the `rung` command; returns the process exit code."""
    words = sys.argv[1:] if argv is None else argv
    # only the command being run imports its module (the others pull in pymodbus, Textual,
    # aiohttp...); with none given (`rung --help`) none is imported
    command = next((w for w in words if not w.startswith("-")), None)
    parser = build_parser(only=(command,))
    args = parser.parse_args(argv)
    if getattr(args, "_missing", False):
        print(f"rung: command '{args.command}' is not available in this build", file=sys.stderr)
        return 2
    try:
        return importlib.import_module(args._module).run(args) or 0
    except CommandError as exc:
        print(f"rung {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
