"""Hostile and mistaken source: every problem is a diagnostic (issue 8, points 6, 7, 8, 18).

Fixtures for each code are in tests/diagnostics/; these tests pin the cases the review found."""

import os

import pytest
from conftest import ROOT

import rung
from rung.compiler.diagnostics import CompileError
from rung.compiler.literals import REAL_MAX
from rung.compiler.parser import MAX_NESTING
from rung.compiler.recovery import MAX_SYNTAX_ERRORS
from rung.runtime import Runtime
from rung.runtime import modbus_map as M

HEAD = (
    "program p\ninput a : bool at %IX0.0\ninput b : bool at %IX0.1\n"
    "output q : bool at %QX0.0\nvar n : int\nvar r : real\n"
)


def diagnostics(src):
    """Every diagnostic of src, which must not compile."""
    with pytest.raises(CompileError) as info:
        rung.compile_source(src, "t.rung")
    return info.value.diagnostics


def errors(src):
    return [d for d in diagnostics(src) if d.is_error]


def codes(src):
    return [d.code for d in errors(src)]


# ---- point 6: internal exceptions become diagnostics ------------------------------------


@pytest.mark.parametrize(
    "decl, code",
    [
        ("var m : int = 8#9", "E043"),
        ("var m : int = 16#ZZ", "E043"),
        ("var m : int = 99#1", "E043"),
        ("var m : int = 2#_", "E043"),
        ('var m : int "\\x"', "E044"),
        ('var m : int "\\u12"', "E044"),
        ('var m : int "\\N{x}"', "E044"),
        ('rung "bad \\q": true -> q', "E044"),
        ("var m : real = 1e39", "E040"),
        ("var m : real = -1e39", "E040"),
        ("var m : real = 1e999", "E040"),
        ("const K = 1e39", "E040"),
        ("rung: true -> r := 1e39", "E040"),
        ("rung: true -> r := -1e999", "E040"),
        ("rung: r > 1e39 -> q", "E040"),
        ("rung: true -> r := " + "9" * 39, "E040"),  # an integer that no binary32 holds
        ("var m : dint = " + "1" * 4301, "E040"),
        ("rung: true -> n := " + "7" * 4301, "E040"),
        ("rung: true -> n := -" + "7" * 5000, "E040"),
        ("timer u : TON = " + "9" * 5000 + "ms\nrung: a -> u", "E040"),
        ("var m : int at %MW" + "9" * 5000, "E030"),
        ("input m : bool at %IX0." + "9" * 5000, "E030"),
    ],
)
def test_bad_literals_are_diagnostics(decl, code):
    assert codes(HEAD + decl + "\n") == [code]


def test_bad_literal_has_no_follow_up_errors():
    # 8#9 stands for nothing: no division by zero, no range error, no second message
    assert codes(HEAD + "rung: true -> n := n / 8#9\ncycle 1s1h\n") == ["E043", "E042"]


def test_real_limits_both_sides():
    for text in ("3.4028235e38", "-3.4028235e38", "340282346638528859811704183484516925440"):
        rung.compile_source(HEAD + f"rung: true -> r := {text}\nrung: r > 0.0 -> q\n")
    assert REAL_MAX == 3.4028234663852886e38
    assert codes(HEAD + "var m : real = 3.4028236e38\n") == ["E040"]


def test_description_keeps_non_ascii_text_and_decodes_escapes():
    src = HEAD + 'var m : int "caf\u00e9\\t\\"x\\"\\\\"\nrung "d\u00e9part \\n": a -> q, m := 1\n'
    debug = rung.compile_source(src).image.debug
    assert debug.var_descriptions[-1] == 'caf\u00e9\t"x"\\'
    assert debug.rung_comments[0] == "d\u00e9part \n"


