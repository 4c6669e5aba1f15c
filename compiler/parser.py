"""Source text -> syntax.SourceProgram (lark LALR; grammar in grammar.lark).

A syntax error does not stop the parse: recovery.py reports it and parsing goes on, so the
checker sees every statement that could be read and one run reports every error."""

import os
import threading
from itertools import accumulate, count

from lark import Lark, v_args
from lark.exceptions import UnexpectedInput
from lark.visitors import Transformer

from . import direct
from . import syntax as s
from .fast_tree import build, speed_up
from .literals import parse_duration, parse_integer, parse_real, parse_string
from .recovery import Recovery, describe_span

_GRAMMAR = os.path.join(os.path.dirname(__file__), "grammar.lark")
# RUNG_LARK_CYTHON=0 parses with plain lark even where lark_cython is installed
LARK_CYTHON_ENV = "RUNG_LARK_CYTHON"
_parser = None
_fast = None


def lark_parser():
    """The LALR parser built from grammar.lark with plain lark (built once, then loaded from
    a cache) that makes parse trees: the parse that recovers from syntax errors
    (recovery.py, parse_errors.py)."""
    global _parser
    if _parser is None:
        _parser = speed_up(_build({}))
    return _parser


def fast_parser():
    """The parser for the first attempt at a text: syntax nodes built as it reduces
    (compiler/direct.py), a SourceProgram from .parse(text), or direct.SyntaxFault. lark
    with lark_cython's LALR loop and lexer where lark_cython is installed and not turned
    off with RUNG_LARK_CYTHON=0, else plain lark. Neither recovers (direct building has no
    trees to drop, lark_cython's parser state has no copy(deepcopy_values=...) and hides
    its parse table from Python), so a text with a syntax error is parsed again by
    lark_parser()."""
    global _fast
    if _fast is None:
        cython = _lark_cython()
        if cython is None:
            _fast = _Direct(_build({}))
        else:
            _fast = _Direct(_build(cython.plugins), cython.Token)
    return _fast


class _Direct:
    """A Lark whose callbacks build syntax nodes with one _Build, reset for every parse; one
    parse at a time (the builder holds the parse's text and reporter)."""

    def __init__(self, lark, token=None):
        self.lark = lark
        self.builder = _Build("", None)
        extra = {} if token is None else {"token": token}
        self._parse = direct.install(lark, self.builder, unspanned=_Build.UNSPANNED, **extra)
        self._lock = threading.Lock()

    def parse(self, text, reporter=None, broken=()):
        """The SourceProgram of text (literal problems reported to reporter), or raises
        direct.SyntaxFault."""
        with self._lock:
            self.builder.begin(text, reporter, broken)
            try:
                return self._parse(text)
            finally:
                self.builder.begin("", None, ())


def parser_name():
    """Which parser fast_parser() is: "lark-cython X.Y.Z" or "lark"."""
    cython = _lark_cython()
    return "lark" if cython is None else "lark-cython " + cython.__version__


def _lark_cython():
    """The lark_cython module, or None if it is turned off or not installed."""
    if os.environ.get(LARK_CYTHON_ENV, "1") == "0":
        return None
    try:  # imported only when a parse needs it: `rung check --help` does not pay for it
        import lark_cython
    except ImportError:
        return None
    return lark_cython


def _build(plugins):
    # both read the same cache file: lark keeps the parse table, not the plugins, in it
    with open(_GRAMMAR, encoding="utf-8") as f:
        grammar = f.read()
    return Lark(
        grammar,
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=cache_file(grammar) or False,
        _plugins=plugins,
    )


def cache_file(grammar):
    """Where lark keeps the built parser: a per-user cache directory, one file per grammar,
    lark and Python version (lark checks them again on loading and rebuilds on any
    mismatch, and a cache it cannot read or write just costs the build); None if there is
    no usable directory."""
    import hashlib
    import sys

    import lark

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "rung")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:  # read-only or missing home: build every time
        return None
    if not os.access(folder, os.W_OK | os.X_OK):
        return None
    key = grammar + lark.__version__ + sys.version
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return os.path.join(folder, "parser-" + digest + ".lark")


