"""Scenario files (YAML): load, validate against the program, report errors with file:line.

The format is documented in docs/testing.md."""

import difflib
import os

import yaml
from yaml.constructor import SafeConstructor

from rung.compiler.literals import parse_duration
from rung.files import MAX_TEXT_BYTES, read_file
from rung.runtime.opcodes import T_BOOL, T_INT, T_REAL, T_TIME

STEP_KINDS = ("set", "scan", "run", "expect", "expect_within", "restart")


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

    def __init__(self, file):
        self.file = file
        self.constructor = SafeConstructor()

    def fail(self, node, message):
        raise ScenarioError(self.file, _line(node), message)

    def scalar(self, node):
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, "expected a single value here")
        return self.constructor.construct_object(node)

    def mapping(self, node, what):
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping (key: value)")
        items = []
        for k, v in node.value:
            key = self.scalar(k)
            if not isinstance(key, str):
                self.fail(k, f"keys of {what} must be names, not {key!r}")
            items.append((key, k, v))
        return items

    def sequence(self, node, what):
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list (lines starting with '- ')")
        return node.value


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


def load(path, names_for):
    """Parse and validate a scenario file. names_for(program_path) returns the program's
    name table (name -> (slot, type, writable, input_pos)); it may raise to report a
    program that does not compile."""
    file = path
    try:
        text = read_file(path, MAX_TEXT_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(file, 0, f"cannot read the scenario: {exc}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(file, line, f"not valid YAML: {problem}") from None
    ld = _Loader(file)
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
    names = names_for(program_path)
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
    steps = [_step(ld, s, names) for s in ld.sequence(items["steps"][1], "`steps`")]
    return Case(str(name), _line(node), steps)


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
        ld.fail(node, f"`{raw}` is not a duration (use e.g. 500ms, 2s, 1m30s, or ms)")


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
            ld.fail(node, f"`{name}` is a bool: use true or false, not {raw!r}")
        return raw
    if vtype == T_TIME:
        try:
            ms = duration_ms(raw)
        except ValueError:
            ld.fail(node, f"`{name}` is a time: use a duration such as 2s, not {raw!r}")
        if ms > 2**31 - 1:
            ld.fail(node, f"`{name}` is a time: {raw} is longer than the 24.8 days it can hold")
        return ms
    if vtype == T_REAL:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            ld.fail(node, f"`{name}` is a real: use a number, not {raw!r}")
        return float(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        ld.fail(node, f"`{name}` is an integer: use a whole number, not {raw!r}")
    # the runtime would wrap it; in a test file an out-of-range number is a mistake
    lo, hi = (-32768, 32767) if vtype == T_INT else (-(2**31), 2**31 - 1)
    if not lo <= raw <= hi:
        what = "an int" if vtype == T_INT else "a dint"
        ld.fail(node, f"`{name}` is {what}: {raw} is outside {lo}..{hi}")
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
                elif isinstance(tol, bool) or not isinstance(tol, (int, float)) or tol < 0:
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
