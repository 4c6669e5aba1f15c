"""Syntax nodes built by lark's LALR loop as it reduces: no parse tree at all (issue 12).

lark's LALR loop calls one callback per reduction with the values of the rule's symbols:
the tokens, and what the callbacks of its sub-rules returned. install() gives every rule a
callback that does in one call what lark's tree building and the compiler's pass over the
tree did in two: it keeps the values lark's child filter would keep, with lark's own layout
(maybe_create_child_filter: filtered tokens dropped, None for an absent `[x]`, helper rules
such as `(_OR and_expr)*` spliced in), works out where the rule's text is as lark's
PropagatePositions would, and calls the builder's method for the rule (parser._Build, the
methods the plain parse applies to its trees) with that Span in place of a lark Meta.

Positions follow lark's rule: a node starts where its first child's container starts and
ends where its last child's container ends. A syntax node's own span is that position,
except for a parenthesised expression (lark's container takes in the parentheses, the node
keeps its own span) and for what methods build without a span (sum and product chains,
whose Binary nodes span their operands): those are kept aside in `outer` for the parse.
A helper rule's value is the list of its children, which start and end where its first and
last child do: install() checks that the grammar keeps it so. The parser's rules also get
equality and hashing in C (_IdentityRule): lark's LALR loop compares and hashes them at
every reduction.

tests/test_compiler_direct.py checks that the nodes, spans and literal diagnostics are the
tree path's for every rule of the grammar, with lark_cython and with plain lark;
tests/test_compiler_lark_cython.py and tests/test_compiler_speed.py that diagnostics and
bytecode are, on every example and fixture and on randomly mutated programs."""

from operator import itemgetter

from lark import Token
from lark.exceptions import UnexpectedInput
from lark.grammar import NonTerminal, Rule
from lark.parse_tree_builder import maybe_create_child_filter

from . import syntax as s

_ONLY_CHILD = itemgetter(0)


class SyntaxFault(Exception):
    """The text has a syntax error: the direct parse cannot recover, parse it the plain way."""


def install(lark, builder, token=Token, unspanned=()):
    """Replace every rule callback of a built LALR parser (lark: a Lark) with one that builds
    syntax nodes with builder's methods; token: the class of its lexer's tokens; unspanned:
    the rules whose methods take no span (they get None). Returns parse(text): the start
    rule's value, or SyntaxFault."""
    callbacks = lark._callbacks  # the very dict the LALR loop calls (see fast_tree.speed_up)
    tokens = (token, Token)
    outer = {}  # id(value) -> (value, Span): lark's container where it is not value's own
    lines = builder._lines  # shared line numbers (see parser._Build._span)
    share = lines.setdefault
    Span = s.Span

    def head(v):
        """Where lark's container of a rule's value starts: an object with .line, .column."""
        kept = outer.get(id(v))
        if kept is not None:
            return kept[1]
        kind = type(v)
        if kind is list:
            return head(v[0])
        if kind is Span or kind in tokens:
            return v
        return v.span

    def tail(v):
        """Where it ends: an object with .end_line, .end_column."""
        kept = outer.get(id(v))
        if kept is not None:
            return kept[1]
        kind = type(v)
        if kind is list:
            return tail(v[-1])
        if kind is Span or kind in tokens:
            return v
        return v.span

    def span(first, last):
        line, end_line = first.line, last.end_line
        return Span(share(line, line), first.column, share(end_line, end_line), last.end_column)

    def itself(v):  # a token: it starts and ends where it is
        return v

    def at_edges(rule):
        exp = rule.expansion
        if not exp:
            return None, None
        return (itself if exp[0].is_term else head), (itself if exp[-1].is_term else tail)

    for rule in list(callbacks):
        if isinstance(rule, str):  # a lexer callback (the grammar has none)
            continue
        name = rule.alias or rule.options.template_source or rule.origin.name
        kids = _kids(rule)
        if rule.origin.name.startswith("_"):
            _check_helper(rule)
            callbacks[rule] = kids
            continue
        method = getattr(builder, name, None)
        method = getattr(method, "base_func", method)  # v_args' wrapper: one call less
        first, last = at_edges(rule)
        if rule.options.expand1 and not rule.alias:
            single = _single(rule)
            if single == 0 and len(rule.expansion) == 1:  # `?a: b`: lark's own no-op
                callbacks[rule] = _ONLY_CHILD
                continue
            if single is not None:  # `?a: "(" b ")"` and the like: lark inlines b
                callbacks[rule] = _inlined(single, first, last, span, outer, tokens)
                continue
            if method is None:
                raise ValueError(f"no method builds rule {name!r}")
        elif method is None:
            raise ValueError(f"no method builds rule {name!r}")
        if rule.origin.name in lark.options.start:
            callbacks[rule] = _root(method, kids)
            continue
        _check_first(rule)
        if name in unspanned:
            callbacks[rule] = _unspanned(method, kids, first, last, head, tail, span, outer)
        else:
            callbacks[rule] = _spanned(method, kids, first, last, span)

    identity_rules(lark)

    def parse(text):
        outer.clear()
        try:
            return lark.parse(text)
        except UnexpectedInput as exc:
            raise SyntaxFault from exc
        finally:
            outer.clear()

    return parse


