"""Cheaper tree building for lark's LALR parser: the same trees, metas and containers (the
parse that recovers from syntax errors; a text without one never makes a tree, see
compiler/direct.py).

lark's PropagatePositions runs on every reduction, including the chains of unit reductions
(`expr -> or_expr -> ... -> atom -> name`) where the node built is the child itself and the
positions are already in place; those calls are two scans of the children that change
nothing. _Positions skips them and does the rest as lark does (same rule, same attributes),
and build() replaces lark's Transformer with a plain recursive walk (no per-call wrapper
objects); a rule that only renames its one child (`?sum: product`) is itemgetter(0).
The same works on lark with lark_cython's LALR loop and lexer, whose tokens are
lark_cython.Token, not lark.Token. tests/test_compiler_speed.py checks trees and output
against lark's own path, and tests/test_compiler_lark_cython.py lark_cython's trees against
plain lark's."""

from operator import itemgetter

from lark import Token, Tree
from lark.parse_tree_builder import ExpandSingleChild, PropagatePositions

_ONLY_CHILD = itemgetter(0)


class _Positions(PropagatePositions):
    """lark's PropagatePositions (no node filter), with the unit-reduction no-op skipped;
    tokens: the parser's token classes (lark_cython's Token is no lark.Token)."""

    def __init__(self, node_builder, tokens):
        super().__init__(node_builder)
        self.tokens = tokens

    def __call__(self, children):
        res = self.node_builder(children)
        if type(res) is not Tree or (len(children) == 1 and children[0] is res):
            # not a tree, or a rule inlined to its only child: that child's meta and
            # containers were set when it was built, and lark would set them to themselves
            return res
        res_meta = res.meta
        # lark asks hasattr(meta, "line") and then hasattr(meta, "end_line"): both are
        # set together, with empty = False, so both mean "not empty before this call"
        fresh = res_meta.empty
        for names, edge in ((_START, _edge(children, self.tokens, _START)),
                            (_END, _edge(reversed(children), self.tokens, _END))):
            if edge is None:
                continue
            for name, x in zip(names, edge, strict=False):
                if fresh:
                    setattr(res_meta, name, x)
                setattr(res_meta, "container_" + name, x)
            if fresh:
                res_meta.empty = False
        return res


_START = ("line", "column", "start_pos")
_END = ("end_line", "end_column", "end_pos")


def _edge(children, tokens, names):
    """names of the first child that has positions: lark's _pp_get_meta, then
    getattr(meta, "container_x", meta.x) for each (a token has no containers; a tree's
    non-empty meta was filled by _Positions, which sets the containers with it)."""
    for c in children:
        if isinstance(c, Tree):
            m = c._meta  # None: lark's c.meta would make an empty one
            if m is None or m.empty:
                continue
        elif isinstance(c, tokens):
            return tuple(getattr(c, n) for n in names)
        elif hasattr(c, "__lark_meta__"):
            m = c.__lark_meta__()
        else:
            continue
        return tuple(getattr(m, "container_" + n, getattr(m, n)) for n in names)
    return None


def speed_up(lark, token=Token):
    """Swap lark's position propagation in a built LALR parser for _Positions; token: the
    class of the tokens its lexer makes."""
    # the very dict the LALR loop calls (lark's and lark_cython's _Parser share it; the
    # latter keeps its own reference out of Python's reach)
    callbacks = lark._callbacks
    tokens = (token, Token)
    for rule, callback in callbacks.items():
        if type(callback) is not PropagatePositions or callback.node_filter is not None:
            continue
        if type(callback.node_builder) is ExpandSingleChild and len(rule.expansion) == 1:
            # `?a: b` with nothing filtered: lark returns the one child, positions untouched
            callbacks[rule] = _ONLY_CHILD
        else:
            callbacks[rule] = _Positions(callback.node_builder, tokens)
    return lark


def build(transformer, tree):
    """transformer.transform(tree) for a Transformer whose methods all take (meta, children)
    and that has no token callbacks (v_args(meta=True)); recursive like lark's."""
    table = transformer.__dict__.setdefault("_fast_table", {})

    def walk(node):
        kids = [walk(c) if isinstance(c, Tree) else c for c in node.children]
        f = table.get(node.data)
        if f is None:
            f = getattr(transformer, node.data, None)
            f = table[node.data] = f.base_func if f is not None else _default(node.data)
        return f(node.meta, kids)

    return walk(tree)


def _default(data):
    def tree(meta, children):
        return Tree(data, children, meta)

    return tree
