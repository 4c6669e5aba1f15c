"""Parse-tree node types: what the source says, with a span on every node, nothing checked."""


class Span:
    """A source range: 1-based line and column of the first and one-past-last character."""

    __slots__ = ("line", "column", "end_line", "end_column")

    def __init__(self, line, column, end_line, end_column):
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column

    @classmethod
    def of(cls, meta_or_token):
        m = meta_or_token
        return cls(m.line, m.column, m.end_line, m.end_column)

    def __repr__(self):
        return f"Span({self.line}:{self.column}-{self.end_line}:{self.end_column})"


class Node:
    __slots__ = ("span",)

    def __repr__(self):
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__ if k != "span")
        return f"{type(self).__name__}({fields})"


class Ident(Node):
    """A name as written, with its span."""

    __slots__ = ("text",)

    def __init__(self, text, span):
        self.text = text
        self.span = span


# ---- expressions ----------------------------------------------------------------------


class Literal(Node):
    """kind is 'int', 'real', 'time' or 'bool'; value is already converted. bad: the text
    could not be converted (already reported; value is a stand-in 0)."""

    __slots__ = ("kind", "value", "text", "bad")

    def __init__(self, kind, value, text, span, bad=False):
        self.kind = kind
        self.value = value
        self.text = text
        self.span = span
        self.bad = bad


class Name(Node):
    __slots__ = ("ident",)

    def __init__(self, ident, span):
        self.ident = ident
        self.span = span


class Member(Node):
    __slots__ = ("base", "member")

    def __init__(self, base, member, span):
        self.base = base
        self.member = member
        self.span = span


class Call(Node):
    __slots__ = ("func", "args")

    def __init__(self, func, args, span):
        self.func = func
        self.args = args
        self.span = span


class Unary(Node):
    """op is 'not', 'rising', 'falling' or 'neg'."""

    __slots__ = ("op", "operand")

    def __init__(self, op, operand, span):
        self.op = op
        self.operand = operand
        self.span = span


class Logic(Node):
    """op 'and' (series) or 'or' (parallel) over two or more items."""

    __slots__ = ("op", "items")

    def __init__(self, op, items, span):
        self.op = op
        self.items = items
        self.span = span


class Binary(Node):
    """Arithmetic ('+', '-', '*', '/', 'mod') or comparison ('==', '<', ...)."""

    __slots__ = ("op", "left", "right", "op_span")

    def __init__(self, op, left, right, span, op_span):
        self.op = op
        self.left = left
        self.right = right
        self.span = span
        self.op_span = op_span


# ---- rungs and declarations ----------------------------------------------------------


class Action(Node):
    """kind: coil, coil_not, set, reset, count, count_down, load, assign."""

    __slots__ = ("kind", "target", "expr")

    def __init__(self, kind, target, expr, span):
        self.kind = kind
        self.target = target
        self.expr = expr
        self.span = span


class Rung(Node):
    __slots__ = ("name", "comment", "condition", "actions", "text")

    def __init__(self, name, comment, condition, actions, text, span):
        self.name = name
        self.comment = comment
        self.condition = condition
        self.actions = actions
        self.text = text
        self.span = span


class Decl(Node):
    """kind: input, output, var, const, timer, counter. type_name is an Ident (the type for
    variables, the kind such as TON/CTU for blocks); value is the init/preset expression."""

    __slots__ = ("kind", "name", "type_name", "address", "value", "retain", "description")

    def __init__(self, kind, name, type_name, address, value, retain, description, span):
        self.kind = kind
        self.name = name
        self.type_name = type_name
        self.address = address
        self.value = value
        self.retain = retain
        self.description = description
        self.span = span


class Cycle(Node):
    __slots__ = ("literal",)

    def __init__(self, literal, span):
        self.literal = literal
        self.span = span


class Broken(Node):
    """A statement with a syntax error, left out of the program: keyword is its first word
    (`rung`, `var`, ...), declares the name it declares if that much was readable, names
    every word written in it. The checker stays quiet about these names (no `not declared`,
    no `never written` for what the broken statement would have done)."""

    __slots__ = ("keyword", "declares", "names")

    def __init__(self, keyword, declares, names, span):
        self.keyword = keyword
        self.declares = declares
        self.names = names
        self.span = span


class SourceProgram(Node):
    """The whole file as parsed: header (may be None), cycle statements, declarations, rungs,
    and the statements left out after syntax errors (Broken)."""

    __slots__ = ("name", "cycles", "decls", "rungs", "first_item", "broken")

    def __init__(self, name, cycles, decls, rungs, first_item, span, broken=()):
        self.name = name
        self.cycles = cycles
        self.decls = decls
        self.rungs = rungs
        self.first_item = first_item
        self.span = span
        self.broken = list(broken)
