"""compiler/direct.py: the syntax nodes the parser builds as it reduces are those of the tree
path (plain lark's parse tree, then parser._Build over it), node for node and span for
span, with the same literal diagnostics in the same order, with lark_cython where it is
installed and with plain lark; every rule of the grammar is reduced in these sources; a
text with a syntax error raises SyntaxFault; expressions near the nesting limit give the
plain parse's diagnostics; compiles in threads do not mix."""

import os
import sys
import threading

import pytest
from lark import Token
from test_compiler_lark_cython import SOURCES as FILES
from test_compiler_speed import SOURCES

import rung
from rung.compiler import direct, parser
from rung.compiler import syntax as s
from rung.compiler.diagnostics import CompileError, Reporter
from rung.compiler.fast_tree import build

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "bench"))
import programs  # noqa: E402

# every construct of the grammar, each optional part present and absent, parentheses at
# the edges of every kind of expression and statement
EVERY = """program every
cycle 10ms
input a : bool at %IX0.0
input b : bool at %IX0.1 "start \\"button\\""
output q : bool at %QX0.0
output r : bool at %QX0.1 "lamp"
var m : bool
var n : int = -3
var n2 : int = 16#FF retain
var n3 : int = 2 retain at %MW3 "three"
var n4 : int = 4 at %MW4
var n5 : int = 5 "five"
var n6 : int = 6 retain "six"
var n7 : int = 7 retain at %MW7
var n8 : int = 8 at %MW8 "eight"
var n9 : int retain
var n10 : int retain at %MW10
var n11 : int retain at %MW11 "eleven"
var n12 : int retain "twelve"
var n13 : int at %MW13
var n14 : int at %MW14 "fourteen"
var n15 : int "fifteen"
var x : real = -1.5
var y : real = 2.5e3
var t0 : time = 5s
var flag : bool = true
var off : bool = false
const K = 10
const L : int = -7
const R : real = -0.5
timer t1 : TON = 500ms
timer t2 : TOF = T#1s retain
timer t3 : TON = n
counter c1 : CTU = 10
counter c2 : CTD = K retain
rung: a -> q
rung named: (a) -> r
rung "a comment": (a or b) and not (m) -> m
rung last "both": rising a or falling (b) -> set m, reset m
rung: not not a -> count c1, count_down c2, load c2, not r
rung: t1.Q and (c1.Q) -> n := (n + 1) * 2 - (n mod 3) * n / (2)
rung: (n) + 1 > (2) -> x := -(x) / 2.0 + -x
rung: a -> n := max(n, 1, (2)), n2 := abs(n), y := sqrt()
rung: (n > 1) and (x <= 2.0) or n != 3 -> t1.IN := a
rung: ((a)) -> n := (((n)))
"""


def _dump(node):
    """A syntax tree as plain data: every slot of every node, spans, tokens of either class."""
    if isinstance(node, s.Span):
        return ("span", node.line, node.column, node.end_line, node.end_column)
    if isinstance(node, (list, tuple)):
        return tuple(_dump(item) for item in node)
    if isinstance(node, s.Node):
        keys = [k for cls in type(node).__mro__ for k in getattr(cls, "__slots__", ())]
        return (type(node).__name__,) + tuple((k, _dump(getattr(node, k))) for k in keys)
    if isinstance(node, (set, frozenset)):
        return ("set", tuple(sorted(node)))
    if node is None or isinstance(node, (bool, int, float)) or type(node) is str:
        return node
    assert isinstance(node, Token) or type(node).__name__ == "Token", type(node)
    return ("token", node.type, node.value, node.start_pos, node.end_pos, node.line,
            node.column, node.end_line, node.end_column)  # fmt: skip


def _items(reporter):
    return [(d.code, d.message, d.span.line, d.span.column, d.span.end_line,
             d.span.end_column) for d in reporter.items]  # fmt: skip


def _direct(fast, text):
    reporter = Reporter("p.rung")
    try:
        program = fast.parse(text, reporter, [])
    except direct.SyntaxFault:
        return "syntax error"
    return _dump(program), _items(reporter)


def _tree(text):
    reporter = Reporter("p.rung")
    try:
        tree = parser.lark_parser().parse(text)
    except Exception:  # noqa: BLE001 - any syntax error of lark's
        return "syntax error"
    if not parser._depth_ok(tree, Reporter("p.rung")):
        return None  # too deep for the tree path's recursive walk: compared by outcome below
    return _dump(build(parser._Build(text, reporter, []), tree)), _items(reporter)


def _parsers():
    out = [("lark", parser._Direct(parser._build({})))]
    try:
        import lark_cython
    except ImportError:
        return out
    return out + [("lark-cython", parser._Direct(parser._build(lark_cython.plugins),
                                                 lark_cython.Token))]  # fmt: skip


CORPUS = [EVERY, "", "program p\n", programs.mixed(40)[0], programs.arithmetic(20)[0]]
CORPUS += [text for _label, _path, text in FILES] + SOURCES


def _counted(fast):
    """Count the reductions of each rule of fast's parser."""
    counts = {}
    callbacks = fast.lark._callbacks
    for rule, callback in list(callbacks.items()):
        if isinstance(rule, str):
            continue
        counts[rule] = 0

        def counting(raw, rule=rule, callback=callback):
            counts[rule] += 1
            return callback(raw)

        callbacks[rule] = counting
    return counts


