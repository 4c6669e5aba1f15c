# PLC arithmetic on Python numbers, called by the generated scan code: fixed-width
# wrap-around, truncating division, binary32 reals. Division by zero gives 0 and sets the
# math_error slot (v[me]) instead of raising.
from array import array

_f = array("f", [0.0])
_f[0] = float("nan")
_NAN = _f[0]  # the one NaN that reals hold (hosts differ in the NaN an operation returns)
_INF = float("inf")


def f32(x):
    """x rounded to IEEE binary32, as every Rung interpreter stores reals."""
    if x != x:
        return _NAN
    _f[0] = x
    return _f[0]


def w16(x):
    """Wrap to 16-bit two's complement."""
    return ((x + 32768) & 0xFFFF) - 32768


def w32(x):
    """Wrap to 32-bit two's complement (no big-int work when already in range)."""
    if -0x80000000 <= x <= 0x7FFFFFFF:
        return x
    return ((x + 0x80000000) & 0xFFFFFFFF) - 0x80000000


def idiv(v, me, a, b):
    """Integer division truncating toward zero (-7 / 2 = -3), unwrapped."""
    if b == 0:
        v[me] = True
        return 0
    q = (a if a >= 0 else -a) // (b if b >= 0 else -b)
    return q if (a < 0) == (b < 0) else -q


def imod(v, me, a, b):
    """Remainder with the sign of the dividend (-7 mod 2 = -1)."""
    if b == 0:
        v[me] = True
        return 0
    r = (a if a >= 0 else -a) % (b if b >= 0 else -b)
    return r if a >= 0 else -r


def rdiv(v, me, a, b):
    """Real division; by zero gives 0.0 and sets math_error."""
    if b == 0:
        v[me] = True
        return 0.0
    return f32(a / b)


def rmod(v, me, a, b):
    """Real remainder with the sign of the dividend, exact (C's fmod)."""
    if b == 0:
        v[me] = True
        return 0.0
    if a != a or b != b or a == _INF or a == -_INF:
        return _NAN
    if b == _INF or b == -_INF:
        return a
    # on magnitudes Python's % is fmod, exact; the sign is then the dividend's (-0.0 too)
    r = abs(a) % abs(b)
    return -r if a < 0 or (a == 0 and str(a)[0] == "-") else r


def r2i(x, bits):
    """Real to integer: round half away from zero, then wrap; NaN and infinities give 0."""
    if x != x or x > 1e18 or x < -1e18:
        return 0
    # no x + 0.5: on single-precision boards that sum rounds (0.49999997 + 0.5 == 1.0);
    # the fraction x - trunc(x) is exact in any binary float
    n = int(x)
    f = x - n
    if f >= 0.5:
        n += 1
    elif f <= -0.5:
        n -= 1
    return w16(n) if bits == 16 else w32(n)
