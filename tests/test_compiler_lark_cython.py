"""lark_cython (issue 12): where it is installed, the compiler's first parse of a text runs on
lark_cython's LALR loop and lexer, and a text with a syntax error is parsed again by plain
lark, which recovers (lark_cython cannot). Either way every diagnostic (code, span, message,
help, rendered text with its caret) and every bytecode is byte-identical to plain lark's
(RUNG_LARK_CYTHON=0), on every example, every valid program fixture, every diagnostics
fixture and test_compiler_speed's sources (benchmark programs, statements too deep for
lark's tree, randomly mutated programs). Plain lark alone still works: with
RUNG_LARK_CYTHON=0 and where lark_cython is not installed."""

import glob
import os
import subprocess
import sys

import pytest
from conftest import EXAMPLES, ROOT, need
from lark import Token, Tree
from lark.exceptions import UnexpectedInput

import rung
from rung.compiler import direct, fast_tree, parser
from rung.compiler import syntax as s
from rung.compiler.api import compile_file
from rung.compiler.diagnostics import CompileError, Reporter, render_all

sys.path.insert(0, os.path.join(ROOT, "bench"))
import programs  # noqa: E402

MOTOR = os.path.join(EXAMPLES, "motor.rung")


def _files():
    pats = ["examples/*.rung", "tests/*.rung", "tests/flashing/*.rung", "tests/diagnostics/*.rung"]
    return sorted(p for pat in pats for p in glob.glob(os.path.join(ROOT, pat)))


def _sources():
    """(label, path or None, text) for every case."""
    from test_compiler_speed import SOURCES

    out = []
    for path in _files():
        with open(path, encoding="utf-8", errors="replace") as f:
            out.append((os.path.relpath(path, ROOT), path, f.read()))
    files = {text for _label, _path, text in out}
    out += [(f"test_compiler_speed source {i}", None, t) for i, t in enumerate(SOURCES)]
    return [c for c in out if c[1] is not None or c[2] not in files]


def _diag(d):
    sp = d.span
    where = None if sp is None else (sp.line, sp.column, sp.end_line, sp.end_column)
    return (d.code, d.severity, d.message, d.help, d.file, where)


def _outcome(path, text):
    try:
        program = compile_file(path) if path else rung.compile_source(text, "p.rung")
    except CompileError as exc:
        return ("error", [_diag(d) for d in exc.diagnostics], exc.render())
    shown = render_all(program.warnings, text)
    return ("ok", program.to_bytes(), [_diag(d) for d in program.warnings], shown)


def _use(monkeypatch, cython):
    """Make the compiler pick its parser again, with lark_cython on or off."""
    if cython:
        monkeypatch.delenv(parser.LARK_CYTHON_ENV, raising=False)
    else:
        monkeypatch.setenv(parser.LARK_CYTHON_ENV, "0")
    monkeypatch.setattr(parser, "_fast", None)


def _shape(node):
    """A parse tree as plain data: rules, every meta attribute, tokens of either class."""
    if isinstance(node, Tree):
        meta = node.meta
        keys = sorted(k for k in vars(meta) if not k.startswith("_"))
        return (str(node.data), tuple((k, getattr(meta, k)) for k in keys),
                tuple(_shape(c) for c in node.children))  # fmt: skip
    if node is None:
        return None
    return (node.type, node.value, node.start_pos, node.end_pos, node.line, node.column,
            node.end_line, node.end_column)  # fmt: skip


def _tree(lark, text):
    try:
        return _shape(lark.parse(text))
    except UnexpectedInput as exc:
        return ("raised", type(exc).__name__, exc.line, exc.column)


@pytest.fixture
def lark_cython(monkeypatch):
    try:
        import lark_cython
    except ImportError:
        lark_cython = None
    need(lark_cython is not None, "lark_cython is not installed (pip install -e '.[fast]')")
    _use(monkeypatch, True)
    return lark_cython


SOURCES = _sources()


