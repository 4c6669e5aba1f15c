"""Ladder structure rebuilt from bytecode: contacts in series and parallel, and actions.

Built from the bytecode (not the source) so any tool holding only a .rbc file, such as the
supervisor's live view, draws the same ladder the board runs. Each node also carries `ref`,
what it reads or writes as a small tuple tree, so a live view can evaluate it from values
read off the device: ("var", i), ("member", b, m), ("sys", s), ("lit", value, type),
("op", NAME, type, args), ("conv", type, arg), ("cmp", NAME, a, b), ("block", b),
("assign", target, value)."""

from rung.runtime import opcodes as O

from .disassemble import Names, rung_instructions


class Contact:
    """A leaf: kind 'NO', 'NC', 'P' (rising), 'N' (falling), 'CMP' (comparison), 'BOX'."""

    def __init__(self, kind, label, ref=None):
        self.kind = kind
        self.label = label
        self.ref = ref


class Series:
    def __init__(self, items):
        self.items = items


class Parallel:
    def __init__(self, items):
        self.items = items


class Action:
    """kind: coil, coil_not, set, reset, timer, reset_block, count, count_down, load, assign."""

    def __init__(self, kind, label, ref=None):
        self.kind = kind
        self.label = label
        self.ref = ref


class Rung:
    def __init__(self, index, name, comment, line, condition, actions):
        self.index = index
        self.name = name
        self.comment = comment
        self.line = line
        self.condition = condition
        self.actions = actions


