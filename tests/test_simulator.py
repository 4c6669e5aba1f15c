"""rung.Simulator: the virtual clock, durations, restart and the ways to give it a program."""

import re

import pytest
from conftest import ROOT

import rung

SRC = """program clock
cycle 10ms
input go : bool at %IX0.0
output q : bool at %QX0.0
var scans : int
var kept : int retain
timer t : TON = 1s
rung: true -> scans := scans + 1
rung: first_scan -> kept := kept + 1
rung: go -> t
rung: t.Q -> q
"""


def make():
    return rung.Simulator(rung.compile_source(SRC, "clock.rung"))


def test_clock_starts_at_zero_and_each_scan_is_one_cycle():
    s = make()
    assert s.time_ms == 0 and s.cycle_ms == 10
    s.set("go", True)
    s.scan()
    # the first scan runs at t=0 (dt 0) and lasts one cycle
    assert s.time_ms == 10 and s.get("scans") == 1 and s.get("t.ET") == 0
    s.scan(3)
    assert s.time_ms == 40 and s.get("scans") == 4 and s.get("t.ET") == 30


def test_scan_n_from_a_fresh_simulator_lasts_n_cycles():
    s = make()
    s.set("go", True)
    s.scan(10)  # scans at 0, 10, ..., 90
    assert s.time_ms == 100 and s.get("scans") == 10 and s.get("t.ET") == 90
    s.scan(0)
    assert s.time_ms == 100 and s.get("scans") == 10


def test_run_for_advances_the_clock_by_exactly_the_duration():
    s = make()
    s.set("go", True)
    s.run_for("1s")  # scans at 0, 10, ..., 990
    assert s.time_ms == 1000 and s.get("scans") == 100
    assert s.get("t.ET") == 990 and s.get("q") is False
    s.scan()  # the scan at 1000 ms sees the timer done
    assert s.get("t.ET") == 1000 and s.get("q") is True
    s.run_for(25)  # not whole cycles: scans at 1010, 1020, 1030, then the clock stops
    assert s.time_ms == 1035 and s.get("scans") == 104
    s.run_for(0)
    assert s.time_ms == 1035 and s.get("scans") == 104
    s.run_for(3)  # shorter than a cycle: one scan, at 1035
    assert s.time_ms == 1038 and s.get("scans") == 105


