"""Well-typed Rung bytecode written straight from a seeded random generator (no
compiler), for tests/test_runtime_fuzz.py."""

import random
import struct

from rung.compiler.bytecode_writer import encode, encode_instruction, encode_varint
from rung.runtime import container as c
from rung.runtime.addresses import A_IW, A_IX, A_MD, A_MW, A_NONE, A_QW, A_QX
from rung.runtime.crc import crc32
from rung.runtime.opcodes import (
    COUNTER_MEMBERS,
    F_CONST,
    F_INPUT,
    F_OUTPUT,
    F_RETAIN,
    K_CTD,
    K_CTU,
    K_CTUD,
    K_RTO,
    K_TOF,
    K_TON,
    K_TP,
    M_PT,
    M_PV,
    MAX_STACK,
    MEMBER_TYPES,
    T_BOOL,
    T_DINT,
    T_INT,
    T_REAL,
    T_TIME,
    TIMER_MEMBERS,
)

STATE_RUN = 1
NUMERIC = (T_INT, T_DINT, T_REAL, T_TIME)
TICKS = 1 << 30  # MicroPython's ticks_ms period

# literals that sit on the edges of each type (division by zero comes from the zeros)
INT_LITS = (0, 0, 0, 1, -1, 2, 3, -7, 10, 255, 32767, -32768, 32766, -32767)
DINT_LITS = (0, 0, 1, -1, 3, -7, 1000, 65536, -65536, 2**30, 2**31 - 1, -(2**31), 1 - 2**31)
TIME_LITS = (0, 0, 1, 5, 10, 50, 100, 1000, 60000, 2**31 - 1, -1, -(2**31), 2**30)
REAL_LITS = (
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -2.5,
    0.1,
    3.0,
    1e38,
    -1e38,
    3.4028234663852886e38,
    1e-45,
    -1e-45,
    1.1754943508222875e-38,
    16777217.0,
    32767.5,
    -32768.5,
    2147483648.0,
    1e18,
    float("inf"),
    float("-inf"),
)
LITS = {T_INT: INT_LITS, T_DINT: DINT_LITS, T_TIME: TIME_LITS, T_REAL: REAL_LITS}
PUSH = {T_INT: "PUSH_INT", T_DINT: "PUSH_DINT", T_TIME: "PUSH_TIME", T_REAL: "PUSH_REAL"}
RANGES = {T_INT: (-32768, 32767), T_DINT: (-(2**31), 2**31 - 1), T_TIME: (-(2**31), 2**31 - 1)}


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def fix_header(data):
    """data with the header's length and CRC fields made right again (bytes 16.. are
    checked), so that a mutant reaches the verifier instead of failing the CRC."""
    data = bytearray(data)
    if len(data) >= 16:
        struct.pack_into("<II", data, 8, len(data), crc32(memoryview(data)[16:]))
    return bytes(data)


def _varint_at(data, pos):
    n = shift = 0
    while True:
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if not b & 0x80:
            return n, pos
        shift += 7


def grow_table(data, tag, total, row):
    """A valid image (without its debug section) with the table of section `tag` (vars,
    blocks or code) grown to `total` rows by appending copies of `row`, the section length
    and the header's CRC fixed: the same image but for the row count."""
    body = bytearray()
    pos = 16
    grown = False
    while pos < len(data):
        sec = data[pos]
        size, pos = _varint_at(data, pos + 1)
        payload = data[pos : pos + size]
        pos += size
        assert sec != c.SEC_DEBUG, "compile the image with debug=False"
        if sec == tag:
            n, start = _varint_at(payload, 0)
            assert total >= n
            new = bytearray()
            encode_varint(new, total)
            payload = bytes(new) + payload[start:] + row * (total - n)
            grown = True
        body.append(sec)
        encode_varint(body, len(payload))
        body += payload
    assert grown, f"no section {tag}"
    return fix_header(data[:16] + body)


def members(kind):
    return TIMER_MEMBERS if kind <= K_RTO else COUNTER_MEMBERS[kind]


# ---- the program generator ------------------------------------------------------------


