"""Division, mod and real-to-integer conversion on variables (what the compiler cannot fold),
over every sign, zero, one, minus one and the limits of each type, against the rules of
docs/semantics.md computed here independently: truncating division, mod with the sign of
the dividend, C's fmod for reals, division by zero giving 0 and math_error, the one NaN,
16/32-bit wrap-around, and Runtime.set wrapping to the type."""

import math
import struct
from array import array

import pytest

import rung
from rung.runtime import Runtime

SOURCE = """program a
var ia : int
var ib : int
var da : dint
var db : dint
var ra : real
var rb : real
var iq : int
var im : int
var dq : dint
var dm : dint
var rq : real
var rm : real
var ri : int
var rd : dint
rung: true -> iq := ia / ib, im := ia mod ib, dq := da / db, dm := da mod db
rung: true -> rq := ra / rb, rm := ra mod rb, ri := int(ra), rd := dint(ra)
"""
INF, NAN = float("inf"), float("nan")
NAN_BITS = 0x7FC00000


@pytest.fixture(scope="module")
def rt():
    return Runtime(rung.compile_source(SOURCE, "a.rung").to_bytes())


def wrap(n, bits):
    half = 1 << (bits - 1)
    return ((n + half) % (1 << bits)) - half


def int_div_mod(a, b, bits):
    """Truncating division and the remainder with the dividend's sign, wrapped."""
    if b == 0:
        return 0, 0, True
    q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    return wrap(q, bits), wrap(a - b * q, bits), False


def f32_bits(x):
    return NAN_BITS if x != x else struct.unpack("=I", array("f", [x]).tobytes())[0]


def f32(x):
    """x rounded to binary32 (overflow gives an infinity, as IEEE rounding does)."""
    return array("f", [x])[0]


def real_div_mod(a, b):
    a, b = f32(a), f32(b)  # what the variables hold
    if b == 0:
        return 0.0, 0.0, True
    if a != a or b != b:
        q = NAN
    elif math.isinf(a) and math.isinf(b):
        q = NAN
    else:
        q = a / b if not math.isinf(b) else math.copysign(0.0, a) * math.copysign(1.0, b)
    if a != a or b != b or math.isinf(a):
        m = NAN
    else:
        m = math.fmod(a, b)  # C's fmod: exact, the sign of the dividend, x for y = inf
    return q, m, False


def scan_with(rt, **values):
    for name, value in values.items():
        rt.set(name, value)
    rt.clear_math_error()
    rt.scan(0)
    return rt.math_error


INTS = [-32768, -32767, -7, -2, -1, 0, 1, 2, 3, 7, 32767]
DINTS = [-(2**31), -(2**31) + 1, -7, -1, 0, 1, 3, 7, 2**31 - 1]


@pytest.mark.parametrize("a", INTS)
def test_int_division_and_mod_on_variables(rt, a):
    for b in INTS:
        error = scan_with(rt, ia=a, ib=b, da=0, db=1, ra=0.0, rb=1.0)
        q, m, want_error = int_div_mod(a, b, 16)
        assert (rt.get("iq"), rt.get("im"), error) == (q, m, want_error), (a, b)


@pytest.mark.parametrize("a", DINTS)
def test_dint_division_and_mod_on_variables(rt, a):
    for b in DINTS:
        error = scan_with(rt, da=a, db=b, ia=0, ib=1, ra=0.0, rb=1.0)
        q, m, want_error = int_div_mod(a, b, 32)
        assert (rt.get("dq"), rt.get("dm"), error) == (q, m, want_error), (a, b)


REALS = [-INF, -3.0e38, -7.5, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 7.5, 3.0e38, INF, NAN]


@pytest.mark.parametrize("a", REALS)
def test_real_division_and_mod_on_variables(rt, a):
    for b in REALS:
        error = scan_with(rt, ra=a, rb=b, ia=0, ib=1, da=0, db=1)
        q, m, want_error = real_div_mod(a, b)
        got = (f32_bits(rt.get("rq")), f32_bits(rt.get("rm")), error)
        assert got == (f32_bits(q), f32_bits(m), want_error), (a, b)


@pytest.mark.parametrize(
    "x, as_int, as_dint",
    [
        (2.5, 3, 3),
        (-2.5, -3, -3),
        (0.49999997, 0, 0),
        (-0.49999997, 0, 0),
        (32767.5, -32768, 32768),  # rounds to 32768: wraps in an int
        (40000.0, 40000 - 65536, 40000),
        (-40000.0, -40000 + 65536, -40000),
        (3.0e9, wrap(3_000_000_000, 16), wrap(3_000_000_000, 32)),
        (INF, 0, 0),
        (-INF, 0, 0),
        (NAN, 0, 0),
    ],
)
def test_real_to_int_and_dint_on_variables(rt, x, as_int, as_dint):
    scan_with(rt, ra=x, rb=1.0, ia=0, ib=1, da=0, db=1)
    assert (rt.get("ri"), rt.get("rd")) == (as_int, as_dint)


@pytest.mark.parametrize(
    "name, value, stored",
    [
        ("ia", 32768, -32768),
        ("ia", -32769, 32767),
        ("ia", 65536 + 5, 5),
        ("da", 2**31, -(2**31)),
        ("da", -(2**31) - 1, 2**31 - 1),
        ("da", 2**31 + 1, -(2**31) + 1),
        ("da", 2**32 + 7, 7),
        ("da", -(2**31), -(2**31)),
        ("da", 2**31 - 1, 2**31 - 1),
    ],
)
def test_runtime_set_wraps_integers_to_their_type(rt, name, value, stored):
    rt.set(name, value)
    assert rt.get(name) == stored
