"""The Modbus map at its exact edges: for every diagnostic window (status, variables, blocks,
power flow, forced set), the forcing registers and the commands, the last valid register
answers and the first one past it answers 02 (never 04, never a neighbour's value); the
protocol's count limits at both sides answer or give 03. Addresses come from
runtime/modbus_map.py, the one definition of the map."""

import struct

import pytest
from modbus_helpers import ask, make_server, u16

import rung
from rung.runtime import Runtime
from rung.runtime import modbus_map as M
from rung.runtime.modbus_device import ModbusDevice
from rung.runtime.modbus_pdu import PduServer

# the helpers' plant program: 10 variables (9 is the constant K), 2 blocks, 4 rungs
N_VARS, N_BLOCKS, N_RUNGS = 10, 2, 4
ILLEGAL_ADDRESS = 2
ILLEGAL_VALUE = 3


def server_for(source):
    rt = Runtime(rung.compile_source(source, "edge.rung").to_bytes())
    return rt, PduServer(ModbusDevice(rt, "test"))


def read(server, fc, start, count=1):
    """The registers read, or the exception code."""
    pdu = ask(server, fc, u16(start, count))
    if pdu[0] & 0x80:
        return pdu[1]
    return list(struct.unpack(">" + "H" * count, pdu[2:]))


def exception_of(pdu):
    return pdu[1] if pdu[0] & 0x80 else 0


@pytest.fixture
def plant():
    rt, s = make_server()
    rt.inputs[0] = True
    rt.scan(0)
    rt.scan(10)
    return rt, s