_CMP = {"EQ": "==", "NE": "!=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}
_ARITH = {"ADD": ("+", 5), "SUB": ("-", 5), "MUL": ("*", 6), "DIV": ("/", 6), "MOD": ("mod", 6)}


def _flatten(cls, a, b):
    items = []
    for x in (a, b):
        items.extend(x.items if isinstance(x, cls) else [x])
    return cls(items)


def _text(e):
    return e[0]


def _paren(e, prec):
    return e[0] if e[1] >= prec else "(" + e[0] + ")"


def _literal(name, x):
    if name == "PUSH_TIME":
        return f"{x}ms"
    if name == "PUSH_REAL":
        return repr(x)
    return str(x)


_LIT_TYPES = {
    "PUSH_INT": O.T_INT,
    "PUSH_DINT": O.T_DINT,
    "PUSH_REAL": O.T_REAL,
    "PUSH_TIME": O.T_TIME,
}


def rung_model(img, r, names=None):
    """The ladder Rung for rung r of a decoded image."""
    names = names or Names(img)
    blocks = img.blocks
    stack = []  # bool entries are nodes; numeric entries are (text, precedence, ref, type)
    actions = []
    for _off, entry, ops in rung_instructions(img, r):
        n = entry[0]
        if n == "LOAD":
            stack.append(_load(img, names, ops[0]))
        elif n == "LOAD_MEMBER":
            text = names.block(ops[0]) + "." + O.MEMBER_NAMES[ops[1]]
            ref = ("member", ops[0], ops[1])
            mtype = O.MEMBER_TYPES[ops[1]]
            stack.append(Contact("NO", text, ref) if mtype == O.T_BOOL else (text, 9, ref, mtype))
        elif n in ("PUSH_TRUE", "PUSH_FALSE"):
            value = n == "PUSH_TRUE"
            stack.append(Contact("BOX", "true" if value else "false", ("lit", value, O.T_BOOL)))
        elif n.startswith("PUSH_"):
            vtype = _LIT_TYPES[n]
            stack.append((_literal(n, ops[0]), 9, ("lit", ops[0], vtype), vtype))
        elif n == "SYS":
            stack.append(Contact("NO", O.SYS_NAMES[ops[0]], ("sys", ops[0])))
        elif n == "NOT":
            x = stack.pop()
            if isinstance(x, Contact) and x.kind == "NO":
                stack.append(Contact("NC", x.label, x.ref))
            else:
                stack.append(Series([x, Contact("BOX", "NOT")]))
        elif n in ("AND", "OR"):
            b, a = stack.pop(), stack.pop()
            stack.append(_flatten(Series if n == "AND" else Parallel, a, b))
        elif n in ("RISING", "FALLING"):
            x = stack.pop()
            kind = "P" if n == "RISING" else "N"
            if isinstance(x, Contact) and x.kind == "NO":
                stack.append(Contact(kind, x.label, x.ref))
            else:
                stack.append(Series([x, Contact("BOX", kind)]))
        elif n in _CMP:
            b, a = stack.pop(), stack.pop()
            label = _operand(a) + " " + _CMP[n] + " " + _operand(b)
            stack.append(Contact("CMP", label, ("cmp", n, _ref(a), _ref(b))))
        elif n in _ARITH:
            b, a = stack.pop(), stack.pop()
            sym, prec = _ARITH[n]
            text = _paren(a, prec) + " " + sym + " " + _paren(b, prec + 1)
            stack.append((text, prec, ("op", n, a[3], [a[2], b[2]]), a[3]))
        elif n == "NEG":
            a = stack.pop()
            stack.append(("-" + _paren(a, 7), 7, ("op", n, a[3], [a[2]]), a[3]))
        elif n in ("ABS", "MIN", "MAX", "LIMIT"):
            argc = {"ABS": 1, "MIN": 2, "MAX": 2, "LIMIT": 3}[n]
            args = [stack.pop() for _ in range(argc)][::-1]
            text = n.lower() + "(" + ", ".join(_text(a) for a in args) + ")"
            vtype = args[-1][3] if n != "LIMIT" else args[1][3]
            stack.append((text, 9, ("op", n, vtype, [a[2] for a in args]), vtype))
        elif n == "CONV":
            a = stack.pop()
            text = O.TYPE_NAMES[ops[0]] + "(" + _text(a) + ")"
            stack.append((text, 9, ("conv", ops[0], a[2], a[3]), ops[0]))
        elif n == "POWER":
            condition = stack.pop()
        else:
            _action(n, ops, stack, names, blocks, actions)
    d = img.debug
    return Rung(
        r,
        d.rung_names[r] if d else "",
        d.rung_comments[r] if d else "",
        d.rung_lines[r] if d else 0,
        condition,
        actions,
    )


def _operand(e):
    if isinstance(e, tuple):
        return _paren(e, 5)
    return e.label


def _ref(e):
    """What a stack entry reads: a numeric entry's ref, or the bool node itself."""
    return e[2] if isinstance(e, tuple) else ("node", e)


def _load(img, names, i):
    vtype = img.vars[i][0]
    text = names.var(i)
    ref = ("var", i)
    return Contact("NO", text, ref) if vtype == O.T_BOOL else (text, 9, ref, vtype)


def _action(n, ops, stack, names, blocks, actions):
    if n == "CTR_UPDATE":
        return  # the counter's evaluation point, not drawn
    if n in ("STORE", "STORE_MEMBER"):
        if n == "STORE":
            target, tref = names.var(ops[0]), ("var", ops[0])
        else:
            target = names.block(ops[0]) + "." + O.MEMBER_NAMES[ops[1]]
            tref = ("member", ops[0], ops[1])
        value = stack.pop()
        ref = ("assign", tref, _ref(value))
        value = value.label if isinstance(value, Contact) else _text(value)
        actions.append(Action("assign", target + " := " + value, ref))
        return
    if n in ("COIL", "COIL_NOT", "SET", "RESET"):
        actions.append(Action(n.lower(), names.var(ops[0]), ("var", ops[0])))
        return
    b = ops[0]
    kind, _flags, preset = blocks[b]
    kname = O.KIND_NAMES[kind]
    if n == "TIMER":
        label = f"{kname} {names.block(b)} {_duration(preset)}"
        actions.append(Action("timer", label, ("block", b)))
    elif n == "RESET_BLOCK":
        actions.append(Action("reset_block", names.block(b), ("block", b)))
    else:
        word = {"COUNT_UP": "count", "COUNT_DOWN": "count_down", "LOAD_PRESET": "load"}[n]
        actions.append(Action(word, f"{kname} {names.block(b)}: {word}", ("block", b)))


def _duration(ms):
    for unit, size in (("h", 3600000), ("m", 60000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def program_model(img):
    """Every rung of an image as a ladder Rung."""
    names = Names(img)
    return [rung_model(img, r, names) for r in range(len(img.rungs))]
