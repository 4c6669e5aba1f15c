"""Source text -> syntax.SourceProgram (lark LALR; grammar in grammar.lark)."""

import os

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import syntax as s
from .literals import parse_duration, parse_integer, parse_real

_GRAMMAR = os.path.join(os.path.dirname(__file__), "grammar.lark")
_parser = None


def _lark():
    global _parser
    if _parser is None:
        with open(_GRAMMAR, encoding="utf-8") as f:
            _parser = Lark(
                f.read(), parser="lalr", propagate_positions=True, maybe_placeholders=True
            )
    return _parser


def _ident(tok):
    return s.Ident(str(tok), s.Span.of(tok))


@v_args(meta=True)
class _Build(Transformer):
    def __init__(self, text):
        super().__init__()
        self.text = text
        self.bad_durations = []  # (span, message): reported as E042 once the tree is built

    def _duration(self, token, span):
        try:
            return parse_duration(str(token))
        except ValueError as exc:
            self.bad_durations.append((span, str(exc)))
            return 0

    # literals
    def int_lit(self, meta, c):
        return s.Literal("int", parse_integer(str(c[0])), str(c[0]), s.Span.of(meta))

    def neg_int_lit(self, meta, c):
        return s.Literal("int", -parse_integer(str(c[0])), "-" + str(c[0]), s.Span.of(meta))

    def real_lit(self, meta, c):
        return s.Literal("real", parse_real(str(c[0])), str(c[0]), s.Span.of(meta))

    def neg_real_lit(self, meta, c):
        return s.Literal("real", -parse_real(str(c[0])), "-" + str(c[0]), s.Span.of(meta))

    def time_lit(self, meta, c):
        span = s.Span.of(meta)
        return s.Literal("time", self._duration(c[0], span), str(c[0]), span)

    def true_lit(self, meta, c):
        return s.Literal("bool", True, "true", s.Span.of(meta))

    def false_lit(self, meta, c):
        return s.Literal("bool", False, "false", s.Span.of(meta))

    # expressions
    def name(self, meta, c):
        return s.Name(_ident(c[0]), s.Span.of(meta))

    def member(self, meta, c):
        return s.Member(_ident(c[0]), _ident(c[1]), s.Span.of(meta))

    def call(self, meta, c):
        args = [a for a in c[1:] if a is not None]
        return s.Call(_ident(c[0]), args, s.Span.of(meta))

    def not_(self, meta, c):
        return s.Unary("not", c[0], s.Span.of(meta))

    def rising(self, meta, c):
        return s.Unary("rising", c[0], s.Span.of(meta))

    def falling(self, meta, c):
        return s.Unary("falling", c[0], s.Span.of(meta))

    def neg(self, meta, c):
        return s.Unary("neg", c[0], s.Span.of(meta))

    def or_expr(self, meta, c):
        return s.Logic("or", list(c), s.Span.of(meta))

    def and_expr(self, meta, c):
        return s.Logic("and", list(c), s.Span.of(meta))

    def comparison(self, meta, c):
        return s.Binary(str(c[1]), c[0], c[2], s.Span.of(meta), s.Span.of(c[1]))

    def _chain(self, c):
        left = c[0]
        for i in range(1, len(c), 2):
            op, right = c[i], c[i + 1]
            span = s.Span(
                left.span.line, left.span.column, right.span.end_line, right.span.end_column
            )
            left = s.Binary(str(op), left, right, span, s.Span.of(op))
        return left

    def sum(self, meta, c):
        return self._chain(c)

    def product(self, meta, c):
        return self._chain(c)

    # actions
    def _action(kind):  # noqa: N805 - a factory used in the class body
        def build(self, meta, c):
            return s.Action(kind, c[0], c[1] if len(c) > 1 else None, s.Span.of(meta))

        return build

    coil_action = _action("coil")
    coil_not_action = _action("coil_not")
    set_action = _action("set")
    reset_action = _action("reset")
    count_action = _action("count")
    count_down_action = _action("count_down")
    load_action = _action("load")
    assign_action = _action("assign")
    assign_member_action = _action("assign")

    def actions(self, meta, c):
        return list(c)

    # declarations
    def description(self, meta, c):
        raw = str(c[0])[1:-1]
        return raw.encode("utf-8").decode("unicode_escape") if "\\" in raw else raw

    def init(self, meta, c):
        return c[0]

    def type_spec(self, meta, c):
        return _ident(c[0])

    def retain(self, meta, c):
        return True

    def at(self, meta, c):
        return c[0]

    def program_decl(self, meta, c):
        return ("program", _ident(c[0]), s.Span.of(meta))

    def cycle_decl(self, meta, c):
        span = s.Span.of(c[0])
        lit = s.Literal("time", self._duration(c[0], span), str(c[0]), span)
        return s.Cycle(lit, s.Span.of(meta))

    def input_decl(self, meta, c):
        return s.Decl(
            "input", _ident(c[0]), _ident(c[1]), c[2], None, False, c[3] or "", s.Span.of(meta)
        )

    def output_decl(self, meta, c):
        return s.Decl(
            "output", _ident(c[0]), _ident(c[1]), c[2], None, False, c[3] or "", s.Span.of(meta)
        )

    def var_decl(self, meta, c):
        return s.Decl(
            "var", _ident(c[0]), _ident(c[1]), c[4], c[2], bool(c[3]), c[5] or "", s.Span.of(meta)
        )

    def const_decl(self, meta, c):
        return s.Decl("const", _ident(c[0]), c[1], None, c[2], False, "", s.Span.of(meta))

    def timer_decl(self, meta, c):
        return s.Decl(
            "timer", _ident(c[0]), _ident(c[1]), None, c[2], bool(c[3]), "", s.Span.of(meta)
        )

    def counter_decl(self, meta, c):
        return s.Decl(
            "counter", _ident(c[0]), _ident(c[1]), None, c[2], bool(c[3]), "", s.Span.of(meta)
        )

    def rung(self, meta, c):
        name, comment, cond, actions = c
        name = _ident(name) if name is not None else None
        comment = str(comment)[1:-1] if comment is not None else ""
        text = self.text[meta.start_pos : meta.end_pos]
        return s.Rung(name, comment, cond, actions, text, s.Span.of(meta))

    def start(self, meta, c):
        header = c[0]
        items = c[1:]
        first = items[0] if items else None
        cycles = [i for i in items if isinstance(i, s.Cycle)]
        decls = [i for i in items if isinstance(i, s.Decl)]
        rungs = [i for i in items if isinstance(i, s.Rung)]
        name = header[1] if header else None
        span = header[2] if header else None
        return s.SourceProgram(name, cycles, decls, rungs, first, span)


