"""`rung test FILE...`: run scenario files; the last line is `N passed, M failed`."""

from rung.compiler.api import compile_file
from rung.compiler.diagnostics import CompileError
from rung.runtime import Runtime

from ..scenario import ScenarioError, load
from ..scenario_runner import run_case


def add_arguments(parser):
    parser.add_argument("files", nargs="+", metavar="FILE", help="scenario files (.yaml)")


class _ProgramCache:
    """Each program is compiled once per run, whatever the number of scenarios using it."""

    def __init__(self):
        self.code = {}

    def names_for(self, path):
        if path not in self.code:
            try:
                self.code[path] = compile_file(path).to_bytes()
            except CompileError as exc:
                raise _ProgramBroken(exc.render()) from None
        return Runtime(self.code[path]).names()


class _ProgramBroken(Exception):
    pass


def run(args):
    passed = failed = 0
    cache = _ProgramCache()
    for path in args.files:
        try:
            scenario = load(path, cache.names_for)
        except ScenarioError as exc:
            print(f"ERROR {exc}")
            failed += 1
            continue
        except _ProgramBroken as exc:
            print(f"ERROR {path}: the program does not compile:\n{exc}")
            failed += 1
            continue
        code = cache.code[scenario.program_path]
        for case in scenario.cases:
            if case.error is not None:
                failed += 1
                print(f"ERROR {case.error} (test `{case.name}`)")
                continue
            failure = run_case(code, case)
            if failure is None:
                passed += 1
                print(f"PASS  {path}: {case.name}")
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
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
