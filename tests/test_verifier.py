"""Hostile bytecode: the verifier rejects it with LoadError or it runs normally; never a crash."""

import pytest
from bytecode_gen import fix_header

import rung
from rung.compiler.bytecode_writer import encode, encode_instruction
from rung.runtime import LoadError, Runtime
from rung.runtime import container as c

# a little of everything: retain, TP, CTUD with all four inputs, real division
SMALL = """program small
input a : bool at %IX0.0
input n : int at %IW0
output q : bool at %QX0.0
var x : dint retain
var r : real
timer t : TP = 50ms
counter k : CTUD = 3
rung: (a or q) and not t.Q -> q, t
rung: rising a -> count k, x := x + dint(n) / 3
rung: falling a and n > 5 -> count_down k, r := r * 1.5 + real(n) / r
rung: k.QU or k.QD -> reset k, load k
"""


def exercise(data):
    """Load and, if accepted, scan: the only exception allowed is LoadError at load."""
    try:
        rt = Runtime(data)
    except LoadError as exc:
        assert str(exc)
        return "rejected"
    for i in range(20):
        for k in range(len(rt.inputs)):
            rt.inputs[k] = (i % 3 == 0) if isinstance(rt.inputs[k], bool) else i * 7
        rt.scan(i * 10)
    assert rt.state in (0, 1, 2)
    return "ran"


def test_every_byte_flipped_with_crc_recomputed():
    base = rung.compile_source(SMALL, "small.rung").to_bytes()
    outcomes = {"rejected": 0, "ran": 0}
    for pos in range(16, len(base)):
        for mask in (0x01, 0x80, 0xFF):
            data = bytearray(base)
            data[pos] ^= mask
            outcomes[exercise(fix_header(data))] += 1
    assert outcomes["rejected"] > 0 and outcomes["ran"] > 0


def test_every_truncation_is_rejected():
    base = rung.compile_source(SMALL, "small.rung").to_bytes()
    # cutting exactly before the optional debug section leaves a valid program
    without_debug = len(rung.compile_source(SMALL, "small.rung", debug=False).to_bytes())
    for n in range(len(base)):
        data = fix_header(base[:n])  # length and CRC fixed: the decoder itself must see it
        if n == without_debug:
            assert Runtime(bytes(data)).image.debug is None
            continue
        with pytest.raises(LoadError):
            Runtime(bytes(data))


def test_header_errors_are_precise():
    base = rung.compile_source(SMALL, "small.rung").to_bytes()
    with pytest.raises(LoadError, match="magic"):
        Runtime(b"JUNK" + base[4:])
    bad = bytearray(base)
    bad[4] = 9
    with pytest.raises(LoadError, match="format 9"):
        Runtime(bytes(bad))
    bad = bytearray(base)
    bad[-1] ^= 1
    with pytest.raises(LoadError, match="CRC"):
        Runtime(bytes(bad))
    with pytest.raises(LoadError):
        Runtime("not bytes")


def image(rung_ops, vars=None, blocks=(), n_edges=0):
    img = c.Image()
    img.vars = vars or [(0, 1, 1, 0, False), (0, 2, 2, 0, False), (1, 0, 0, 0, 0), (1, 8, 0, 0, 5)]
    img.blocks = list(blocks)
    img.n_edges = n_edges
    code = bytearray()
    for op in rung_ops:
        encode_instruction(code, *op)
    img.rung_bytes = [bytes(code)]
    return encode(img)


@pytest.mark.parametrize(
    "ops,message",
    [
        ([("LOAD", 9), ("POWER",)], "variable 9 does not exist"),
        ([("LOAD", 2), ("POWER",)], "exactly one bool"),
        ([("LOAD", 0), ("LOAD", 0), ("POWER",)], "exactly one bool"),
        ([("LOAD", 0), ("POWER",), ("COIL", 0)], "writes input"),
        ([("LOAD", 0), ("POWER",), ("PUSH_INT", 1), ("STORE", 3)], "writes constant"),
        ([("LOAD", 0), ("POWER",), ("COIL", 2)], "not bool"),
        ([("LOAD", 0), ("POWER",), ("PUSH_DINT", 1), ("STORE", 2)], "type"),
        ([("LOAD", 0), ("LOAD", 2), ("AND",), ("POWER",)], "wrong type"),
        ([("LOAD", 2), ("LOAD", 0), ("ADD",), ("POWER",)], "different types"),
        ([("LOAD", 0), ("LOAD", 0), ("ADD",), ("POWER",)], "arithmetic on bool"),
        ([("COIL", 1), ("LOAD", 0), ("POWER",)], "before POWER"),
        ([("LOAD", 0)], "without POWER"),
        ([("LOAD", 0), ("POWER",), ("LOAD", 0), ("POWER",)], "second POWER"),
        ([("LOAD", 0), ("RISING", 0), ("POWER",)], "edge memory 0 does not exist"),
        ([("LOAD", 0), ("POWER",), ("TIMER", 0)], "block 0 does not exist"),
        ([("SYS", 7), ("POWER",)], "unknown system"),
        ([("AND",), ("POWER",)], "underflow"),
        ([("LOAD", 2), ("CONV", 9), ("POWER",)], "unknown type"),
    ],
)
def test_verifier_rejects(ops, message):
    with pytest.raises(LoadError, match=message):
        Runtime(image(ops))