class Program:
    """A generated program: tables plus each rung as the op list fed to encode_instruction."""

    def __init__(self, seed, vars, block_table, n_edges, rungs):
        self.seed = seed
        self.vars = vars
        self.blocks = block_table
        self.n_edges = n_edges
        self.rungs = rungs

    def to_bytes(self, debug=True, edit=None):
        """The bytecode; edit(rung_bytes) may change the rungs' code bytes first."""
        img = c.Image()
        img.cycle_ms = 10
        img.vars = list(self.vars)
        img.blocks = list(self.blocks)
        img.n_edges = self.n_edges
        img.rung_bytes = []
        for ops in self.rungs:
            code = bytearray()
            for op in ops:
                encode_instruction(code, *op)
            img.rung_bytes.append(bytes(code))
        if edit is not None:
            edit(img.rung_bytes)
        if debug:
            d = c.Debug()
            d.program = "fuzz" + str(self.seed)
            d.var_names = ["v" + str(i) for i in range(len(self.vars))]
            d.var_descriptions = [""] * len(self.vars)
            d.block_names = ["b" + str(b) for b in range(len(self.blocks))]
            d.rung_names = [""] * len(self.rungs)
            d.rung_comments = [""] * len(self.rungs)
            d.rung_lines = list(range(1, len(self.rungs) + 1))
            d.rung_texts = [""] * len(self.rungs)
            img.debug = d
        return encode(img)

    def describe(self):
        lines = ["seed " + repr(self.seed), "vars (type, flags, area, index, init):"]
        lines += ["  %d: %r" % (i, v) for i, v in enumerate(self.vars)]
        lines.append("blocks (kind, flags, preset):")
        lines += ["  %d: %r" % (b, k) for b, k in enumerate(self.blocks)]
        lines.append("n_edges " + str(self.n_edges))
        for r, ops in enumerate(self.rungs):
            lines.append("rung %d: %r" % (r, ops))
        return "\n".join(lines)


