"""`rung check PROG.rung [--json]`: report every diagnostic; exit 1 on errors."""

import sys

from ..api import compile_file
from ..diagnostics import CompileError, render_all, to_json


def add_arguments(parser):
    parser.add_argument("program", help="a .rung source file")
    parser.add_argument("--json", action="store_true", help="machine-readable diagnostics")


def run(args):
    try:
        program = compile_file(args.program)
    except CompileError as exc:
        if args.json:
            print(to_json(exc.diagnostics))
        else:
            print(exc.render(), file=sys.stderr)
            errors = sum(1 for d in exc.diagnostics if d.is_error)
            print(
                f"\n{args.program}: {errors} error(s), "
                f"{len(exc.diagnostics) - errors} warning(s)",
                file=sys.stderr,
            )
        return 1
    if args.json:
        print(to_json(program.warnings))
        return 0
    if program.warnings:
        from ..api import read_source

        print(render_all(program.warnings, read_source(args.program)), file=sys.stderr)
        print(file=sys.stderr)
    img = program.image
    print(
        f"{args.program}: ok: program {program.name}, {len(img.rungs)} rungs, "
        f"{len(img.vars)} variables, {len(img.blocks)} timers/counters, "
        f"{len(program.warnings)} warning(s)"
    )
    return 0
