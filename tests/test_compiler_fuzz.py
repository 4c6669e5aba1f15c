"""Malformed source never produces anything but CompileError (no traceback, no hang)."""

import random

import rung
from rung.compiler.diagnostics import CompileError

TOKENS = (
    "program p",
    "input",
    "output",
    "var",
    "const",
    "timer",
    "counter",
    "rung",
    ":",
    "->",
    ",",
    "(",
    ")",
    "and",
    "or",
    "not",
    "rising",
    "falling",
    "set",
    "reset",
    "count",
    "count_down",
    "load",
    ":=",
    "+",
    "-",
    "*",
    "/",
    "mod",
    "==",
    "<",
    ">=",
    "a",
    "b",
    "q",
    "t",
    "c",
    "t.Q",
    "c.CV",
    "bool",
    "int",
    "dint",
    "real",
    "time",
    "TON",
    "TOF",
    "CTU",
    "CTUD",
    "at",
    "%IX0.0",
    "%QX0.0",
    "%IW0",
    "%MW1",
    "%MD2",
    "%QX9.9",
    "retain",
    "=",
    "5s",
    "T#1m30s",
    "16#FF",
    "1.5",
    "70000",
    "0",
    "true",
    "false",
    '"text"',
    "cycle",
    "10ms",
    "abs(",
    "min(",
    "limit(",
    "int(",
    "first_scan",
    "#comment\n",
    "\n",
    "\u00e9",
    "$",
)
BASE = (
    "program p\ninput a : bool at %IX0.0\ninput b : bool at %IX0.1\n"
    "output q : bool at %QX0.0\nvar n : int\ntimer t : TON = 5s\ncounter c : CTU = 3\n"
)


def test_random_token_soup_gives_diagnostics_only():
    rnd = random.Random(20261124)
    compiled = failed = 0
    for _ in range(1500):
        words = [rnd.choice(TOKENS) for _ in range(rnd.randrange(1, 25))]
        text = (BASE if rnd.random() < 0.7 else "") + " ".join(words)
        try:
            rung.compile_source(text, "fuzz.rung")
            compiled += 1
        except CompileError as exc:
            assert exc.diagnostics and exc.render()
            failed += 1
    assert failed > 0


def test_mutated_examples_give_diagnostics_only():
    import glob
    import os

    from conftest import EXAMPLES

    rnd = random.Random(7)
    for path in sorted(glob.glob(os.path.join(EXAMPLES, "*.rung"))):
        text = open(path).read()
        for _ in range(60):
            i = rnd.randrange(len(text))
            j = min(len(text), i + rnd.randrange(1, 12))
            mutated = text[:i] + rnd.choice(TOKENS + ("",)) + text[j:]
            try:
                rung.compile_source(mutated, "m.rung")
            except CompileError as exc:
                assert exc.render()


def test_deep_nesting_is_a_diagnostic_not_a_crash():
    base = "program p\ninput a : bool at %IX0.0\noutput q : bool at %QX0.0\nvar n : int\n"
    for body in ("rung: " + "not " * 3000 + "a -> q", "rung: true -> n := " + "-" * 3000 + "1"):
        try:
            rung.compile_source(base + body)
        except CompileError as exc:
            assert exc.diagnostics[0].code == "E057"
        else:
            raise AssertionError("accepted")


def test_everything_the_compiler_accepts_the_runtime_loads():
    from rung.runtime import Runtime

    base = (
        "program p\ninput a : bool at %IX0.0\noutput q : bool at %QX0.0\nvar n : int\n"
        "var r : real\nvar z : int\n"
    )
    src = (
        base + "rung: " + "not " * 190 + "a -> q\n"
        "rung: true -> n := " + "-" * 180 + "1\n"
        "rung: a -> r := " + "-" * 180 + "1.5, z := 1 / z + " + " + ".join(["n"] * 80) + "\n"
    )
    rt = Runtime(rung.compile_source(src).to_bytes())
    rt.scan(0)
    assert rt.outputs == [False] and rt.get("n") == 1
    assert rt.math_error is False  # the unpowered rung's division by zero never ran
    rt.set("a", True)
    rt.scan(10)
    assert rt.get("r") == 1.5 and rt.math_error is True


# ---- issue 8: generated programs after error recovery (RUNG_FUZZ_SCALE=20 for a long run) ----

import os  # noqa: E402

from rung.runtime import Runtime  # noqa: E402

