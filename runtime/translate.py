# Verifier and translator in one pass: each rung's bytecode is checked against every rule
# of docs/bytecode.md ("Verification") with an abstract typed stack, and the same stack
# builds Python source for the rung. Chunks of rungs become plain Python functions over the
# slot list `v`, so a scan costs about what hand-written Python would.
try:
    from micropython import opt_level as _opt_level
except ImportError:  # CPython
    _opt_level = None

from .arith import f32
from .blocks import member_offset
from .image import LoadError
from .instructions import read_instruction
from .opcodes import (
    F_CONST,
    F_INPUT,
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
    OP_ABS,
    OP_ADD,
    OP_AND,
    OP_CONV,
    OP_COUNT_DOWN,
    OP_COUNT_UP,
    OP_CTR_UPDATE,
    OP_DIV,
    OP_EQ,
    OP_FALLING,
    OP_GE,
    OP_GT,
    OP_LE,
    OP_LIMIT,
    OP_LOAD,
    OP_LOAD_MEMBER,
    OP_LT,
    OP_MAX,
    OP_MIN,
    OP_MOD,
    OP_MUL,
    OP_NE,
    OP_NEG,
    OP_NOT,
    OP_OR,
    OP_POWER,
    OP_PUSH_DINT,
    OP_PUSH_FALSE,
    OP_PUSH_INT,
    OP_PUSH_REAL,
    OP_PUSH_TIME,
    OP_PUSH_TRUE,
    OP_RESET_BLOCK,
    OP_RISING,
    OP_STORE,
    OP_STORE_MEMBER,
    OP_SYS,
    OP_TIMER,
    S_MATH_ERROR,
    T_BOOL,
    T_DINT,
    T_INT,
    T_REAL,
    T_TIME,
)

# Operator precedence of generated expressions, to parenthesise only where needed.
_P_OR = 1
_P_AND = 2
_P_NOT = 3
_P_CMP = 4
_P_ADD = 5
_P_MUL = 6
_P_ATOM = 9
_CMP = {OP_EQ: "==", OP_NE: "!=", OP_LT: "<", OP_LE: "<=", OP_GT: ">", OP_GE: ">="}
# Each function costs about 80 bytes of heap on MicroPython; 32 rungs per function keep
# that small while the source compiled at once stays a few KB.
RUNGS_PER_CHUNK = 32
# Longer expressions are computed into a temporary first, which bounds the parenthesis
# nesting of generated code (CPython's parser stops at 200 levels) whatever the bytecode.
_HOIST_CHARS = 300


def _has_effects(e):
    """Whether evaluating entry e may set math_error (a division or mod by a variable)."""
    x = e[1]
    return "_idiv(" in x or "_imod(" in x or "_rdiv(" in x or "_rmod(" in x


# An int sum or product is wrapped once, where its value is used (stored, compared, divided,
# converted...), not after every + - *: wrapping is a ring homomorphism, so the result is
# the same. Entries awaiting their wrap carry a bound of |value| as e[4]; an expression
# stays unwrapped only while that bound is below 2**30, a small int (no heap) on every
# MicroPython port, and one whose bound fits in 16 bits is never wrapped at all.
_SMALL = 0x3FFFFFFF


def _bound(e):
    """An upper bound of |value| of an int entry."""
    if len(e) > 4:
        return e[4]
    lit = _lit(e)
    return 32768 if lit is None else abs(lit)


def _lit(e):
    """The value of an integer literal entry, else None."""
    return e[3] if len(e) > 3 else None


def _paren(e, prec):
    return e[1] if e[2] >= prec else "(" + e[1] + ")"


