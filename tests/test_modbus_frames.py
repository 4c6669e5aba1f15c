"""The Modbus core on raw frames: every function code, every exception, framing errors."""

import struct

import pytest
from modbus_helpers import ask, make_server, mbap, rtu, u16

from rung.runtime import modbus_map as M
from rung.runtime.modbus_rtu import RtuFramer, RtuServer, crc16
from rung.runtime.modbus_tcp import MbapConnection


def test_crc16_known_value():
    # "01 03 00 00 00 0A" -> C5 CD, the classic example
    assert crc16(bytes.fromhex("01030000000a")) == 0xCDC5


def test_read_coils_inputs_and_registers():
    rt, s = make_server()
    rt.inputs[0] = True
    rt.inputs[2] = 700
    rt.scan(0)
    assert ask(s, 1, u16(0, 2)) == bytes([1, 1, 0b11])  # motor and lamp on
    assert ask(s, 2, u16(0, 2)) == bytes([2, 1, 0b01])
    assert ask(s, 4, u16(0, 1)) == bytes([4, 2]) + u16(700)
    assert ask(s, 3, u16(0, 1)) == bytes([3, 2]) + u16(350)
    assert ask(s, 3, u16(1024, 1)) == bytes([3, 2]) + u16(500)
    # %MD0 dint -2+0 and %MD1 real 1.5, high word first
    total = struct.unpack(">I", struct.pack(">i", rt.get("total")))[0]
    assert ask(s, 3, u16(2048, 4)) == bytes([3, 8]) + u16(total >> 16, total) + struct.pack(
        ">f", 1.5
    )


def test_writes_reach_the_variables():
    rt, s = make_server()
    assert ask(s, 6, u16(1024, 42)) == bytes([6]) + u16(1024, 42)
    assert rt.get("setp") == 42
    assert ask(s, 6, u16(1024, 0xFFFF)) == bytes([6]) + u16(1024, 0xFFFF)
    assert rt.get("setp") == -1
    assert ask(s, 16, u16(2048, 2), 4, u16(0x0001, 0x0002)) == bytes([16]) + u16(2048, 2)
    assert rt.get("total") == 0x10002
    bits = struct.unpack(">HH", struct.pack(">f", -2.25))
    ask(s, 16, u16(2050, 2), 4, u16(*bits))
    assert rt.get("ratio") == -2.25
    assert ask(s, 5, u16(1, 0xFF00)) == bytes([5]) + u16(1, 0xFF00)
    assert rt.get("lamp") is True
    assert ask(s, 15, u16(0, 2), 1, 0b10) == bytes([15]) + u16(0, 2)
    assert (rt.get("motor"), rt.get("lamp")) == (False, True)
    resp = ask(s, 23, u16(1024, 1, 0, 1), 2, u16(77))
    assert resp == bytes([23, 2]) + u16(0xFFFF)  # setp is -1 from the write above
    assert rt.get("speed") == 77


@pytest.mark.parametrize(
    "pdu,code",
    [
        ((1, u16(0, 0)), 3),
        ((1, u16(0, 2001)), 3),
        ((3, u16(0, 126)), 3),
        ((4, u16(0, 0)), 3),
        ((15, u16(0, 1969), 247, bytes(247)), 3),
        ((16, u16(0, 124), 248, bytes(248)), 3),
        ((16, u16(1024, 2), 3, bytes(3)), 3),
        ((23, u16(0, 126, 1024, 1), 2, bytes(2)), 3),
        ((23, u16(0, 1, 1024, 122), 244, bytes(244)), 3),
        ((5, u16(0, 0x1234)), 3),
        ((3, u16(0)), 3),
        ((1, u16(0, 3)), 2),
        ((1, u16(100, 1)), 2),
        ((2, u16(0, 3)), 2),
        ((4, u16(1, 1)), 2),
        ((3, u16(1, 1)), 2),
        ((3, u16(2047, 2)), 2),
        ((6, u16(5000, 1)), 2),
        ((5, u16(9, 0xFF00)), 2),
        ((6, u16(M.HR_FORCE + 6, 1)), 2),  # a memory variable cannot be forced
        ((65,), 1),
        ((8, u16(0, 0)), 1),
        ((0x2B, 0x0D, 1, 0), 1),
        ((0x2B, 0x0E, 5, 0), 3),
        ((0x2B, 0x0E, 4, 99), 2),
    ],
)
def test_exception_codes(pdu, code):
    _rt, s = make_server()
    resp = ask(s, *pdu)
    assert resp == bytes([(pdu[0] | 0x80) & 0xFF, code])


def test_count_is_checked_before_address():
    _rt, s = make_server()
    assert ask(s, 3, u16(60000, 200)) == bytes([0x83, 3])


def test_failed_multi_write_changes_nothing():
    rt, s = make_server()
    assert ask(s, 16, u16(1024, 2), 4, u16(9, 9)) == bytes([0x90, 2])  # 1025 unmapped
    assert rt.get("setp") == 500