@pytest.mark.parametrize("op", ["+", "*", "-", "/", "mod"])
def test_long_flat_chains_are_diagnostics_or_compile(op):
    def program(terms):
        return HEAD + "rung: true -> n := " + f" {op} ".join(["n"] * terms) + "\n"

    assert codes(program(496)) == ["E057"]
    assert codes(program(MAX_NESTING + 2)) == ["E057"]
    rt = Runtime(rung.compile_source(program(MAX_NESTING + 1)).to_bytes())
    rt.scan(0)
    literal_chain = HEAD + "rung: true -> r := " + f" {op} ".join(["1"] * (MAX_NESTING + 1))
    rung.compile_source(literal_chain + "\nrung: r > 0.0 -> q\n")


# ---- point 7: every error in one run ---------------------------------------------------

FOUR = """program four
input a : bool at %IX0.0
input b : bool at %IX0.1
output q : bool at %QX0.0
output lamp : bool at %QX0.1
var n : int
rung first: a and -> q
rung second: a b -> lamp
rung third: (a or b -> q
rung fourth: a -> n := true
rung fifth: b -> set lamp
"""


def test_three_broken_rungs_and_a_type_error_give_four_errors():
    found = [(d.code, d.span.line) for d in diagnostics(FOUR)]
    assert found == [("E002", 7), ("E002", 8), ("E002", 9), ("E021", 10)]


def test_a_keyword_swallowed_as_a_name_still_starts_the_next_rung():
    found = errors(HEAD + "rung: a and\nrung: b -> nope\n")
    assert [(d.code, d.span.line, d.span.column) for d in found] == [
        ("E002", 8, 1),
        ("E010", 8, 12),
    ]
    assert found[0].message.startswith("unexpected `rung`: the statement before")
    assert "after `and`" in found[0].help


def test_rungs_cut_short_at_the_end_of_their_line_still_give_every_error():
    found = errors(HEAD + "rung: a and\nrung: b or\nrung: (a\nrung: a -> n := true\n")
    assert [(d.code, d.span.line) for d in found] == [
        ("E002", 8),
        ("E002", 9),
        ("E002", 10),
        ("E021", 10),
    ]
    assert [d.help for d in found[:3]] == [
        "expected a contact or a comparison after `and`",
        "expected a contact or a comparison after `or`",
        "unbalanced parentheses: a `(` is not closed",
    ]
    found = errors(HEAD + "rung: (a rung: a -> n := true\nvar z : int = 1.5\n")
    assert [d.code for d in found] == ["E002", "E021", "E021"]
    assert found[2].message == "`1.5` is not an int value"


def test_a_second_program_line_is_one_error():
    found = errors(HEAD + "rung: a -> q\nprogram x\nrung: a -> zz\n")
    assert [(d.code, d.span.line) for d in found] == [("E002", 8), ("E010", 9)]
    assert "comes once, at the start of the file" in found[0].message


def test_a_broken_declaration_does_not_cascade():
    # no `x is not declared`, no `a is never used` (the rung stopped at x)
    found = diagnostics(HEAD + "var x int\nrung: x and a -> q\nrung: b -> set r\n")
    assert [(d.code, d.span.line) for d in found] == [("W101", 5), ("E002", 7), ("E021", 9)]


def test_unknown_type_does_not_cascade():
    src = HEAD + "var z : INT\ntimer u : ton = 1s\nrung: z > 1 -> u\n"
    found = errors(src)
    assert [d.code for d in found] == ["E020", "E020"]
    assert [d.help for d in found] == ["did you mean `int`?", "did you mean `TON`?"]


def test_the_statement_after_a_repaired_habit_is_still_checked():
    found = codes(HEAD + "rung: a && nope -> q\nrung: a -> n = true\nrung: b || c -> q\n")
    assert found == ["E061", "E010", "E064", "E021", "E062", "E010"]


def test_syntax_errors_are_capped_and_the_run_ends():
    src = HEAD + "rung: a and -> q\n" * 500
    found = errors(src)
    assert len(found) == MAX_SYNTAX_ERRORS + 1
    assert "more than 50 syntax errors" in found[-1].message


def test_token_soup_without_keywords_is_one_error_per_statement():
    assert codes("program p\n" + "x y z ( ) 1 2 , . := \n" * 300) == ["E002"]


# ---- point 8: messages a person understands ---------------------------------------------