# Timer and counter updates: the steady states inline (the state that a block stays in
# scan after scan: idle, done, no edge), everything else a call to runtime/blocks.py, the
# documented semantics. Each inline path is what the function does in that state, statement
# for statement (tests/test_runtime_fuzz.py runs them against it); a call per block per
# scan was most of a timer program's scan, and inlining the whole function would cost
# MicroPython about 200 bytes of heap a block. `@k` is the block's slot b+k, `@B` b, `@F`
# first_scan, `P` the rung's power.
_INLINE = {
    K_TON: """if not P:
    @0 = False
    @1 = 0
    @4 = 0
    @3 = P
elif @4 == 2:
    @3 = P
else:
    _ton(v, @B, P, dt)""",
    K_TOF: """if P:
    @1 = 0
    @4 = 0
    @0 = True
    @3 = P
elif @4 != 1 and not @3:
    @0 = False
    @3 = P
else:
    _tof(v, @B, P, dt)""",
    K_TP: """if not P and @4 == 0:
    @0 = False
    @3 = P
else:
    _tp(v, @B, P, dt, @F)""",
    K_RTO: """if @4 == 2:
    @3 = P
else:
    _rto(v, @B, P, dt)""",
    K_CTU: """if @6 or @4 and not @8:
    _ctu(v, @B, @F)
else:
    @8 = @4
    @4 = False
    @2 = @0 >= @1""",
    K_CTD: """if @6 or @7 or @5 and not @9:
    _ctd(v, @B, @F)
else:
    @9 = @5
    @5 = False
    @3 = @0 <= 0""",
    K_CTUD: """_ctud(v, @B, @F)""",
}
_TRESET = "_treset(v, @B)"

# On CPython, where code costs no board's heap, whole blocks are inline: runtime/blocks.py
# transcribed statement for statement (TP, the rarest, keeps its calls: tests/
# test_block_model.py swaps its function to prove that the model comparison catches bugs). The MicroPython tests compare these
# against the MicroPython build of the steady-state form above, scan by scan.
_FULL = {
    K_TON: """if not P:
    @0 = False
    @1 = 0
    @4 = 0
elif @4 != 2:
    _t = @2
    if _t < 0:
        _t = 0
    _e = @1 + dt if @3 else 0
    if _e >= _t:
        @1 = _t
        @4 = 2
        @0 = True
    else:
        @1 = _e
        @4 = 1
        @0 = False
@3 = P""",
    K_TOF: """if P:
    @1 = 0
    @4 = 0
    @0 = True
else:
    _t = @2
    if _t < 0:
        _t = 0
    if @3:
        @1 = 0
        @4 = 1 if _t > 0 else 2
    elif @4 == 1:
        _e = @1 + dt
        if _e >= _t:
            _e = _t
            @4 = 2
        @1 = _e
    @0 = @4 == 1
@3 = P""",
    K_RTO: """if @4 != 2:
    _t = @2
    if _t < 0:
        _t = 0
    _e = @1
    if P and @3:
        _e += dt
    if _e >= _t:
        @1 = _t
        @4 = 2
        @0 = True
    else:
        @1 = _e
        @0 = False
@3 = P""",
    K_CTU: """_c = @4
if @6:
    @0 = 0
    @6 = False
elif _c and not @8 and not @F and @0 < 32767:
    @0 += 1
@8 = _c
@4 = False
@2 = @0 >= @1""",
    K_CTD: """_d = @5
if @6:
    @0 = 0
elif @7:
    @0 = @1
elif _d and not @9 and not @F and @0 > -32768:
    @0 -= 1
@9 = _d
@5 = False
@6 = False
@7 = False
@3 = @0 <= 0""",
}
if _opt_level is None:  # CPython
    _INLINE.update(_FULL)
_FULL = None


def _inline(template, base, first, power):
    """The statements of a template for the block at slot base."""
    out = []
    for line in template.split("\n"):
        k = line.find("@")
        while k >= 0:
            c = line[k + 1]
            if c == "B":
                text = str(base)
            else:
                text = "v[" + str(first if c == "F" else base + ord(c) - 48) + "]"
            line = line[:k] + text + line[k + 2 :]
            k = line.find("@")
        # P only as a whole word: the templates have no other capital P
        out.append(line.replace("P", power))
    return out


