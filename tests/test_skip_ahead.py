"""rung.Simulator's skip-ahead (rung/simulator.py) against scanning every cycle.

Two simulators of the same program, one skipping fixed-point scans and one not, are driven
in lockstep: the examples' scenario files (each test, then two minutes more with its
inputs held) and generated programs (tests/bytecode_gen.py) under random inputs held for random
spans. After every step both must agree on the time, the scan count, every slot (-0.0 is not
0.0), the power flow, the input and output images, math_error, the run state and the
runtime's clock bookkeeping. Each check also asserts that skipping did happen."""

import glob
import os
import random

from bytecode_gen import generate
from conftest import EXAMPLES
from test_runtime_fuzz import input_value

import rung
from rung.emulator.scenario import load
from rung.emulator.scenario_runner import _check
from rung.runtime import LoadError, Runtime
from rung.simulator import Simulator


def state(sim):
    """Everything a scan can change or read, exactly (repr tells -0.0 from 0.0)."""
    rt = sim.runtime
    return (
        sim.time_ms,
        rt.scan_count,
        rt._last,
        rt._phase,
        rt.state,
        rt.first_scan,
        rt.math_error,
        [repr(x) + type(x).__name__ for x in rt.v],
        bytes(rt.power),
        [repr(x) for x in rt.inputs],
        [repr(x) for x in rt.outputs],
    )


def same(fast, slow, where):
    a, b = state(fast), state(slow)
    if a != b:
        names = ("time", "scan_count", "_last", "_phase", "state", "first_scan", "math_error")
        names += ("slots", "power", "inputs", "outputs")
        diff = [n for n, x, y in zip(names, a, b, strict=True) if x != y]
        raise AssertionError(f"{where}: skip-ahead differs in {diff}")


def program_for(path):
    rt = Runtime(rung.compile_file(path).to_bytes())
    return rt.names(), rt.cycle_ms


def lockstep_case(code, case, where):
    """Run one scenario test on both simulators, comparing after every step."""
    fast, slow = Simulator(code), Simulator(code, skip=False)
    for i, step in enumerate(case.steps, 1):
        for sim in (fast, slow):
            if step.kind == "set":
                for name, value in step.value.items():
                    sim.set(name, value)
            elif step.kind == "scan":
                sim.scan(step.value)
            elif step.kind == "run":
                sim.run_for(step.value)
            elif step.kind == "restart":
                sim.restart()
            elif step.kind == "expect_within":
                start = sim.time_ms
                while _check(sim, step.expect) and sim.time_ms - start < step.within_ms:
                    sim.scan()
        same(fast, slow, f"{where} step {i} ({step.kind})")
    # then two minutes with the inputs as the test left them, in uneven pieces
    for piece in (1, 7, 995, 60_000, 58_997):
        fast.run_for(piece)
        slow.run_for(piece)
        same(fast, slow, f"{where} +{piece} ms")
    return fast.skipped


def test_examples_skip_ahead_equals_every_scan():
    """Every test of every examples/*.test.yaml, then two minutes more: same state
    throughout; at least five of the seven examples skip."""
    files = sorted(glob.glob(os.path.join(EXAMPLES, "*.test.yaml")))
    assert len(files) >= 7
    skipping = 0
    for path in files:
        scen = load(path, program_for)
        code = rung.compile_file(scen.program_path).to_bytes()
        skipped = 0
        for case in scen.cases:
            assert case.error is None, case.error
            skipped += lockstep_case(code, case, f"{os.path.basename(path)}: {case.name}")
        skipping += skipped > 0
    assert skipping >= 5


# `make fuzz` runs RUNG_FUZZ_SCALE times as many generated programs
SCALE = int(os.environ.get("RUNG_FUZZ_SCALE", "1"))


def test_generated_programs_skip_ahead_equals_every_scan():
    """Generated programs under random inputs held for random spans (whole and partial
    cycles, single scans, restarts, forcing), compared after every span."""
    skipping = 0
    for seed in range(80 * SCALE):
        prog = generate(seed)
        try:
            code = prog.to_bytes()
            Runtime(code)
        except LoadError:
            continue
        r = random.Random(seed)
        fast, slow = Simulator(code), Simulator(code, skip=False)
        types = [fast.runtime.image.vars[i][0] for i in fast.runtime.input_vars]
        for span in range(20):
            changes = [(k, input_value(r, t)) for k, t in enumerate(types) if r.random() < 0.2]
            what = r.random()
            forced = input_value(r, types[0]) if types else None
            for sim in (fast, slow):
                for k, value in changes:
                    sim.runtime.inputs[k] = value
                if what < 0.03:
                    sim.restart()
                elif what < 0.06 and sim.runtime.input_vars:
                    sim.runtime.force(sim.runtime.input_vars[0], forced)
                elif what < 0.08:
                    sim.runtime.release_all()
            kind = r.choice(("run", "run", "run", "scan"))
            amount = r.choice((0, 1, 5, 9, 10, 11, 100, 1234, 5_000))
            for sim in (fast, slow):
                if kind == "run":
                    sim.run_for(amount)
                else:
                    sim.scan(amount // 10)
            same(fast, slow, f"seed {seed} span {span} ({kind} {amount})")
        skipping += fast.skipped > 0
    assert skipping >= 15 * SCALE, f"only {skipping} generated programs ever skipped"


def test_power_flow_that_follows_a_clock_is_not_skipped(tmp_path):
    """A rung powered by clock_1s whose action changes no slot once done: its power flow
    still changes, so it never skips; with the clock behind a false contact it does."""
    src = tmp_path / "p.rung"
    src.write_text(
        "program p\ncycle 10ms\ninput a : bool at %IX0.0\nvar y : int\n"
        "rung: clock_1s -> y := 5\nrung: a and clock_100ms -> y := 6\n"
    )
    code = rung.compile_file(str(src)).to_bytes()
    fast, slow = Simulator(code), Simulator(code, skip=False)
    for sim in (fast, slow):
        sim.run_for(3_600_000)
    same(fast, slow, "clock rung")
    assert fast.skipped == 0
    src.write_text(
        "program p\ncycle 10ms\ninput a : bool at %IX0.0\nvar y : int\n"
        "rung: a and clock_1s -> y := 5\n"
    )
    code = rung.compile_file(str(src)).to_bytes()
    fast, slow = Simulator(code), Simulator(code, skip=False)
    for sim in (fast, slow):
        sim.run_for(3_600_005)
    same(fast, slow, "clock behind a false contact")
    assert fast.skipped > 359_000


def test_first_scan_is_never_a_fixed_point(tmp_path):
    """A rung powered only on the first scan, whose action changes nothing: the scan after
    it still differs (power flow), so skipping starts from the second scan."""
    src = tmp_path / "p.rung"
    src.write_text("program p\ncycle 10ms\nvar y : int\nrung: first_scan -> y := 0\n")
    code = rung.compile_file(str(src)).to_bytes()
    fast, slow = Simulator(code), Simulator(code, skip=False)
    for sim in (fast, slow):
        sim.scan(3)
    same(fast, slow, "first scan")
    assert fast.skipped == 1