@v_args(meta=True)
class _Build(Transformer):
    # rules whose methods take no position (compiler/direct.py gives them None)
    UNSPANNED = frozenset({"start", "sum", "product", "actions", "description", "init"})
    UNSPANNED |= {"type_spec", "at"}

    def __init__(self, text, reporter, broken=()):
        super().__init__()
        self._lines = {}
        self.begin(text, reporter, broken)

    def begin(self, text, reporter, broken):
        """Start on a text: literal problems are reported to reporter and the parse goes
        on; broken: the statements recovery dropped."""
        self.text = text
        self.r = reporter
        self.broken = broken
        self._lines.clear()
        self._starts = None

    def _span(self, m):
        """Span.of(m) (a meta or a token; a Span is itself), its line numbers shared with
        the other spans on the same line: lark_cython's tokens keep positions as C ints, so
        every read of .line makes a new int, and one per span is 30 MB at 50,000 rungs."""
        if type(m) is s.Span:
            return m
        lines = self._lines
        line, end_line = m.line, m.end_line
        line = lines.setdefault(line, line)
        return s.Span(line, m.column, lines.setdefault(end_line, end_line), m.end_column)

    def _ident(self, tok):
        return s.Ident(str(tok), self._span(tok))

    def _source(self, span):
        """The text from span's start to its end."""
        starts = self._starts
        if starts is None:  # where each line starts ("\n" ends a line for lark too)
            lengths = accumulate(map(len, self.text.split("\n")))
            starts = self._starts = [0, *map(int.__add__, lengths, count(1))]
        start = starts[span.line - 1] + span.column - 1
        return self.text[start : starts[span.end_line - 1] + span.end_column - 1]

    def _duration(self, token, span):
        try:
            return parse_duration(str(token)), False
        except ValueError as exc:
            self.r.bad_duration(span, str(exc))
            return 0, True

    def _integer(self, token, sign, meta):
        text = sign + str(token)
        span = self._span(meta)
        try:
            value = parse_integer(str(token))
        except OverflowError as exc:
            self.r.huge_integer(span, text, str(exc).split()[0])
            return s.Literal("int", 0, text, span, bad=True)
        except ValueError as exc:
            self.r.bad_number(span, text, str(exc))
            return s.Literal("int", 0, text, span, bad=True)
        return s.Literal("int", -value if sign else value, text, span)

    def _real(self, token, sign, meta):
        text = sign + str(token)
        span = self._span(meta)
        try:
            value = parse_real(str(token))
        except OverflowError:
            self.r.real_out_of_range(span, text)
            return s.Literal("real", 0.0, text, span, bad=True)
        return s.Literal("real", -value if sign else value, text, span)

    def _string(self, token):
        try:
            return parse_string(str(token))
        except ValueError as exc:
            message, offset = exc.args
            line, column = token.line, token.column + offset
            self.r.bad_escape(s.Span(line, column, line, column + 2), message)
            return ""

    # literals
    def int_lit(self, meta, c):
        return self._integer(c[0], "", meta)

    def neg_int_lit(self, meta, c):
        return self._integer(c[0], "-", meta)

    def real_lit(self, meta, c):
        return self._real(c[0], "", meta)

    def neg_real_lit(self, meta, c):
        return self._real(c[0], "-", meta)

    def time_lit(self, meta, c):
        span = self._span(meta)
        value, bad = self._duration(c[0], span)
        return s.Literal("time", value, str(c[0]), span, bad)

    def true_lit(self, meta, c):
        return s.Literal("bool", True, "true", self._span(meta))

    def false_lit(self, meta, c):
        return s.Literal("bool", False, "false", self._span(meta))

    # expressions
    def name(self, meta, c):
        span = self._span(meta)  # the name's own: one Span for both
        return s.Name(s.Ident(str(c[0]), span), span)

    def member(self, meta, c):
        return s.Member(self._ident(c[0]), self._ident(c[1]), self._span(meta))

    def call(self, meta, c):
        args = [a for a in c[1:] if a is not None]
        return s.Call(self._ident(c[0]), args, self._span(meta))

    def not_(self, meta, c):
        return s.Unary("not", c[0], self._span(meta))

    def rising(self, meta, c):
        return s.Unary("rising", c[0], self._span(meta))

    def falling(self, meta, c):
        return s.Unary("falling", c[0], self._span(meta))

    def neg(self, meta, c):
        return s.Unary("neg", c[0], self._span(meta))

    def or_expr(self, meta, c):
        return s.Logic("or", list(c), self._span(meta))

    def and_expr(self, meta, c):
        return s.Logic("and", list(c), self._span(meta))

    def comparison(self, meta, c):
        return s.Binary(str(c[1]), c[0], c[2], self._span(meta), self._span(c[1]))

    def _chain(self, c):
        left = c[0]
        for i in range(1, len(c), 2):
            op, right = c[i], c[i + 1]
            span = s.Span(
                left.span.line, left.span.column, right.span.end_line, right.span.end_column
            )
            left = s.Binary(str(op), left, right, span, self._span(op))
        return left

    def sum(self, meta, c):
        return self._chain(c)

    def product(self, meta, c):
        return self._chain(c)

    # actions
    def _action(kind):  # noqa: N805 - a factory used in the class body
        def build(self, meta, c):
            return s.Action(kind, c[0], c[1] if len(c) > 1 else None, self._span(meta))

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
        return c[0]  # the STRING token: a declaration ends where it does, then reads it

    def _description(self, token):
        return "" if token is None else self._string(token)

    def init(self, meta, c):
        return c[0]

    def type_spec(self, meta, c):
        return self._ident(c[0])

    def retain(self, meta, c):
        return self._span(meta)  # true, and where a declaration may end

    def at(self, meta, c):
        return c[0]

    def program_decl(self, meta, c):
        return ("program", self._ident(c[0]), self._span(meta))

    def cycle_decl(self, meta, c):
        span = self._span(c[0])
        value, bad = self._duration(c[0], span)
        return s.Cycle(s.Literal("time", value, str(c[0]), span, bad), self._span(meta))

    def input_decl(self, meta, c):
        name, type_name, description = self._ident(c[0]), self._ident(c[1]), c[3]
        description = self._description(description)
        return s.Decl("input", name, type_name, c[2], None, False, description, self._span(meta))

    def output_decl(self, meta, c):
        name, type_name, description = self._ident(c[0]), self._ident(c[1]), c[3]
        description = self._description(description)
        return s.Decl("output", name, type_name, c[2], None, False, description, self._span(meta))

    def var_decl(self, meta, c):
        name, type_name, description = self._ident(c[0]), self._ident(c[1]), c[5]
        description = self._description(description)
        span = self._span(meta)
        return s.Decl("var", name, type_name, c[4], c[2], bool(c[3]), description, span)

    def const_decl(self, meta, c):
        return s.Decl("const", self._ident(c[0]), c[1], None, c[2], False, "", self._span(meta))

    def timer_decl(self, meta, c):
        return s.Decl(
            "timer", self._ident(c[0]), self._ident(c[1]), None, c[2], bool(c[3]), "", self._span(meta)
        )

    def counter_decl(self, meta, c):
        return s.Decl(
            "counter", self._ident(c[0]), self._ident(c[1]), None, c[2], bool(c[3]), "", self._span(meta)
        )

    def rung(self, meta, c):
        name, comment, cond, actions = c
        name = self._ident(name) if name is not None else None
        comment = self._string(comment) if comment is not None else ""
        span = self._span(meta)
        return s.Rung(name, comment, cond, actions, self._source(span), span)

    def start(self, meta, c):
        header = c[0]
        items = c[1:]
        first = items[0] if items else None
        cycles = [i for i in items if isinstance(i, s.Cycle)]
        decls = [i for i in items if isinstance(i, s.Decl)]
        rungs = [i for i in items if isinstance(i, s.Rung)]
        name = header[1] if header else None
        span = header[2] if header else None
        return s.SourceProgram(name, cycles, decls, rungs, first, span, self.broken)


