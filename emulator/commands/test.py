"""`rung test FILE...`: run scenario files; the last line is `N passed, M failed`."""

import argparse
import sys
import time

from rung.compiler.api import compile_file
from rung.compiler.diagnostics import CompileError
from rung.runtime import Runtime
from rung.runtime.container import LoadError

from ..scenario import MAX_SCANS, ProgramError, ScenarioError, load
from ..scenario_runner import run_case

# A test still running after this many seconds of wall-clock time says so on stderr, and
# again every as many seconds.
PROGRESS_EVERY_S = 10.0
_clock = time.monotonic  # wall-clock seconds; tests replace it


def add_arguments(parser):
    parser.add_argument("files", nargs="+", metavar="FILE", help="scenario files (.yaml)")
    parser.add_argument(
        "--max-scans",
        type=_count,
        default=MAX_SCANS,
        metavar="N",
        help=f"the most scans one test may run (default {MAX_SCANS:,}); longer tests are "
        "refused before they start",
    )


def _count(text):
    try:
        n = int(text.replace("_", ""))
    except ValueError:
        n = 0
    if not 1 <= n <= 10**12:
        raise argparse.ArgumentTypeError(f"needs a whole number of scans from 1, not {text!r}")
    return n


class _ProgramCache:
    """Each program is compiled once per run, whatever the number of scenarios using it."""

    def __init__(self):
        self.code = {}
        self._info = {}

    def program_for(self, path):
        """(name table, cycle ms) of a program, or ProgramError saying why there is none."""
        if path not in self._info:
            try:
                code = compile_file(path).to_bytes()
            except CompileError as exc:
                raise ProgramError("does not compile:\n" + exc.render()) from None
            try:
                runtime = Runtime(code)
            except LoadError as exc:
                raise ProgramError(f"compiles but does not load: {exc}") from None
            self.code[path] = code
            self._info[path] = (runtime.names(), runtime.cycle_ms)
        return self._info[path]


class _Progress:
    """Says on stderr which test is still running, at most every PROGRESS_EVERY_S seconds."""

    def __init__(self, path, case, clock):
        self.where = f"{path}: {case.name}"
        self.clock = clock
        self.start = self.last = clock()

    def __call__(self, step_index, step, time_ms):
        now = self.clock()
        if now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        print(
            f"...   {self.where}: still running after {now - self.start:.0f} s, step "
            f"{step_index} ({step.kind}, line {step.line}) at t={time_ms / 1000:.3f}s",
            file=sys.stderr,
            flush=True,
        )


def run(args):
    passed = failed = 0
    cache = _ProgramCache()
    for path in args.files:
        try:
            scenario = load(path, cache.program_for, max_scans=args.max_scans)
        except ScenarioError as exc:
            print(f"ERROR {exc}")
            failed += 1
            continue
        code = cache.code[scenario.program_path]
        for case in scenario.cases:
            if case.error is not None:
                failed += 1
                print(f"ERROR {case.error} (test `{case.name}`)")
                continue
            failure = run_case(code, case, tick=_Progress(path, case, _clock))
            if failure is None:
                passed += 1
                print(f"PASS  {path}: {case.name}", flush=True)
                continue
            failed += 1
            print(f"FAIL  {path}: {case.name}")
            step = failure.step
            print(
                f"      step {failure.step_index} ({step.kind}, line {step.line}) "
                f"at t={failure.time_ms / 1000:.3f}s:"
            )
            for line in failure.details:
                print("        " + line)
            sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