def _tree_parser(lark_cython):
    """lark_cython's parser making trees (as the compiler's plain lark parser does)."""
    return fast_tree.speed_up(parser._build(lark_cython.plugins), lark_cython.Token)


def test_lark_cython_parses_first_and_plain_lark_is_kept_to_recover(lark_cython):
    fast = parser.fast_parser()
    assert parser.parser_name() == "lark-cython " + lark_cython.__version__
    assert type(fast.lark.parser.parser).__module__ == "lark_cython.lark_cython"
    assert type(parser.lark_parser().parser.parser).__module__ == "lark.parsers.lalr_parser"
    # lark_cython's loop calls direct's callbacks: syntax nodes, lark_cython's tokens kept
    program = fast.parse("var v : int at %MW1\nrung: not a -> q\n", Reporter("p.rung"))
    assert isinstance(program, s.SourceProgram) and isinstance(program.rungs[0], s.Rung)
    address = program.decls[0].address
    assert type(address) is lark_cython.Token and not isinstance(address, Token)
    with pytest.raises(direct.SyntaxFault):
        fast.parse("rung: a && -> q\n", Reporter("p.rung"))


def test_every_diagnostic_and_bytecode_is_the_same_with_either_parser(lark_cython, monkeypatch):
    calls = []
    real = parser._Direct.parse

    def recorded(self, text, reporter=None, broken=()):
        kind = type(self.lark.parser.parser).__module__.split(".")[0]
        try:
            program = real(self, text, reporter, broken)
        except direct.SyntaxFault:
            calls.append((kind, "fallback"))
            raise
        calls.append((kind, "built"))
        return program

    monkeypatch.setattr(parser._Direct, "parse", recorded)
    fast = [_outcome(path, text) for _label, path, text in SOURCES]
    cython_calls, calls[:] = list(calls), []
    _use(monkeypatch, False)
    plain = [_outcome(path, text) for _label, path, text in SOURCES]
    assert {kind for kind, _ in calls} == {"lark"}
    assert {kind for kind, _ in cython_calls} == {"lark_cython"}
    for (label, _path, _text), a, b in zip(SOURCES, fast, plain, strict=True):
        assert a == b, label
    # what was compared: real programs, and syntax errors that plain lark recovered from
    ok = [label for (label, _p, _t), out in zip(SOURCES, fast, strict=True) if out[0] == "ok"]
    assert {f"examples/{os.path.basename(p)}" for p in glob.glob(EXAMPLES + "/*.rung")} <= set(ok)
    assert cython_calls.count(("lark_cython", "built")) >= len(ok)
    assert cython_calls.count(("lark_cython", "fallback")) >= 30
    codes = {d[0] for out in fast if out[0] == "error" for d in out[1]}
    assert {"E002", "E057"} | {f"E06{i}" for i in range(7)} <= codes  # syntax and recovery


def test_parse_trees_and_positions_are_the_same_with_either_parser(lark_cython):
    # the tokens and positions lark_cython's lexer and loop give are lark's
    fast, plain = _tree_parser(lark_cython), parser.lark_parser()
    shapes = [(_tree(fast, text), _tree(plain, text)) for _label, _path, text in SOURCES]
    for (label, _path, _text), (a, b) in zip(SOURCES, shapes, strict=True):
        assert a == b, label
    assert sum(a[0] == "start" for a, _b in shapes) >= 20  # whole trees, not only errors


def _spans(node, out):
    """Every Span in a syntax tree (nodes of compiler/syntax.py, lists of them)."""
    if isinstance(node, s.Span):
        out.append(node)
    elif isinstance(node, (list, tuple)):
        for item in node:
            _spans(item, out)
    elif isinstance(node, s.Node):
        for cls in type(node).__mro__:
            for key in getattr(cls, "__slots__", ()):
                _spans(getattr(node, key, None), out)
    return out