class _RungTranslator:
    def __init__(self, img, layout, consts, state):
        self.img = img
        self.lay = layout
        self.consts = consts  # real literals, referenced as _k[i]
        self.state = state  # program-wide checks: timers/counter updates seen

    def fail(self, msg):
        raise LoadError("rung " + str(self.rung) + " at byte " + str(self.pos) + ": " + msg)

    def var(self, i):
        if i >= len(self.img.vars):
            self.fail("variable " + str(i) + " does not exist")
        return self.img.vars[i]

    def block(self, b):
        if b >= len(self.img.blocks):
            self.fail("block " + str(b) + " does not exist")
        return self.img.blocks[b]

    def pop(self, stack, want=None):
        if not stack:
            self.fail("stack underflow")
        e = self.settle(stack.pop())
        if want is not None and e[0] != want:
            self.fail("operand has the wrong type")
        return e

    def settle(self, e):
        """Entry e with its pending wrap applied (see _bound)."""
        if len(e) > 4 and e[4] > 32767:
            return self.wrap(e[0], e[1], e[2])
        return e

    def pop_same(self, stack, n, numeric, raw=False):
        """The top n entries, all of one type (wrapped unless raw)."""
        if len(stack) < n:
            self.fail("stack underflow")
        items = stack[-n:]
        del stack[-n:]
        if not raw:
            items = [self.settle(e) for e in items]
        t = items[0][0]
        for e in items:
            if e[0] != t:
                self.fail("operands of different types")
        if numeric and t == T_BOOL:
            self.fail("arithmetic on bool")
        return t, items

    def literal_real(self, x):
        self.consts.append(f32(x))  # a NaN literal becomes the one NaN reals hold
        return "_k[" + str(len(self.consts) - 1) + "]"

    def load(self, i):
        vtype, flags, _area, _index, init = self.var(i)
        if flags & F_CONST:  # constants are inlined
            if vtype == T_REAL:
                return (vtype, self.literal_real(init), _P_ATOM)
            return (vtype, repr(init), _P_ATOM, init)
        return (vtype, "v[" + str(i) + "]", _P_ATOM)

    def arith(self, op, t, a, b):
        if op >= OP_DIV:  # quotients of wrapped values (pop_same kept a and b raw)
            a = self.settle(a)
            b = self.settle(b)
        x = _paren(a, _P_ADD)
        if (op == OP_DIV or op == OP_MOD) and t != T_REAL and (_lit(b) or 0) > 0:
            # a positive literal divisor cannot be zero and cannot overflow: plain Python
            # on the absolute value keeps the truncating semantics without a call
            k = str(_lit(b))
            if a[2] == _P_ATOM:
                x = a[1]
                if op == OP_DIV:
                    e = (
                        "("
                        + x
                        + " // "
                        + k
                        + " if "
                        + x
                        + " >= 0 else -(-"
                        + x
                        + " // "
                        + k
                        + "))"
                    )
                else:
                    e = "(" + x + " % " + k + " if " + x + " >= 0 else -(-" + x + " % " + k + "))"
                return (t, e, _P_ATOM)
        if op == OP_DIV or op == OP_MOD:
            me = str(self.lay.math_error)
            if t == T_REAL:
                f = "_rdiv" if op == OP_DIV else "_rmod"
                return (t, f + "(v, " + me + ", " + a[1] + ", " + b[1] + ")", _P_ATOM)
            f = "_idiv" if op == OP_DIV else "_imod"
            return self.wrap(t, f + "(v, " + me + ", " + a[1] + ", " + b[1] + ")", _P_ATOM)
        prec = _P_MUL if op == OP_MUL else _P_ADD
        if t == T_INT:
            bound = self.bound(op, a, b)
            if bound > _SMALL:  # too large unwrapped: wrap the operands, then the result
                a = self.settle(a)
                b = self.settle(b)
                bound = self.bound(op, a, b)
            expr = self.arith_expr(op, a, b)
            if bound <= _SMALL:
                return (t, expr, prec, None, bound)
            return self.wrap(t, expr, prec)
        expr = self.arith_expr(op, a, b)
        if t == T_REAL:
            return (t, "_f32(" + expr + ")", _P_ATOM)
        return self.wrap(t, expr, prec)

    def bound(self, op, a, b):
        if op == OP_MUL:
            return _bound(a) * _bound(b)
        return _bound(a) + _bound(b)

    def arith_expr(self, op, a, b):
        if op == OP_MUL:
            return _paren(a, _P_MUL) + " * " + _paren(b, _P_MUL + 1)
        return _paren(a, _P_ADD) + (" + " if op == OP_ADD else " - ") + _paren(b, _P_ADD + 1)

    def wrap(self, t, expr, prec):
        if t == T_INT:
            # ((x + 32768) & 0xFFFF) - 32768 inline: small ints only, no call
            inner = expr if prec >= _P_ADD else "(" + expr + ")"
            return (t, "((" + inner + " + 32768 & 65535) - 32768)", _P_ATOM)
        if t == T_REAL:
            return (t, expr, prec)
        return (t, "_w32(" + expr + ")", _P_ATOM)

    def conv(self, e, target):
        src = e[0]
        if src == target or (src in (T_DINT, T_TIME) and target in (T_DINT, T_TIME)):
            return (target, e[1], e[2])
        if target == T_REAL:
            return (target, "_f32(" + e[1] + ")", _P_ATOM)
        if src == T_REAL:
            bits = "16" if target == T_INT else "32"
            return (target, "_r2i(" + e[1] + ", " + bits + ")", _P_ATOM)
        if target == T_INT:
            return self.wrap(T_INT, e[1], e[2])
        return (target, e[1], e[2])  # int -> dint/time: widening, same value

    def translate(self, r, code, start, end):
        """Verify rung r's code and return its Python statements (without indentation)."""
        self.rung = r
        self.pos = 0
        self.n_hoisted = 0
        self.n_edges = 0
        self.pending = []
        self.head = None  # the coils that the power statement assigns too
        self.power = "p"  # what the actions read as the rung's power
        lay = self.lay
        lines = []
        stack = []
        powered = False
        pos = start
        while pos < end:
            self.pos = pos - start
            entry, ops, pos = read_instruction(code, pos, end)
            op = entry[1]
            if op == OP_LOAD:
                stack.append(self.load(ops[0]))
            elif op == OP_LOAD_MEMBER:
                kind = self.block(ops[0])[0]
                off = member_offset(kind, ops[1]) if ops[1] < len(MEMBER_TYPES) else -1
                if off < 0:
                    self.fail("block " + str(ops[0]) + " has no member " + str(ops[1]))
                slot = lay.block_base[ops[0]] + off
                stack.append((MEMBER_TYPES[ops[1]], "v[" + str(slot) + "]", _P_ATOM))
            elif op == OP_PUSH_TRUE or op == OP_PUSH_FALSE:
                stack.append((T_BOOL, "True" if op == OP_PUSH_TRUE else "False", _P_ATOM))
            elif op == OP_PUSH_INT:
                if not -32768 <= ops[0] <= 32767:
                    self.fail("int literal out of range")
                stack.append((T_INT, "(" + str(ops[0]) + ")", _P_ATOM, ops[0]))
            elif op == OP_PUSH_DINT or op == OP_PUSH_TIME:
                if not -0x80000000 <= ops[0] <= 0x7FFFFFFF:
                    self.fail("literal out of range")
                t = T_DINT if op == OP_PUSH_DINT else T_TIME
                stack.append((t, "(" + str(ops[0]) + ")", _P_ATOM, ops[0]))
            elif op == OP_PUSH_REAL:
                stack.append((T_REAL, self.literal_real(ops[0]), _P_ATOM))
            elif op == OP_SYS:
                if ops[0] > 3:
                    self.fail("unknown system contact " + str(ops[0]))
                stack.append((T_BOOL, "v[" + str(lay.first_scan + ops[0]) + "]", _P_ATOM))
                if ops[0] == S_MATH_ERROR:
                    # read math_error in instruction order: divisions pushed before this
                    # read run before it, later ones after it
                    for k in range(len(stack) - 1):
                        if _has_effects(stack[k]):
                            self.hoist(stack, powered, lines, k)
                    self.hoist(stack, powered, lines)
            elif op == OP_NOT:
                e = self.pop(stack, T_BOOL)
                stack.append((T_BOOL, "not " + _paren(e, _P_NOT), _P_NOT))
            elif op == OP_AND or op == OP_OR:
                if len(stack) >= 2 and _has_effects(stack[-1]):
                    # every leg is evaluated, as in ladder: a division that Python's
                    # short-circuit `and`/`or` could skip runs in a statement of its own,
                    # after the left leg if that one has effects too (left to right)
                    if _has_effects(stack[-2]):
                        self.hoist(stack, powered, lines, len(stack) - 2)
                    self.hoist(stack, powered, lines)
                b = self.pop(stack, T_BOOL)
                a = self.pop(stack, T_BOOL)
                prec = _P_AND if op == OP_AND else _P_OR
                word = " and " if op == OP_AND else " or "
                stack.append((T_BOOL, _paren(a, prec) + word + _paren(b, prec + 1), prec))
            elif op == OP_RISING or op == OP_FALLING:
                e = ops[0]
                if e >= self.img.n_edges:
                    self.fail("edge memory " + str(e) + " does not exist")
                if e in self.state.edges:
                    self.fail("edge memory " + str(e) + " used twice")
                self.state.edges.add(e)
                x = self.pop(stack, T_BOOL)
                m = "v[" + str(lay.edge_base + e) + "]"
                fs = "v[" + str(lay.first_scan) + "]"
                # temporaries are numbered per rung: every new name is a qstr for good
                t = "_e" + str(self.n_edges)
                self.n_edges += 1
                # after POWER the edge is part of an action's value: like the rest of
                # that value it is evaluated only when the rung is powered
                out = self.out(powered, lines)
                out.append("_x = " + x[1])
                if op == OP_RISING:
                    out.append(t + " = _x and not " + m + " and not " + fs)
                else:
                    out.append(t + " = " + m + " and not _x and not " + fs)
                out.append(m + " = _x")
                stack.append((T_BOOL, t, _P_ATOM))
            elif op in _CMP:
                t, (a, b) = self.pop_same(stack, 2, op != OP_EQ and op != OP_NE)
                expr = _paren(a, _P_ADD) + " " + _CMP[op] + " " + _paren(b, _P_ADD)
                stack.append((T_BOOL, expr, _P_CMP))
            elif OP_ADD <= op <= OP_MOD:
                t, (a, b) = self.pop_same(stack, 2, True, op <= OP_MUL)
                stack.append(self.arith(op, t, a, b))
            elif op == OP_NEG or op == OP_ABS:
                t, (a,) = self.pop_same(stack, 1, True, op == OP_NEG)
                if op == OP_NEG:
                    expr, prec = "-" + _paren(a, _P_MUL + 1), _P_MUL
                else:
                    expr, prec = "abs(" + a[1] + ")", _P_ATOM
                if t == T_INT and op == OP_NEG:
                    stack.append((t, expr, prec, None, _bound(a)))
                elif t == T_REAL:
                    # through _f32 so that NaN keeps one bit pattern (-NaN is another)
                    stack.append((t, "_f32(" + expr + ")", _P_ATOM))
                else:
                    stack.append(self.wrap(t, expr, prec))
            elif op == OP_MIN or op == OP_MAX:
                t, (a, b) = self.pop_same(stack, 2, True)
                f = "min(" if op == OP_MIN else "max("
                stack.append((t, f + a[1] + ", " + b[1] + ")", _P_ATOM))
            elif op == OP_LIMIT:
                t, (lo, x, hi) = self.pop_same(stack, 3, True)
                expr = "min(max(" + x[1] + ", " + lo[1] + "), " + hi[1] + ")"
                stack.append((t, expr, _P_ATOM))
            elif op == OP_CONV:
                if not T_INT <= ops[0] <= T_TIME:
                    self.fail("conversion to unknown type " + str(ops[0]))
                e = self.pop(stack)
                if e[0] == T_BOOL:
                    self.fail("conversion of a bool")
                stack.append(self.conv(e, ops[0]))
            elif op == OP_POWER:
                if powered:
                    self.fail("second POWER in one rung")
                if len(stack) != 1 or stack[0][0] != T_BOOL:
                    self.fail("the condition must leave exactly one bool")
                # one statement stores the power flow and the coils right after POWER:
                # p = v[power] = v[coil] = ... = condition, assembled at the end of the rung
                self.condition = stack.pop()[1]
                # an unconditional rung (`true ->`) tests nothing: its actions run as plain
                # statements and its coils take True
                self.power = "True" if self.condition == "True" else "p"
                self.head = []
                self.head_at = len(lines)
                powered = True
            else:
                if not powered:
                    self.fail(entry[0] + " before POWER")
                self.action(op, entry[0], ops, stack, lines)
            if stack and len(stack[-1][1]) > _HOIST_CHARS:
                self.hoist(stack, powered, lines)
            if len(stack) > MAX_STACK:
                self.fail("stack deeper than " + str(MAX_STACK))
        if not powered:
            self.fail("rung without POWER")
        if stack:
            self.fail("values left on the stack")
        # power flow is recorded only while someone watches it (r: Runtime.watch_power)
        record = "if r: w[" + str(self.power_index) + "] = "
        if self.power == "True":
            head = [" = ".join(self.head) + " = True"] if self.head else []
            head.append(record + "1")
        else:
            head = [" = ".join(["p"] + self.head) + " = " + self.condition, record + "p"]
        lines[self.head_at : self.head_at] = head
        return lines

    def hoist(self, stack, powered, lines, k=-1):
        """Replace stack entry k (the top by default) by a temporary computed in its own
        statement (see out())."""
        e = stack[k]
        name = "_h" + str(self.n_hoisted)
        self.n_hoisted += 1
        self.out(powered, lines).append(name + " = " + e[1])
        stack[k] = (e[0], name, _P_ATOM) + e[3:]

    def out(self, powered, lines):
        """Where a statement computing part of an expression goes: the rung's lines in the
        condition; after POWER, self.pending, which store() runs only when powered."""
        return self.pending if powered else lines

    def store(self, lines, target, value):
        if self.power == "True":
            lines.extend(self.pending)
            lines.append(target + " = " + value)
            self.pending = []
        elif self.pending:
            lines.append("if p:")
            for statement in self.pending:
                lines.append("    " + statement)
            lines.append("    " + target + " = " + value)
            self.pending = []
        else:
            lines.append("if p: " + target + " = " + value)

    def guarded(self, lines, statements):
        """statements run when the rung is powered."""
        if self.power == "True":
            lines.extend(statements)
        elif len(statements) == 1:
            lines.append("if p: " + statements[0])
        else:
            lines.append("if p:")
            for statement in statements:
                lines.append("    " + statement)

    def writable(self, i, name):
        vtype, flags = self.var(i)[0], self.var(i)[1]
        if flags & F_INPUT:
            self.fail(name + " writes input variable " + str(i))
        if flags & F_CONST:
            self.fail(name + " writes constant " + str(i))
        return vtype

    def action(self, op, name, ops, stack, lines):
        lay = self.lay
        x = ops[0]
        if op == OP_STORE_MEMBER:
            kind = self.block(x)[0]
            m = ops[1]
            if m != (M_PT if kind <= K_RTO else M_PV):
                self.fail("STORE_MEMBER to a member that is not PT/PV")
            if len(stack) != 1 or stack[0][0] != MEMBER_TYPES[m]:
                self.fail("STORE_MEMBER needs exactly one value of the member's type")
            slot = lay.block_base[x] + member_offset(kind, m)
            self.store(lines, "v[" + str(slot) + "]", self.pop(stack)[1])
            return
        if op == OP_STORE:
            vtype = self.writable(x, name)
            if len(stack) != 1 or stack[0][0] != vtype:
                self.fail("STORE needs exactly one value of the variable's type")
            self.store(lines, "v[" + str(x) + "]", self.pop(stack)[1])
            return
        if stack:
            self.fail(name + " with values on the stack")
        if op <= 0x34:  # COIL, COIL_NOT, SET, RESET
            if self.writable(x, name) != T_BOOL:
                self.fail(name + " on a variable that is not bool")
            s = "v[" + str(x) + "]"
            if op == 0x31 and self.head is not None and len(lines) == self.head_at:
                self.head.append(s)  # a coil before any other action joins the head
            elif op == 0x31:
                lines.append(s + " = " + self.power)
            elif op == 0x32:
                lines.append(s + (" = False" if self.power == "True" else " = not p"))
            else:
                self.guarded(lines, [s + (" = True" if op == 0x33 else " = False")])
            return
        if op > 0x3C:
            self.fail("unknown action")
        kind = self.block(x)[0]
        base = lay.block_base[x]
        is_timer = kind <= K_RTO
        if op == OP_TIMER:
            if not is_timer:
                self.fail("TIMER on a counter")
            if x in self.state.timers:
                self.fail("timer " + str(x) + " driven twice")
            self.state.timers.add(x)
            lines.extend(_inline(_INLINE[kind], base, lay.first_scan, self.power))
        elif op == OP_RESET_BLOCK:
            if is_timer:
                self.guarded(lines, _inline(_TRESET, base, 0, ""))
            else:
                self.guarded(lines, ["v[" + str(base + 6) + "] = True"])
        elif is_timer:
            self.fail(name + " on a timer")
        elif op == OP_CTR_UPDATE:
            if x in self.state.counters:
                self.fail("counter " + str(x) + " updated twice")
            self.state.counters.add(x)
            lines.extend(_inline(_INLINE[kind], base, lay.first_scan, self.power))
        else:
            if op == OP_COUNT_UP:
                ok, off = kind in (K_CTU, K_CTUD), 4
            elif op == OP_COUNT_DOWN:
                ok, off = kind in (K_CTD, K_CTUD), 5
            else:  # OP_LOAD_PRESET
                ok, off = kind in (K_CTD, K_CTUD), 7
            if not ok:
                self.fail(name + " on a counter kind without that input")
            self.guarded(lines, ["v[" + str(base + off) + "] = True"])


