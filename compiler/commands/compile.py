"""`rung compile PROG.rung [-o OUT.rbc]`: write the bytecode file."""

import os
import sys

from rung.errors import CommandError

from ..api import compile_source, read_source
from ..diagnostics import CompileError, render_all


def add_arguments(parser):
    parser.add_argument("program", help="a .rung source file")
    parser.add_argument("-o", "--output", help="output file (default: PROG.rbc beside the source)")
    parser.add_argument(
        "--no-debug", action="store_true", help="leave out the debug section (names, rung lines)"
    )


def run(args):
    try:
        source = read_source(args.program)
        program = compile_source(source, args.program, debug=not args.no_debug)
    except CompileError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    if program.warnings:
        print(render_all(program.warnings, source) + "\n", file=sys.stderr)
    out = args.output or os.path.splitext(args.program)[0] + ".rbc"
    data = program.to_bytes()
    try:
        with open(out, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(
        f"{out}: {len(data)} bytes, {len(program.image.rungs)} rungs, "
        f"CRC32 {program.image.crc:08x}"
    )
    return 0