def test_spans_share_their_line_numbers_with_either_parser(lark_cython, monkeypatch):
    # lark_cython's tokens keep line numbers as C ints, a new int object at each read: one
    # kept by every span would cost 30 MB at 50,000 rungs (the memory target's size)
    text = programs.contacts(400)[0]
    lines = text.count("\n") + 1
    for cython in (True, False):
        _use(monkeypatch, cython)
        program = parser.parse(text, "p.rung", Reporter("p.rung"))
        spans = _spans(program, [])
        assert len(spans) > 5 * 400
        ints = {id(v) for sp in spans for v in (sp.line, sp.end_line) if v > 256}
        assert len(ints) <= lines, cython


def run_py(code, env=None):
    full = {k: v for k, v in os.environ.items() if k != parser.LARK_CYTHON_ENV}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120
    )


PLAIN = (
    "import sys\n{pre}from rung.compiler import parser\nimport rung\n"
    "print(parser.parser_name(), type(parser.fast_parser().lark.parser.parser).__module__, "
    "sys.modules.get('lark_cython') is not None)\n"
    f"print(rung.compile_file({MOTOR!r}).to_bytes().hex())\n"
    "try:\n    rung.compile_source('rung: a && -> q\\n', 'x.rung')\n"
    "except rung.CompileError as exc:\n    print(repr(exc.render()))\n"
)


def _plain_run(pre="", env=None):
    out = run_py(PLAIN.format(pre=pre), env)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    return out.stdout.splitlines()


def _reference():
    with pytest.MonkeyPatch.context() as mp:
        _use(mp, False)
        code = rung.compile_file(MOTOR).to_bytes().hex()
        try:
            rung.compile_source("rung: a && -> q\n", "x.rung")
        except CompileError as exc:
            return code, repr(exc.render())
    raise AssertionError("the broken rung compiled")


def test_rung_lark_cython_0_parses_with_plain_lark_and_never_imports_it():
    name, code, shown = _plain_run(env={parser.LARK_CYTHON_ENV: "0"})
    assert name == "lark lark.parsers.lalr_parser False"
    assert (code, shown) == _reference()


def test_without_lark_cython_installed_plain_lark_does_it_all():
    # None in sys.modules: `import lark_cython` raises ImportError, as if it were absent
    name, code, shown = _plain_run("sys.modules['lark_cython'] = None\n")
    assert name == "lark lark.parsers.lalr_parser False"
    assert (code, shown) == _reference()


def test_lark_cython_is_an_extra_never_a_requirement():
    tomllib = pytest.importorskip("tomllib")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    assert not [d for d in project["dependencies"] if d.startswith("lark-cython")]
    extras = project["optional-dependencies"]
    assert extras["fast"] == ["lark-cython==0.0.17"]
    assert "lark-cython==0.0.17" in extras["test"]  # so that the comparison above runs


CACHED = (
    "from rung.compiler import parser\nimport rung\n"
    "print(parser.parser_name(), parser.cache_file(open(parser._GRAMMAR).read()), sep='|')\n"
    f"print(rung.compile_file({MOTOR!r}).to_bytes().hex())\n"
)


def test_one_parser_cache_serves_both_parsers(tmp_path, lark_cython):
    # lark keeps the parse table in the cache, not the plugins: whichever parser writes
    # it, the other loads it as it is
    for first, second in (("1", "0"), ("0", "1")):
        home = tmp_path / first
        runs = []
        for value in (first, second, first):
            out = run_py(CACHED, {"XDG_CACHE_HOME": str(home), parser.LARK_CYTHON_ENV: value})
            assert out.returncode == 0 and out.stderr == "", out.stderr
            (name, path), code = out.stdout.splitlines()[0].split("|"), out.stdout.split()[-1]
            assert name == ("lark" if value == "0" else "lark-cython " + lark_cython.__version__)
            runs.append((path, code, os.stat(path).st_mtime_ns))
        assert runs[0] == runs[1] == runs[2]  # the same file, never rewritten, same bytecode