SCALE = int(os.environ.get("RUNG_FUZZ_SCALE", "1"))
HOSTILE = TOKENS + (
    "&&", "&", "||", "|", "!", "=", "//", "/*", '"open', "AND", "OR", "NOT", "TRUE", "VAR",
    "RUNG", ";", "<>", "8#9", "16#ZZ", "99#1", "2#_", "1e39", "1e999", "-1e39", '"\\x"',
    '"caf\u00e9\\t"', "\t", "\r\n", "\x00", "\x1b", "program", "program q", "rung rung:",
    "var and", "x" * 300, "9" * 4400, "%MW" + "9" * 50, "t#", "T#1s1h", "rising", "1_",
)  # fmt: skip
OPS = (" + ", " - ", " * ", " / ", " mod ")
LOGIC = (" and ", " or ")


def _compile_or_diagnose(text):
    """Compile text: either it loads and scans, or CompileError with diagnostics in the text."""
    try:
        program = rung.compile_source(text, "fuzz.rung")
    except CompileError as exc:
        assert exc.diagnostics and exc.render()
        lines = text.count("\n") + 1
        for d in exc.diagnostics:
            assert d.span is None or 1 <= d.span.line <= lines, (d.render(text), text[:200])
        return False
    rt = Runtime(program.to_bytes())
    rt.scan(0)
    rt.scan(10)
    return True


def test_hostile_token_soup_gives_diagnostics_only():
    rnd = random.Random(8)
    for _ in range(600 * SCALE):
        words = [rnd.choice(HOSTILE) for _ in range(rnd.randrange(1, 40))]
        text = (BASE if rnd.random() < 0.7 else "") + rnd.choice((" ", "\n")).join(words)
        _compile_or_diagnose(text)


def _mutate(rnd, text):
    if not text:
        return rnd.choice(HOSTILE)
    lines = text.split("\n")
    kind = rnd.randrange(6)
    i = rnd.randrange(len(lines))
    if kind == 0:
        del lines[i]
    elif kind == 1:
        lines.insert(i, lines[rnd.randrange(len(lines))])
    elif kind == 2:
        words = lines[i].split(" ")
        j = rnd.randrange(len(words))
        words[j : j + 2] = words[j : j + 2][::-1]
        lines[i] = " ".join(words)
    elif kind == 3:
        lines[i] = lines[i][: rnd.randrange(len(lines[i]) + 1)]
    elif kind == 4:
        pos = rnd.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:pos] + rnd.choice(HOSTILE) + lines[i][pos:]
    else:
        return text[: rnd.randrange(len(text))]
    return "\n".join(lines)


def test_mutated_examples_with_several_mutations_give_diagnostics_only():
    import glob

    from conftest import EXAMPLES

    rnd = random.Random(88)
    sources = [open(p).read() for p in sorted(glob.glob(os.path.join(EXAMPLES, "*.rung")))]
    compiled = 0
    for _ in range(250 * SCALE):
        text = rnd.choice(sources)
        for _ in range(rnd.randrange(1, 6)):
            text = _mutate(rnd, text)
        compiled += _compile_or_diagnose(text)
    assert compiled > 0


def test_long_flat_chains_and_deep_nesting_give_diagnostics_only():
    rnd = random.Random(80)
    head = BASE + "var r : real\nvar d : dint\n"
    for _ in range(40 * SCALE):
        n = rnd.choice((2, 150, 199, 200, 201, 202, 203, 496, 1000, rnd.randrange(2, 3000)))
        term = rnd.choice(("n", "1", "d", "r", "(n + 1)", "abs(n)", "-n", "t.ET", "c.CV"))
        ops = [rnd.choice(OPS) for _ in range(n - 1)]
        value = term + "".join(op + term for op in ops)
        contacts = "a" + "".join(
            rnd.choice(LOGIC) + rnd.choice(("b", "not a", "n > 1")) for _ in range(n)
        )
        depth = rnd.choice((10, 150, 200, 201, 250))
        nested = "(" * depth + "a" + ")" * depth
        target = rnd.choice(("n", "r", "d"))
        body = rnd.choice(
            (
                f"rung: true -> {target} := {value}",
                f"rung: {contacts} -> q",
                f"rung: {nested} and {contacts} -> q",
                f"rung: {value} > 0 -> q",
                "rung: a -> n := " + "-" * depth + "1",
                "rung: " + "not " * depth + "a -> q",
            )
        )
        _compile_or_diagnose(head + body + "\n")
