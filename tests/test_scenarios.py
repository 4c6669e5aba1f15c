"""`rung test`: scenario format, error reporting with file and line, virtual time."""

import glob
import os
import subprocess
import sys
import time

import pytest
from conftest import EXAMPLES, ROOT

PROGRAM = os.path.join(EXAMPLES, "motor.rung")


def rung_test(*files):
    proc = subprocess.run(
        [sys.executable, "-m", "rung.cli", "test", *files],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc.returncode, proc.stdout


def write(tmp_path, text, name="s.test.yaml"):
    path = tmp_path / name
    path.write_text(text.replace("PROGRAM", PROGRAM))
    return str(path)


def test_every_example_has_a_passing_scenario_file():
    programs = sorted(glob.glob(os.path.join(EXAMPLES, "*.rung")))
    scenarios = [p[:-5] + ".test.yaml" for p in programs]
    missing = [s for s in scenarios if not os.path.exists(s)]
    assert not missing
    code, out = rung_test(*scenarios)
    assert code == 0, out
    last = out.strip().splitlines()[-1]
    passed = int(last.split()[0])
    assert last == f"{passed} passed, 0 failed" and passed >= 3 * len(programs)


def test_failure_shows_step_line_expected_actual_and_time(tmp_path):
    path = write(
        tmp_path,
        """program: PROGRAM
tests:
  - name: ok
    steps:
      - scan: 1
  - name: wrong
    steps:
      - set: {stop_pb: true}
      - run: 1500ms
      - expect: {motor: true, fan: false}
""",
    )
    code, out = rung_test(path)
    assert code == 1
    assert f"PASS  {path}: ok" in out and f"FAIL  {path}: wrong" in out
    assert "step 3 (expect, line 10) at t=1.500s:" in out
    assert "expected motor = true, got false" in out
    assert out.strip().endswith("1 passed, 1 failed")


def test_expect_within_reports_the_wait(tmp_path):
    path = write(
        tmp_path,
        """program: PROGRAM
tests:
  - name: fan never stops while running
    steps:
      - set: {start_pb: true, stop_pb: true}
      - scan: 1
      - expect_within: 2s
        expect: {fan: false}
""",
    )
    code, out = rung_test(path)
    assert code == 1 and "not true within 2000 ms" in out and "t=2.010s" in out


def test_one_hour_of_virtual_time_runs_fast(tmp_path):
    path = write(
        tmp_path,
        """program: PROGRAM
tests:
  - name: an hour of running
    steps:
      - set: {start_pb: true, stop_pb: true}
      - run: 1h
      - expect: {motor: true, "service.CV": 0}
""",
    )
    t0 = time.monotonic()
    code, out = rung_test(path)
    assert code == 0, out
    # 360 000 scans; the whole command, interpreter start included, stays well under the
    # hour it simulates (not a timing assertion on the logic: a guard against real waits)
    assert time.monotonic() - t0 < 60


def test_reals_with_tolerance_and_times(tmp_path):
    tank = os.path.join(EXAMPLES, "tank.rung")
    path = tmp_path / "t.test.yaml"
    path.write_text(f"""program: {tank}
tests:
  - name: tolerance
    steps:
      - set: {{pump_hours: 2.5, "no_rise.PT": 30s}}
      - scan: 1
      - expect: {{pump_hours: {{value: 2.4, within: 0.2}}, "no_rise.PT": 30000}}
""")
    code, out = rung_test(str(path))
    assert code == 0, out


@pytest.mark.parametrize(
    "body,line,message",
    [
        ("tests:\n  - name: x\n    steps: []\n", 1, "missing `program: PATH`"),
        (
            "program: PROGRAM\ntests:\n  - name: x\n    steps:\n      - set: {motr: true}\n",
            5,
            "unknown variable `motr`; did you mean `motor`?",
        ),
        (
            "program: PROGRAM\ntests:\n  - name: x\n    steps:\n      - sett: {motor: true}\n",
            5,
            "unknown step `sett`; did you mean `set`?",
        ),
        (
            "program: PROGRAM\ntests:\n  - name: x\n    steps:\n      - set: {motor: 3}\n",
            5,
            "`motor` is a bool: use true or false, not 3",
        ),
        (
            "program: PROGRAM\ntests:\n  - name: x\n    steps:\n      - run: soon\n",
            5,
            "`soon` is not a duration",
        ),
        (
            "program: PROGRAM\ntests:\n  - name: x\n    steps:\n      - scan: 0\n",
            5,
            "`scan` needs a number of scans",
        ),
        (
            "program: PROGRAM\ntests:\n  - name: x\n    steps:\n      - set: {SERVICE_EVERY: 3}\n",
            5,
            "`SERVICE_EVERY` is a constant",
        ),
        (
            "program: PROGRAM\ntests:\n  - name: x\n    steps:\n\n      - expect: {fan: true}\n"
            "        scan: 1\n",
            6,
            "one action per step",
        ),
        ("program: missing.rung\ntests: []\n", 1, "program file not found"),
        (
            "program: PROGRAM\ntests:\n  - name: x\n    steps:\n      - expect: {temp: true}\n",
            5,
            "`temp` is an integer",
        ),
        ("program: PROGRAM\ntests: [\n", 3, "not valid YAML"),
        (
            "program: PROGRAM\ntests:\n  - name: x\n    steps:\n      - set: {temp: 40000}\n",
            5,
            "`temp` is an int: 40000 is outside -32768..32767",
        ),
        (
            "program: PROGRAM\ntests:\n  - name: x\n    steps:\n      - restart: 5\n",
            5,
            "`restart` takes no value",
        ),
        (
            "program: PROGRAM\ntests:\n  - name: x\n    steps:\n      - run: 5s5s\n",
            5,
            "`5s5s` is not a duration",
        ),
    ],
)
def test_scenario_errors_name_file_and_line(tmp_path, body, line, message):
    path = write(tmp_path, body)
    code, out = rung_test(path)
    assert code == 1
    assert f"ERROR {path}:{line}: " in out and message in out, out
    assert out.strip().endswith("0 passed, 1 failed")


def test_broken_program_is_reported_with_its_diagnostics(tmp_path):
    bad = tmp_path / "bad.rung"
    bad.write_text("program p\nrung: nope -> q\n")
    path = tmp_path / "b.test.yaml"
    path.write_text("program: bad.rung\ntests:\n  - name: x\n    steps: [restart]\n")
    code, out = rung_test(str(path))
    assert code == 1 and "does not compile" in out and "error[E010]" in out


def test_missing_file_is_an_error_not_a_traceback(tmp_path):
    code, out = rung_test(str(tmp_path / "nope.yaml"))
    assert code == 1 and "cannot read the scenario" in out


def test_a_malformed_test_fails_alone_and_the_others_run(tmp_path):
    good = "  - name: GOOD\n    steps:\n      - scan: 1\n      - expect: {motor: false}\n"
    bad = "  - name: broken\n    steps:\n      - set: {motr: true}\n"
    path = write(
        tmp_path,
        "program: PROGRAM\ntests:\n"
        + good.replace("GOOD", "one")
        + bad
        + good.replace("GOOD", "two"),
    )
    code, out = rung_test(path)
    assert code == 1
    assert f"PASS  {path}: one" in out and f"PASS  {path}: two" in out
    assert f"ERROR {path}:9: unknown variable `motr`" in out and "(test `broken`)" in out
    assert out.strip().endswith("2 passed, 1 failed")
