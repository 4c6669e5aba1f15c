"""Running validated scenarios on rung.Simulator, in virtual time."""

from rung.simulator import Simulator


def _show(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _holds(exp, actual):
    if exp.tolerance is not None:
        return abs(actual - exp.value) <= exp.tolerance
    return actual == exp.value


class Failure:
    def __init__(self, step_index, step, details, time_ms):
        self.step_index = step_index
        self.step = step
        self.details = details  # list of text lines
        self.time_ms = time_ms


def run_case(code, case):
    """Run one test from power-up; returns None on success or the first Failure."""
    sim = Simulator(code)
    for i, step in enumerate(case.steps, 1):
        kind = step.kind
        if kind == "set":
            for name, value in step.value.items():
                sim.set(name, value)
        elif kind == "scan":
            sim.scan(step.value)
        elif kind == "run":
            sim.run_for(step.value)
        elif kind == "restart":
            sim.restart()
        elif kind == "expect":
            bad = _check(sim, step.expect)
            if bad:
                return Failure(i, step, bad, sim.time_ms)
        else:  # expect_within
            start = sim.time_ms
            while True:
                bad = _check(sim, step.expect)
                if not bad:
                    break
                if sim.time_ms - start >= step.within_ms:
                    bad.insert(0, f"not true within {step.within_ms} ms")
                    return Failure(i, step, bad, sim.time_ms)
                sim.scan()
    return None


def _check(sim, expectations):
    bad = []
    for exp in expectations:
        actual = sim.get(exp.name)
        if not _holds(exp, actual):
            tol = f" ± {_show(exp.tolerance)}" if exp.tolerance is not None else ""
            bad.append(f"expected {exp.name} = {_show(exp.value)}{tol}, got {_show(actual)}")
    return bad
