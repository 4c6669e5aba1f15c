"""A plain interpreter of Rung bytecode, one instruction at a time, written from
docs/bytecode.md and docs/semantics.md: the yardstick of tests/test_runtime_fuzz.py."""

import math
import struct

from bytecode_gen import (
    TICKS,
    f32,
)

from rung.compiler.bytecode_writer import BY_NAME
from rung.runtime import blocks
from rung.runtime.opcodes import (
    F_INPUT,
    F_OUTPUT,
    F_RETAIN,
    K_CTD,
    K_CTU,
    K_RTO,
    K_TOF,
    K_TON,
    K_TP,
    MEMBER_TYPES,
    T_BOOL,
    T_DINT,
    T_INT,
    T_REAL,
    T_TIME,
)

BLOCK_ACTIONS = ("TIMER", "RESET_BLOCK", "COUNT_UP", "COUNT_DOWN", "LOAD_PRESET", "CTR_UPDATE")
ACTIONS = BLOCK_ACTIONS + ("COIL", "COIL_NOT", "SET", "RESET", "STORE", "STORE_MEMBER")


def wrap(t, x):
    if t == T_INT:
        return (x + 0x8000) % 0x10000 - 0x8000
    return (x + 0x80000000) % 0x100000000 - 0x80000000


def f32_inf(x):
    """x rounded to binary32, overflowing to infinity (struct refuses that)."""
    if x != x or x in (math.inf, -math.inf):
        return x
    try:
        return f32(x)
    except OverflowError:
        return math.copysign(math.inf, x)