# Parser states -> friendly messages (lark's match_examples).
_EXAMPLES = {
    "expected `->` after the contacts": ["rung: a b", "rung: a and b c", "rung: a and (b or c) d"],
    "expected a contact or an expression after `:`": ["rung: -> x", "rung a: -> x"],
    "expected an action after `->`": ["rung: a ->", "rung: a -> ,", "rung: a -> x,"],
    "expected `:` after the rung name": ["rung a b", 'rung a "c" d'],
    "expected `: TYPE` after the name": ["input a bool", "var x int"],
    "expected `at ADDRESS` after the type": ["input a : bool", 'output q : bool "d"'],
    "expected a value after `=`": ["const K =", "var x : int ="],
    "unbalanced parentheses": ["rung: (a or b -> x", "rung: a) -> x"],
}


def parse(text, filename, reporter):
    """Parse text; on a syntax error report E002 and return None."""
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        _syntax_error(exc, text, reporter)
        return None
    if not _depth_ok(tree, reporter):
        return None
    builder = _Build(text)
    program = builder.transform(tree)
    for span, message in builder.bad_durations:
        reporter.bad_duration(span, message)
    return None if builder.bad_durations else program


MAX_NESTING = 200  # far beyond any real rung; keeps the recursive passes within Python's limit


def _depth_ok(tree, reporter):
    """Report the first node nested deeper than MAX_NESTING (checked without recursion)."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            reporter.nesting_too_deep(s.Span.of(node.meta), MAX_NESTING)
            return False
        for child in node.children:
            if hasattr(child, "children"):
                stack.append((child, depth + 1))
    return True


def _example_states():
    # lark's own match_examples compares whole state stacks, which differ with the number of
    # statements before the error; the current LALR state and token type are what matter.
    global _STATES
    if _STATES is None:
        _STATES = {}
        for label, examples in _EXAMPLES.items():
            for example in examples:
                try:
                    _lark().parse(example)
                except UnexpectedInput as ut:
                    if ut.state is not None:
                        key = (
                            ut.state.position,
                            getattr(getattr(ut, "token", None), "type", None),
                        )
                        _STATES.setdefault(key, label)
    return _STATES


_STATES = None


def _match_example(exc):
    if getattr(exc, "state", None) is None:
        return None
    token_type = getattr(getattr(exc, "token", None), "type", None)
    return _example_states().get((exc.state.position, token_type))


def _syntax_error(exc, text, reporter):
    line = getattr(exc, "line", 1) or 1
    column = getattr(exc, "column", 1) or 1
    width = 1
    if (
        isinstance(exc, UnexpectedToken)
        and isinstance(exc.token, Token)
        and exc.token.type != "$END"
    ):
        width = max(1, len(str(exc.token)))
        found = f"unexpected `{exc.token}`"
    elif isinstance(exc, UnexpectedCharacters):
        found = f"unexpected character `{text[exc.pos_in_stream]}`"
    else:
        found = "unexpected end of file"
        lines = text.splitlines() or [""]
        line = len(lines)
        column = len(lines[-1]) + 1
    label = _match_example(exc)
    if isinstance(exc, UnexpectedEOF):
        label = label or "the program ends in the middle of a statement"
    message = found + (f": {label}" if label else "")
    help = None
    if isinstance(exc, UnexpectedToken) and not label:
        expected = sorted(_pretty(t) for t in exc.accepts or exc.expected)
        if expected and len(expected) <= 6:
            help = "expected " + ", ".join(expected)
    reporter.syntax(s.Span(line, column, line, column + width), message, help)


_TERMINAL_NAMES = {
    "NAME": "a name",
    "INTEGER": "an integer",
    "REAL": "a real",
    "DURATION": "a duration",
    "ADDRESS": "an address",
    "STRING": 'a "description"',
    "COLON": "`:`",
    "COMMA": "`,`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "EQUAL": "`=`",
    "DOT": "`.`",
    "MINUS": "`-`",
    "COMPARE": "a comparison",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*`, `/` or `mod`",
    "$END": "end of file",
}


def _pretty(terminal):
    if terminal in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[terminal]
    if terminal.startswith("__ANON"):
        return "`:=`" if terminal == "__ANON_0" else "`->`"
    return f"`{terminal.lower()}`"