class _IdentityRule(Rule):
    """A lark Rule equal only to itself and hashed by identity, both in C. lark's Rule and
    the RULE tokens that name it compare and hash in Python, and its LALR loop (lark_cython's
    as well) does so at every reduction: `assert arg != end_state` (Rule.__eq__),
    `callbacks[rule]` (Rule.__hash__), `states[s][rule.origin.name]` (Token.__eq__), a
    quarter of the loop's time. In one parser each rule is one object (lark refuses a rule
    given twice), so identity is its equality there."""

    __slots__ = ()
    __eq__ = object.__eq__
    __hash__ = object.__hash__


def identity_rules(lark):
    """Make the rules of lark's parser _IdentityRule, named by plain strings (their hash,
    and so the callbacks dict, changes: it is rebuilt in place, as the LALR loop holds it)."""
    callbacks = lark._callbacks
    entries = list(callbacks.items())
    callbacks.clear()
    for rule, callback in entries:
        if isinstance(rule, Rule):
            rule.__class__ = _IdentityRule
            rule.origin = NonTerminal(str(rule.origin.name))
        callbacks[rule] = callback


def _layout(rule):
    """lark's child filter for rule as [(index, splice, nones before)], nones after; None
    if it keeps every child as it is."""
    options = rule.options
    made = maybe_create_child_filter(
        rule.expansion, options.keep_all_tokens, False, options.empty_indices
    )
    if made is None:
        return None
    if len(made.args) == 1:  # ChildFilterLALR_NoPlaceholders: no None anywhere
        return [(i, splice, 0) for i, splice in made.args[0]], 0
    return made.args


def _kids(rule):
    """The function raw values -> children as lark's child filter gives them (a list)."""
    layout = _layout(rule)
    if layout is None:
        return _same
    plan, after = layout
    if after == 0 and all(nones == 0 for _i, _splice, nones in plan):
        shape = [(i, splice) for i, splice, _nones in plan]
        if not shape:
            return _none_kept
        if shape == [(shape[0][0], False)]:
            only = shape[0][0]
            return lambda raw: [raw[only]]
        if len(shape) == 2 and shape[0][1] and not shape[1][1]:
            # left recursion `_h: _h "," x`: grow the list lark would reuse
            grown, new = shape[0][0], shape[1][0]

            def grow(raw):
                values = raw[grown]
                values.append(raw[new])
                return values

            return grow
        if len(shape) == 2 and not shape[0][1] and shape[1][1]:
            one, rest = shape[0][0], shape[1][0]
            return lambda raw: [raw[one], *raw[rest]]
    if not any(splice for _i, splice, _nones in plan):
        picks = []
        for i, _splice, nones in plan:
            picks += [None] * nones + [i]
        picks += [None] * after
        return lambda raw: [None if i is None else raw[i] for i in picks]

    def general(raw):  # lark's ChildFilterLALR
        out = []
        for i, splice, nones in plan:
            if nones:
                out += [None] * nones
            if splice:
                out += raw[i]
            else:
                out.append(raw[i])
        if after:
            out += [None] * after
        return out

    return general


def _same(raw):
    return raw


def _none_kept(raw):
    return []


def _single(rule):
    """For a `?rule` whose filter always leaves one child that is no spliced helper: the
    index of that child in the rule's values, else None."""
    layout = _layout(rule)
    if layout is None:
        return 0 if len(rule.expansion) == 1 else None
    plan, after = layout
    if len(plan) == 1 and not plan[0][1] and plan[0][2] == 0 and after == 0:
        return plan[0][0]
    return None


def _check_helper(rule):
    """A helper's value is the list of its children: its container must end with its last
    child (no filtered token after it)."""
    last = rule.expansion[-1] if rule.expansion else None
    if last is None or (last.is_term and last.filter_out):
        raise ValueError(f"helper rule {rule} does not end with a kept child")


def _check_first(rule):
    """A rule that is not the root has a first symbol, and no helper (a helper's list
    starts with its first kept child, lark's container with whatever it begins with)."""
    first = rule.expansion[0] if rule.expansion else None
    if first is None or (not first.is_term and first.name.startswith("_")):
        raise ValueError(f"rule {rule} is empty or starts with a helper rule")


def _inlined(index, first, last, span, outer, tokens):
    """`?a: "(" b ")"`: b itself, its container widened to the whole rule as lark does (a
    token has no container: lark leaves it as it is)."""

    def inline(raw):
        value = raw[index]
        if len(raw) > 1 and type(value) not in tokens:
            outer[id(value)] = (value, span(first(raw[0]), last(raw[-1])))
        return value

    return inline


def _spanned(method, kids, first, last, span):
    def build(raw):
        return method(span(first(raw[0]), last(raw[-1])), kids(raw))

    return build


def _unspanned(method, kids, first, last, head, tail, span, outer):
    """A method that needs no span (sum, product, actions...): its value's container is
    kept in `outer` where it is not where the value itself starts and ends."""

    def build(raw):
        value = method(None, kids(raw))
        a, b = first(raw[0]), last(raw[-1])
        h, t = head(value), tail(value)
        own = (h.line, h.column, t.end_line, t.end_column)
        if (a.line, a.column, b.end_line, b.end_column) != own:
            outer[id(value)] = (value, span(a, b))
        return value

    return build


def _root(method, kids):
    def build(raw):
        return method(None, kids(raw))

    return build