def test_verifier_limits_stack_depth():
    ops = [("PUSH_TRUE",)] * 40 + [("AND",)] * 39 + [("POWER",)]
    with pytest.raises(LoadError, match="stack deeper"):
        Runtime(image(ops))


def test_timer_driven_twice_and_wrong_counter_action():
    timer = [(1, 0, 100)]
    with pytest.raises(LoadError, match="driven twice"):
        Runtime(image([("LOAD", 0), ("POWER",), ("TIMER", 0), ("TIMER", 0)], blocks=timer))
    with pytest.raises(LoadError, match="on a timer"):
        Runtime(image([("LOAD", 0), ("POWER",), ("COUNT_UP", 0)], blocks=timer))
    ctu = [(5, 0, 3)]
    with pytest.raises(LoadError, match="without that input"):
        Runtime(image([("LOAD", 0), ("POWER",), ("COUNT_DOWN", 0)], blocks=ctu))
    with pytest.raises(LoadError, match="no member"):
        Runtime(image([("LOAD_MEMBER", 0, 1), ("POWER",)], blocks=ctu))


def test_huge_straight_line_rung_loads_and_runs():
    ops = [("LOAD", 0)] + [("NOT",)] * 5000 + [("POWER",), ("COIL", 1)]
    ops += [("LOAD", 2)] + [("NEG",)] * 3000 + [("STORE", 2)]
    rt = Runtime(image(ops))
    rt.inputs[0] = True
    rt.scan(0)
    assert rt.outputs == [True] and rt.state == 1


@pytest.mark.parametrize(
    "row,message",
    [
        ((0, 1 | 8, 1, 0, False), "conflicting flags 9"),  # an input that is also a constant
        ((0, 1 | 2, 1, 0, False), "conflicting flags 3"),
        ((0, 1 | 4, 1, 0, False), "conflicting flags 5"),  # a retained input
        ((1, 8 | 4, 0, 0, 3), "conflicting flags 12"),
        ((1, 8, 5, 0, 3), "constant with an address"),
        ((0, 2, 1, 0, False), "wrong direction"),  # an output at %IX
        ((0, 1, 2, 0, False), "wrong direction"),  # an input at %QX
        ((1, 0, 3, 0, 0), "wrong direction"),  # a memory variable at %IW
        ((0, 1, 0, 0, False), "without an address"),
    ],
)
def test_variable_rows_that_make_no_sense_are_refused(row, message):
    vars = [(0, 1, 1, 0, False), (0, 2, 2, 0, False), (1, 0, 0, 0, 0), row]
    with pytest.raises(LoadError, match="variable 3 (has|is) .*" + message):
        Runtime(image([("LOAD", 0), ("POWER",), ("COIL", 1)], vars=vars))


def test_an_unpowered_assignment_value_is_not_evaluated():
    # the value of `x := ...` runs only when the rung is powered, edges in it included
    vars = [(0, 1, 1, 0, False), (0, 1, 1, 1, False), (0, 2, 2, 0, False), (1, 0, 0, 0, 0)]
    ops = [("LOAD", 0), ("POWER",), ("LOAD", 1), ("RISING", 0), ("STORE", 2)]
    rt = Runtime(image(ops, vars=vars, n_edges=1))
    rt.inputs[1] = False
    rt.scan(0)
    rt.inputs[1] = True  # b rises while the rung is not powered: the edge does not see it
    rt.scan(10)
    assert rt.outputs == [False]
    rt.inputs[0] = True  # powered now: the edge memory is still false, so it fires
    rt.scan(20)
    assert rt.outputs == [True]
    rt.scan(30)
    assert rt.outputs == [False]


def test_edge_count_must_match_the_code():
    # a 41-byte file declaring 65535 edge memories would make a board allocate 300 KB
    ops = [("LOAD", 0), ("POWER",), ("COIL", 1)]
    with pytest.raises(LoadError, match="65535 edge memories declared, more than the code"):
        Runtime(image(ops, n_edges=65535))
    with pytest.raises(LoadError, match="1 edge memories declared, 0 used"):
        Runtime(image(ops + [("SET", 1)] * 2, n_edges=1))


def test_out_of_memory_while_loading_is_a_load_error(monkeypatch):
    from rung.runtime import engine

    def exhausted(img):
        raise MemoryError

    monkeypatch.setattr(engine, "Layout", exhausted)
    with pytest.raises(LoadError, match="not enough memory"):
        Runtime(rung.compile_source(SMALL, "small.rung").to_bytes())
