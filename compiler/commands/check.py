"""`rung check PROG.rung... [--json] [--board NAME]`: report every diagnostic of each file;
exit 1 if any file has errors (or, with --board, uses an address the board lacks)."""

import sys

from ..api import compile_source, read_source
from ..diagnostics import CompileError, render_all, to_json


def add_arguments(parser):
    parser.add_argument("programs", nargs="+", metavar="PROG", help=".rung source files")
    parser.add_argument("--json", action="store_true", help="machine-readable diagnostics")
    parser.add_argument(
        "--board", metavar="NAME", help="also reject addresses that board NAME lacks (rung boards)"
    )


class Result:
    """What checking one file found: its diagnostics, and the program if it compiled."""

    def __init__(self, path, diagnostics, source=None, program=None):
        self.path = path
        self.diagnostics = diagnostics
        self.source = source
        self.program = program
        self.misfits = []  # addresses the --board lacks

    @property
    def errors(self):
        return sum(1 for d in self.diagnostics if d.is_error)

    @property
    def failed(self):
        return bool(self.errors or self.misfits)


def check_file(path):
    """Compile one file and collect its diagnostics (warnings too) without printing."""
    try:
        source = read_source(path)
    except CompileError as exc:
        return Result(path, exc.diagnostics)
    try:
        program = compile_source(source, path)
    except CompileError as exc:
        return Result(path, exc.diagnostics, source)
    return Result(path, program.warnings, source, program)


def run(args):
    board = _board(args.board) if getattr(args, "board", None) else None
    results = [check_file(path) for path in args.programs]
    if board is not None:
        for r in results:
            if r.program is not None:
                r.misfits = board.misfits(r.program.image)
    if args.json:  # one list for every file: each diagnostic names its file
        print(to_json([d for r in results for d in r.diagnostics]))
        for r in results:
            _print_misfits(r, board)
    else:
        for r in results:
            _print(r, board)
        if len(results) > 1:
            bad = sum(1 for r in results if r.failed)
            print(f"{len(results)} files checked, {bad} with errors", file=sys.stderr)
    return 1 if any(r.failed for r in results) else 0


def _print(r, board):
    if r.diagnostics:
        print(render_all(r.diagnostics, r.source), file=sys.stderr)
        print(file=sys.stderr)
    warnings = len(r.diagnostics) - r.errors
    if r.program is None:
        print(f"{r.path}: {r.errors} error(s), {warnings} warning(s)", file=sys.stderr)
        return
    if _print_misfits(r, board):
        return
    img = r.program.image
    print(
        f"{r.path}: ok: program {r.program.name}, {len(img.rungs)} rungs, "
        f"{len(img.vars)} variables, {len(img.blocks)} timers/counters, "
        f"{warnings} warning(s)"
    )


def _board(name):
    from rung.boards import BoardError, load_board
    from rung.errors import CommandError

    try:
        return load_board(name)
    except BoardError as exc:
        raise CommandError(str(exc)) from None


def _print_misfits(r, board):
    """Print the addresses the board lacks; True if there are any."""
    for text in r.misfits:
        print(f"{r.path}: error: {text}", file=sys.stderr)
    if r.misfits:
        print(f"\n{r.path}: does not fit board {board.name}", file=sys.stderr)
    return bool(r.misfits)