@pytest.mark.parametrize("name", ["lark", "lark-cython"])
def test_nodes_spans_and_reports_are_the_tree_paths(name):
    parsers = dict(_parsers())
    if name not in parsers:
        pytest.skip("lark_cython is not installed (pip install -e '.[fast]')")
    fast = parsers[name]
    counts = _counted(fast)
    compared = errors = 0
    for text in CORPUS:
        want = _tree(text)
        if want is None:
            continue
        got = _direct(fast, text)
        assert got == want, text[:200]
        compared += want != "syntax error"
        errors += want == "syntax error"
    assert compared >= 40 and errors >= 40
    unused = [str(rule) for rule, n in counts.items() if n == 0]
    assert unused == []  # every rule of the grammar, every optional part present and absent


def _outcome(text):
    try:
        return ("ok", rung.compile_source(text, "p.rung").to_bytes())
    except CompileError as exc:
        return ("error", exc.render())


def _plain_outcome(text, monkeypatch):
    class Refuse:
        def parse(self, *args):
            raise direct.SyntaxFault

    with monkeypatch.context() as mp:
        mp.setattr(parser, "fast_parser", Refuse)
        return _outcome(text)


HEAD = "var a : bool\nvar n : int\noutput q : bool at %QX0.0\n"


@pytest.mark.parametrize("depth", [194, 195, 196, 197, 198, 199, 200, 201, 202])
def test_expressions_near_the_nesting_limit_give_the_plain_parses_diagnostics(depth, monkeypatch):
    # lark's tree is at most as deep as the syntax tree plus the rung above it: where the
    # direct parse cannot tell whether the plain parse would refuse, the plain parse runs
    texts = [
        HEAD + "rung: " + "not " * depth + "a -> q\n",
        HEAD + "rung: a -> n := " + "-" * depth + "n\n",
        HEAD + "rung: a -> n := " + " + ".join(["n"] * depth) + "\n",
        HEAD + "rung: " + "(" * depth + "a" + ")" * depth + " -> q\n",
        HEAD + "rung: a -> n := " + "abs(" * depth + "n" + ")" * depth + "\n",
    ]
    for text in texts:
        assert _outcome(text) == _plain_outcome(text, monkeypatch), text[:80]


def test_a_too_deep_expression_is_refused_as_the_plain_parse_refuses_it(monkeypatch):
    text = HEAD + "rung: " + "not " * 260 + "a -> q\n"
    kind, shown = _outcome(text)
    assert kind == "error" and "E057" in shown and "nested more than 200 levels" in shown
    assert (kind, shown) == _plain_outcome(text, monkeypatch)


def test_compiles_in_threads_do_not_mix():
    texts = [programs.contacts(60, seed=k)[0] for k in range(4)]
    texts.append("rung: a && -> q\n")  # a syntax error: the plain parse, in a thread too
    want = [_outcome(text) for text in texts]
    got = {}

    def work(k):
        got[k] = [_outcome(texts[(k + i) % len(texts)]) for i in range(6)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        assert got[k] == [want[(k + i) % len(texts)] for i in range(6)]


@pytest.mark.parametrize("name", ["lark", "lark-cython"])
def test_the_loop_compares_and_hashes_rules_in_c(name):
    # lark's Rule and its RULE-token names compare and hash in Python, at every reduction
    from lark.grammar import Rule

    parsers = dict(_parsers())
    if name not in parsers:
        pytest.skip("lark_cython is not installed (pip install -e '.[fast]')")
    fast = parsers[name]
    rules = [rule for rule in fast.lark._callbacks if not isinstance(rule, str)]
    assert all(type(rule) is direct._IdentityRule and type(rule.origin.name) is str
               for rule in rules)  # fmt: skip
    assert len(set(rules)) == len(rules) and rules[0] != rules[1] and rules[0] == rules[0]
    slow = {Rule.__eq__.__code__, Rule.__hash__.__code__, Token.__eq__.__code__}
    called = []

    def watch(frame, event, arg):
        if event == "call" and frame.f_code in slow:
            called.append(frame.f_code.co_name)

    text = programs.mixed(10)[0]
    sys.setprofile(watch)
    try:
        program = fast.parse(text, Reporter("p.rung"))
    finally:
        sys.setprofile(None)
    assert len(program.rungs) >= 10 and called == []
    # the parser that recovers keeps lark's own rules
    assert all(type(rule) is Rule for rule in parser.lark_parser()._callbacks
               if not isinstance(rule, str))  # fmt: skip


def test_rung_text_from_line_starts_is_lark_s_slice():
    # a rung's text is cut from its span's lines and columns: they are those of lark's
    # positions for every tree and token, after recovery's repairs too
    from lark import Tree

    from rung.compiler.recovery import Recovery

    checked = 0
    for text in CORPUS:
        builder = parser._Build(text, Reporter("p.rung"))
        tree = parser.lark_parser().parse(text, on_error=Recovery(text, Reporter("p.rung")))
        stack = [tree]
        while stack:
            node = stack.pop()
            if isinstance(node, Tree):
                stack += node.children
                if node.meta.empty:
                    continue
                m = node.meta
            elif isinstance(node, Token):
                m = node
            else:
                continue
            assert builder._source(s.Span.of(m)) == text[m.start_pos : m.end_pos], text[:200]
            checked += 1
    assert checked > 10_000