def parse(text, filename, reporter):
    """Parse text, reporting every syntax error; None only if nothing could be read."""
    # the common case first: no syntax error, syntax nodes built as the parser reduces
    mark = len(reporter.items)
    try:
        program = fast_parser().parse(text, reporter, [])
    except direct.SyntaxFault:
        program = None
    if program is not None and not _deeper_than(program, MAX_NESTING - _ABOVE_EXPRESSIONS):
        return program
    # a syntax error, or expressions that may be too deep for the plain parse's tree: that
    # parse decides (it reports what it finds, in its order)
    del reporter.items[mark:]
    recovery = Recovery(text, reporter)
    try:
        tree = lark_parser().parse(text, on_error=recovery)
    except UnexpectedInput as exc:  # recovery always resumes; this is a last resort
        reporter.syntax(describe_span(exc, text), "the parser cannot go on from here")
        return None
    if not _depth_ok(tree, reporter):
        return None
    program = build(_Build(text, reporter, recovery.broken), tree)
    if not _nesting_ok(program, reporter):
        return None
    return program


MAX_NESTING = 200  # far beyond any real rung; keeps the recursive passes within Python's limit


def _depth_ok(tree, reporter):
    """Report the first parse-tree node nested deeper than MAX_NESTING (lark's Transformer
    recurses; checked without recursion)."""
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


# Where an expression's root sits at the deepest in lark's tree: start > rung > actions >
# action > expression. Each of lark's trees in an expression is one syntax node or more on
# the same path (a parenthesis is neither), so an expression whose syntax tree is at most
# MAX_NESTING - _ABOVE_EXPRESSIONS deep never makes lark's tree deeper than MAX_NESTING.
_ABOVE_EXPRESSIONS = 4


def _roots(program):
    roots = [r.condition for r in program.rungs]
    roots += [a.expr for r in program.rungs for a in r.actions if a.expr is not None]
    return roots


def _deeper_than(program, limit):
    """Whether an expression's syntax tree is deeper than limit (root 0)."""
    # every syntax node has a token of its own (an operator, a name, a literal, a comma
    # or parenthesis of a call), so no expression of a rung is deeper than its text is long
    rungs = [r for r in program.rungs if len(r.text) > limit]
    roots = [r.condition for r in rungs]
    roots += [a.expr for r in rungs for a in r.actions if a.expr is not None]
    for root in roots:
        stack = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in _children(node))
    return False


def _nesting_ok(program, reporter):
    """Report expressions whose syntax tree is deeper than MAX_NESTING: `a + b + ...` is as
    deep as it is long, and the checker and emitter recurse on it."""
    ok = True
    for root in _roots(program):
        stack = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_NESTING:
                reporter.chain_too_long(root.span, MAX_NESTING)
                ok = False
                break
            stack.extend((child, depth + 1) for child in _children(node))
    return ok


def _children(node):
    if isinstance(node, s.Binary):
        return (node.left, node.right)
    if isinstance(node, s.Unary):
        return (node.operand,)
    if isinstance(node, (s.Logic,)):
        return node.items
    if isinstance(node, s.Call):
        return node.args
    return ()
