"""Every grammar construct compiles to the expected instructions."""

import pytest

import rung
from rung.compiler.disassemble import Names, operand_text, rung_instructions

HEAD = """program p
input a : bool at %IX0.0
input b : bool at %IX0.1
input n : int at %IW0
output q : bool at %QX0.0
var x : int
var d : dint
var r : real
var t0 : time
var m : bool
timer t : TON = 1m30s
counter c : CTUD = 16#A
const K = 7
"""


def listing(body, rung_index=0):
    img = rung.compile_source(HEAD + body, "p.rung").image
    names = Names(img)
    return [
        (e[0] + " " + operand_text(e, ops, names)).strip()
        for _o, e, ops in rung_instructions(img, rung_index)
    ]


@pytest.mark.parametrize(
    "body,expected",
    [
        ("rung: a -> q", ["LOAD a", "POWER", "COIL q"]),
        ("rung: not a -> not q", ["LOAD a", "NOT", "POWER", "COIL_NOT q"]),
        (
            "rung: a and b or m -> q",
            ["LOAD a", "LOAD b", "AND", "LOAD m", "OR", "POWER", "COIL q"],
        ),
        (
            "rung: a and (b or m) -> q",
            ["LOAD a", "LOAD b", "LOAD m", "OR", "AND", "POWER", "COIL q"],
        ),
        (
            "rung: rising a or falling b -> q",
            ["LOAD a", "RISING edge0", "LOAD b", "FALLING edge1", "OR", "POWER", "COIL q"],
        ),
        ("rung: n > 850 -> q", ["LOAD n", "PUSH_INT 850", "GT", "POWER", "COIL q"]),
        (
            "rung: n <= 70000 -> q",
            ["LOAD n", "CONV dint", "PUSH_DINT 70000", "LE", "POWER", "COIL q"],
        ),
        (
            "rung: t.Q and c.QU -> set q, reset m",
            ["LOAD_MEMBER t.Q", "LOAD_MEMBER c.QU", "AND", "POWER", "SET q", "RESET m"],
        ),
        (
            "rung: true -> x := -x * 2 mod 3",
            [
                "PUSH_TRUE",
                "POWER",
                "LOAD x",
                "NEG",
                "PUSH_INT 2",
                "MUL",
                "PUSH_INT 3",
                "MOD",
                "STORE x",
            ],
        ),
        (
            "rung: true -> d := d + x",
            ["PUSH_TRUE", "POWER", "LOAD d", "LOAD x", "CONV dint", "ADD", "STORE d"],
        ),
        (
            "rung: true -> r := r / 2.5 + real(d)",
            [
                "PUSH_TRUE",
                "POWER",
                "LOAD r",
                "PUSH_REAL 2.5",
                "DIV",
                "LOAD d",
                "CONV real",
                "ADD",
                "STORE r",
            ],
        ),
        (
            "rung: true -> x := abs(min(x, 3)) + limit(0, x, K) + max(1, x)",
            [
                "PUSH_TRUE",
                "POWER",
                "LOAD x",
                "PUSH_INT 3",
                "MIN",
                "ABS",
                "PUSH_INT 0",
                "LOAD x",
                "LOAD K",
                "LIMIT",
                "ADD",
                "PUSH_INT 1",
                "LOAD x",
                "MAX",
                "ADD",
                "STORE x",
            ],
        ),
        (
            "rung: t.ET >= T#5s and t0 < 500ms -> q",
            [
                "LOAD_MEMBER t.ET",
                "PUSH_TIME 5000ms",
                "GE",
                "LOAD t0",
                "PUSH_TIME 500ms",
                "LT",
                "AND",
                "POWER",
                "COIL q",
            ],
        ),
        (
            "rung: first_scan or clock_1s or clock_100ms or math_error -> q",
            [
                "SYS first_scan",
                "SYS clock_1s",
                "OR",
                "SYS clock_100ms",
                "OR",
                "SYS math_error",
                "OR",
                "POWER",
                "COIL q",
            ],
        ),
        (
            "rung: a -> t, count c, count_down c, load c, reset c, reset t",
            [
                "LOAD a",
                "POWER",
                "TIMER t",
                "COUNT_UP c",
                "COUNT_DOWN c",
                "LOAD_PRESET c",
                "RESET_BLOCK c",
                "RESET_BLOCK t",
                "CTR_UPDATE c",
            ],
        ),
        (
            "rung: a -> t.PT := t0, c.PV := x + 1",
            [
                "LOAD a",
                "POWER",
                "LOAD t0",
                "STORE_MEMBER t.PT",
                "LOAD x",
                "PUSH_INT 1",
                "ADD",
                "STORE_MEMBER c.PV",
            ],
        ),
        (
            "rung: a == m -> x := int(r)",
            ["LOAD a", "LOAD m", "EQ", "POWER", "LOAD r", "CONV int", "STORE x"],
        ),
    ],
)
def test_construct(body, expected):
    assert listing(body + "\n") == expected