class Generator:
    """Random well-typed programs: every rung a typed boolean condition, POWER, actions."""

    def __init__(self, seed):
        self.seed = seed
        self.r = random.Random(seed)

    # -- tables --

    def value(self, t):
        r = self.r
        if t == T_BOOL:
            return r.random() < 0.5
        if t == T_REAL:
            return f32(r.choice(REAL_LITS) if r.random() < 0.6 else r.uniform(-1e4, 1e4))
        lo, hi = RANGES[t]
        return r.choice(LITS[t]) if r.random() < 0.5 else r.randint(lo, hi)

    def tables(self):
        r = self.r
        vars = []
        for k in range(r.randint(1, 4)):
            vars.append((T_BOOL, F_INPUT, A_IX, k, False))
        for k in range(r.randint(0, 3)):
            vars.append((T_INT, F_INPUT, A_IW, k, 0))
        for k in range(r.randint(1, 3)):
            vars.append((T_BOOL, F_OUTPUT | (F_RETAIN if k == 1 else 0), A_QX, k, self.value(0)))
        for k in range(r.randint(0, 2)):
            vars.append((T_INT, F_OUTPUT, A_QW, k, self.value(T_INT)))
        mw = md = 0
        for t in (T_BOOL, T_INT, T_DINT, T_REAL, T_TIME):
            for _ in range(r.randint(1, 3)):
                flags = F_RETAIN if r.random() < 0.3 else 0
                area, index = A_NONE, 0
                if t == T_INT and r.random() < 0.3:
                    area, index, mw = A_MW, mw, mw + 1
                elif t != T_BOOL and t != T_INT and r.random() < 0.3:
                    area, index, md = A_MD, md, md + 2
                vars.append((t, flags, area, index, self.value(t)))
        for _ in range(r.randint(1, 2)):
            t = r.choice((T_BOOL, T_INT, T_DINT, T_REAL, T_TIME))
            vars.append((t, F_CONST, A_NONE, 0, self.value(t)))
        if r.random() < 0.1:  # indices past 127: two-byte varint operands
            for _ in range(130):
                t = r.choice((T_BOOL, T_INT, T_REAL))
                vars.append((t, 0, A_NONE, 0, self.value(t)))
        r.shuffle(vars)
        kinds = [K_TON, K_TOF, K_TP, K_RTO, K_CTU, K_CTD, K_CTUD]
        kinds += [r.choice(kinds) for _ in range(r.randint(0, 4))]
        r.shuffle(kinds)
        blocks = []
        for kind in kinds:
            if kind <= K_RTO:
                preset = r.choice((0, 1, 10, 30, 100, 100, 500, 2000, 2**31 - 1))
            else:
                preset = r.choice((0, 1, 2, 3, 3, 5, -1, 32767, -32768, r.randint(-9, 9)))
            blocks.append((kind, 1 if r.random() < 0.3 else 0, preset))
        self.vars = vars
        self.blocks = blocks

    # -- expressions: (ops, max stack depth) --

    def leaf(self, t):
        r = self.r
        choices = [i for i, v in enumerate(self.vars) if v[0] == t]
        mems = [
            (b, m)
            for b, blk in enumerate(self.blocks)
            for m in members(blk[0])
            if MEMBER_TYPES[m] == t
        ]
        x = r.random()
        if t == T_BOOL:
            if x < 0.45 and choices:
                return [("LOAD", r.choice(choices))], 1
            if x < 0.7 and mems:
                return [("LOAD_MEMBER",) + r.choice(mems)], 1
            if x < 0.85:
                return [("SYS", r.randint(0, 3))], 1
            return [(r.choice(("PUSH_TRUE", "PUSH_FALSE")),)], 1
        if x < 0.4 and choices:
            return [("LOAD", r.choice(choices))], 1
        if x < 0.55 and mems:
            return [("LOAD_MEMBER",) + r.choice(mems)], 1
        if x < 0.9:
            return [(PUSH[t], r.choice(LITS[t]))], 1
        if t == T_REAL:
            return [("PUSH_REAL", r.uniform(-100, 100))], 1
        lo, hi = RANGES[t]
        return [(PUSH[t], r.randint(lo, hi))], 1

    @staticmethod
    def combine(parts, op):
        ops = []
        depth = 0
        for k, (p, d) in enumerate(parts):
            ops += p
            depth = max(depth, k + d)
        return ops + [op], depth

    def num_expr(self, t, budget, edges):
        r = self.r
        if budget <= 0 or r.random() < 0.2:
            return self.leaf(t)
        x = r.random()
        sub = budget - 1
        if x < 0.5:
            op = r.choice(("ADD", "SUB", "MUL", "DIV", "DIV", "MOD", "MOD", "MIN", "MAX"))
            return self.combine(
                [self.num_expr(t, sub, edges), self.num_expr(t, sub, edges)], (op,)
            )
        if x < 0.65:
            return self.combine([self.num_expr(t, sub, edges)], (r.choice(("NEG", "ABS")),))
        if x < 0.75:
            return self.combine([self.num_expr(t, sub, edges) for _ in range(3)], ("LIMIT",))
        src = r.choice(NUMERIC)
        return self.combine([self.num_expr(src, sub, edges)], ("CONV", t))

    def bool_expr(self, budget, edges):
        r = self.r
        if budget <= 0 or r.random() < 0.15:
            return self.leaf(T_BOOL)
        x = r.random()
        sub = budget - 1
        if x < 0.15:
            return self.combine([self.bool_expr(sub, edges)], ("NOT",))
        if x < 0.45:
            op = ("AND",) if r.random() < 0.5 else ("OR",)
            return self.combine([self.bool_expr(sub, edges), self.bool_expr(sub, edges)], op)
        if x < 0.6 and edges:
            op = (r.choice(("RISING", "FALLING")), self.n_edges)
            self.n_edges += 1
            return self.combine([self.bool_expr(sub, edges)], op)
        if x < 0.68:
            op = (r.choice(("EQ", "NE")),)
            return self.combine([self.bool_expr(sub, edges), self.bool_expr(sub, edges)], op)
        t = r.choice(NUMERIC)
        op = (r.choice(("EQ", "NE", "LT", "LE", "GT", "GE")),)
        return self.combine([self.num_expr(t, sub, edges), self.num_expr(t, sub, edges)], op)

    def chain(self, t):
        """A long left-deep expression (stack depth 2): long enough that the translator
        moves parts of it into temporaries."""
        r = self.r
        ops, _ = self.leaf(t)
        for _ in range(r.randint(15, 70)):
            if t == T_BOOL:
                y = r.random()
                if y < 0.3:
                    ops.append(("NOT",))
                    continue
                if y < 0.45:
                    ops += self.num_expr(T_INT, 1, False)[0] + self.leaf(T_INT)[0] + [("LT",)]
                    ops.append(("AND",) if r.random() < 0.5 else ("OR",))
                    continue
                ops += self.leaf(T_BOOL)[0]
                ops.append((r.choice(("AND", "OR", "EQ", "NE")),))
            else:
                y = r.random()
                if y < 0.25:
                    ops.append((r.choice(("NEG", "ABS")),))
                    continue
                ops += self.leaf(t)[0]
                op = r.choice(("ADD", "SUB", "MUL", "DIV", "MOD", "MIN", "MAX"))
                ops.append((op,))
        return ops, 3

    def wide(self):
        """A condition that uses the whole stack: MAX_STACK leaves, then AND/OR them."""
        ops = []
        for _ in range(MAX_STACK):
            ops += self.leaf(T_BOOL)[0]
        for _ in range(MAX_STACK - 1):
            ops.append((self.r.choice(("AND", "OR")),))
        return ops, MAX_STACK

    def condition(self):
        r = self.r
        x = r.random()
        if x < 0.05:
            return self.wide()
        if x < 0.15:
            return self.chain(T_BOOL)
        return self.bool_expr(r.randint(0, 5), True)

    def value_expr(self, t):
        """The value of a STORE: sometimes long enough to be split into temporaries, and
        for a bool sometimes an edge over such a long operand."""
        r = self.r
        if r.random() < 0.1:
            if t == T_BOOL and r.random() < 0.5:
                op = (r.choice(("RISING", "FALLING")), self.n_edges)
                self.n_edges += 1
                return self.combine([self.chain(T_BOOL)], op)
            return self.chain(t)
        if t == T_BOOL:
            return self.bool_expr(r.randint(0, 2), True)
        return self.num_expr(t, r.randint(0, 4), False)

    # -- actions --

    def actions(self, rung):
        r = self.r
        bools = [i for i in self.writable if self.vars[i][0] == T_BOOL]
        out = []
        for _ in range(r.choice((0, 1, 1, 2, 2, 3, 4))):
            x = r.random()
            if x < 0.3:
                out.append(
                    (r.choice(("COIL", "COIL", "COIL_NOT", "SET", "RESET")), r.choice(bools))
                )
            elif x < 0.55:
                i = r.choice(self.writable)
                ops, depth = self.value_expr(self.vars[i][0])
                assert depth <= MAX_STACK
                out += ops + [("STORE", i)]
            elif x < 0.65 and self.undriven:
                b = self.undriven.pop(r.randrange(len(self.undriven)))
                out.append(("TIMER", b))
            elif x < 0.72:
                b = r.randrange(len(self.blocks))
                out.append(("RESET_BLOCK", b))
                self.touch(b, rung)
            elif x < 0.9:
                kind_ops = []
                for b, (kind, _, _) in enumerate(self.blocks):
                    if kind in (K_CTU, K_CTUD):
                        kind_ops.append(("COUNT_UP", b))
                    if kind in (K_CTD, K_CTUD):
                        kind_ops.append(("COUNT_DOWN", b))
                        kind_ops.append(("LOAD_PRESET", b))
                op = r.choice(kind_ops)
                out.append(op)
                self.touch(op[1], rung)
            else:
                b = r.randrange(len(self.blocks))
                m = M_PT if self.blocks[b][0] <= K_RTO else M_PV
                ops, _ = self.value_expr(MEMBER_TYPES[m])
                out += ops + [("STORE_MEMBER", b, m)]
                self.touch(b, rung)
        return out

    def touch(self, b, rung):
        if self.blocks[b][0] > K_RTO:
            self.last_rung[b] = rung

    def program(self):
        r = self.r
        self.tables()
        self.n_edges = 0
        self.writable = [i for i, v in enumerate(self.vars) if not v[1] & (F_INPUT | F_CONST)]
        self.undriven = [b for b, blk in enumerate(self.blocks) if blk[0] <= K_RTO]
        self.last_rung = {}
        rungs = []
        # past RUNGS_PER_CHUNK (32) now and then: several generated functions
        for k in range(r.randint(1, 14) if r.random() < 0.92 else r.randint(30, 75)):
            ops, depth = self.condition()
            assert depth <= MAX_STACK
            rungs.append(ops + [("POWER",)] + self.actions(k))
        for b, (kind, _, _) in enumerate(self.blocks):
            if kind > K_RTO:
                if b in self.last_rung:
                    rungs[self.last_rung[b]].append(("CTR_UPDATE", b))
                elif r.random() < 0.5:
                    rungs[r.randrange(len(rungs))].append(("CTR_UPDATE", b))
        return Program(self.seed, self.vars, self.blocks, self.n_edges, rungs)


def generate(seed):
    return Generator(seed).program()
