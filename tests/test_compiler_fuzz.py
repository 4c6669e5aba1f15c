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