def test_doubled_and_is_a_syntax_error_not_an_undeclared_name():
    (d,) = errors(HEAD + "rung: a and and -> q\n")
    assert d.code == "E002" and (d.span.line, d.span.column) == (7, 13)
    assert d.message == "unexpected `and`: expected a contact or a comparison after `and`"


def test_missing_contact_after_or_points_at_the_arrow():
    (d,) = errors(HEAD + "rung: a or -> q\n")
    assert (d.span.column, d.span.end_column) == (12, 14)  # the whole `->`
    assert d.message == "unexpected `->`: expected a contact or a comparison after `or`"


@pytest.mark.parametrize(
    "body",
    ["rung: a andb -> q", "rung: a orb -> q", "rung: true -> n := n modb", "rungx: a -> q"],
)
def test_keywords_are_whole_words(body):
    # these compiled as `a and b`, `n mod b` and a rung named x
    src = HEAD.replace("var n : int", "var n : int\nvar andb : bool\nvar modb : int") + body
    assert "E002" in codes(src + "\n")


@pytest.mark.parametrize("word", ["and", "or", "not", "mod", "rising", "falling"])
def test_operator_words_are_never_names(word):
    assert codes(HEAD + f"var {word} : bool\n") == ["E002"]


@pytest.mark.parametrize(
    "body, code, column",
    [
        ("rung: a AND b -> q", "E060", 9),
        ("rung: a and NOT b -> q", "E060", 13),
        ("rung: TRUE -> q", "E060", 7),
        ("VAR z : bool", "E060", 1),
        ("var z : bool = FALSE", "E060", 16),
        ("rung: a & b -> q", "E061", 9),
        ("rung: a | b -> q", "E062", 9),
        ("rung: not !a -> q", "E063", 11),
        ("rung: a -> n = 1", "E064", 14),
        ("rung: a -> q # ok\n// no", "E065", 1),
        ('output w : bool at %QX0.1 "no end', "E066", 27),
    ],
)
def test_habits_from_other_languages_have_their_codes(body, code, column):
    found = [d for d in errors(HEAD + body + "\nrung: a -> q\n") if d.code != "W102"]
    assert [(d.code, d.span.column) for d in found] == [(code, column)]


def test_no_never_written_warning_after_an_error_on_the_same_target():
    # q (a bool given a number) and n (in a broken rung) were meant to be written
    found = diagnostics(HEAD + "rung: a -> q := 5\nrung: b or -> n\nrung: r > 0.0 -> set q\n")
    assert [(d.code, d.span.line) for d in found] == [("E021", 7), ("E002", 8)]
    found = diagnostics(HEAD + "rung: a -> n := q + 1\nrung: b -> r := 1.0\n")
    assert [(d.code, d.span.line) for d in found] == [("W105", 4), ("E022", 7)]


def test_a_diagnostic_on_a_400_kb_line_shows_120_columns_around_the_caret():
    line = 'rung "' + "x" * 200_000 + '": a -> nope # ' + "y" * 200_000
    exc = pytest.raises(CompileError, rung.compile_source, HEAD + line + "\n").value
    lines = exc.render().splitlines()
    assert max(len(x) for x in lines) < 140
    shown, caret = lines[lines.index("  = help: declare it first") - 2 :][:2]
    col = caret.index("^")
    assert shown[col : col + 4] == "nope" and caret.count("^") == 4
    assert shown.startswith("7 | ...x") and shown.endswith("y...")
    assert 100 <= len(shown) - len("7 | ......") <= 120


def test_a_400_kb_name_is_clipped_in_the_message():
    (d,) = errors(HEAD + "rung: a -> " + "x" * 400_000 + "\n")
    assert d.code == "E010" and len(d.message) < 100
    assert len(d.render(HEAD + "rung: a -> " + "x" * 400_000)) < 1000


def test_control_characters_do_not_reach_the_terminal():
    exc = pytest.raises(CompileError, rung.compile_source, HEAD + "rung: a \x1b[2J -> q\n").value
    assert "\x1b" not in exc.render()


# ---- point 18: the program fits the Modbus map ---------------------------------------------


