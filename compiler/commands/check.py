"""`rung check PROG.rung... [--json]`: report every diagnostic of each file; exit 1 if any
file has errors."""

import sys

from ..api import compile_source, read_source
from ..diagnostics import CompileError, render_all, to_json


def add_arguments(parser):
    parser.add_argument("programs", nargs="+", metavar="PROG", help=".rung source files")
    parser.add_argument("--json", action="store_true", help="machine-readable diagnostics")


class Result:
    """What checking one file found: its diagnostics, and the program if it compiled."""

    def __init__(self, path, diagnostics, source=None, program=None):
        self.path = path
        self.diagnostics = diagnostics
        self.source = source
        self.program = program

    @property
    def errors(self):
        return sum(1 for d in self.diagnostics if d.is_error)


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
    results = [check_file(path) for path in args.programs]
    if args.json:  # one list for every file: each diagnostic names its file
        print(to_json([d for r in results for d in r.diagnostics]))
    else:
        for r in results:
            _print(r)
        if len(results) > 1:
            bad = sum(1 for r in results if r.errors)
            print(f"{len(results)} files checked, {bad} with errors", file=sys.stderr)
    return 1 if any(r.errors for r in results) else 0


def _print(r):
    if r.diagnostics:
        print(render_all(r.diagnostics, r.source), file=sys.stderr)
        print(file=sys.stderr)
    warnings = len(r.diagnostics) - r.errors
    if r.program is None:
        print(f"{r.path}: {r.errors} error(s), {warnings} warning(s)", file=sys.stderr)
        return
    img = r.program.image
    print(
        f"{r.path}: ok: program {r.program.name}, {len(img.rungs)} rungs, "
        f"{len(img.vars)} variables, {len(img.blocks)} timers/counters, "
        f"{warnings} warning(s)"
    )
