"""Scenario files (YAML): load, validate against the program, report errors with file:line.

The format is documented in docs/testing.md."""

import difflib
import math
import os

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from rung.compiler.literals import parse_duration
from rung.files import MAX_TEXT_BYTES, read_file
from rung.runtime.opcodes import T_BOOL, T_INT, T_REAL, T_TIME

from .scenario_yaml import Refused, compose

STEP_KINDS = ("set", "scan", "run", "expect", "expect_within", "restart")

# Each test may run at most this many scans (`rung test --max-scans N` changes it): about
# 15 s of CPU on CPython for the examples, 27 h 46 min of virtual time at a 10 ms cycle.
MAX_SCANS = 10_000_000
F32_MAX = 3.4028234663852886e38  # the largest finite real


class ProgramError(Exception):
    """Raised by `program_for` when the program cannot be read, compiled or loaded."""


class ScenarioError(Exception):
    """A problem in a scenario file, with its file and line."""

    def __init__(self, file, line, message):
        super().__init__(f"{file}:{line}: {message}")
        self.file = file
        self.line = line


class Step:
    def __init__(self, kind, line, value=None, expect=None, within_ms=None):
        self.kind = kind
        self.line = line
        self.value = value  # set: {name: value}; scan: n; run: ms
        self.expect = expect  # expect / expect_within: list of Expectation
        self.within_ms = within_ms


class Expectation:
    def __init__(self, name, value, tolerance, line):
        self.name = name
        self.value = value
        self.tolerance = tolerance
        self.line = line


class Case:
    def __init__(self, name, line, steps, error=None):
        self.name = name
        self.line = line
        self.steps = steps
        self.error = error  # a ScenarioError: this test is malformed, the others still run


class Scenario:
    def __init__(self, file, program_path, cases):
        self.file = file
        self.program_path = program_path
        self.cases = cases


def _line(node):
    return node.start_mark.line + 1


class _Loader:
    """Walks composed YAML nodes so every value keeps its line."""

    def __init__(self, file, cycle_ms=10, max_scans=MAX_SCANS):
        self.file = file
        self.constructor = SafeConstructor()
        self.cycle_ms = max(1, cycle_ms)
        self.max_scans = max_scans

    def fail(self, node, message):
        raise ScenarioError(self.file, _line(node), message)

    def scalar(self, node):
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, "expected a single value here")
        try:
            return self.constructor.construct_object(node)
        except (ConstructorError, ValueError, OverflowError) as exc:
            if node.tag.endswith(":int") and len(node.value) > 100:
                self.fail(node, f"a number of {len(node.value)} digits is far too large")
            problem = getattr(exc, "problem", None) or str(exc)
            self.fail(node, f"`{_short(node.value)}` cannot be read: {problem}")

    def mapping(self, node, what):
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping (key: value)")
        items = []
        seen = set()
        for k, v in node.value:
            key = self.scalar(k)
            if not isinstance(key, str):
                self.fail(k, f"keys of {what} must be names, not {_short(key)}")
            if key in seen:
                self.fail(k, f"`{key}` appears twice in {what}")
            seen.add(key)
            items.append((key, k, v))
        return items

    def sequence(self, node, what):
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list (lines starting with '- ')")
        return node.value


def _short(value, limit=40):
    """A value as shown in a message: a 400-digit number is not printed in full."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return text
    what = "digits" if text.lstrip("-+").isdigit() else "characters"
    return f"{text[:12]}...{text[-6:]} ({len(text.lstrip('-+'))} {what})"


def _span(ms):
    """12h30m5s, for messages."""
    out = ""
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size:
            out += f"{ms // size}{unit}"
            ms %= size
    return out + (f"{ms}ms" if ms or not out else "")


def duration_ms(value):
    """ms from an int, '500ms', '2s', '1m30s', 'T#5s'; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("not a duration")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return value
    if isinstance(value, str):
        return parse_duration(value.strip())
    raise ValueError("not a duration")


