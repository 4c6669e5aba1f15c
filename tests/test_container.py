import pytest

from rung.compiler.bytecode_writer import encode, encode_instruction
from rung.runtime import container as c
from rung.runtime import opcodes as op
from rung.runtime.instructions import read_instruction


def small_image():
    img = c.Image()
    img.cycle_ms = 10
    img.n_edges = 1
    img.vars = [(op.T_BOOL, op.F_INPUT, 1, 0, False), (op.T_BOOL, op.F_OUTPUT, 2, 0, False)]
    img.blocks = [(op.K_TON, 0, 500)]
    code = bytearray()
    encode_instruction(code, "LOAD", 0)
    encode_instruction(code, "POWER")
    encode_instruction(code, "COIL", 1)
    img.rung_bytes = [bytes(code)]
    return img


def test_round_trip():
    data = encode(small_image())
    img = c.decode(data)
    assert img.vars[0] == (op.T_BOOL, op.F_INPUT, 1, 0, False)
    assert img.blocks == [(op.K_TON, 0, 500)]
    assert img.rung_code(0) == bytes([0x01, 0, 0x30, 0x31, 1])
    assert encode(small_image()) == data


def test_bad_crc_and_magic():
    data = bytearray(encode(small_image()))
    data[-1] ^= 1
    with pytest.raises(c.LoadError, match="CRC"):
        c.decode(bytes(data))
    with pytest.raises(c.LoadError, match="magic"):
        c.decode(b"XXXX" + bytes(data[4:]))


def test_instruction_round_trip():
    out = bytearray()
    encode_instruction(out, "PUSH_INT", -300)
    encode_instruction(out, "LOAD_MEMBER", 3, op.M_ET)
    encode_instruction(out, "PUSH_REAL", 1.5)
    pos = 0
    got = []
    while pos < len(out):
        entry, operands, pos = read_instruction(out, pos, len(out))
        got.append((entry[0], operands))
    assert got == [("PUSH_INT", (-300,)), ("LOAD_MEMBER", (3, op.M_ET)), ("PUSH_REAL", (1.5,))]


def test_opcode_constants_match_table():
    for name, code, _shape, _pops, _pushes in op.OPCODES:
        assert getattr(op, "OP_" + name) == code
    assert len({row[1] for row in op.OPCODES}) == len(op.OPCODES)


def test_writer_refuses_values_that_do_not_fit_32_bits():
    from rung.compiler.bytecode_writer import encode_svarint

    out = bytearray()
    encode_svarint(out, -(2**31))
    encode_svarint(out, 2**31 - 1)
    for bad in (2**31, -(2**31) - 1):
        with pytest.raises(ValueError, match="32-bit"):
            encode_svarint(out, bad)
