"""Evaluating a ladder model against a Snapshot: each leaf's value and state (three-valued:
True, False, None when the device's window cannot tell, such as an edge's one-scan pulse)."""

from rung.runtime import arith
from rung.runtime import opcodes as O

from .program import decode_value

_CMP = {
    "EQ": lambda a, b: a == b,
    "NE": lambda a, b: a != b,
    "LT": lambda a, b: a < b,
    "LE": lambda a, b: a <= b,
    "GT": lambda a, b: a > b,
    "GE": lambda a, b: a >= b,
}
_SCRATCH = [False]


def _wrap(vtype, x):
    if vtype == O.T_INT:
        return arith.w16(x)
    if vtype == O.T_REAL:
        return arith.f32(x)
    return arith.w32(x)


def _op(name, vtype, args):
    real = vtype == O.T_REAL
    if name == "ADD":
        return _wrap(vtype, args[0] + args[1])
    if name == "SUB":
        return _wrap(vtype, args[0] - args[1])
    if name == "MUL":
        return _wrap(vtype, args[0] * args[1])
    if name == "DIV":
        f = arith.rdiv if real else arith.idiv
        return _wrap(vtype, f(_SCRATCH, 0, args[0], args[1]))
    if name == "MOD":
        f = arith.rmod if real else arith.imod
        return _wrap(vtype, f(_SCRATCH, 0, args[0], args[1]))
    if name == "NEG":
        return _wrap(vtype, -args[0])
    if name == "ABS":
        return _wrap(vtype, abs(args[0]))
    if name == "MIN":
        return min(args)
    if name == "MAX":
        return max(args)
    if name == "LIMIT":
        lo, x, hi = args
        return lo if x < lo else hi if x > hi else x
    return None


def _conv(target, src, x):
    if src == target or (src in (O.T_DINT, O.T_TIME) and target in (O.T_DINT, O.T_TIME)):
        return x
    if target == O.T_REAL:
        return arith.f32(float(x))
    if src == O.T_REAL:
        return arith.r2i(x, 16 if target == O.T_INT else 32)
    if target == O.T_INT:
        return arith.w16(x)
    return x


class Context:
    """Values of one snapshot as the ladder's refs name them."""

    def __init__(self, program, snap):
        self.program = program
        self.snap = snap

    def value(self, ref):
        """The value a ref reads, or None when the window does not hold it."""
        kind = ref[0]
        try:
            if kind == "var":
                i = ref[1]
                return decode_value(self.program.img.vars[i][0], self.snap.raw[i])
            if kind == "member":
                return self.snap.values.get(f"b{ref[1]}.{O.MEMBER_NAMES[ref[2]]}")
            if kind == "lit":
                return ref[1]
            if kind == "sys":
                if ref[1] == O.S_FIRST_SCAN:
                    return bool(self.snap.status.get("first_scan"))
                if ref[1] == O.S_MATH_ERROR:
                    return bool(self.snap.status.get("math_error"))
                return None  # the clocks follow the device's clock: not in the window
            if kind == "op":
                args = [self.value(a) for a in ref[3]]
                return None if None in args else _op(ref[1], ref[2], args)
            if kind == "conv":
                x = self.value(ref[2])
                return None if x is None else _conv(ref[1], ref[3], x)
            if kind == "cmp":
                a, b = self.value(ref[2]), self.value(ref[3])
                return None if a is None or b is None else _CMP[ref[1]](a, b)
            if kind == "node":
                return self.node_state(ref[1])
        except (IndexError, KeyError, TypeError, ValueError, OverflowError):
            return None
        return None

    def contact(self, c):
        """Whether a contact passes power (True/False/None)."""
        if c.kind == "BOX":
            return c.ref[1] if c.ref is not None else None
        if c.kind in ("P", "N") or c.ref is None:
            return None  # an edge is true for one scan only: not visible from outside
        x = self.value(c.ref)
        if x is None:
            return None
        return (not x) if c.kind == "NC" else bool(x)

    def node_state(self, node):
        """The boolean value of a condition node, fed with power."""
        from .ladder_svg import flow

        return flow(self, node, True, None)
