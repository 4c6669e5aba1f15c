"""Every value limit on both sides: each type's smallest and largest literal and one beyond,
the cycle, durations, and values written from Python. One past a limit is a diagnostic
(E040 for a literal, E042 for the cycle) or a ValueError, never a LoadError or a traceback;
the limit itself compiles, loads and reads back exactly."""

import pytest

import rung
from rung.compiler.diagnostics import CompileError
from rung.runtime import Runtime

INT_MIN, INT_MAX = -32768, 32767
DINT_MIN, DINT_MAX = -(2**31), 2**31 - 1
TIME_MAX = "596h31m23s647ms"  # 2**31 - 1 ms
TIME_PAST = "596h31m23s648ms"


def compile_body(body, cycle=None):
    head = "program t\n" + (f"cycle {cycle}\n" if cycle else "")
    return rung.compile_source(head + body, "t.rung")


def error_codes(body, cycle=None):
    with pytest.raises(CompileError) as info:
        compile_body(body, cycle)
    return {d.code for d in info.value.diagnostics if d.is_error}


def loaded(body, cycle=None):
    """The program compiled and loaded as a board would (no LoadError), after one scan."""
    rt = Runtime(compile_body(body, cycle).to_bytes())
    rt.scan(0)
    return rt


# (type, smallest, largest) written as literals; one beyond on either side is E040
LIMITS = [
    ("int", INT_MIN, INT_MAX),
    ("dint", DINT_MIN, DINT_MAX),
]


@pytest.mark.parametrize("vtype, lo, hi", LIMITS)
def test_declared_initial_values_at_both_limits(vtype, lo, hi):
    rt = loaded(
        f"var a : {vtype} = {lo}\nvar b : {vtype} = {hi}\nrung: true -> a := a\n"
        "rung: true -> b := b\n"
    )
    assert (rt.get("a"), rt.get("b")) == (lo, hi)
    for beyond in (lo - 1, hi + 1):
        assert "E040" in error_codes(f"var a : {vtype} = {beyond}\nrung: true -> a := a\n")


@pytest.mark.parametrize("vtype, lo, hi", LIMITS)
def test_assigned_literals_at_both_limits(vtype, lo, hi):
    rt = loaded(f"var a : {vtype}\nvar b : {vtype}\nrung: true -> a := {lo}, b := {hi}\n")
    assert (rt.get("a"), rt.get("b")) == (lo, hi)
    for beyond in (lo - 1, hi + 1):
        assert "E040" in error_codes(f"var a : {vtype}\nrung: true -> a := {beyond}\n")


@pytest.mark.parametrize("vtype, lo, hi", LIMITS)
def test_typed_constants_at_both_limits(vtype, lo, hi):
    rt = loaded(
        f"const A : {vtype} = {lo}\nconst B : {vtype} = {hi}\nvar x : {vtype}\n"
        "rung: true -> x := A\nrung: false -> x := B\n"
    )
    assert (rt.get("A"), rt.get("B"), rt.get("x")) == (lo, hi, lo)
    for beyond in (lo - 1, hi + 1):
        assert "E040" in error_codes(
            f"const A : {vtype} = {beyond}\nvar x : dint\n" "rung: true -> x := A\n"
        )


def test_untyped_constants_pick_int_up_to_its_limits_then_dint():
    rt = loaded(
        "const A = 32767\nconst B = 32768\nconst C = -32768\nconst D = -32769\n"
        "var x : dint\nrung: true -> x := A + B + C + D\n"
    )
    assert rt.get("x") == -2
    # an int variable cannot take the dint constant: narrowing, not a silent wrap
    assert error_codes("const B = 32768\nvar x : int\nrung: true -> x := B\n")


def test_int_comparison_with_a_literal_past_the_int_limit_widens_to_dint():
    rt = loaded(
        "var n : int = 32767\nvar over : bool\nvar at : bool\n"
        "rung: n < 32768 -> over\nrung: n == 32767 -> at\n"
    )
    assert rt.get("over") is True and rt.get("at") is True


def test_time_literals_at_both_limits():
    rt = loaded(
        f"var a : time = 0ms\nvar b : time = {TIME_MAX}\nvar c : time\n"
        f"rung: true -> c := {TIME_MAX}\nrung: true -> a := a\nrung: true -> b := b\n"
    )
    assert (rt.get("a"), rt.get("b"), rt.get("c")) == (0, DINT_MAX, DINT_MAX)
    assert "E040" in error_codes(f"var b : time = {TIME_PAST}\nrung: true -> b := b\n")
    assert "E040" in error_codes(f"var c : time\nrung: true -> c := {TIME_PAST}\n")


@pytest.mark.parametrize("kind", ["TON", "TOF", "TP", "RTO"])
def test_timer_presets_at_both_limits(kind):
    rt = loaded(f"input a : bool at %IX0.0\ntimer t : {kind} = {TIME_MAX}\nrung: a -> t\n")
    assert rt.get("t.PT") == DINT_MAX
    rt = loaded(f"input a : bool at %IX0.0\ntimer t : {kind} = 0ms\nrung: a -> t\n")
    assert rt.get("t.PT") == 0
    assert "E040" in error_codes(
        f"input a : bool at %IX0.0\ntimer t : {kind} = {TIME_PAST}\nrung: a -> t\n"
    )


