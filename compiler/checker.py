"""syntax.SourceProgram -> checked.CheckedProgram: names, types, addresses and usage.

Every problem is reported through the diagnostics Reporter; checking goes on after an
error so that one run reports all of them."""

import difflib

from rung.runtime import addresses as A
from rung.runtime import opcodes as O

from . import address_check, limits
from . import syntax as s
from .checked import CAction, CBlock, CheckedProgram, CRung, CVar, TNode
from .diagnostics import clip
from .literals import real32

TYPES = {"bool": O.T_BOOL, "int": O.T_INT, "dint": O.T_DINT, "real": O.T_REAL, "time": O.T_TIME}
TYPE_NAME = {v: k for k, v in TYPES.items()}
TIMER_KINDS = {"TON": O.K_TON, "TOF": O.K_TOF, "TP": O.K_TP, "RTO": O.K_RTO}
COUNTER_KINDS = {"CTU": O.K_CTU, "CTD": O.K_CTD, "CTUD": O.K_CTUD}
SYSTEM = {name: i for i, name in enumerate(O.SYS_NAMES)}
FUNCTIONS = {"abs": 1, "min": 2, "max": 2, "limit": 3}
CONVERSIONS = {"int": O.T_INT, "dint": O.T_DINT, "real": O.T_REAL, "time": O.T_TIME}
RESERVED = set(SYSTEM) | set(FUNCTIONS) | set(TYPES) | {"true", "false"}
CAPITALS = {"and", "or", "not", "mod", "true", "false"}  # `TRUE` is a habit, not a name
RANGES = {O.T_INT: (-32768, 32767), O.T_DINT: (-(2**31), 2**31 - 1), O.T_TIME: (0, 2**31 - 1)}
ILIT = "ilit"  # an integer literal whose type the context decides
RANK = {O.T_INT: 0, O.T_DINT: 1, O.T_REAL: 2}
CMP_OPS = {"==": "EQ", "!=": "NE", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
ARITH_OPS = {"+": "ADD", "-": "SUB", "*": "MUL", "/": "DIV", "mod": "MOD"}
ACTIONS_BY_KIND = {
    O.K_CTU: ("count", "reset"),
    O.K_CTD: ("count_down", "load", "reset"),
    O.K_CTUD: ("count", "count_down", "load", "reset"),
}
DEFAULT_CYCLE_MS = 10


class _Bad(Exception):
    """An expression error already reported; abandons the rest of that expression."""


def _tname(t):
    return "an integer literal" if t == ILIT else TYPE_NAME[t]


def _a(type_name):
    """The type name with its article: 'an int', 'a bool'."""
    return ("an " if type_name[0] in "aeiou" else "a ") + type_name


def _suggest(name, candidates):
    candidates = list(candidates)
    for c in candidates:  # INT for int, ton for TON: habits from Structured Text
        if c.lower() == name.lower():
            return c
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


class Checker:
    def __init__(self, reporter):
        self.r = reporter
        self.symbols = {}  # name -> CVar | CBlock
        self.vars = []
        self.blocks = []
        self.addresses = {}
        self.used = set()  # names read or written
        self.written = set()  # indices of variables some action writes
        self.n_edges = 0
        self.quiet = set()  # names an error already concerns: no warnings about them
        self.unreadable = set()  # names declared by statements with a syntax error

    # ---- declarations -----------------------------------------------------------------

    def check(self, prog, source_name):
        for b in prog.broken:
            self.quiet |= b.names
            if b.declares:
                self.unreadable.add(b.declares)
        if prog.name is None and not any(b.keyword == "program" for b in prog.broken):
            first = prog.first_item.span if prog.first_item is not None else s.Span(1, 1, 1, 2)
            self.r.missing_program(s.Span(first.line, first.column, first.line, first.column + 1))
        cycle_ms = DEFAULT_CYCLE_MS
        for i, cyc in enumerate(prog.cycles):
            if i:
                self.r.repeated_setting(cyc.span, "`cycle`")
            elif cyc.literal.bad:
                pass
            elif not 1 <= cyc.literal.value <= 60000:
                self.r.bad_duration(
                    cyc.literal.span,
                    f"cycle {cyc.literal.text} is out of range",
                    "use a cycle between 1ms and 60s",
                )
            else:
                cycle_ms = cyc.literal.value
        for decl in prog.decls:
            self.declare(decl)
        self.timer_driver = {}
        self.coil_lines = {}
        self.counter_last = {}
        self.counted = set()
        rungs = [self.rung(i, r) for i, r in enumerate(prog.rungs)]
        for b, ri in self.counter_last.items():
            rungs[ri].actions.append(CAction("CTR_UPDATE", b))
        self.warnings(prog)
        limits.check(self.vars, self.blocks, prog.rungs, self.r)
        name = prog.name.text if prog.name is not None else ""
        return CheckedProgram(
            name, source_name, cycle_ms, self.vars, self.blocks, rungs, self.n_edges
        )

    def declare(self, d):
        name = d.name.text
        if name in RESERVED:
            self.r.reserved(d.name.span, name)
            return
        if name in self.symbols:
            self.r.duplicate(d.name.span, name, self.symbols[name].span.line)
            return
        if d.kind in ("timer", "counter"):
            self.declare_block(d)
        else:
            self.declare_var(d)

    def declare_var(self, d):
        name = d.name.text
        if d.kind == "const":
            vtype, init = self.const_value(d)
            if vtype is None:
                self.unreadable.add(name)
                return
        else:
            vtype = self.type_of(d.type_name)
            if vtype is None:
                self.unreadable.add(name)
                return
            init = self.initial_value(d, vtype)
        area, index = A.A_NONE, 0
        if d.address is not None:
            parsed = self.address(d, vtype)
            if parsed is None:
                area = None
            else:
                area, index = parsed
        flags = {"input": O.F_INPUT, "output": O.F_OUTPUT, "const": O.F_CONST}.get(d.kind, 0)
        if d.retain:
            flags |= O.F_RETAIN
        var = CVar(
            len(self.vars),
            d.name.text,
            d.kind,
            vtype,
            flags,
            area or A.A_NONE,
            index,
            init,
            d.description,
            d.name.span,
        )
        self.vars.append(var)
        self.symbols[var.name] = var

    def type_of(self, ident):
        """The type code named by ident, or None after reporting E020."""
        vtype = TYPES.get(ident.text)
        if vtype is None:
            self.r.unknown_type(ident.span, ident.text, list(TYPES), _suggest(ident.text, TYPES))
        return vtype

    def const_value(self, d):
        lit = d.value
        if d.type_name is not None:
            vtype = self.type_of(d.type_name)
            if vtype is None:
                return None, None
        else:
            vtype = {"bool": O.T_BOOL, "real": O.T_REAL, "time": O.T_TIME}.get(lit.kind)
            if vtype is None:
                vtype = O.T_INT if -32768 <= lit.value <= 32767 else O.T_DINT
        return vtype, self.literal_value(lit, vtype)

    def initial_value(self, d, vtype):
        if d.value is None:
            return 0.0 if vtype == O.T_REAL else (False if vtype == O.T_BOOL else 0)
        return self.literal_value(d.value, vtype)

    def literal_value(self, lit, vtype):
        """The value of a declaration literal as type vtype, or a default after an error."""
        default = 0.0 if vtype == O.T_REAL else (False if vtype == O.T_BOOL else 0)
        if lit.bad:
            return default
        kinds_ok = {
            O.T_BOOL: ("bool",),
            O.T_INT: ("int",),
            O.T_DINT: ("int",),
            O.T_REAL: ("int", "real"),
            O.T_TIME: ("time",),
        }[vtype]
        if lit.kind not in kinds_ok:
            self.r.mismatch(
                lit.span,
                f"`{clip(lit.text)}` is not {_a(TYPE_NAME[vtype])} value",
                self._literal_help(vtype),
            )
            return default
        if vtype == O.T_REAL:
            if real32(lit.value) is None:
                self.r.real_out_of_range(lit.span, lit.text)
                return default
            return float(lit.value)
        if vtype in RANGES:
            lo, hi = RANGES[vtype]
            if not lo <= lit.value <= hi:
                self.r.out_of_range(lit.span, lit.text, TYPE_NAME[vtype], lo, hi)
                return default
        return lit.value

    @staticmethod
    def _literal_help(vtype):
        return {
            O.T_BOOL: "use true or false",
            O.T_TIME: "write a duration such as 500ms or 5s",
            O.T_REAL: "write a number such as 1.5",
        }.get(vtype, "write a whole number")

    def address(self, d, vtype):
        """(area, index) of d's address, or None after reporting why it does not fit."""
        return address_check.check(d, vtype, TYPE_NAME, self.addresses, self.r)

    def declare_block(self, d):
        kinds = TIMER_KINDS if d.kind == "timer" else COUNTER_KINDS
        kind = kinds.get(d.type_name.text)
        if kind is None:
            self.unreadable.add(d.name.text)
            self.r.unknown_type(
                d.type_name.span, d.type_name.text, list(kinds), _suggest(d.type_name.text, kinds)
            )
            return
        preset = self.preset(d, d.kind == "timer")
        block = CBlock(len(self.blocks), d.name.text, kind, preset, d.retain, d.name.span)
        self.blocks.append(block)
        self.symbols[block.name] = block

    def preset(self, d, is_timer):
        v = d.value
        want = O.T_TIME if is_timer else O.T_INT
        if isinstance(v, s.Name):
            sym = self.symbols.get(v.ident.text)
            if not isinstance(sym, CVar) or sym.kind != "const":
                if sym is None:
                    self.r.undefined(v.span, v.ident.text, _suggest(v.ident.text, self.consts()))
                else:
                    self.r.mismatch(
                        v.span,
                        f"the preset `{v.ident.text}` must be a constant",
                        "declare it with `const`",
                    )
                return 0
            self.used.add(sym.name)
            if sym.type != want:
                self.r.mismatch(
                    v.span,
                    f"the preset `{sym.name}` is {TYPE_NAME[sym.type]}, "
                    f"a {d.kind} needs {TYPE_NAME[want]}",
                    self._literal_help(want),
                )
                return 0
            return sym.init
        return self.literal_value(v, want)

    def consts(self):
        return [n for n, v in self.symbols.items() if isinstance(v, CVar) and v.kind == "const"]

    # ---- rungs ------------------------------------------------------------------------

    def rung(self, index, r):
        try:
            cond = self.condition(r.condition)
        except _Bad:
            self.used |= _names(r.condition)  # the rest of the condition went unchecked
            cond = TNode("lit", O.T_BOOL, value=False)
        actions = []
        for a in r.actions:
            try:
                act = self.action(a, index, r)
            except _Bad:
                self.quiet |= _names(a.target)  # no `never written` about what it writes
                self.used |= _names(a.expr)
                continue
            if act is not None:
                actions.append(act)
        name = r.name.text if r.name is not None else ""
        return CRung(index, name, r.comment, r.span.line, r.text, cond, actions)

    def condition(self, node):
        t = self.expr(node)
        if t.type != O.T_BOOL:
            self.not_contact(node, t)
            raise _Bad
        self.check_depth(node, t)
        return t

    def not_contact(self, node, t):
        if isinstance(node, s.Name) and node.ident.text in self.symbols:
            what = f"`{node.ident.text}`"
            help = f"compare it, e.g. `{node.ident.text} > 0`"
        else:
            what = "this expression"
            help = "compare it with `==`, `<`, `>` ... to make a contact"
        self.r.not_a_contact(
            node.span, what, "an integer" if t.type == ILIT else _a(_tname(t.type)), help
        )

    def check_depth(self, node, t):
        depth = _depth(t)
        if depth > O.MAX_STACK:
            self.r.too_deep(node.span, depth, O.MAX_STACK)
            raise _Bad

    def writable(self, target, action_kind):
        name = target.ident.text
        sym = self.lookup(target)
        self.used.add(name)
        if isinstance(sym, CBlock):
            return sym
        if sym.kind == "input":
            self.r.write_input(target.span, name)
            raise _Bad
        if sym.kind == "const":
            self.r.write_const(target.span, name)
            raise _Bad
        return sym

    def action(self, a, rung_index, r):
        kind = a.kind
        if isinstance(a.target, s.Member):
            return self.assign_member(a)
        sym = self.writable(a.target, kind)
        name = a.target.ident.text
        if kind == "assign":
            if isinstance(sym, CBlock):
                self.r.wrong_action(
                    a.span, ":=", f"{self.block_word(sym)} `{name}`", "assign to a variable"
                )
                raise _Bad
            value = self.coerce(self.expr(a.expr), sym.type, a.expr)
            self.check_depth(a.expr, value)
            self.written.add(sym.index)
            return CAction("STORE", sym.index, value)
        if isinstance(sym, CBlock):
            return self.block_action(a, sym, rung_index)
        if kind in ("count", "count_down", "load"):
            self.r.wrong_action(
                a.span, kind, f"variable `{name}`", "count, count_down and load apply to counters"
            )
            raise _Bad
        if sym.type != O.T_BOOL:
            self.r.mismatch(
                a.target.span,
                f"`{name}` is {TYPE_NAME[sym.type]}: a coil needs a bool",
                f"to store a number write `{name} := ...`",
            )
            raise _Bad
        if kind in ("coil", "coil_not"):
            self.coil_lines.setdefault(sym.index, []).append(r.span.line)
        op = {"coil": "COIL", "coil_not": "COIL_NOT", "set": "SET", "reset": "RESET"}[kind]
        self.written.add(sym.index)
        return CAction(op, sym.index)

    def assign_member(self, a):
        t = self.member(a.target)
        b, m = t.value
        block = self.blocks[b]
        if m not in (O.M_PT, O.M_PV):
            self.r.wrong_action(
                a.span,
                ":=",
                f"`{block.name}.{a.target.member.text}`",
                "only a timer's PT and a counter's PV can be assigned",
            )
            raise _Bad
        value = self.coerce(self.expr(a.expr), O.MEMBER_TYPES[m], a.expr)
        self.check_depth(a.expr, value)
        return CAction("STORE_MEMBER", (b, m), value)

    def block_word(self, b):
        return "timer" if b.kind <= O.K_RTO else "counter"

    def block_action(self, a, b, rung_index):
        kind = a.kind
        word = self.block_word(b)
        label = f"{word} `{b.name}` ({O.KIND_NAMES[b.kind]})"
        if word == "timer":
            if kind == "coil":
                if b.index in self.timer_driver:
                    self.r.timer_driven_twice(a.span, b.name, self.timer_driver[b.index])
                    raise _Bad
                self.timer_driver[b.index] = a.span.line
                return CAction("TIMER", b.index)
            if kind == "reset":
                return CAction("RESET_BLOCK", b.index)
            self.r.wrong_action(
                a.span,
                _action_word(kind),
                label,
                f"drive a timer with `-> {b.name}`, clear it with `reset {b.name}`",
            )
            raise _Bad
        allowed = ACTIONS_BY_KIND[b.kind]
        if kind not in allowed:
            self.r.wrong_action(
                a.span,
                _action_word(kind),
                label,
                "a "
                + O.KIND_NAMES[b.kind]
                + " takes: "
                + ", ".join(f"`{x} {b.name}`" for x in allowed),
            )
            raise _Bad
        self.counter_last[b.index] = rung_index
        if kind in ("count", "count_down"):
            self.counted.add(b.index)
        op = {
            "count": "COUNT_UP",
            "count_down": "COUNT_DOWN",
            "load": "LOAD_PRESET",
            "reset": "RESET_BLOCK",
        }[kind]
        return CAction(op, b.index)

    # ---- expressions ------------------------------------------------------------------

    def lookup(self, name_node):
        if isinstance(name_node, s.Ident):
            name_node = s.Name(name_node, name_node.span)
        name = name_node.ident.text
        sym = self.symbols.get(name)
        if sym is None and name in self.unreadable:
            raise _Bad  # its declaration has a syntax error, already reported
        if sym is None and name.lower() in CAPITALS:
            self.r.capital_keyword(name_node.span, name)
            raise _Bad
        if sym is None:
            candidates = list(self.symbols) + list(SYSTEM)
            self.r.undefined(name_node.span, name, _suggest(name, candidates))
            raise _Bad
        return sym

    def expr(self, n):
        if isinstance(n, s.Literal):
            if n.bad:
                raise _Bad
            if n.kind == "int":
                return TNode("lit", ILIT, value=n.value)
            vtype = {"bool": O.T_BOOL, "real": O.T_REAL, "time": O.T_TIME}[n.kind]
            if vtype == O.T_TIME and n.value > RANGES[O.T_TIME][1]:
                self.r.out_of_range(n.span, n.text, "time", *RANGES[O.T_TIME])
                raise _Bad
            return TNode("lit", vtype, value=n.value)
        if isinstance(n, s.Name):
            name = n.ident.text
            if name in SYSTEM and name not in self.symbols:
                return TNode("sys", O.T_BOOL, value=SYSTEM[name])
            sym = self.lookup(n)
            self.used.add(name)
            if isinstance(sym, CBlock):
                member = "Q" if sym.kind != O.K_CTUD else "QU"
                self.r.block_without_member(n.span, name, self.block_word(sym), member)
                raise _Bad
            return TNode("load", sym.type, value=sym.index)
        if isinstance(n, s.Member):
            return self.member(n)
        if isinstance(n, s.Unary):
            return self.unary(n)
        if isinstance(n, s.Logic):
            items = [self.bool_operand(i, n.op) for i in n.items]
            return TNode(n.op, O.T_BOOL, items)
        if isinstance(n, s.Binary):
            if n.op in CMP_OPS:
                return self.compare(n)
            return self.arith(n)
        if isinstance(n, s.Call):
            return self.call(n)
        raise AssertionError(f"unexpected node {n!r}")

    def bool_operand(self, node, op):
        t = self.expr(node)
        if t.type != O.T_BOOL:
            self.not_contact(node, t)
            raise _Bad
        return t

    def member(self, n):
        sym = self.lookup(n.base)
        self.used.add(sym.name)
        mname = n.member.text
        if isinstance(sym, CVar):
            self.r.unknown_member(n.member.span, sym.name, mname, "variable", ["(none)"])
            raise _Bad
        members = O.TIMER_MEMBERS if sym.kind <= O.K_RTO else O.COUNTER_MEMBERS[sym.kind]
        names = [O.MEMBER_NAMES[m] for m in members]
        if mname not in names:
            self.r.unknown_member(
                n.member.span,
                sym.name,
                mname,
                f"{self.block_word(sym)} ({O.KIND_NAMES[sym.kind]})",
                names,
            )
            raise _Bad
        code = O.MEMBER_NAMES.index(mname)
        return TNode("member", O.MEMBER_TYPES[code], value=(sym.index, code))

    def unary(self, n):
        if n.op == "neg":
            if isinstance(n.operand, s.Literal) and n.operand.kind in ("int", "real"):
                lit = n.operand
                negated = s.Literal(lit.kind, -lit.value, "-" + lit.text, n.span, lit.bad)
                return self.expr(negated)
            t = self.expr(n.operand)
            self.numeric(t, n, "-")
            return TNode("arith1", t.type, [t], "NEG")
        t = self.bool_operand(n.operand, n.op)
        if n.op == "not":
            return TNode("not", O.T_BOOL, [t])
        edge = self.n_edges
        self.n_edges += 1
        return TNode(n.op, O.T_BOOL, [t], edge)

    def numeric(self, t, node, op):
        if t.type == O.T_BOOL:
            self.r.bool_arithmetic(node.span, op)
            raise _Bad

    def unify(self, node, a, b, op):
        """The common type of two operands, widening int -> dint -> real."""
        ta, tb = a.type, b.type
        if ta == tb:
            return ta
        if ta == ILIT and tb != O.T_BOOL:
            return self._fit(a, tb)
        if tb == ILIT and ta != O.T_BOOL:
            return self._fit(b, ta)
        if ta in RANK and tb in RANK:
            return ta if RANK[ta] > RANK[tb] else tb
        self.r.mismatch(
            node.span,
            f"`{op}` between {_tname(ta)} and {_tname(tb)}",
            "convert one side with int(), dint(), real() or time()",
        )
        raise _Bad

    @staticmethod
    def _fit(lit, t):
        """An int literal too big for an int operand widens the operation to dint."""
        if t == O.T_INT and lit.op == "lit" and not -32768 <= lit.value <= 32767:
            return O.T_DINT
        return t

    def compare(self, n):
        a, b = self.expr(n.left), self.expr(n.right)
        if O.T_BOOL in (a.type, b.type) and n.op not in ("==", "!="):
            self.r.bool_arithmetic(n.span, n.op)
            raise _Bad
        t = self.unify(n, a, b, n.op)
        if t == ILIT:
            t = self.default_int(n, a, b)
        return TNode(
            "cmp", O.T_BOOL, [self.coerce(a, t, n.left), self.coerce(b, t, n.right)], CMP_OPS[n.op]
        )

    def default_int(self, n, *nodes):
        values = [x.value for x in nodes if x.op == "lit"]
        return O.T_INT if all(-32768 <= v <= 32767 for v in values) else O.T_DINT

    def arith(self, n):
        a, b = self.expr(n.left), self.expr(n.right)
        self.numeric(a, n, n.op)
        self.numeric(b, n, n.op)
        if n.op in ("/", "mod") and b.op == "lit" and b.value == 0:
            self.r.division_by_zero(n.right.span)
            raise _Bad
        t = self.unify(n, a, b, n.op)
        if t == ILIT:
            return TNode("arith", ILIT, [a, b], ARITH_OPS[n.op])
        return TNode(
            "arith", t, [self.coerce(a, t, n.left), self.coerce(b, t, n.right)], ARITH_OPS[n.op]
        )

    def call(self, n):
        fname = n.func.text
        args = n.args
        if fname in CONVERSIONS:
            if len(args) != 1:
                self.r.bad_call(n.span, f"`{fname}()` takes one argument", f"write `{fname}(x)`")
                raise _Bad
            t = self.expr(args[0])
            self.numeric(t, args[0], fname)
            target = CONVERSIONS[fname]
            if t.type == ILIT:
                return self.coerce(t, target, args[0])
            if (t.type == O.T_TIME) != (target == O.T_TIME) and O.T_REAL in (t.type, target):
                self.r.mismatch(
                    n.span, f"cannot convert {_tname(t.type)} to {fname}", "convert through dint()"
                )
                raise _Bad
            return TNode("conv", target, [t], target) if t.type != target else t
        if fname not in FUNCTIONS:
            known = list(FUNCTIONS) + list(CONVERSIONS)
            sug = _suggest(fname, known)
            self.r.bad_call(
                n.func.span,
                f"unknown function `{fname}`",
                f"did you mean `{sug}`?" if sug else "functions: " + ", ".join(known),
            )
            raise _Bad
        if len(args) != FUNCTIONS[fname]:
            self.r.bad_call(
                n.span, f"`{fname}()` takes {FUNCTIONS[fname]} argument(s), " f"got {len(args)}"
            )
            raise _Bad
        ts = [self.expr(a) for a in args]
        for t, a in zip(ts, args, strict=False):
            self.numeric(t, a, fname)
        t = ts[0].type
        for other in ts[1:]:
            t = self.unify(n, TNode("typed", t), other, fname)
        if t == ILIT:
            t = self.default_int(n, *ts)
        ts = [self.coerce(x, t, a) for x, a in zip(ts, args, strict=False)]
        return TNode("func", t, ts, fname.upper())

    def coerce(self, t, target, node):
        """t converted to type target: literals adopt it, int/dint widen, else an error."""
        if t.type == target:
            return t
        if t.type == ILIT:
            if target == O.T_BOOL:
                self.r.mismatch(
                    node.span,
                    "a number where a bool is needed",
                    "use true or false, or a comparison",
                )
                raise _Bad
            if t.op == "lit":
                text = node.text if isinstance(node, s.Literal) else str(t.value)
                if target == O.T_REAL:
                    if real32(t.value) is None:
                        self.r.real_out_of_range(node.span, text)
                        raise _Bad
                    return TNode("lit", O.T_REAL, value=float(t.value))
                lo, hi = RANGES[target] if target != O.T_TIME else (-(2**31), 2**31 - 1)
                if not lo <= t.value <= hi:
                    self.r.out_of_range(node.span, text, TYPE_NAME[target], lo, hi)
                    raise _Bad
                return TNode("lit", target, value=t.value)
            sub = [node.left, node.right] if isinstance(node, s.Binary) else [node] * len(t.args)
            return TNode(
                t.op,
                target,
                [self.coerce(a, target, sn) for a, sn in zip(t.args, sub, strict=False)],
                t.value,
            )
        if t.type in RANK and target in RANK:
            if RANK[t.type] < RANK[target]:
                return TNode("conv", target, [t], target)
            self.r.narrowing(node.span, TYPE_NAME[t.type], TYPE_NAME[target])
            raise _Bad
        self.r.mismatch(
            node.span,
            f"expected {TYPE_NAME[target]}, found {_tname(t.type)}",
            "convert with int(), dint(), real() or time()"
            if t.type != O.T_BOOL and target != O.T_BOOL
            else None,
        )
        raise _Bad

    # ---- warnings ---------------------------------------------------------------------

    def warnings(self, prog):
        for v in self.vars:
            if v.name in self.quiet:
                continue
            if v.kind == "output":
                if v.index not in self.written:
                    self.r.output_never_written(v.span, v.name)
            elif v.name not in self.used and (
                v.kind == "input" or (v.kind == "var" and v.area == A.A_NONE)
            ):
                self.r.unused(v.span, v.kind if v.kind == "input" else "variable", v.name)
        for index, lines in self.coil_lines.items():
            if len(lines) > 1:
                v = self.vars[index]
                self.r.coil_twice(v.span, v.name, lines)
        for b in self.blocks:
            if b.name in self.quiet:
                continue
            if b.kind <= O.K_RTO and b.index not in self.timer_driver:
                self.r.timer_never_driven(b.span, b.name)
            if b.kind > O.K_RTO and b.index not in self.counted:
                self.r.counter_never_driven(b.span, b.name)


def _action_word(kind):
    return {
        "coil": "->",
        "coil_not": "not",
        "set": "set",
        "reset": "reset",
        "count": "count",
        "count_down": "count_down",
        "load": "load",
    }.get(kind, kind)


def _names(node):
    """Every name an expression or target mentions (without recursion)."""
    names = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, s.Name):
            names.add(n.ident.text)
        elif isinstance(n, s.Member):
            names.add(n.base.text)
        elif n is not None:
            stack.extend(getattr(n, k) for k in ("left", "right", "operand") if hasattr(n, k))
            stack.extend(getattr(n, "items", ()) or getattr(n, "args", ()))
    return names


def _depth(t):
    """Stack slots needed to evaluate t in postfix order."""
    if not t.args:
        return 1
    if t.op in ("and", "or"):
        return max([_depth(t.args[0])] + [_depth(a) + 1 for a in t.args[1:]])
    best = 0
    for i, a in enumerate(t.args):
        best = max(best, _depth(a) + i)
    return best


def check(prog, source_name, reporter):
    """Check a parsed program; returns a CheckedProgram (meaningful only without errors)."""
    return Checker(reporter).check(prog, source_name)
