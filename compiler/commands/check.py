"""`rung check PROG.rung [--json] [--board NAME]`: report every diagnostic; exit 1 on errors."""

import sys

from ..api import compile_file
from ..diagnostics import CompileError, render_all, to_json


def add_arguments(parser):
    parser.add_argument("program", help="a .rung source file")
    parser.add_argument("--json", action="store_true", help="machine-readable diagnostics")
    parser.add_argument(
        "--board", metavar="NAME", help="also reject addresses that board NAME lacks (rung boards)"
    )


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
    if getattr(args, "board", None) and _board_misfits(args, program):
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


def _board_misfits(args, program):
    """Print the addresses board NAME lacks; True if there are any."""
    from rung.boards import BoardError, load_board
    from rung.errors import CommandError

    try:
        board = load_board(args.board)
    except BoardError as exc:
        raise CommandError(str(exc)) from None
    misfits = board.misfits(program.image)
    for text in misfits:
        print(f"{args.program}: error: {text}", file=sys.stderr)
    if misfits:
        print(f"\n{args.program}: does not fit board {board.name}", file=sys.stderr)
    return bool(misfits)