@pytest.mark.parametrize(
    "first, size",
    [
        (M.IR_STATUS, M.STATUS_SIZE),
        (M.IR_VARS, 2 * N_VARS),
        (M.IR_BLOCKS, M.BLOCK_REGS * N_BLOCKS),
        (M.IR_POWER, (N_RUNGS + 15) // 16),
        (M.IR_FORCED, (N_VARS + 15) // 16),
    ],
    ids=["status", "variables", "blocks", "power", "forced"],
)
def test_each_diagnostic_window_ends_exactly(plant, first, size):
    _rt, s = plant
    last = first + size - 1
    assert isinstance(read(s, 4, first, size), list)  # the whole window at once
    assert isinstance(read(s, 4, last), list)  # its last register
    assert read(s, 4, last + 1) == ILLEGAL_ADDRESS  # one past it
    assert read(s, 4, last, 2) == ILLEGAL_ADDRESS  # a read that runs over the end
    assert read(s, 4, first - 1) == ILLEGAL_ADDRESS  # just before it
    assert read(s, 4, first - 1, 2) == ILLEGAL_ADDRESS


def test_last_registers_hold_the_last_item(plant):
    rt, s = plant
    # variable 9 is K = 3: its low word is the window's last register
    assert read(s, 4, M.IR_VARS + 2 * N_VARS - 2, 2) == [0, 3]
    # block 1 is the CTU: kind (5) and retain flag are its last two registers
    assert read(s, 4, M.IR_BLOCKS + M.BLOCK_REGS * N_BLOCKS - 2, 2) == [5, 0]
    assert read(s, 4, M.IR_STATUS + M.STATUS_SIZE - 1) == [0]  # first-scan flag: no longer
    rt.force(3, True)
    assert read(s, 4, M.IR_FORCED) == [1 << 3]


@pytest.mark.parametrize("n_rungs", [1, 15, 16, 17, 32, 33])
def test_power_flow_window_is_one_register_per_16_rungs(n_rungs):
    body = "".join(  # rung 0 off, so no bit is on by accident
        "rung: true -> x\n" if r % 3 == 1 else "rung: false -> y\n" for r in range(n_rungs)
    )
    rt, s = server_for("program p\nvar x : bool\nvar y : bool\n" + body)
    rt.scan(0)
    words = (n_rungs + 15) // 16
    regs = read(s, 4, M.IR_POWER, words)
    bits = [(regs[r // 16] >> (r % 16)) & 1 for r in range(16 * words)]
    assert bits == [1 if r < n_rungs and r % 3 == 1 else 0 for r in range(16 * words)]
    assert read(s, 4, M.IR_POWER + words) == ILLEGAL_ADDRESS


@pytest.mark.parametrize("n_vars", [15, 16, 17])
def test_forced_set_and_forcing_registers_end_at_the_last_variable(n_vars):
    # every variable an output, so each one can be forced: the last is variable n_vars - 1
    decls = "".join(f"output o{i} : bool at %QX{i // 8}.{i % 8}\n" for i in range(n_vars))
    rt, s = server_for("program p\n" + decls + f"rung: true -> o{n_vars - 1}\n")
    last = M.HR_FORCE + n_vars - 1
    assert exception_of(ask(s, 6, u16(last, 1))) == 0
    assert rt.forced == {n_vars - 1: True}
    assert read(s, 3, last) == [1]
    assert read(s, 4, M.IR_FORCED + (n_vars - 1) // 16) == [1 << ((n_vars - 1) % 16)]
    assert exception_of(ask(s, 6, u16(last + 1, 1))) == ILLEGAL_ADDRESS
    assert read(s, 3, last + 1) == ILLEGAL_ADDRESS
    assert read(s, 3, last, 2) == ILLEGAL_ADDRESS
    assert exception_of(ask(s, 16, u16(last, 2), 4, u16(1, 1))) == ILLEGAL_ADDRESS
    assert rt.forced == {n_vars - 1: True}  # the refused write changed nothing
    assert read(s, 4, M.IR_FORCED + (n_vars + 15) // 16) == ILLEGAL_ADDRESS
    assert exception_of(ask(s, 6, u16(M.HR_FORCE - 1, 1))) == ILLEGAL_ADDRESS
    # releasing: variable n_vars - 1 is the last that exists
    assert exception_of(ask(s, 6, u16(M.HR_RELEASE, n_vars))) == ILLEGAL_VALUE
    assert exception_of(ask(s, 6, u16(M.HR_RELEASE, n_vars - 1))) == 0
    assert rt.forced == {}


def test_forcing_a_variable_that_is_neither_input_nor_output_is_02(plant):
    _rt, s = plant
    assert exception_of(ask(s, 6, u16(M.HR_FORCE + N_VARS - 1, 1))) == ILLEGAL_ADDRESS  # K
    assert read(s, 3, M.HR_FORCE + N_VARS - 1) == ILLEGAL_ADDRESS
    assert read(s, 3, M.HR_FORCE + 3) == [0]  # motor, an output, not forced


def test_command_registers_end_exactly(plant):
    rt, s = plant
    assert read(s, 3, M.HR_COMMAND, 2) == [0, 0]
    assert read(s, 3, M.HR_COMMAND - 1) == ILLEGAL_ADDRESS
    assert read(s, 3, M.HR_RELEASE + 1) == ILLEGAL_ADDRESS
    assert read(s, 3, M.HR_RELEASE, 2) == ILLEGAL_ADDRESS
    assert exception_of(ask(s, 6, u16(M.HR_COMMAND - 1, 1))) == ILLEGAL_ADDRESS
    assert exception_of(ask(s, 6, u16(M.HR_RELEASE + 1, 1))) == ILLEGAL_ADDRESS
    # command values: 1 (run) to 5 (clear math_error) exist, 0 and 6 do not
    for bad in (0, M.CMD_CLEAR_MATH_ERROR + 1, 0xFFFF):
        assert exception_of(ask(s, 6, u16(M.HR_COMMAND, bad))) == ILLEGAL_VALUE
    assert read(s, 3, M.HR_COMMAND) == [0]  # a refused command is not recorded
    assert exception_of(ask(s, 6, u16(M.HR_COMMAND, M.CMD_RUN))) == 0
    assert exception_of(ask(s, 6, u16(M.HR_COMMAND, M.CMD_CLEAR_MATH_ERROR))) == 0
    assert read(s, 3, M.HR_COMMAND) == [M.CMD_CLEAR_MATH_ERROR] and rt.state == 1


def test_memory_registers_end_at_the_last_md_half():
    rt, s = server_for(
        "program p\nvar w : int at %MW1023\nvar d : dint = -2 at %MD1023\n"
        "rung: true -> w := w, d := d\n"
    )
    assert read(s, 3, M.HR_MW + 1023) == [0]
    assert read(s, 3, M.HR_MD + 2 * 1023, 2) == [0xFFFF, 0xFFFE]
    assert M.HR_MD + 2 * 1024 == M.HR_MD_END
    assert read(s, 3, M.HR_MD_END) == ILLEGAL_ADDRESS
    assert exception_of(ask(s, 6, u16(M.HR_MD_END, 1))) == ILLEGAL_ADDRESS


@pytest.fixture(scope="module")
def all_bits():
    """A program whose coils and discrete inputs fill a whole maximal bit read."""
    decls = "".join(
        f"input i{k} : bool at %IX{k // 8}.{k % 8}\noutput q{k} : bool at %QX{k // 8}.{k % 8}\n"
        for k in range(M.MAX_READ_BITS)
    )
    rt, s = server_for("program p\n" + decls + "rung: i0 -> q0\n")
    rt.scan(0)
    return s


@pytest.mark.parametrize("fc", [1, 2])
def test_bit_read_counts_at_both_limits(all_bits, fc):
    s = all_bits
    for count in (0, M.MAX_READ_BITS + 1):
        assert exception_of(ask(s, fc, u16(0, count))) == ILLEGAL_VALUE
    assert ask(s, fc, u16(0, M.MAX_READ_BITS))[:2] == bytes([fc, M.MAX_READ_BITS // 8])
    assert exception_of(ask(s, fc, u16(1, M.MAX_READ_BITS))) == ILLEGAL_ADDRESS  # one past


@pytest.mark.parametrize("fc", [3, 4])
def test_register_read_counts_at_both_limits(plant, fc):
    _rt, s = plant
    for count in (0, M.MAX_READ_REGISTERS + 1):
        assert exception_of(ask(s, fc, u16(0, count))) == ILLEGAL_VALUE
    # the largest count passes the count check; the addresses then decide
    start = M.IR_VARS if fc == 4 else M.HR_COMMAND
    assert exception_of(ask(s, fc, u16(start, M.MAX_READ_REGISTERS))) == ILLEGAL_ADDRESS
    assert read(s, fc, start, 2) != ILLEGAL_ADDRESS


def test_register_reads_do_not_wrap_past_65535(plant):
    _rt, s = plant
    assert read(s, 3, 0xFFFF, 2) == ILLEGAL_ADDRESS
    assert read(s, 4, 0xFFFF, 1) == ILLEGAL_ADDRESS


@pytest.mark.parametrize(
    "fc, limit",
    [(15, M.MAX_WRITE_BITS), (16, M.MAX_WRITE_REGISTERS)],
)
def test_write_counts_at_both_limits(plant, fc, limit):
    _rt, s = plant
    for count in (0, limit + 1):
        nbytes = (count + 7) // 8 if fc == 15 else 2 * count
        pdu = ask(s, fc, u16(0, count), nbytes & 0xFF, bytes(nbytes))
        assert exception_of(pdu) == ILLEGAL_VALUE
    # the most a request may carry: counted right, refused only for the unmapped address
    nbytes = (limit + 7) // 8 if fc == 15 else 2 * limit
    assert exception_of(ask(s, fc, u16(0, limit), nbytes, bytes(nbytes))) == ILLEGAL_ADDRESS


def test_read_write_counts_at_both_limits(plant):
    _rt, s = plant
    reads, writes = M.MAX_READ_REGISTERS, M.MAX_RW_WRITE_REGISTERS

    def rw(n_read, n_write):
        body = u16(M.IR_STATUS, n_read, M.HR_MW, n_write) + bytes([2 * n_write & 0xFF])
        return exception_of(ask(s, 23, body, bytes(2 * n_write)))

    assert rw(reads + 1, 1) == ILLEGAL_VALUE
    assert rw(1, writes + 1) == ILLEGAL_VALUE
    assert rw(0, 1) == ILLEGAL_VALUE and rw(1, 0) == ILLEGAL_VALUE
    # at the limits the counts pass and the addresses decide (MW1.. are unmapped: 02)
    assert rw(reads, writes) == ILLEGAL_ADDRESS


# ---- exact answers where the counts and lengths end ------------------------------------


@pytest.mark.parametrize(
    "pdu",
    [
        (1, u16(0), 1),  # reads: exactly 5 bytes
        (4, u16(0, 1), 0),
        (5, u16(0), 0xFF),  # write single coil / register: exactly 5 bytes
        (5, u16(0, 0xFF00), 0),
        (6, u16(1024), 7),
        (6, u16(1024, 7), 0),
        (15, u16(0, 1)),  # 5 bytes: no byte count
        (15, u16(0, 1), 1),  # byte count without its data
        (15, u16(0, 1), 1, 1, 0),  # one data byte too many
        (16, u16(1024, 1)),
        (16, u16(1024, 1), 2, 0),
        (16, u16(1024, 1), 2, u16(7), 0),
        (23, u16(1024, 1, 1024, 1)),  # 9 bytes: no byte count
        (23, u16(1024, 1, 1024, 1), 2, 0),
        (23, u16(1024, 1, 1024, 1), 2, u16(7), 0),
    ],
)
def test_malformed_lengths_answer_03_with_their_function_code(plant, pdu):
    rt, s = plant
    assert ask(s, *pdu) == bytes([pdu[0] | 0x80, ILLEGAL_VALUE])
    assert rt.get("setp") == 500 and rt.get("motor") is True  # nothing written


@pytest.mark.parametrize("value", [0x0001, 0x00FF, 0xFF01, 0xFFFF, 0x8000])
def test_write_single_coil_takes_only_ff00_or_0000(plant, value):
    rt, s = plant
    assert ask(s, 5, u16(0, value)) == bytes([0x85, ILLEGAL_VALUE])
    assert rt.get("motor") is True
    assert ask(s, 5, u16(0, 0x0000)) == bytes([5]) + u16(0, 0x0000)
    assert rt.get("motor") is False
    assert ask(s, 5, u16(0, 0xFF00)) == bytes([5]) + u16(0, 0xFF00)
    assert rt.get("motor") is True


def test_read_write_checks_every_read_address_before_writing(plant):
    rt, s = plant
    # the write is fine, the read runs past %MW0 (1025 is unmapped): 02 and nothing written
    assert ask(s, 23, u16(1024, 2, 1024, 1), 2, u16(7)) == bytes([0x97, ILLEGAL_ADDRESS])
    assert rt.get("setp") == 500
    # a register that holds 0 is mapped all the same (the command register reads 0)
    assert ask(s, 23, u16(M.HR_COMMAND, 1, 1024, 1), 2, u16(7)) == bytes([23, 2]) + u16(0)
    assert rt.get("setp") == 7
    # written first, then read: the answer shows the new value
    assert ask(s, 23, u16(1024, 1, 1024, 1), 2, u16(9)) == bytes([23, 2]) + u16(9)


def test_device_identification_objects_are_framed_exactly(plant):
    _rt, s = plant
    for code, first, ids in [(1, 0, [0, 1, 2]), (2, 0, [0, 1, 2, 3, 4, 5]), (4, 2, [2])]:
        resp = ask(s, 0x2B, 0x0E, code, first)
        # byte 3, the conformity level, is the device's own (issue 8 point 19, elsewhere)
        assert resp[:3] == bytes([0x2B, 0x0E, code]) and resp[4:6] == bytes([0, 0])
        assert resp[6] == len(ids)
        pos, seen = 7, []
        for _ in ids:
            obj, size = resp[pos], resp[pos + 1]
            data = resp[pos + 2 : pos + 2 + size]
            assert len(data) == size and size > 0 and all(32 <= b < 127 for b in data)
            seen.append(obj)
            pos += 2 + size
        assert seen == ids and pos == len(resp)  # nothing after the last object


# ---- every bit of the 32-bit values, and the counters' flags ---------------------------


def words(server, start, count):
    regs = read(server, 4, start, count)
    assert isinstance(regs, list), regs
    return regs


def test_variables_window_gives_all_32_bits_of_every_variable(plant):
    rt, s = plant
    rt.set("total", -2)  # high word 0xFFFF
    rt.set("setp", -1)  # an int: sign-extended
    rt.write_slot(rt.slot("total"), -(2**31) + 0x12345)
    regs = words(s, M.IR_VARS, 2 * N_VARS)
    got = [(regs[2 * i] << 16) | regs[2 * i + 1] for i in range(N_VARS)]
    ratio = struct.unpack(">I", struct.pack(">f", 1.5))[0]  # a real as its binary32 bits
    # start (true), stop (false), level, motor, lamp, speed, setp, total, ratio, K
    assert got == [1, 0, 0, 1, 0, 0, 0xFFFFFFFF, 0x80012345, ratio, 3]


def test_block_window_gives_all_32_bits_of_et_pt_cv_pv():
    src = (
        "program b\ninput a : bool at %IX0.0\ntimer t : TON = 596h31m23s647ms\n"
        "counter c : CTUD = -32768\ncounter d : CTD = 3\ncounter u : CTU = 0\n"
        "rung: a -> t, count c, count_down d, count u\n"
    )
    rt, s = server_for(src)
    rt.scan(0)
    rt.set("t.ET", 0x1ABCD)
    rt.set("c.CV", -2)
    t, c = words(s, M.IR_BLOCKS, 8), words(s, M.IR_BLOCKS + 8, 8)
    assert (t[2] << 16 | t[3], t[4] << 16 | t[5]) == (0x1ABCD, 2**31 - 1)
    assert (c[2] << 16 | c[3], c[4] << 16 | c[5]) == (0xFFFFFFFE, 0xFFFF8000)


def test_block_window_flags_are_each_counters_own():
    src = (
        "program b\ninput a : bool at %IX0.0\ncounter ud : CTUD = 1\ncounter d : CTD = 3\n"
        "counter u : CTU = 1\nrung: a -> count ud, count_down d, count u\n"
    )
    rt, s = server_for(src)

    def flags():
        return [tuple(words(s, M.IR_BLOCKS + 8 * b, 2)) for b in range(3)]

    rt.scan(0)  # CV 0 everywhere: CTUD QU 0 QD 1, CTD Q (= QD) 1, CTU Q 0 (no QD)
    assert flags() == [(0, 1), (1, 1), (0, 0)]
    assert (rt.get("ud.QU"), rt.get("ud.QD"), rt.get("d.Q"), rt.get("u.Q")) == (
        False,
        True,
        True,
        False,
    )
    for name in ("ud.CV", "d.CV", "u.CV"):
        rt.set(name, 2)
    rt.scan(10)
    assert flags() == [(1, 0), (0, 0), (1, 0)]


def test_status_block_gives_all_32_bits_of_its_counters():
    rt, s = make_server()
    dev = s.device
    assert words(s, M.IR_STATUS + M.ST_FIRST_SCAN, 1) == [1]  # the next scan is the first
    rt.scan(0)
    assert words(s, M.IR_STATUS + M.ST_FIRST_SCAN, 1) == [0]
    rt.scan_count = 0x12345
    dev.stats.record(0x10000 + 7, 10)  # 65543 us: an overrun of a 10 ms cycle
    dev.stats.max_us = 0x2FFFF
    dev.stats.overruns = 0x10001
    regs = words(s, M.IR_STATUS, M.STATUS_SIZE)

    def u32(off):
        return regs[off] << 16 | regs[off + 1]

    assert u32(M.ST_SCANS) == 0x12345 and u32(M.ST_LAST_US) == 0x10007
    assert u32(M.ST_MAX_US) == 0x2FFFF and u32(M.ST_AVG_US) == 0x10007
    assert u32(M.ST_OVERRUNS) == 0x10001 and u32(M.ST_CRC) == rt.crc


def test_md_writes_keep_the_sign_and_every_bit(plant):
    rt, s = plant
    # %MD0 is `total` (dint) at holding 2048-2049, high word first
    assert ask(s, 16, u16(M.HR_MD, 2), 4, u16(0xFFFF, 0xFFFE))[0] == 16
    assert rt.get("total") == -2
    assert ask(s, 16, u16(M.HR_MD, 2), 4, u16(0x8000, 0x0001))[0] == 16
    assert rt.get("total") == -(2**31) + 1
    assert ask(s, 6, u16(M.HR_MD + 1, 0x1234))[0] == 6  # the low half alone
    assert rt.get("total") == -(2**31) + 0x1234
    assert read(s, 3, M.HR_MD, 2) == [0x8000, 0x1234]


def test_multi_writes_check_every_value_and_address():
    src = (
        "program w\n"
        + "".join(f"output q{k} : bool at %QX{k // 8}.{k % 8}\n" for k in range(16))
        + "var m0 : int at %MW0\nvar m1 : int at %MW1\nrung: true -> q0\n"
    )
    rt, s = server_for(src)
    # 16 coils from coil 1: the 16th, coil 16, is not mapped
    assert ask(s, 15, u16(1, 16), 2, bytes([0xFF, 0xFF])) == bytes([0x8F, ILLEGAL_ADDRESS])
    # 15 coils from coil 1, a pattern across two data bytes
    assert ask(s, 15, u16(1, 15), 2, bytes([0b10100101, 0b0110110])) == bytes([15]) + u16(1, 15)
    pattern = [(0b0011011010100101 >> k) & 1 == 1 for k in range(15)]
    assert [rt.get(f"q{k}") for k in range(1, 16)] == pattern
    # FC23 writes both registers, each its own value
    assert ask(s, 23, u16(M.HR_MW, 2, M.HR_MW, 2), 4, u16(11, 22)) == bytes([23, 4]) + u16(11, 22)
    assert (rt.get("m0"), rt.get("m1")) == (11, 22)
    # FC16 over the command and release registers: the second value (release variable 99,
    # which does not exist) is refused, so the first (stop) is not executed either
    assert ask(s, 16, u16(M.HR_COMMAND, 2), 4, u16(M.CMD_STOP, 99)) == bytes([0x90, ILLEGAL_VALUE])
    assert rt.state == 1
    assert ask(s, 16, u16(M.HR_COMMAND, 2), 4, u16(M.CMD_STOP, 0))[0] == 16
    assert rt.state == 0


def test_identification_restarts_at_object_0_and_clears_a_used_buffer(plant):
    _rt, s = plant
    fresh = ask(s, 0x2B, 0x0E, 1, 0)
    assert ask(s, 0x2B, 0x0E, 1, 5) == fresh  # past the last basic object: from 0
    out = bytearray(b"\xff" * 260)  # a server reuses its buffer: no byte may be left over
    n = s.process(bytes([0x2B, 0x0E, 1, 0]), 4, out)
    assert bytes(out[:n]) == fresh
    assert len(out) == 260  # and the caller's buffer keeps its size (a board's is fixed)
    assert s.process(b"", 0, out) == 0  # an empty request has no answer


def test_bit_reads_pack_every_bit_in_place(all_bits):
    s = all_bits
    assert ask(s, 1, u16(0, 16)) == bytes([1, 2, 0, 0])  # all off: zero bytes, no stray bit
    assert ask(s, 2, u16(0, 9)) == bytes([2, 2, 0, 0])


def test_bit_reads_of_a_pattern():
    decls = "".join(f"output q{k} : bool at %QX{k // 8}.{k % 8}\n" for k in range(24))
    rt, s = server_for("program p\n" + decls + "rung: q0 -> q0\n")
    pattern = 0b101100111000111101011001
    for k in range(24):
        rt.set(f"q{k}", bool(pattern >> k & 1))
    assert ask(s, 1, u16(0, 24)) == bytes([1, 3]) + pattern.to_bytes(3, "little")
    assert ask(s, 1, u16(3, 10)) == bytes([1, 2]) + ((pattern >> 3) & 0x3FF).to_bytes(2, "little")


def test_identification_objects_end_at_the_last_one(plant):
    _rt, s = plant
    last = len(s.identity) - 1
    assert ask(s, 0x2B, 0x0E, 4, last)[7] == last
    assert ask(s, 0x2B, 0x0E, 4, last + 1) == bytes([0xAB, ILLEGAL_ADDRESS])


def test_block_retain_flags_and_fresh_scan_statistics():
    rt, s = server_for(
        "program r\ninput a : bool at %IX0.0\ntimer t : TON = 1s retain\ntimer u : TON = 1s\n"
        "rung: a -> t, u\n"
    )
    assert words(s, M.IR_BLOCKS + 7, 1) == [1] and words(s, M.IR_BLOCKS + 8 + 7, 1) == [0]
    regs = words(s, M.IR_STATUS, M.STATUS_SIZE)
    assert regs[M.ST_CLIENTS] == 0 and regs[M.ST_OVERRUNS : M.ST_OVERRUNS + 2] == [0, 0]


def test_an_overrun_is_a_scan_longer_than_the_cycle():
    from rung.runtime.modbus_device import ScanStats

    st = ScanStats()
    for us in (1, 5000, 9999, 10000):  # up to the 10 ms cycle: not an overrun
        st.record(us, 10)
    assert st.overruns == 0 and st.max_us == 10000
    st.record(10001, 10)
    assert st.overruns == 1 and st.last_us == 10001


def test_forcing_values_for_bools_and_ints(plant):
    rt, s = plant
    for value, want in ((1, True), (0, False), (2, True)):  # any non-zero forces a bool on
        assert ask(s, 6, u16(M.HR_FORCE + 0, value))[0] == 6
        assert rt.forced[0] is want
    assert ask(s, 6, u16(M.HR_FORCE + 5, 0xFFFF))[0] == 6  # speed, an int output
    assert rt.forced[5] == -1


def test_commands_each_do_their_own_thing(plant):
    rt, s = plant
    rt.force(3, True)
    rt.write_slot(rt.layout.math_error, True)
    rt.math_error = True
    assert ask(s, 6, u16(M.HR_COMMAND, M.CMD_CLEAR_MATH_ERROR))[0] == 6
    assert rt.math_error is False and rt.forced == {3: True}  # forces untouched
    assert ask(s, 6, u16(M.HR_COMMAND, M.CMD_RELEASE_ALL)) == bytes([6]) + u16(
        M.HR_COMMAND, M.CMD_RELEASE_ALL
    )
    assert rt.forced == {} and rt.state == 1
    rt.fault()
    assert ask(s, 6, u16(M.HR_COMMAND, M.CMD_RUN))[0] == 6
    assert rt.state == 2  # RUN does not leave FAULT
    assert ask(s, 6, u16(M.HR_COMMAND, M.CMD_FAULT_RESET))[0] == 6
    assert rt.state == 1 and rt.fault_code == 0
    assert read(s, 3, M.HR_COMMAND) == [M.CMD_FAULT_RESET]


def test_variable_0_and_single_register_writes():
    # variable 0 is a %QW output: the first holding register of the map
    rt, s = server_for("program w\noutput w0 : int at %QW0\nrung: false -> w0 := 1\n")
    assert ask(s, 6, u16(M.HR_QW, 0xFFFE)) == bytes([6]) + u16(M.HR_QW, 0xFFFE)
    assert rt.get("w0") == -2
    assert ask(s, 16, u16(M.HR_QW, 1), 2, u16(5)) == bytes([16]) + u16(M.HR_QW, 1)
    assert rt.get("w0") == 5 and read(s, 3, M.HR_QW) == [5]


def test_fresh_scan_statistics_are_zero_and_timer_q_is_its_own():
    rt, s = server_for(
        "program t\ninput a : bool at %IX0.0\ninput b : bool at %IX0.1\n"
        "timer t : TON = 0ms\ntimer u : TON = 0ms\nrung: a -> t\nrung: b -> u\n"
    )
    regs = words(s, M.IR_STATUS, M.STATUS_SIZE)
    assert regs[M.ST_LAST_US : M.ST_OVERRUNS + 2] == [0] * 8
    rt.set("b", True)
    rt.scan(0)
    assert words(s, M.IR_BLOCKS, 1) == [0] and words(s, M.IR_BLOCKS + 8, 1) == [1]


def test_identification_read_codes_at_both_ends(plant):
    _rt, s = plant
    assert ask(s, 0x2B, 0x0E, 0, 0) == bytes([0xAB, ILLEGAL_VALUE])
    assert ask(s, 0x2B, 0x0E, 5, 0) == bytes([0xAB, ILLEGAL_VALUE])
    assert ask(s, 0x2B, 0x0E, 4, 0)[:3] == bytes([0x2B, 0x0E, 4])


def test_average_scan_time_is_exponential_with_weight_one_sixteenth():
    from rung.runtime.modbus_device import ScanStats

    st = ScanStats()
    st.record(1000, 10)
    assert st.avg_us == 1000  # the first scan sets it
    st.record(1160, 10)
    assert st.avg_us == 1010  # + (1160 - 1000) // 16
    st.record(10, 10)
    assert st.avg_us == 1010 + (10 - 1010) // 16


def test_fault_reset_acts_only_in_fault_and_memory_is_not_forcible(plant):
    rt, s = plant
    rt.stop()
    assert ask(s, 6, u16(M.HR_COMMAND, M.CMD_FAULT_RESET))[0] == 6
    assert rt.state == 0  # a stopped runtime stays stopped
    assert read(s, 3, M.HR_FORCE + 6) == ILLEGAL_ADDRESS  # setp, %MW0: memory
    assert exception_of(ask(s, 6, u16(M.HR_FORCE + 6, 1))) == ILLEGAL_ADDRESS


def test_identification_from_a_middle_object(plant):
    _rt, s = plant
    resp = ask(s, 0x2B, 0x0E, 1, 1)
    assert resp[6] == 2 and resp[7] == 1  # objects 1 and 2, not a restart at 0


def test_write_multiple_coils_of_one_and_a_byte_count_that_disagrees(plant):
    rt, s = plant
    assert ask(s, 15, u16(0, 1), 1, 0) == bytes([15]) + u16(0, 1)  # one coil is a count
    assert rt.get("motor") is False
    # byte count 2 for one coil, with the 2 bytes it announces: still malformed
    assert ask(s, 15, u16(0, 1), 2, 1, 1) == bytes([0x8F, ILLEGAL_VALUE])
    assert rt.get("motor") is False


@pytest.mark.parametrize(
    "pdu",
    [
        (5, u16(0, 0xFF00)),
        (6, u16(1024, 0x1234)),
        (15, u16(0, 2), 1, 3),
        (16, u16(1024, 1), 2, u16(9)),
    ],
)
def test_write_answers_echo_the_request_in_a_used_buffer(plant, pdu):
    _rt, s = plant
    req = b"".join(p if isinstance(p, bytes) else bytes([p]) for p in pdu)
    out = bytearray(b"\xee" * 260)
    n = s.process(req, len(req), out)
    assert bytes(out[:n]) == req[:5]


def test_md_halves_and_forced_values_read_back_every_bit(plant):
    rt, s = plant
    assert ask(s, 16, u16(M.HR_MD, 2), 4, u16(0x1234, 0x5679))[0] == 16
    assert ask(s, 6, u16(M.HR_MD, 0x8001))[0] == 6  # the high half alone keeps the low
    assert rt.get("total") == -(2**31) + 0x00015679 and read(s, 3, M.HR_MD, 2) == [
        0x8001,
        0x5679,
    ]
    # ratio, a real at %MD1 (holding 2050-2051): its binary32 bits, the lowest one too
    assert ask(s, 16, u16(M.HR_MD + 2, 2), 4, u16(0x3FC0, 0x0001))[0] == 16
    assert struct.pack(">f", rt.get("ratio")) == bytes.fromhex("3fc00001")
    assert read(s, 3, M.HR_MD + 2, 2) == [0x3FC0, 0x0001]
    # forced values read back: an int output at -1, a bool at false and at true
    ask(s, 6, u16(M.HR_FORCE + 5, 0xFFFF))
    ask(s, 6, u16(M.HR_FORCE + 3, 0))
    ask(s, 6, u16(M.HR_FORCE + 4, 1))
    assert read(s, 3, M.HR_FORCE + 3, 3) == [0, 1, 0xFFFF]


def test_status_math_error_register(plant):
    rt, s = plant
    assert words(s, M.IR_STATUS + M.ST_MATH_ERROR, 1) == [0]
    rt.write_slot(rt.layout.math_error, True)
    rt.math_error = True
    assert words(s, M.IR_STATUS + M.ST_MATH_ERROR, 1) == [1]