def test_diagnostic_window_status_variables_blocks_power():
    rt, s = make_server()
    rt.inputs[0] = True
    rt.scan(0)
    rt.scan(10)
    status = ask(s, 4, u16(M.IR_STATUS, M.STATUS_SIZE))[2:]
    regs = struct.unpack(">" + "H" * M.STATUS_SIZE, status)
    assert regs[M.ST_STATE] == 1 and regs[M.ST_SCANS + 1] == 2
    assert (regs[M.ST_CRC] << 16 | regs[M.ST_CRC + 1]) == rt.crc
    assert regs[M.ST_VARS] == 10 and regs[M.ST_RUNGS] == 4 and regs[M.ST_CYCLE] == 10
    var_regs = ask(s, 4, u16(M.IR_VARS, 20))[2:]
    values = struct.unpack(">" + "i" * 10, var_regs)
    assert values[0] == 1 and values[3] == 1 and values[6] == 500 and values[9] == 3
    block = struct.unpack(">HHIIHH", ask(s, 4, u16(M.IR_BLOCKS, 8))[2:])
    assert block[3] == 1000 and block[2] == 10 and block[4] == 1  # PT, ET, kind TON
    power = ask(s, 4, u16(M.IR_POWER, 1))
    assert power == bytes([4, 2]) + u16(0b0101)


def test_commands_and_forcing():
    rt, s = make_server()
    rt.scan(0)
    assert ask(s, 6, u16(M.HR_FORCE + 0, 1)) == bytes([6]) + u16(M.HR_FORCE, 1)
    rt.scan(10)
    assert rt.get("motor") is True and rt.forced == {0: True}
    assert ask(s, 4, u16(M.IR_FORCED, 1)) == bytes([4, 2]) + u16(1)
    assert ask(s, 3, u16(M.HR_FORCE, 1)) == bytes([3, 2]) + u16(1)
    ask(s, 6, u16(M.HR_RELEASE, 0))
    assert rt.forced == {}
    ask(s, 6, u16(M.HR_COMMAND, M.CMD_STOP))
    assert rt.state == 0
    ask(s, 6, u16(M.HR_COMMAND, M.CMD_RUN))
    assert rt.state == 1
    assert ask(s, 6, u16(M.HR_COMMAND, 99)) == bytes([0x86, 3])


def test_access_policy_can_disable_forcing_and_run_stop():
    rt, s = make_server(allow_forcing=False, allow_run_stop=False)
    assert ask(s, 6, u16(M.HR_FORCE, 1)) == bytes([0x86, 2])
    assert ask(s, 6, u16(M.HR_COMMAND, M.CMD_STOP)) == bytes([0x86, 2])
    assert rt.state == 1 and rt.forced == {}
    # inputs stay read-only: there is no writable address for them
    assert ask(s, 5, u16(0, 0xFF00)) == bytes([5]) + u16(0, 0xFF00)  # coil 0 is an output
    assert ask(s, 6, u16(0, 1)) == bytes([6]) + u16(0, 1)  # %QW0 is an output


def test_device_identification():
    rt, s = make_server()
    resp = ask(s, 0x2B, 0x0E, 1, 0)
    assert resp[:3] == bytes([0x2B, 0x0E, 1]) and resp[6] == 3
    assert b"Rung" in resp and b"rung-test" in resp and ("%08x" % rt.crc).encode() in resp
    one = ask(s, 0x2B, 0x0E, 4, 0)
    assert one[6] == 1 and one[7] == 0 and one[9:13] == b"Rung"


# ---- RTU framing --------------------------------------------------------------------


def test_rtu_answers_own_unit_ignores_others_and_bad_crc():
    _rt, s = make_server()
    server = RtuServer(s, unit=7)
    req = rtu(7, bytes([3]) + u16(1024, 1))
    resp = server.handle(req)
    assert resp == rtu(7, bytes([3, 2]) + u16(500))
    assert server.handle(rtu(8, bytes([3]) + u16(1024, 1))) is None
    bad = bytearray(req)
    bad[-1] ^= 0xFF
    assert server.handle(bytes(bad)) is None
    assert server.handle(b"\x07\x03") is None
    assert server.handle(rtu(7, bytes([0x41]))) == rtu(7, bytes([0xC1, 1]))


def test_rtu_broadcast_writes_without_reply():
    rt, s = make_server()
    server = RtuServer(s, unit=1)
    assert server.handle(rtu(0, bytes([6]) + u16(1024, 9))) is None
    assert rt.get("setp") == 9


def test_rtu_framer_by_length_and_silence():
    f = RtuFramer()
    a = rtu(1, bytes([3]) + u16(0, 1))
    b = rtu(1, bytes([16]) + u16(1024, 1) + bytes([2]) + u16(5))
    frames = f.feed(a + b[:5])
    assert frames == [a]
    assert f.feed(b[5:]) == [b]
    junk = rtu(1, bytes([0x41, 1, 2]))
    assert f.feed(junk) == [] and f.silence() == junk
    assert f.silence() is None


