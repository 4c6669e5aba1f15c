"""rung.Simulator: the virtual clock, durations, restart and the ways to give it a program."""

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
    s.scan()
    assert s.time_ms == 0 and s.get("scans") == 1  # the first scan runs at t=0
    s.scan(3)
    assert s.time_ms == 30 and s.get("scans") == 4


def test_run_for_ends_with_a_scan_exactly_at_the_end():
    s = make()
    s.set("go", True)
    s.run_for("1s")
    assert s.time_ms == 1000 and s.get("scans") == 101
    assert s.get("t.ET") == 1000 and s.get("q") is True
    s.run_for(25)  # not a whole number of cycles: the last scan still lands at the end
    assert s.time_ms == 1025 and s.get("scans") == 104


def test_time_values_are_integer_milliseconds_and_accept_durations():
    s = make()
    s.set("t.PT", "1m30s")
    assert s.get("t.PT") == 90000 and isinstance(s.get("t.PT"), int)
    s.set("t.PT", 250)
    s.set("go", True)
    s.run_for(240)
    assert s.get("q") is False
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
