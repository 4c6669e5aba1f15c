"""Running validated scenarios on rung.Simulator, in virtual time."""

import math

from rung.simulator import Simulator

# Long steps run in slices of this many scans, with a call to `tick` between slices, so the
# caller can say what is going on during a long run.
SLICE = 10_000


def _show(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _holds(exp, actual):
    value = exp.value
    if isinstance(value, float) and math.isnan(value):
        return isinstance(actual, float) and math.isnan(actual)  # NaN, written .nan, is NaN
    if exp.tolerance is None or (isinstance(value, float) and math.isinf(value)):
        return actual == value
    return abs(actual - value) <= exp.tolerance


class Failure:
    def __init__(self, step_index, step, details, time_ms):
        self.step_index = step_index
        self.step = step
        self.details = details  # list of text lines
        self.time_ms = time_ms


def _no_tick(step_index, step, time_ms):
    pass


def run_case(code, case, tick=_no_tick, skip=True):
    """Run one test from power-up; returns None on success or the first Failure.

    tick(step_index, step, time_ms) is called every SLICE scans of a long step; skip=False
    runs every scan instead of skipping fixed points (same results, see rung.Simulator)."""
    sim = Simulator(code, skip=skip)
    for i, step in enumerate(case.steps, 1):
        kind = step.kind
        if kind == "set":
            for name, value in step.value.items():
                sim.set(name, value)
        elif kind == "scan":
            left = step.value
            while left > SLICE:
                sim.scan(SLICE)
                left -= SLICE
                tick(i, step, sim.time_ms)
            sim.scan(left)
        elif kind == "run":
            # slices of whole cycles: run_for(a) then run_for(b) is run_for(a + b)
            slice_ms = SLICE * sim.cycle_ms
            left = step.value
            while left > slice_ms:
                sim.run_for(slice_ms)
                left -= slice_ms
                tick(i, step, sim.time_ms)
            sim.run_for(left)
        elif kind == "restart":
            sim.restart()
        elif kind == "expect":
            bad = _check(sim, step.expect)
            if bad:
                return Failure(i, step, bad, sim.time_ms)
        else:  # expect_within
            start = sim.time_ms
            count = 0
            while True:
                bad = _check(sim, step.expect)
                if not bad:
                    break
                if sim.time_ms - start >= step.within_ms:
                    bad.insert(0, f"not true within {step.within_ms} ms")
                    return Failure(i, step, bad, sim.time_ms)
                sim.scan()
                count += 1
                if count % SLICE == 0:
                    tick(i, step, sim.time_ms)
    return None


def _check(sim, expectations):
    bad = []
    for exp in expectations:
        actual = sim.get(exp.name)
        if not _holds(exp, actual):
            tol = f" ± {_show(exp.tolerance)}" if exp.tolerance is not None else ""
            bad.append(f"expected {exp.name} = {_show(exp.value)}{tol}, got {_show(actual)}")
    return bad