@pytest.mark.parametrize("cycle", [1, 7, 10, 60000])
@pytest.mark.parametrize("duration", [1, 9, 10, 11, 100, 12345])
def test_run_for_and_scan_keep_one_clock(cycle, duration):
    """run_for(d) advances time_ms by d whatever the cycle; the scans it runs are the
    ones that start before the end, one cycle apart."""
    s = rung.Simulator(
        rung.compile_source(
            f"program c\ncycle {cycle}ms\nvar n : dint\n" "rung: true -> n := n + 1\n", "c.rung"
        )
    )
    s.scan(2)
    s.run_for(duration)
    assert s.time_ms == 2 * cycle + duration
    assert s.get("n") == 2 + -(-duration // cycle)


def test_time_values_are_integer_milliseconds_and_accept_durations():
    s = make()
    s.set("t.PT", "1m30s")
    assert s.get("t.PT") == 90000 and isinstance(s.get("t.PT"), int)
    s.set("t.PT", 250)
    s.set("go", True)
    s.run_for(250)  # scans at 0 .. 240
    assert s.get("q") is False and s.get("t.ET") == 240
    s.scan()
    assert s.get("q") is True and s.get("t.ET") == 250


@pytest.mark.parametrize("bad", ["abc", "5 parsecs", 2.5, True, None, -10, "-1s"])
def test_bad_durations_are_refused_with_the_value(bad):
    s = make()
    with pytest.raises(ValueError) as info:
        s.run_for(bad)
    assert repr(bad) in str(info.value)
    assert s.time_ms == 0 and s.get("scans") == 0  # nothing ran


def test_restart_is_a_power_cycle_and_the_clock_goes_on():
    s = make()
    s.set("go", True)
    s.run_for(500)
    s.restart()
    assert s.runtime.first_scan and s.get("scans") == 0 and s.get("t.ET") == 0
    assert s.get("kept") == 1  # retained
    s.scan()
    assert s.time_ms == 510 and s.get("kept") == 2 and not s.runtime.first_scan


def test_program_from_source_file_bytecode_file_bytes_or_program(tmp_path):
    source = tmp_path / "clock.rung"
    source.write_text(SRC)
    program = rung.compile_file(str(source))
    binary = tmp_path / "clock.rbc"
    binary.write_bytes(program.to_bytes())
    for given in (program, program.to_bytes(), str(source), source, str(binary)):
        s = rung.Simulator(given)
        s.scan(2)
        assert s.get("scans") == 2


def test_every_example_loads_in_the_simulator():
    import glob

    for path in sorted(glob.glob(ROOT + "/examples/*.rung")):
        s = rung.Simulator(path)
        s.run_for("1s")
        assert s.runtime.state == rung.runtime.STATE_RUN, path


def test_wrong_names_and_values_are_clear_errors():
    s = make()
    with pytest.raises(TypeError, match="name is a string, not 123"):
        s.get(123)
    with pytest.raises(KeyError, match="unknown variable or member: nope"):
        s.set("nope", 1)
    for name, bad in [
        ("scans", float("inf")),
        ("scans", float("nan")),
        ("scans", "3"),
        ("scans", True),
        ("scans", 2.5),
        ("go", 2),
        ("t.PT", None),
    ]:
        with pytest.raises(ValueError, match="not " + repr(bad).replace("(", r"\(")):
            s.set(name, bad)
    s.set("scans", 7.0)  # an integral float is fine
    assert s.get("scans") == 7
    with pytest.raises(ValueError, match="count of scans"):
        s.scan(-1)
    assert s.time_ms == 0


def test_a_program_that_does_not_compile_says_why(tmp_path):
    with pytest.raises(rung.CompileError) as info:
        rung.Simulator(str(tmp_path / "nope.rung"))
    assert "nope.rung: error[E001]: cannot read the program" in str(info.value)
    bad = tmp_path / "bad.rung"
    bad.write_text("program p\nrung: x -> y\n")
    with pytest.raises(rung.CompileError, match=r"bad.rung:2:7: error\[E0"):
        rung.Simulator(str(bad))


def test_set_refuses_numbers_out_of_range_where_the_runtime_wraps():
    s = rung.Simulator(
        rung.compile_source(
            "program r\nvar i : int\nvar d : dint\nvar x : real\nvar w : time\n"
            "timer t : TON = 1s\ncounter c : CTU = 5\nrung: true -> t, count c\n"
            "rung: true -> i := i, d := d, x := x, w := w\n",
            "r.rung",
        )
    )
    fits = [
        ("i", -32768),
        ("i", 32767),
        ("d", -(2**31)),
        ("d", 2**31 - 1),
        ("i", 32767.0),
        ("t.PT", 0),
        ("t.PT", 2**31 - 1),
        ("t.PT", "596h31m23s647ms"),
        ("w", 0),
        ("c.CV", -32768),
        ("c.PV", 32767),
        ("x", 3.4028234e38),
        ("x", -3.4028234e38),
        ("x", float("inf")),
    ]
    for name, value in fits:
        s.set(name, value)
    beyond = [
        ("i", 40000, "i is an int: 40000 is outside -32768..32767"),
        ("i", -32769, "outside -32768..32767"),
        ("i", 32768, "outside -32768..32767"),
        ("i", 32768.0, "outside -32768..32767"),
        ("d", 2**31, "d is a dint: 2147483648 is outside -2147483648..2147483647"),
        ("d", -(2**31) - 1, "outside -2147483648..2147483647"),
        ("t.PT", -5, "t.PT is a time: -5 is outside 0..2147483647 ms"),
        ("t.PT", 2**31, "outside 0..2147483647 ms"),
        ("t.PT", "596h31m23s648ms", "2147483648 is outside 0..2147483647 ms"),
        ("w", -1, "w is a time: -1 is outside"),
        ("c.CV", 32768, "c.CV is an int"),
        ("c.PV", -32769, "c.PV is an int"),
        ("x", 1e39, "x is a real: 1e+39 is outside -3.4028235e+38..3.4028235e+38"),
        ("x", 10**400, "x is a real"),
    ]
    for name, value, message in beyond:
        before = s.get(name)
        with pytest.raises(ValueError, match=re.escape(message)):
            s.set(name, value)
        assert s.get(name) == before  # nothing written
    # the runtime (and Modbus) wrap, as documented
    s.runtime.set("i", 40000)
    assert s.get("i") == 40000 - 65536
    s.runtime.set("t.PT", -5)
    assert s.get("t.PT") == -5


def test_system_contacts_and_constants_in_the_simulator_and_scenarios(tmp_path):
    from rung.emulator.scenario import load
    from rung.emulator.scenario_runner import run_case
    from rung.runtime import Runtime

    source = tmp_path / "sys.rung"
    source.write_text(
        "program s\ncycle 10ms\nconst LIMIT : int = 42\nconst WAIT : time = 2s\n"
        "var z : int\nvar q : int\nrung: true -> q := LIMIT / z\n"
    )
    s = rung.Simulator(str(source))
    assert (s.get("LIMIT"), s.get("WAIT")) == (42, 2000)  # before any scan too
    s.scan()
    assert s.get("first_scan") is True and s.get("math_error") is True
    assert s.get("clock_100ms") is True and s.get("clock_1s") is True
    s.run_for(60)
    assert s.get("first_scan") is False and s.get("clock_100ms") is False
    assert s.get("LIMIT") == 42
    with pytest.raises(ValueError, match="first_scan is a system contact"):
        s.set("first_scan", False)
    scenario = tmp_path / "sys.test.yaml"
    scenario.write_text(
        "program: sys.rung\ntests:\n  - name: system contacts\n    steps:\n"
        "      - scan: 1\n"
        "      - expect: {first_scan: true, math_error: true, clock_1s: true, LIMIT: 42}\n"
        "      - run: 550ms\n"
        "      - expect: {first_scan: false, clock_100ms: false, clock_1s: false, WAIT: 2s}\n"
    )

    def names_for(path):
        return Runtime(rung.compile_file(path).to_bytes()).names()

    loaded = load(str(scenario), names_for)
    (case,) = loaded.cases
    assert case.error is None
    assert run_case(rung.compile_file(str(source)).to_bytes(), case) is None
