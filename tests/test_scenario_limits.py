"""`rung test` under hostile scenario files: YAML features, huge numbers, endless steps.

Every bad file gives `ERROR file:line: message`, never a traceback or a hang."""

import os
import subprocess
import sys

import pytest
from conftest import EXAMPLES, ROOT

from rung.cli import main
from rung.emulator import scenario_runner
from rung.emulator.commands import test as test_command
from rung.emulator.scenario import MAX_SCANS, load
from rung.emulator.scenario_yaml import MAX_DEPTH, MAX_VALUES, Refused, compose

MOTOR = os.path.join(EXAMPLES, "motor.rung")
TANK = os.path.join(EXAMPLES, "tank.rung")
HEAD = "program: PROGRAM\ntests:\n  - name: x\n    steps:\n"
BIG = "9" * 400


def write(tmp_path, text, program=MOTOR, name="s.test.yaml"):
    path = tmp_path / name
    path.write_text(text.replace("PROGRAM", program))
    return str(path)


def rung_test(capsys, *args):
    """`rung test ARGS` in this process: an exception would fail the test with its traceback."""
    code = main(["test", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_error(capsys, path, line, message, *args):
    code, out, _err = rung_test(capsys, path, *args)
    assert code == 1
    assert f"ERROR {path}:{line}: " in out and message in out, out
    assert out.strip().endswith("0 passed, 1 failed"), out


@pytest.mark.parametrize(
    "steps,line,message",
    [
        ("      - scan: !foo 1\n", 5, "the YAML tag `!foo` is not supported"),
        (
            "      - scan: !!python/object:os.system 1\n",
            5,
            "the YAML tag `!!python/object:os.system` is not supported",
        ),
        ("      - set: !!python/object/apply:os.getpid {}\n", 5, "YAML tag"),
        ("      - set: {motor: !!binary aGk=}\n", 5, "the YAML tag `!!binary`"),
        ("      - scan: 1\n      - set: !foo {motor: true}\n", 6, "the YAML tag `!foo`"),
        ("      - set: {<<: {motor: true}}\n", 5, "merge keys (`<<`) are not supported"),
        ("      - &s {scan: 1}\n      - {<<: *s}\n", 6, "merge keys (`<<`) are not supported"),
        ("      - set: {temp: " + BIG + "}\n", 5, "`temp` is an int: 999999999999...999999"),
        ("      - expect: {temp: " + BIG + "}\n", 5, "(400 digits) is outside -32768..32767"),
        ("      - set: {starts: -" + BIG + "}\n", 5, "`starts` is a dint: -99999999999"),
        ("      - set: {fan_runon.PT: " + BIG + "}\n", 5, "longer than the 24.8 days"),
        ("      - scan: " + "9" * 5000 + "\n", 5, "a number of 5000 digits is far too large"),
        ("      - run: " + "9" * 5000 + "s\n", 5, "a test may run at most 10,000,000"),
        ("      - set: {motor: true, motor: false}\n", 5, "`motor` appears twice"),
        ("      - &a [*a]\n", 5, "the alias `*a` is inside the value it names"),
        ("      - scan: *nowhere\n", 5, "not valid YAML: found undefined alias"),
        ("      - scan: 1\x07\n", 5, "not valid YAML: unacceptable character #x0007"),
        ("      - run: 2001-01-01\n", 5, "`2001-01-01` is not a duration"),
    ],
)
def test_yaml_features_and_huge_numbers_are_errors_at_their_line(
    capsys, tmp_path, steps, line, message
):
    assert_error(capsys, write(tmp_path, HEAD + steps), line, message)


@pytest.mark.parametrize(
    "steps,message",
    [
        ("      - set: {pump_hours: " + BIG + "}\n", "(400 digits) is outside -3.4028235e38.."),
        ("      - expect: {pump_hours: " + BIG + "}\n", "`pump_hours` is a real: 999999"),
        ("      - expect: {pump_hours: -" + BIG + ".5}\n", "`pump_hours` is a real"),
        ("      - set: {pump_hours: 1e39}\n", "1e39 is outside -3.4028235e38..3.4028235e38"),
        ("      - set: {pump_hours: 1.0e+400}\n", "1.0e+400 is outside"),
        ("      - expect: {pump_hours: {value: 1, within: .nan}}\n", "`within` needs a non-neg"),
    ],
)
def test_reals_beyond_a_real_and_a_nan_tolerance_are_errors(capsys, tmp_path, steps, message):
    assert_error(capsys, write(tmp_path, HEAD + steps, program=TANK), 5, message)


def test_deep_nesting_is_refused_at_its_line(capsys, tmp_path):
    # the YAML composer recurses once per level: 1,000 levels was a RecursionError
    flow = write(tmp_path, HEAD + "      - set: " + "[" * 1000 + "\n", name="flow.yaml")
    assert_error(capsys, flow, 5, f"nested more than {MAX_DEPTH} levels deep")
    block = "".join(" " * (8 + 2 * i) + f"k{i}:\n" for i in range(1000))
    deep = write(tmp_path, HEAD + "      - set:\n" + block, name="block.yaml")
    assert_error(capsys, deep, 5 + MAX_DEPTH - 4, f"nested more than {MAX_DEPTH} levels deep")


def test_aliases_cannot_multiply_the_work(capsys, tmp_path):
    # 600 tests x 600 steps from a 20 KB file: 1.8 million values once expanded
    steps = "[" + ", ".join(["*st"] * 600) + "]"
    text = "program: PROGRAM\ntests:\n  - {name: t0, steps: &l [&st {set: {motor: true}}]}\n"
    text += "  - {name: t1, steps: &all " + steps + "}\n"
    text += "".join(f"  - {{name: t{i}, steps: *all}}\n" for i in range(2, 600))
    path = write(tmp_path, text)
    assert os.path.getsize(path) < 30_000
    code, out, _err = rung_test(capsys, path)
    assert code == 1 and f"ERROR {path}:" in out
    assert f"expands to more than {MAX_VALUES:,} values through aliases" in out, out


def test_billion_laughs_is_refused_while_composing():
    lines = ["a: &a [" + ", ".join(["lol"] * 10) + "]"]
    for i in range(1, 10):
        lines.append(
            f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]"
        )
    with pytest.raises(Refused) as info:
        compose("\n".join(lines) + "\n")
    assert info.value.mark.line + 1 == 6  # the first list past a million values
    assert "through aliases" in info.value.message


def test_aliases_within_the_limit_still_work(capsys, tmp_path):
    text = (
        "program: PROGRAM\ntests:\n"
        "  - name: a\n    steps: &start\n      - set: {start_pb: true, stop_pb: true}\n"
        "      - scan: 1\n      - expect: {motor: true}\n"
        "  - name: b\n    steps: *start\n"
    )
    code, out, _err = rung_test(capsys, write(tmp_path, text))
    assert code == 0 and out.strip().endswith("2 passed, 0 failed"), out


def test_reals_with_an_exponent_and_nan(capsys, tmp_path):
    # YAML 1.1 reads 1e-3 as a string; an expected NaN matches a NaN and nothing else
    text = HEAD + (
        "      - set: {pump_hours: 2.5e3}\n      - scan: 1\n"
        "      - expect: {pump_hours: {value: 25e2, within: 1e-3}}\n"
        "      - set: {pump_hours: .nan}\n      - scan: 1\n"
        "      - expect: {pump_hours: .nan}\n"
        "      - expect: {pump_hours: {value: .nan, within: 1}}\n"
        "      - set: {pump_hours: -.inf}\n      - scan: 1\n"
        "      - expect: {pump_hours: {value: -.inf, within: 1}}\n"
        "  - name: a number is not NaN\n    steps:\n      - scan: 1\n"
        "      - expect: {pump_hours: .nan}\n"
        "  - name: NaN is not a number\n    steps:\n"
        "      - set: {pump_hours: .nan}\n      - scan: 1\n"
        "      - expect: {pump_hours: {value: 0, within: 1e30}}\n"
    )
    code, out, _err = rung_test(capsys, write(tmp_path, text, program=TANK))
    assert "PASS" in out and "expected pump_hours = nan, got 0.0" in out, out
    assert "expected pump_hours = 0.0 ± 1e+30, got nan" in out
    assert out.strip().endswith("1 passed, 2 failed")


@pytest.mark.parametrize(
    "steps,scans",
    [
        ("      - scan: 100000000000000000000\n", "100,000,000,000,000,000,000"),
        ("      - run: 1000h\n", "360,000,000"),
        ("      - expect_within: 1000000h\n        expect: {motor: true}\n", "360,000,000,000"),
    ],
)
def test_endless_steps_are_refused_before_running(tmp_path, steps, scans):
    # a subprocess with a deadline: before the limit these ran for hours
    path = write(tmp_path, HEAD + steps)
    proc = subprocess.run(
        [sys.executable, "-m", "rung.cli", "test", path],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"ERROR {path}:5: this step would run {scans} scans" in proc.stdout, proc.stdout
    assert f"a test may run at most {MAX_SCANS:,} (27h46m40s of virtual time" in proc.stdout
    assert "rung test --max-scans N" in proc.stdout


def test_the_scan_limit_counts_the_whole_test_and_can_be_changed(capsys, tmp_path):
    path = write(tmp_path, HEAD + "      - run: 1s\n      - scan: 50\n      - run: 1s\n")
    assert_error(
        capsys, path, 7, "with this step the test would run 250 scans", "--max-scans", "200"
    )
    code, out, _err = rung_test(capsys, path, "--max-scans", "250")
    assert code == 0, out
    with pytest.raises(SystemExit):
        main(["test", path, "--max-scans", "0"])
    assert "--max-scans: needs a whole number of scans" in capsys.readouterr().err


def test_long_steps_say_they_are_still_running(capsys, tmp_path, monkeypatch):
    # a fake clock: 4 s pass on every reading, so a report is due every third slice
    ticks = iter(range(0, 10**6, 4))
    monkeypatch.setattr(test_command, "_clock", lambda: next(ticks))
    monkeypatch.setattr(scenario_runner, "SLICE", 100)
    path = write(tmp_path, HEAD + "      - run: 30s\n      - scan: 1000\n")
    code, out, err = rung_test(capsys, path)
    assert code == 0, out
    lines = err.splitlines()
    assert (
        lines[0] == f"...   {path}: x: still running after 12 s, step 1 (run, line 5) at t=3.000s"
    )
    assert any("step 2 (scan, line 6)" in line for line in lines), err
    # 29 + 9 slice ends read the clock at 4 s, 8 s, ... 152 s: a report at every third one
    assert len(lines) == 12 and "after 144 s, step 2" in lines[-1]


def test_slicing_a_long_step_changes_nothing(tmp_path, monkeypatch):
    text = HEAD + (
        "      - set: {start_pb: true, stop_pb: true}\n      - run: 12345ms\n"
        "      - scan: 777\n      - set: {stop_pb: false}\n"
        "      - expect_within: 29s\n        expect: {fan: false}\n"
    )
    path = write(tmp_path, text)
    cache = test_command._ProgramCache()
    case = load(path, cache.program_for).cases[0]
    code = cache.code[MOTOR]
    whole = scenario_runner.run_case(code, case)
    monkeypatch.setattr(scenario_runner, "SLICE", 7)
    sliced = scenario_runner.run_case(code, case)
    assert whole is not None and sliced is not None  # the run-on is 30 s
    assert (whole.step_index, whole.time_ms, whole.details) == (
        sliced.step_index,
        sliced.time_ms,
        sliced.details,
    )


def test_a_broken_program_is_reported_at_the_program_key(capsys, tmp_path):
    (tmp_path / "bad.rung").write_text("program p\nrung: nope -> q\n")
    (tmp_path / "bin.rung").write_bytes(b"program p\0\xff")
    (tmp_path / "dir.rung").mkdir()
    for name, message in [
        ("bad.rung", "the program bad.rung does not compile:"),
        ("bin.rung", "the program bin.rung does not compile:"),
        ("dir.rung", "it is a directory"),
    ]:
        text = "# a comment\n\nprogram: " + name + "\ntests:\n  - name: x\n    steps: [restart]\n"
        path = write(tmp_path, text, name=name + ".yaml")
        assert_error(capsys, path, 3, message)
    code, out, _err = rung_test(capsys, str(tmp_path / "bad.rung.yaml"))
    assert "error[E010]" in out


def test_a_program_that_compiles_but_does_not_load_is_reported_there(
    capsys, tmp_path, monkeypatch
):
    from rung.runtime.container import LoadError

    def refuse(code):
        raise LoadError("initial value 32768 out of range for int")

    monkeypatch.setattr(test_command, "Runtime", refuse)
    path = write(tmp_path, "tests:\n  - name: x\n    steps: [restart]\nprogram: PROGRAM\n")
    assert_error(capsys, path, 4, "compiles but does not load: initial value 32768 out of range")