def test_counter_update_follows_the_last_rung_driving_it():
    body = "rung: a -> count c\nrung: c.QU -> q\nrung: b -> reset c\n"
    assert listing(body, 0)[-1] == "COUNT_UP c"
    assert listing(body, 2)[-1] == "CTR_UPDATE c"


def test_rung_names_comments_lines_and_cycle():
    p = rung.compile_source(
        HEAD + 'cycle 25ms\nrung first "the comment":\n  a\n  -> q\n', "x.rung"
    )
    d = p.image.debug
    assert p.cycle_ms == 25 and d.rung_names == ["first"] and d.rung_comments == ["the comment"]
    assert d.rung_lines == [15] and d.rung_texts[0].endswith("-> q")
    assert d.var_names[0] == "a" and p.name == "p"


def test_declaration_details_reach_the_tables():
    p = rung.compile_source(
        HEAD + 'var s : int = -5 retain at %MW3 "setpoint"\n'
        "var f : real = 1.5 at %MD2\nrung: a -> q, s := s, f := f\n",
        "x.rung",
    )
    img = p.image
    names = img.debug.var_names
    s = img.vars[names.index("s")]
    assert s[0] == 1 and s[1] & 4 and (s[2], s[3], s[4]) == (5, 3, -5)
    assert img.debug.var_descriptions[names.index("s")] == "setpoint"
    assert img.vars[names.index("f")][4] == 1.5
    assert img.blocks == [(1, 0, 90000), (7, 0, 10)]
    assert img.vars[names.index("K")][1] & 8


def test_comments_and_free_layout():
    src = (
        "program p # header\ninput a : bool at %IX0.0 # a comment\noutput q : bool at %QX0.0\n"
        "rung # name-less\n : a\n -> q # done\n"
    )
    assert len(rung.compile_source(src).image.rungs) == 1


@pytest.mark.parametrize("text", ["5s5s", "1s1h", "5ms30s", "1m1m", "T#30s1m"])
def test_duration_units_go_largest_first_each_once(text):
    src = f"program p\ntimer t : TON = {text}\nvar a : bool\nrung: a -> t\n"
    with pytest.raises(rung.CompileError) as info:
        rung.compile_source(src, "p.rung")
    (d,) = info.value.diagnostics
    assert d.code == "E042" and "largest to the smallest" in str(info.value)
    with pytest.raises(ValueError, match="largest to the smallest"):
        rung.Simulator(rung.compile_source(src.replace(text, "1s"), "p.rung")).run_for(text)


@pytest.mark.parametrize(
    "text,ms", [("1h30m", 5_400_000), ("1m30s500ms", 90_500), ("T#2h", 7_200_000)]
)
def test_durations_in_order_are_fine(text, ms):
    src = f"program p\ntimer t : TON = {text}\nvar a : bool\nrung: a -> t\n"
    assert rung.Simulator(rung.compile_source(src, "p.rung")).get("t.PT") == ms
