"""The faster parse changes nothing: the tree path's cheaper tree building
(compiler/fast_tree.py) gives lark's own trees with the same positions, and the compiler
(syntax nodes built as the parser reduces, compiler/direct.py; the tree path after a syntax
error) gives the same diagnostics and byte-identical bytecode as lark's own path (stock
PropagatePositions, whole tree, then lark's Transformer), on examples, benchmark programs,
every diagnostics case and randomly mutated programs (errors and recovery included)."""

import glob
import os
import random
import sys

import pytest
from lark import Lark, Token, Tree

import rung
from rung.compiler import direct, parse_errors, parser
from rung.compiler.diagnostics import CompileError, Reporter
from rung.compiler.recovery import Recovery

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "bench"))
import programs  # noqa: E402
from test_compiler_fuzz import _mutate  # noqa: E402

_META = (
    "empty line column start_pos end_line end_column end_pos container_line "
    "container_column container_start_pos container_end_line container_end_column "
    "container_end_pos"
).split()


def _sources():
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*.rung"))):
        with open(path, encoding="utf-8") as f:
            out.append(f.read())
    for path in sorted(glob.glob(os.path.join(HERE, "diagnostics", "*.rung"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            out.append(f.read())
    out += [programs.contacts(150)[0], programs.timers(20)[0], programs.arithmetic(30)[0]]
    out.append(programs.mixed(60)[0])
    # literal diagnostics before a statement too deep for lark's tree, and after it
    deep = "rung: " + "not " * 250 + "a -> q\n"
    head = "program p\ncycle 99999999999h\nvar a : bool\noutput q : bool at %QX0.0\n"
    out += [head + deep, head + "rung: a and t#99999999999h > t#1s -> q\n" + deep + deep]
    out.append(head + deep + "rung: a -> q, x := 99999999999999999999\n")
    out.append(head + "rung: " + "(" * 250 + "a" + ")" * 250 + " -> q\n" + "rung: a ->\n")
    rnd = random.Random(12)
    bases = out[:7]
    for _ in range(60):
        text = rnd.choice(bases)
        for _ in range(rnd.randrange(1, 4)):
            text = _mutate(rnd, text)
        out.append(text)
    return out


SOURCES = _sources()


@pytest.fixture(scope="module")
def stock():
    with open(os.path.join(ROOT, "compiler", "grammar.lark"), encoding="utf-8") as f:
        return Lark(f.read(), parser="lalr", propagate_positions=True, maybe_placeholders=True)


def _shape(node):
    if isinstance(node, Tree):
        meta = node.meta
        return (
            "tree",
            str(node.data),
            tuple(getattr(meta, k, "-") for k in _META),
            tuple(_shape(c) for c in node.children),
        )
    if isinstance(node, Token):
        return ("token", node.type, str(node), node.start_pos, node.end_pos, node.line)
    return node


def _parse_tree(lark, text):
    try:
        return _shape(lark.parse(text, on_error=Recovery(text, Reporter("x.rung"))))
    except Exception as exc:  # noqa: BLE001 - both paths must fail alike
        return ("raised", type(exc).__name__, str(exc))


def _outcome(text):
    try:
        return ("ok", rung.compile_source(text, "p.rung").to_bytes())
    except CompileError as exc:
        return ("error", exc.render())


def test_trees_and_positions_equal_lark_own(stock):
    fast = parser.lark_parser()
    for text in SOURCES:
        assert _parse_tree(fast, text) == _parse_tree(stock, text)


def test_bytecode_and_diagnostics_equal_lark_own_path(stock, monkeypatch):
    fast = [_outcome(text) for text in SOURCES]
    monkeypatch.setattr(parser, "_parser", stock)
    monkeypatch.setattr(parser, "build", lambda builder, tree: builder.transform(tree))
    monkeypatch.setattr(parse_errors, "_STATES", None)  # state numbers are the parser's own

    class Plain:
        def parse(self, *args):
            raise direct.SyntaxFault  # every text the plain way: whole tree, lark's Transformer

    monkeypatch.setattr(parser, "fast_parser", Plain)
    reference = [_outcome(text) for text in SOURCES]
    assert sum(kind == "ok" for kind, _ in fast) >= 10  # real programs, not only errors
    assert fast == reference