def test_map_limits_come_from_the_window_addresses():
    assert M.IR_VARS + 2 * M.MAX_VARS == M.IR_BLOCKS
    assert M.IR_BLOCKS + M.BLOCK_REGS * M.MAX_BLOCKS == M.IR_POWER
    assert M.IR_POWER + M.MAX_RUNGS // 16 == M.IR_FORCED


def _read(server, addr):
    from modbus_helpers import ask, u16

    return ask(server, 4, u16(addr, 1))


def _device(src):
    from rung.runtime.modbus_device import ModbusDevice
    from rung.runtime.modbus_pdu import PduServer

    rt = Runtime(rung.compile_source(src).to_bytes())
    rt.scan(0)
    return rt, PduServer(ModbusDevice(rt, "test"))


def test_most_variables_fit_and_one_more_is_refused():
    consts = "".join(f"const k{i} = {i}\n" for i in range(M.MAX_VARS - 1))
    src = "program big\n" + consts + "var last : int = 77\n"
    _, server = _device(src)
    assert _read(server, M.IR_VARS + 2 * M.MAX_VARS - 1)[2:] == bytes([0, 77])
    (d,) = errors(src + "var extra : bool\n")
    assert d.code == "E058" and d.span.line == M.MAX_VARS + 2
    assert f"{M.MAX_VARS + 1} variables" in d.message and str(M.MAX_VARS) in d.message


def test_most_blocks_fit_and_one_more_is_refused():
    blocks = "".join(f"timer t{i} : TON = {i + 1}ms\nrung: true -> t{i}\n" for i in range(1250))
    _, server = _device("program big\n" + blocks)
    last = M.IR_BLOCKS + M.BLOCK_REGS * (M.MAX_BLOCKS - 1)
    assert _read(server, last + 5)[2:] == (M.MAX_BLOCKS).to_bytes(2, "big")  # PT low word
    (d,) = errors("program big\n" + blocks + "counter c : CTU = 1\nrung: true -> count c\n")
    assert d.code == "E058" and "1251 timers and counters" in d.message


def test_most_rungs_fit_and_one_more_is_refused():
    from rung.compiler import checker, emitter, parser
    from rung.compiler.diagnostics import Reporter
    from rung.runtime.modbus_device import ModbusDevice
    from rung.runtime.modbus_pdu import PduServer

    # parsed once (16000 rungs take seconds): checked with one rung too many, then without
    src = "program big\nvar x : bool\n" + "rung: false -> set x\n" * (M.MAX_RUNGS - 1)
    src += "rung r_last: true -> reset x\nrung: x -> set x\n"
    reporter = Reporter("big.rung")
    program = parser.parse(src, "big.rung", reporter)
    checker.check(program, "big.rung", reporter)
    (d,) = [x for x in reporter.items if x.is_error]
    assert d.code == "E058" and d.span.line == M.MAX_RUNGS + 3
    assert f"{M.MAX_RUNGS + 1} rungs" in d.message
    program.rungs.pop()
    reporter = Reporter("big.rung")
    checked = checker.check(program, "big.rung", reporter)
    assert not reporter.has_errors
    rt = Runtime(emitter.emit(checked))
    rt.scan(0)
    server = PduServer(ModbusDevice(rt, "test"))
    assert _read(server, M.IR_FORCED - 1)[2:] == b"\x80\x00"  # rung 15999 had power


def test_docs_state_the_map_limits():
    with open(os.path.join(ROOT, "docs", "modbus.md"), encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("### Limits") :]
    for number, what in ((M.MAX_VARS, "variables"), (M.MAX_BLOCKS, "timers and counters")):
        assert f"**{number} {what}**" in section
    assert f"**{M.MAX_RUNGS} rungs**" in section and "E058" in section


@pytest.mark.micropython
def test_map_limits_are_the_same_under_micropython():
    from mpy import run_mpy

    out = run_mpy(
        "from runtime import modbus_map as M\nprint(M.MAX_VARS, M.MAX_BLOCKS, M.MAX_RUNGS)"
    )
    assert out.split() == [str(M.MAX_VARS), str(M.MAX_BLOCKS), str(M.MAX_RUNGS)]