def load(path, program_for, max_scans=MAX_SCANS):
    """Parse and validate a scenario file. program_for(program_path) returns the program's
    name table (name -> (slot, type, writable, input_pos)) and its cycle in ms; it raises
    ProgramError for a program that cannot be read, compiled or loaded."""
    file = path
    try:
        text = read_file(path, MAX_TEXT_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(file, 0, f"cannot read the scenario: {exc}") from None
    try:
        root = compose(text)
    except Refused as exc:
        raise ScenarioError(file, exc.mark.line + 1, exc.message) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            line = mark.line + 1
        elif isinstance(getattr(exc, "position", None), int):  # a ReaderError
            line = text.count("\n", 0, exc.position) + 1
        else:
            line = 0
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(file, line, f"not valid YAML: {problem}") from None
    ld = _Loader(file, max_scans=max_scans)
    if root is None:
        raise ScenarioError(file, 1, "the scenario is empty")
    top = ld.mapping(root, "the scenario")
    keys = {k: (kn, v) for k, kn, v in top}
    for k, kn, _v in top:
        if k not in ("program", "tests"):
            ld.fail(kn, f"unknown key `{k}` (expected `program` and `tests`)")
    if "program" not in keys:
        ld.fail(root, "missing `program: PATH` (the .rung file, relative to this file)")
    if "tests" not in keys:
        ld.fail(root, "missing `tests:` (a list of tests)")
    prog_node = keys["program"][1]
    program = ld.scalar(prog_node)
    if not isinstance(program, str):
        ld.fail(prog_node, "`program` must be a file path")
    program_path = os.path.normpath(os.path.join(os.path.dirname(path), program))
    if not os.path.exists(program_path):
        ld.fail(prog_node, f"program file not found: {program_path}")
    try:
        names, ld.cycle_ms = program_for(program_path)
    except ProgramError as exc:
        ld.fail(keys["program"][0], f"the program {program} {exc}")
    cases = []
    for tnode in ld.sequence(keys["tests"][1], "`tests`"):
        try:
            cases.append(_case(ld, tnode, names))
        except ScenarioError as exc:
            cases.append(Case(_name_of(tnode), _line(tnode), [], error=exc))
    if not cases:
        ld.fail(keys["tests"][1], "`tests` is empty")
    return Scenario(file, program_path, cases)


def _case(ld, node, names):
    items = {k: (kn, v) for k, kn, v in ld.mapping(node, "a test")}
    for k, (kn, _v) in items.items():
        if k not in ("name", "steps"):
            ld.fail(kn, f"unknown key `{k}` in a test (expected `name` and `steps`)")
    if "name" not in items or "steps" not in items:
        ld.fail(node, "a test needs `name:` and `steps:`")
    name = ld.scalar(items["name"][1])
    steps = []
    scans = 0
    for snode in ld.sequence(items["steps"][1], "`steps`"):
        step = _step(ld, snode, names)
        step_scans = _scans(ld, step)
        scans += step_scans
        if scans > ld.max_scans:
            _too_long(ld, snode, step, step_scans, scans)
        steps.append(step)
    return Case(str(name), _line(node), steps)


def _scans(ld, step):
    """About how many scans a step runs (at most; the first scan of a test may add one)."""
    if step.kind == "scan":
        return step.value
    if step.kind == "run":
        return -(-step.value // ld.cycle_ms)
    if step.kind == "expect_within":
        return -(-step.within_ms // ld.cycle_ms)
    return 0


def _too_long(ld, node, step, step_scans, scans):
    limit = ld.max_scans
    what = "this step" if step_scans == scans else "with this step the test"
    ld.fail(
        node,
        f"{what} would run {scans:,} scans; a test may run at most {limit:,} "
        f"({_span(limit * ld.cycle_ms)} of virtual time at this program's {ld.cycle_ms} ms "
        "cycle): shorten it, split it into several tests, or raise the limit with "
        "`rung test --max-scans N`",
    )


def _name_of(node):
    """A test's name for reporting, if it has a plain one."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == "name":
                if isinstance(v, yaml.ScalarNode):
                    return v.value
    return "test at line " + str(_line(node))


def _step(ld, node, names):
    if isinstance(node, yaml.ScalarNode):
        word = ld.scalar(node)
        if word == "restart":
            return Step("restart", _line(node))
        ld.fail(node, f"unknown step `{word}` (steps: {', '.join(STEP_KINDS)})")
    items = ld.mapping(node, "a step")
    keys = [k for k, _kn, _v in items]
    for k, kn, _v in items:
        if k not in STEP_KINDS:
            sug = difflib.get_close_matches(k, STEP_KINDS, n=1)
            hint = f"; did you mean `{sug[0]}`?" if sug else f" (steps: {', '.join(STEP_KINDS)})"
            ld.fail(kn, f"unknown step `{k}`{hint}")
    by = {k: (kn, v) for k, kn, v in items}
    line = _line(node)
    if "expect_within" in by:
        if set(keys) != {"expect_within", "expect"}:
            ld.fail(node, "`expect_within: DURATION` goes with `expect: {...}` and nothing else")
        within = _duration(ld, by["expect_within"][1])
        return Step(
            "expect_within",
            line,
            expect=_expectations(ld, by["expect"][1], names),
            within_ms=within,
        )
    if len(keys) != 1:
        ld.fail(node, "one action per step: " + ", ".join(keys))
    kind = keys[0]
    value = by[kind][1]
    if kind == "set":
        return Step("set", line, value=_assignments(ld, value, names))
    if kind == "scan":
        n = ld.scalar(value)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            ld.fail(value, "`scan` needs a number of scans (1 or more)")
        return Step("scan", line, value=n)
    if kind == "run":
        return Step("run", line, value=_duration(ld, value))
    if kind == "expect":
        return Step("expect", line, expect=_expectations(ld, value, names))
    # `- restart` is the step; `- restart:` (empty, or true) is accepted as the same
    if isinstance(value, yaml.ScalarNode) and value.value in ("", "~", "null", "true"):
        return Step("restart", line)
    ld.fail(value, "`restart` takes no value: write `- restart`")


def _duration(ld, node):
    raw = ld.scalar(node)
    try:
        return duration_ms(raw)
    except ValueError:
        shown = _short(node.value)
        ld.fail(node, f"`{shown}` is not a duration (use e.g. 500ms, 2s, 1m30s, or ms)")


def _lookup(ld, node, name, names):
    if name not in names:
        sug = difflib.get_close_matches(name, list(names), n=1)
        ld.fail(
            node, f"unknown variable `{name}`" + (f"; did you mean `{sug[0]}`?" if sug else "")
        )
    return names[name]


def _typed(ld, node, raw, vtype, name):
    """raw (from YAML) checked against the variable's type."""
    if vtype == T_BOOL:
        if not isinstance(raw, bool):
            ld.fail(node, f"`{name}` is a bool: use true or false, not {_short(raw)}")
        return raw
    if vtype == T_TIME:
        try:
            ms = duration_ms(raw)
        except ValueError:
            ld.fail(node, f"`{name}` is a time: use a duration such as 2s, not {_short(raw)}")
        if ms > 2**31 - 1:
            ld.fail(
                node, f"`{name}` is a time: {_short(raw)} is longer than the 24.8 days it can hold"
            )
        return ms
    if vtype == T_REAL:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            ld.fail(node, f"`{name}` is a real: use a number, not {_short(raw)}")
        written_inf = isinstance(raw, float) and math.isinf(raw) and "inf" in node.value.lower()
        if F32_MAX < abs(raw) and not written_inf:  # NaN and .inf/-.inf are reals; 1e400 is not
            # checked before float(): a 400-digit integer does not convert
            ld.fail(
                node,
                f"`{name}` is a real: {_short(node.value)} is outside -3.4028235e38..3.4028235e38",
            )
        return float(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        ld.fail(node, f"`{name}` is an integer: use a whole number, not {_short(raw)}")
    # the runtime would wrap it; in a test file an out-of-range number is a mistake
    lo, hi = (-32768, 32767) if vtype == T_INT else (-(2**31), 2**31 - 1)
    if not lo <= raw <= hi:
        what = "an int" if vtype == T_INT else "a dint"
        ld.fail(node, f"`{name}` is {what}: {_short(raw)} is outside {lo}..{hi}")
    return raw


def _assignments(ld, node, names):
    out = {}
    for name, kn, vn in ld.mapping(node, "`set`"):
        _slot, vtype, writable, _inp = _lookup(ld, kn, name, names)
        if not writable:
            ld.fail(kn, f"`{name}` is a constant and cannot be set")
        out[name] = _typed(ld, vn, ld.scalar(vn), vtype, name)
    return out


def _expectations(ld, node, names):
    out = []
    for name, kn, vn in ld.mapping(node, "`expect`"):
        _slot, vtype, _w, _inp = _lookup(ld, kn, name, names)
        tolerance = None
        if isinstance(vn, yaml.MappingNode):
            sub = {k: v for k, _kn, v in ld.mapping(vn, f"the expectation of `{name}`")}
            if set(sub) - {"value", "within"} or "value" not in sub:
                ld.fail(vn, "use {value: X} or {value: X, within: TOLERANCE}")
            raw = ld.scalar(sub["value"])
            if "within" in sub:
                tol = ld.scalar(sub["within"])
                if vtype == T_TIME:
                    try:
                        tol = duration_ms(tol)
                    except ValueError:
                        ld.fail(sub["within"], "the tolerance of a time is a duration")
                elif (
                    isinstance(tol, bool)
                    or not isinstance(tol, (int, float))
                    or not tol >= 0  # also refuses NaN, which no difference is within
                ):
                    ld.fail(sub["within"], "`within` needs a non-negative number")
                if vtype == T_BOOL:
                    ld.fail(sub["within"], "a bool has no tolerance")
                tolerance = tol
            value = _typed(ld, sub["value"], raw, vtype, name)
        else:
            value = _typed(ld, vn, ld.scalar(vn), vtype, name)
        out.append(Expectation(name, value, tolerance, _line(kn)))
    if not out:
        ld.fail(node, "`expect` lists nothing")
    return out