class Reference:
    """The bytecode run one instruction at a time, strictly in order, as docs/bytecode.md
    and docs/semantics.md describe it. Timers and counters are evaluated by
    runtime/blocks.py (their semantics are not under test here, the calls are); the slot
    list has the runtime's layout so the two compare slot by slot."""

    def __init__(self, prog):
        self.prog = prog
        n = len(prog.vars)
        self.base = []
        for kind, _f, _p in prog.blocks:
            self.base.append(n)
            n += blocks.block_slots(kind)
        self.edge_base = n
        self.sys = n + prog.n_edges  # first_scan, clock_100ms, clock_1s, math_error
        self.v = [False] * (self.sys + 4)
        self.power = [0] * len(prog.rungs)
        self.input_vars = [i for i, var in enumerate(prog.vars) if var[1] & F_INPUT]
        self.output_vars = [
            i for i, var in enumerate(prog.vars) if var[1] & F_OUTPUT and not var[1] & F_INPUT
        ]
        self.inputs = [False if prog.vars[i][0] == T_BOOL else 0 for i in self.input_vars]
        self.init(True)

    def init(self, cold):
        v = self.v
        for i, (vtype, flags, _a, _i, init) in enumerate(self.prog.vars):
            if cold or not flags & F_RETAIN:
                v[i] = f32(init) if vtype == T_REAL else init
        for b, (kind, flags, preset) in enumerate(self.prog.blocks):
            if cold or not flags & 1:
                blocks.init_block(v, self.base[b], kind, preset)
        for i in range(self.edge_base, len(v)):
            v[i] = False
        self.power = [0] * len(self.prog.rungs)
        self.first = True
        self.last = 0
        self.phase = 0

    def scan(self, now):
        v = self.v
        dt = 0 if self.first else (now - self.last) % TICKS
        self.last = now
        self.phase = (self.phase + dt) % 1000
        v[self.sys] = self.first
        v[self.sys + 1] = self.phase % 100 < 50
        v[self.sys + 2] = self.phase < 500
        for k, i in enumerate(self.input_vars):
            v[i] = self.inputs[k]
        for r, ops in enumerate(self.prog.rungs):
            self.rung(r, ops, dt)
        self.first = False

    def error(self, zero):
        self.v[self.sys + 3] = True
        return zero

    def arith(self, name, t, a, b):
        if t == T_REAL:
            if name in ("DIV", "MOD") and b == 0:
                return self.error(0.0)
            if name == "DIV":
                return f32_inf(a / b)
            if name == "MOD":
                return self.real_mod(a, b)
            if name in ("MIN", "MAX"):
                return (min if name == "MIN" else max)(a, b)
            return f32_inf(a + b if name == "ADD" else a - b if name == "SUB" else a * b)
        if name in ("DIV", "MOD") and b == 0:
            return self.error(0)
        if name == "DIV":
            q = abs(a) // abs(b)
            return wrap(t, q if (a < 0) == (b < 0) else -q)
        if name == "MOD":
            m = abs(a) % abs(b)
            return m if a >= 0 else -m
        if name in ("MIN", "MAX"):
            return (min if name == "MIN" else max)(a, b)
        return wrap(t, a + b if name == "ADD" else a - b if name == "SUB" else a * b)

    def real_mod(self, a, b):
        """C's fmod: exact, with the sign of the dividend (-0.0 included); NaN when the
        dividend is infinite or either operand NaN; a finite dividend by an infinity is
        itself."""
        if a != a or b != b or a in (math.inf, -math.inf):
            return math.nan
        if b in (math.inf, -math.inf):
            return a
        return math.fmod(a, b)

    def conv(self, s, t, x):
        if t == T_REAL:
            return x if s == T_REAL else f32(float(x))
        if s == T_REAL:
            if x != x or x in (math.inf, -math.inf):
                return 0
            n = math.floor(abs(x) + 0.5)  # exact: binary32 values in a double
            x = n if x >= 0 else -n
        return wrap(t, x)

    def rung(self, r, ops, dt):
        v = self.v
        stack = []
        p = None
        for op in ops:
            name = op[0]
            if p is not None and not p and name not in ACTIONS:
                # the value of an unpowered action is not evaluated (docs/semantics.md):
                # no edge memory moves, no math_error
                entry = BY_NAME[name]
                del stack[len(stack) - entry[3] :]
                stack.extend([(None, None)] * entry[4])
                continue
            if name == "LOAD":
                stack.append((self.prog.vars[op[1]][0], v[op[1]]))
            elif name == "LOAD_MEMBER":
                kind = self.prog.blocks[op[1]][0]
                slot = self.base[op[1]] + blocks.member_offset(kind, op[2])
                stack.append((MEMBER_TYPES[op[2]], v[slot]))
            elif name in ("PUSH_TRUE", "PUSH_FALSE"):
                stack.append((T_BOOL, name == "PUSH_TRUE"))
            elif name.startswith("PUSH_"):
                t = {"INT": T_INT, "DINT": T_DINT, "REAL": T_REAL, "TIME": T_TIME}[name[5:]]
                stack.append((t, f32(op[1]) if t == T_REAL else op[1]))
            elif name == "SYS":
                stack.append((T_BOOL, v[self.sys + op[1]]))
            elif name == "NOT":
                stack.append((T_BOOL, not stack.pop()[1]))
            elif name in ("AND", "OR"):
                b = stack.pop()[1]
                a = stack.pop()[1]
                stack.append((T_BOOL, (a and b) if name == "AND" else (a or b)))
            elif name in ("RISING", "FALLING"):
                x = stack.pop()[1]
                m = self.edge_base + op[1]
                if name == "RISING":
                    fired = x and not v[m] and not v[self.sys]
                else:
                    fired = v[m] and not x and not v[self.sys]
                v[m] = x
                stack.append((T_BOOL, fired))
            elif name in CMP:
                b = stack.pop()[1]
                a = stack.pop()[1]
                stack.append((T_BOOL, CMP[name](a, b)))
            elif name in ("ADD", "SUB", "MUL", "DIV", "MOD", "MIN", "MAX"):
                b = stack.pop()[1]
                t, a = stack.pop()
                stack.append((t, self.arith(name, t, a, b)))
            elif name in ("NEG", "ABS"):
                t, a = stack.pop()
                x = -a if name == "NEG" else abs(a)
                stack.append((t, x if t == T_REAL else wrap(t, x)))
            elif name == "LIMIT":
                hi = stack.pop()[1]
                t, x = stack.pop()
                lo = stack.pop()[1]
                stack.append((t, min(max(x, lo), hi)))
            elif name == "CONV":
                s, x = stack.pop()
                stack.append((op[1], self.conv(s, op[1], x)))
            elif name == "POWER":
                p = stack.pop()[1]
                self.power[r] = 1 if p else 0
            else:
                self.action(op, p, stack, dt)
        assert not stack

    def action(self, op, p, stack, dt):
        v = self.v
        name, x = op[0], op[1]
        if name == "COIL":
            v[x] = p
        elif name == "COIL_NOT":
            v[x] = not p
        elif name in ("SET", "RESET"):
            if p:
                v[x] = name == "SET"
        elif name == "STORE":
            value = stack.pop()[1]
            if p:
                v[x] = value
        elif name == "STORE_MEMBER":
            value = stack.pop()[1]
            if p:
                v[self.base[x] + blocks.member_offset(self.prog.blocks[x][0], op[2])] = value
        else:
            kind = self.prog.blocks[x][0]
            b = self.base[x]
            if name == "TIMER":
                if kind == K_TP:
                    blocks.tp(v, b, p, dt, v[self.sys])
                else:
                    {K_TON: blocks.ton, K_TOF: blocks.tof, K_RTO: blocks.rto}[kind](v, b, p, dt)
            elif name == "RESET_BLOCK" and kind <= K_RTO:
                if p:
                    blocks.reset_timer(v, b)
            elif name == "CTR_UPDATE":
                f = {K_CTU: blocks.update_ctu, K_CTD: blocks.update_ctd}
                f.get(kind, blocks.update_counter)(v, b, v[self.sys])
            else:  # a counter input for this scan: CU, CD, R, LD
                off = {"COUNT_UP": 4, "COUNT_DOWN": 5, "RESET_BLOCK": 6, "LOAD_PRESET": 7}
                if p:
                    v[b + off[name]] = True


CMP = {
    "EQ": lambda a, b: a == b,
    "NE": lambda a, b: a != b,
    "LT": lambda a, b: a < b,
    "LE": lambda a, b: a <= b,
    "GT": lambda a, b: a > b,
    "GE": lambda a, b: a >= b,
}


def same(a, b):
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return (a != a and b != b) or struct.pack("<f", a) == struct.pack("<f", b)
    return a == b