@pytest.mark.parametrize("kind", ["CTU", "CTD", "CTUD"])
def test_counter_presets_at_both_limits(kind):
    action = "count" if kind != "CTD" else "count_down"
    for pv in (INT_MIN, INT_MAX):
        rt = loaded(
            f"input a : bool at %IX0.0\ncounter c : {kind} = {pv}\nrung: a -> {action} c\n"
        )
        assert rt.get("c.PV") == pv
    for pv in (INT_MIN - 1, INT_MAX + 1):
        assert "E040" in error_codes(
            f"input a : bool at %IX0.0\ncounter c : {kind} = {pv}\nrung: a -> {action} c\n"
        )


@pytest.mark.parametrize(
    "cycle, ms", [("1ms", 1), ("60000ms", 60000), ("60s", 60000), ("1m", 60000)]
)
def test_cycle_at_its_limits_loads(cycle, ms):
    rt = loaded("var x : int\nrung: true -> x := 1\n", cycle)
    assert rt.cycle_ms == ms and rung.Simulator(compile_body("", cycle)).cycle_ms == ms


@pytest.mark.parametrize("cycle", ["0ms", "60001ms", "1m1ms", "60s1ms", TIME_PAST])
def test_cycle_one_past_its_limits_is_e042(cycle):
    assert error_codes("var x : int\nrung: true -> x := 1\n", cycle) == {"E042"}


def test_real_literals_at_the_binary32_limits():
    # one beyond (1e39) is the compiler's range error of issue 8 point 6, tested there
    rt = loaded(
        "var a : real = 3.4028234e38\nvar b : real = -3.4028234e38\nvar c : real\n"
        "rung: true -> c := 1.17549435e-38\n"
    )
    assert (rt.get("a"), rt.get("b")) == (3.4028234663852886e38, -3.4028234663852886e38)
    assert rt.get("c") == 1.1754943508222875e-38


@pytest.mark.parametrize(
    "expr, value",
    [
        ("max(32767, -32768)", 32767),  # literals alone: int while both fit an int
        ("min(-32768, 32767)", -32768),
        ("n + 32767", 32767),  # a literal beside an int: int up to the limits
        ("n + -32768", -32768),
    ],
)
def test_int_literals_at_the_limits_keep_an_expression_int(expr, value):
    rt = loaded(f"var n : int\nvar x : int\nrung: true -> x := {expr}\n")
    assert rt.get("x") == value


@pytest.mark.parametrize(
    "expr, value",
    [
        ("max(32768, 0)", 32768),
        ("min(-32769, 0)", -32769),
        ("n + 32768", 32768),
        ("n + -32769", -32769),
    ],
)
def test_int_literals_one_past_the_limits_make_an_expression_dint(expr, value):
    # not a silent wrap: assigning the dint result to an int is E024
    assert error_codes(f"var n : int\nvar x : int\nrung: true -> x := {expr}\n") == {"E024"}
    rt = loaded(f"var n : int\nvar x : dint\nrung: true -> x := {expr}\n")
    assert rt.get("x") == value


def test_untyped_constants_at_the_int_limits_are_ints():
    rt = loaded(
        "const A = 32767\nconst C = -32768\nvar i : int\nvar j : int\n"
        "rung: true -> i := A, j := C\n"
    )
    assert (rt.get("i"), rt.get("j")) == (32767, -32768)


def test_int_literals_into_a_time_at_both_limits():
    rt = loaded("var a : time\nvar b : time\nrung: true -> a := 2147483647, b := -2147483648\n")
    assert (rt.get("a"), rt.get("b")) == (DINT_MAX, DINT_MIN)
    for beyond in (DINT_MAX + 1, DINT_MIN - 1):
        assert "E040" in error_codes(f"var a : time\nrung: true -> a := {beyond}\n")


def test_a_time_literal_past_its_limit_names_the_range():
    with pytest.raises(CompileError) as info:
        compile_body(f"var b : time = {TIME_PAST}\nrung: true -> b := b\n")
    (error,) = [d for d in info.value.diagnostics if d.is_error]
    assert error.code == "E040" and "(0..2147483647)" in error.message


@pytest.mark.parametrize("dividend", ["1.0e38 * 10.0", "0.0 - 1.0e38 * 10.0", "big - big"])
def test_real_mod_of_an_infinity_or_nan_is_the_one_nan(dividend):
    import struct

    rt = loaded(
        f"var big : real = 3.0e38\nvar x : real\nrung: true -> x := ({dividend}) mod 2.0\n".replace(
            "big - big", "big * 2.0 - big * 2.0"
        )
    )
    assert struct.pack(">f", rt.get("x")) == bytes.fromhex("7fc00000")