# ---- TCP framing --------------------------------------------------------------------


def test_mbap_several_requests_in_one_segment_and_split_frames():
    _rt, s = make_server()
    conn = MbapConnection(s)
    r1 = mbap(1, 1, bytes([3]) + u16(1024, 1))
    r2 = mbap(2, 9, bytes([0x41]))
    assert conn.feed(r1 + r2) == mbap(1, 1, bytes([3, 2]) + u16(500)) + mbap(
        2, 9, bytes([0xC1, 1])
    )
    assert conn.feed(r1[:4]) == b""
    assert conn.feed(r1[4:9]) == b""
    assert conn.feed(r1[9:]) == mbap(1, 1, bytes([3, 2]) + u16(500))


def test_mbap_bad_length_closes_and_other_protocol_is_ignored():
    _rt, s = make_server()
    conn = MbapConnection(s)
    assert conn.feed(b"\x00\x01\x00\x00\x00\x00\x01\x03") == b"" and conn.closed
    conn = MbapConnection(s)
    other = b"\x00\x01\x00\x07\x00\x06\x01" + bytes([3]) + u16(1024, 1)
    assert conn.feed(other) == b"" and not conn.closed


def test_internal_failure_answers_04_and_keeps_serving():
    rt, s = make_server()

    def broken(addr):
        raise RuntimeError("sensor layer crashed")

    good = s.device.read_holding_register
    s.device.read_holding_register = broken
    assert ask(s, 3, u16(1024, 1)) == bytes([0x83, 4])
    assert s.failures == 1
    s.device.read_holding_register = good
    assert ask(s, 3, u16(1024, 1)) == bytes([3, 2]) + u16(500)


def test_rtu_oversized_and_truncated_junk_is_dropped_then_service_continues():
    _rt, s = make_server()
    server = RtuServer(s, unit=1)
    framer = RtuFramer()
    junk = bytes([1, 0x41]) + bytes(range(256)) * 2  # an unknown function, 514 bytes
    assert framer.feed(junk) == []
    tail = framer.silence()
    assert tail is None or server.handle(tail) is None
    assert server.handle(rtu(1, bytes([3]) + u16(1024, 1))[:5]) is None  # truncated
    good = rtu(1, bytes([3]) + u16(1024, 1))
    (frame,) = framer.feed(good)
    assert server.handle(frame) == rtu(1, bytes([3, 2]) + u16(500))
    assert server.frames_bad_crc >= 1


# ---- exception order (issue 8, point 19) ----------------------------------------------
# The order is function (01) -> address (02) -> value (03): a request whose range holds an
# address the map refuses answers 02 even when an earlier register holds a refused value.


def test_multi_write_reports_an_unmapped_address_before_an_unknown_command():
    rt, s = make_server()
    # 8192 command 99 (unknown: 03), 8193 release 0 (fine), 8194 unmapped (02)
    assert ask(s, 16, u16(M.HR_COMMAND, 3), 6, u16(99, 0, 0)) == bytes([0x90, 2])
    assert ask(s, 23, u16(1024, 1, M.HR_COMMAND, 3), 6, u16(99, 0, 0)) == bytes([0x97, 2])
    # FC 23: an unmapped read address is an address error too, before the bad command value
    assert ask(s, 23, u16(1025, 1, M.HR_COMMAND, 1), 2, u16(99)) == bytes([0x97, 2])
    # the value error alone is still 03, and nothing was written
    assert ask(s, 16, u16(M.HR_COMMAND, 2), 4, u16(99, 0)) == bytes([0x90, 3])
    assert ask(s, 23, u16(1024, 1, M.HR_COMMAND, 1), 2, u16(99)) == bytes([0x97, 3])
    assert rt.state == 1 and s.device.last_command == 0


def test_fc43_other_mei_types_are_illegal_function_whatever_their_length():
    _rt, s = make_server()
    # MEI 13 (CANopen general reference) requests carry their own data: not a device
    # identification request with a wrong length (03) but a function Rung lacks (01)
    assert ask(s, 0x2B, 0x0D, 0, 1, 2, 3, 4, 5) == bytes([0xAB, 1])
    assert ask(s, 0x2B, 0x0D) == bytes([0xAB, 1])
    assert ask(s, 0x2B, 0x00, 1, 0) == bytes([0xAB, 1])
    assert ask(s, 0x2B) == bytes([0xAB, 3])  # no MEI type at all: malformed
    assert ask(s, 0x2B, 0x0E, 1) == bytes([0xAB, 3])  # device identification, truncated


@pytest.mark.parametrize("code", [1, 2, 3, 4])
def test_fc43_conformity_level_is_the_device_constant(code):
    _rt, s = make_server()
    resp = ask(s, 0x2B, 0x0E, code, 0)
    # 0x82: regular identification (objects 0-5), stream and individual access
    assert resp[:4] == bytes([0x2B, 0x0E, code, 0x82])