class _ProgramState:
    def __init__(self):
        self.timers = set()
        self.counters = set()
        self.edges = set()


def build_scan_function(img, layout, inputs, outputs, namespace):
    """Verify every rung and compile the program into one function
    scan(v, inputs, outputs, dt, n_forced, watched, first_scan, phase): set the system
    contacts (phase: ms into the second), copy the input image in, apply forcing, run the
    rungs (recording each rung's power flow if watched), apply forcing again, copy the
    output image out; it returns math_error.

    Rungs are compiled in chunks of RUNGS_PER_CHUNK so that MicroPython never holds the
    source of the whole program at once. namespace holds the helpers the generated code
    calls and `_pw`, a memoryview of the power-flow bytes (and receives `_k`, the real
    literals). Raises LoadError on any failure."""
    consts = []
    namespace["_k"] = consts
    state = _ProgramState()
    n = len(img.rungs)
    data = img.data
    chunks = 0
    for first in range(0, n, RUNGS_PER_CHUNK):
        last = min(n, first + RUNGS_PER_CHUNK)
        # w: this chunk's view of the power-flow bytes, bound once as a default argument
        view = "_pw[" + str(first) + ":" + str(last) + "]"
        src = ["def _c" + str(chunks) + "(v, dt, r, w=" + view + "):"]
        for r in range(first, last):
            start, end = img.rungs[r]
            tr = _RungTranslator(img, layout, consts, state)
            tr.power_index = r - first
            for line in tr.translate(r, data, start, end):
                src.append("    " + line)
        _compile(src, namespace, "rungs from " + str(first))
        chunks += 1
        src = None
    if len(state.edges) != img.n_edges:
        raise LoadError(
            str(img.n_edges) + " edge memories declared, " + str(len(state.edges)) + " used"
        )
    # The I/O copies are straight-line code too: a loop over index lists costs more than
    # the rungs of a small program.
    # the system contacts are set here, with their slots as literals: in the engine each
    # would cost two attribute look-ups a scan
    src = ["def _scan(v, inp, out, dt, nf, r, fs, ph):"]
    src.append("    v[" + str(layout.first_scan) + "] = fs")
    src.append("    v[" + str(layout.clock_100ms) + "] = ph % 100 < 50")
    src.append("    v[" + str(layout.clock_1s) + "] = ph < 500")
    for k, i in enumerate(inputs):
        src.append("    v[" + str(i) + "] = inp[" + str(k) + "]")
    src.append("    if nf:")
    src.append("        _force(v)")
    for c in range(chunks):
        src.append("    _c" + str(c) + "(v, dt, r)")
    src.append("    if nf:")
    src.append("        _force(v)")
    for k, i in enumerate(outputs):
        src.append("    out[" + str(k) + "] = v[" + str(i) + "]")
    src.append("    return v[" + str(layout.math_error) + "]")
    _compile(src, namespace, "the scan function")
    return namespace["_scan"]


def _compile(src, namespace, what):
    src.append("")
    if _opt_level is not None:
        # no line-number table in generated code: a byte or more per line, never shown
        level = _opt_level()
        _opt_level(3)
    try:
        exec("\n".join(src), namespace)
    except (SyntaxError, MemoryError, RuntimeError) as exc:
        raise LoadError(what + " could not be compiled: " + str(exc)) from None
    finally:
        if _opt_level is not None:
            _opt_level(level)
