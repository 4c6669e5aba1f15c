"""Ladder structure rebuilt from bytecode: contacts in series and parallel, and actions.

Built from the bytecode (not the source) so any tool holding only a .rbc file, such as the
supervisor's live view, draws the same ladder the board runs."""

from rung.runtime import opcodes as O

from .disassemble import Names, rung_instructions


class Contact:
    """A leaf: kind 'NO', 'NC', 'P' (rising), 'N' (falling), 'CMP' (comparison), 'BOX'."""

    def __init__(self, kind, label):
        self.kind = kind
        self.label = label


class Series:
    def __init__(self, items):
        self.items = items


class Parallel:
    def __init__(self, items):
        self.items = items


class Action:
    """kind: coil, coil_not, set, reset, timer, reset_block, count, count_down, load, assign."""

    def __init__(self, kind, label):
        self.kind = kind
        self.label = label


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


def rung_model(img, r, names=None):
    """The ladder Rung for rung r of a decoded image."""
    names = names or Names(img)
    blocks = img.blocks
    stack = []  # bool entries are nodes; numeric entries are (text, precedence)
    actions = []
    for _off, entry, ops in rung_instructions(img, r):
        n = entry[0]
        if n == "LOAD":
            stack.append(_load(img, names, ops[0]))
        elif n == "LOAD_MEMBER":
            text = names.block(ops[0]) + "." + O.MEMBER_NAMES[ops[1]]
            stack.append(Contact("NO", text) if O.MEMBER_TYPES[ops[1]] == O.T_BOOL else (text, 9))
        elif n in ("PUSH_TRUE", "PUSH_FALSE"):
            stack.append(Contact("BOX", "true" if n == "PUSH_TRUE" else "false"))
        elif n.startswith("PUSH_"):
            stack.append((_literal(n, ops[0]), 9))
        elif n == "SYS":
            stack.append(Contact("NO", O.SYS_NAMES[ops[0]]))
        elif n == "NOT":
            x = stack.pop()
            if isinstance(x, Contact) and x.kind == "NO":
                stack.append(Contact("NC", x.label))
            else:
                stack.append(Series([x, Contact("BOX", "NOT")]))
        elif n in ("AND", "OR"):
            b, a = stack.pop(), stack.pop()
            stack.append(_flatten(Series if n == "AND" else Parallel, a, b))
        elif n in ("RISING", "FALLING"):
            x = stack.pop()
            kind = "P" if n == "RISING" else "N"
            if isinstance(x, Contact) and x.kind == "NO":
                stack.append(Contact(kind, x.label))
            else:
                stack.append(Series([x, Contact("BOX", kind)]))
        elif n in _CMP:
            b, a = stack.pop(), stack.pop()
            stack.append(Contact("CMP", _operand(a) + " " + _CMP[n] + " " + _operand(b)))
        elif n in _ARITH:
            b, a = stack.pop(), stack.pop()
            sym, prec = _ARITH[n]
            stack.append((_paren(a, prec) + " " + sym + " " + _paren(b, prec + 1), prec))
        elif n == "NEG":
            stack.append(("-" + _paren(stack.pop(), 7), 7))
        elif n in ("ABS", "MIN", "MAX", "LIMIT"):
            argc = {"ABS": 1, "MIN": 2, "MAX": 2, "LIMIT": 3}[n]
            args = [_text(stack.pop()) for _ in range(argc)][::-1]
            stack.append((n.lower() + "(" + ", ".join(args) + ")", 9))
        elif n == "CONV":
            stack.append((O.TYPE_NAMES[ops[0]] + "(" + _text(stack.pop()) + ")", 9))
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


def _load(img, names, i):
    vtype = img.vars[i][0]
    text = names.var(i)
    return Contact("NO", text) if vtype == O.T_BOOL else (text, 9)


def _action(n, ops, stack, names, blocks, actions):
    if n == "CTR_UPDATE":
        return  # the counter's evaluation point, not drawn
    if n in ("STORE", "STORE_MEMBER"):
        target = (
            names.var(ops[0])
            if n == "STORE"
            else (names.block(ops[0]) + "." + O.MEMBER_NAMES[ops[1]])
        )
        value = stack.pop()
        value = value.label if isinstance(value, Contact) else _text(value)
        actions.append(Action("assign", target + " := " + value))
        return
    if n in ("COIL", "COIL_NOT", "SET", "RESET"):
        actions.append(Action(n.lower(), names.var(ops[0])))
        return
    b = ops[0]
    kind, _flags, preset = blocks[b]
    kname = O.KIND_NAMES[kind]
    if n == "TIMER":
        actions.append(Action("timer", f"{kname} {names.block(b)} {_duration(preset)}"))
    elif n == "RESET_BLOCK":
        actions.append(Action("reset_block", names.block(b)))
    else:
        word = {"COUNT_UP": "count", "COUNT_DOWN": "count_down", "LOAD_PRESET": "load"}[n]
        actions.append(Action(word, f"{kname} {names.block(b)}: {word}"))


def _duration(ms):
    for unit, size in (("h", 3600000), ("m", 60000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def program_model(img):
    """Every rung of an image as a ladder Rung."""
    names = Names(img)
    return [rung_model(img, r, names) for r in range(len(img.rungs))]
