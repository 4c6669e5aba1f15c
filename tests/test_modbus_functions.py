"""Raw frames for FC 22 Mask Write Register, FC 17 Report Server ID and the serial-line
codes FC 7, FC 8 and FC 11 with the counters of Modbus over Serial Line 1.02."""

import math
import random
import struct

import pytest
from modbus_helpers import ask, make_server, mbap, rtu, u16

import rung
from rung.runtime import VERSION, Runtime
from rung.runtime import modbus_map as M
from rung.runtime.modbus_device import ModbusDevice
from rung.runtime.modbus_pdu import PduServer
from rung.runtime.modbus_rtu import RtuFramer, RtuServer
from rung.runtime.modbus_tcp import MbapConnection

VERSION_TEXT = b"Rung " + VERSION.encode() + b" crc %08x"


def rtu_server(unit=1, **policy):
    rt, pdu = make_server(**policy)
    return rt, RtuServer(pdu, unit)


def ask_rtu(server, unit, *parts):
    """Send one RTU frame; return the response PDU (None when there is no answer)."""
    pdu = b"".join(p if isinstance(p, bytes) else bytes([p]) for p in parts)
    resp = server.handle(rtu(unit, pdu))
    if resp is None:
        return None
    assert resp == rtu(unit, resp[1:-2])  # our own unit and a good CRC
    return resp[1:-2]


def counter(server, sub):
    resp = ask_rtu(server, server.unit, 8, u16(sub, 0))
    assert resp[:3] == bytes([8]) + u16(sub)
    return struct.unpack(">H", resp[3:])[0]


# ---- FC 22 Mask Write Register ------------------------------------------------------


def test_mask_write_specification_example():
    rt, s = make_server()
    ask(s, 6, u16(1024, 0x12))
    # Application Protocol 6.16: current 0x12, AND 0xF2, OR 0x25 -> 0x17
    assert ask(s, 22, u16(1024, 0x00F2, 0x0025)) == bytes([22]) + u16(1024, 0xF2, 0x25)
    assert rt.get("setp") == 0x17
    assert ask(s, 3, u16(1024, 1)) == bytes([3, 2]) + u16(0x17)


@pytest.mark.parametrize("addr", [0, 1024, 2048, 2049, 2050, 2051])
def test_mask_write_equals_read_compute_write_single(addr):
    """On every plain register FC 6 writes, FC 22 is FC 3 + the formula + FC 6."""
    rnd = random.Random(addr)
    rt_a, a = make_server()
    rt_b, b = make_server()
    for _ in range(40):
        and_mask, or_mask = rnd.randrange(0x10000), rnd.randrange(0x10000)
        current = struct.unpack(">H", ask(b, 3, u16(addr, 1))[2:])[0]
        result = (current & and_mask) | (or_mask & ~and_mask & 0xFFFF)
        assert ask(b, 6, u16(addr, result)) == bytes([6]) + u16(addr, result)
        assert ask(a, 22, u16(addr, and_mask, or_mask)) == bytes([22]) + u16(
            addr, and_mask, or_mask
        )
        assert ask(a, 3, u16(addr, 1)) == ask(b, 3, u16(addr, 1))
    assert rt_a.v == rt_b.v


def test_mask_write_commands_forcing_and_release():
    rt, s = make_server()
    # the command register reads the last command (0): AND 0, OR 2 writes 2, stop
    assert ask(s, 22, u16(M.HR_COMMAND, 0, M.CMD_STOP)) == bytes([22]) + u16(M.HR_COMMAND, 0, 2)
    assert rt.state == 0 and s.device.last_command == 2
    # 2 AND 0xFFFE OR 1 = 3 would be fault reset; 2 OR 1 -> run needs AND 0
    assert ask(s, 22, u16(M.HR_COMMAND, 0, M.CMD_RUN))[0] == 22 and rt.state == 1
    # force level (variable 2, an input) to 0x0F00, then set its low bits by mask
    assert ask(s, 22, u16(M.HR_FORCE + 2, 0, 0x0F00))[0] == 22
    assert ask(s, 22, u16(M.HR_FORCE + 2, 0xFF00, 0x0034))[0] == 22
    assert rt.forced == {2: 0x0F34}
    # release reads 0: AND 0, OR 2 releases variable 2
    assert ask(s, 22, u16(M.HR_RELEASE, 0, 2))[0] == 22
    assert rt.forced == {}


@pytest.mark.parametrize(
    "policy,pdu,code",
    [
        ({}, (22, u16(5000, 0, 1)), 2),  # unmapped
        ({}, (22, u16(1025, 0, 1)), 2),  # between variables
        ({}, (22, u16(4096, 0, 1)), 2),  # one past %MD
        ({}, (22, u16(M.HR_FORCE + 6, 0, 1)), 2),  # memory variables cannot be forced
        ({}, (22, u16(M.HR_FORCE + 10, 0, 1)), 2),  # one past the last variable
        ({}, (22, u16(M.HR_COMMAND, 0, 99)), 3),  # unknown command
        ({}, (22, u16(M.HR_RELEASE, 0, 10)), 3),  # no variable 10
        ({"allow_forcing": False}, (22, u16(M.HR_FORCE, 0, 1)), 2),
        ({"allow_forcing": False}, (22, u16(M.HR_RELEASE, 0, 0)), 2),
        ({"allow_run_stop": False}, (22, u16(M.HR_COMMAND, 0, M.CMD_STOP)), 2),
        ({}, (22, u16(1024, 0)), 3),  # truncated: no OR mask
        ({}, (22, u16(1024, 0, 1), 0), 3),  # one byte too many
        ({}, (22,), 3),
        ({}, (22, u16(1024)), 3),
    ],
)
def test_mask_write_exceptions_change_nothing(policy, pdu, code):
    rt, s = make_server(**policy)
    before = (list(rt.v), dict(rt.forced), rt.state, s.device.last_command)
    assert ask(s, *pdu) == bytes([22 | 0x80, code])
    assert (list(rt.v), dict(rt.forced), rt.state, s.device.last_command) == before


def test_mask_write_is_allowed_where_fc6_is_with_the_policy_off():
    rt, s = make_server(allow_forcing=False, allow_run_stop=False)
    assert ask(s, 22, u16(M.HR_COMMAND, 0, M.CMD_CLEAR_MATH_ERROR))[0] == 22
    assert ask(s, 22, u16(0, 0, 0x00FF))[0] == 22 and rt.get("speed") == 0xFF


def test_mask_write_over_rtu_broadcast_and_truncated():
    rt, server = rtu_server()
    assert ask_rtu(server, 1, 22, u16(1024, 0, 7)) == bytes([22]) + u16(1024, 0, 7)
    assert ask_rtu(server, 0, 22, u16(1024, 0, 9)) is None  # broadcast: written, no answer
    assert rt.get("setp") == 9
    assert ask_rtu(server, 0, 22, u16(5000, 0, 9)) is None  # broadcast exception: silent
    frame = rtu(1, bytes([22]) + u16(1024, 0, 5))
    assert server.handle(frame[:8]) is None and rt.get("setp") == 9  # truncated: bad CRC
    framer = RtuFramer()
    assert framer.feed(frame + frame[:3]) == [frame]  # ten bytes by its function code
    assert framer.feed(frame[3:]) == [frame]


def test_mask_write_over_tcp():
    rt, s = make_server()
    conn = MbapConnection(s)
    reply = conn.feed(mbap(7, 1, bytes([22]) + u16(0, 0, 0x1234)))
    assert reply == mbap(7, 1, bytes([22]) + u16(0, 0, 0x1234)) and rt.get("speed") == 0x1234


# ---- FC 17 Report Server ID ---------------------------------------------------------


def server_id_response(rt, run):
    data = bytes([M.SERVER_ID, run]) + VERSION_TEXT % rt.crc + bytes([run])
    return bytes([17, len(data)]) + data


def test_report_server_id_in_run_stop_and_fault():
    rt, s = make_server()
    assert ask(s, 17) == server_id_response(rt, 0xFF)
    rt.stop()
    assert ask(s, 17) == server_id_response(rt, 0x00)
    rt.run()
    rt.fault()
    assert ask(s, 17) == server_id_response(rt, 0x00)


def test_report_server_id_malformed_rtu_tcp_broadcast():
    rt, s = make_server()
    assert ask(s, 17, 0) == bytes([0x91, 3])
    server = RtuServer(s, 3)
    assert ask_rtu(server, 3, 17) == server_id_response(rt, 0xFF)
    assert ask_rtu(server, 3, 17, 1, 2) == bytes([0x91, 3])
    assert ask_rtu(server, 0, 17) is None  # not a broadcast function
    assert MbapConnection(s).feed(mbap(1, 1, bytes([17]))) == mbap(
        1, 1, server_id_response(rt, 0xFF)
    )


# ---- FC 7 Read Exception Status -----------------------------------------------------

STATUS_PROGRAM = """program st
input d : int at %IW0
input a : bool at %IX0.0
output q : int at %QW0
rung: a -> q := 100 / d
"""


def test_read_exception_status_bits():
    rt = Runtime(rung.compile_source(STATUS_PROGRAM, "st.rung").to_bytes())
    dev = ModbusDevice(rt, "test")
    server = RtuServer(PduServer(dev), 1)
    assert ask_rtu(server, 1, 7) == bytes([7, M.ES_RUN])
    rt.inputs[1] = True
    rt.scan(0)  # 100 / 0: math_error
    assert ask_rtu(server, 1, 7) == bytes([7, M.ES_RUN | M.ES_MATH_ERROR])
    rt.force(1, False)
    rt.clear_math_error()
    assert ask_rtu(server, 1, 7) == bytes([7, M.ES_RUN | M.ES_FORCED])
    rt.release_all()
    rt.stop()
    assert ask_rtu(server, 1, 7) == bytes([7, 0])
    rt.run()
    rt.fault()
    assert ask_rtu(server, 1, 7) == bytes([7, M.ES_FAULT])
    dev.stats.record(50_000, rt.cycle_ms)  # a 50 ms scan in a 10 ms cycle
    assert ask_rtu(server, 1, 7) == bytes([7, M.ES_FAULT | M.ES_OVERRUN])
    assert (M.ES_RUN, M.ES_FAULT, M.ES_FORCED, M.ES_MATH_ERROR, M.ES_OVERRUN) == (
        1,
        2,
        4,
        8,
        16,
    )


def test_read_exception_status_malformed_broadcast_and_tcp():
    _rt, server = rtu_server()
    assert ask_rtu(server, 1, 7, 0) == bytes([0x87, 3])
    assert ask_rtu(server, 0, 7) is None
    assert ask(server.pdu, 7) == bytes([0x87, 1])  # serial line only: not over TCP
    assert MbapConnection(server.pdu).feed(mbap(4, 1, bytes([7]))) == mbap(4, 1, bytes([0x87, 1]))


# ---- FC 8 Diagnostics ---------------------------------------------------------------


@pytest.mark.parametrize("data", [b"\x12\x34", b"\xa5\x37" * 5, bytes(range(250))])
def test_diagnostics_return_query_data_echoes(data):
    _rt, server = rtu_server()
    assert ask_rtu(server, 1, 8, u16(0), data) == bytes([8]) + u16(0) + data


def test_diagnostics_return_query_data_framed_by_silence():
    _rt, server = rtu_server()
    frame = rtu(1, bytes([8]) + u16(0) + b"\x01\x02\x03\x04")
    framer = RtuFramer(server=server)
    assert framer.feed(frame) == []  # the length is not in the request: wait for silence
    assert server.handle(framer.silence()) == frame


@pytest.mark.parametrize(
    "pdu,code",
    [
        ((8,), 3),
        ((8, 0), 3),
        ((8, u16(0)), 3),  # query data without data
        ((8, u16(0), 1, 2, 3), 3),  # odd data length
        ((8, u16(0x0B)), 3),  # counter without its data word
        ((8, u16(0x0B, 0), 0), 3),
        ((8, u16(0x0B, 1)), 3),  # data must be 0000
        ((8, u16(0x0A, 0xFF00)), 3),
        ((8, u16(0x01, 0x1234)), 3),  # restart: 0000 or FF00
        ((8, u16(0x02, 0)), 1),  # diagnostic register: not implemented
        ((8, u16(0x03, 0x0A00)), 1),  # ASCII delimiter: RTU only
        ((8, u16(0x04, 0)), 1),  # listen only mode: not implemented
        ((8, u16(0x13, 0)), 1),
        ((8, u16(0x14, 0)), 1),
        ((8, u16(0x15, 3)), 1),
        ((8, u16(0xFFFF, 0)), 1),
        ((8, u16(0x02)), 1),  # an unknown sub-function is 01 before its data is looked at
    ],
)
def test_diagnostics_exceptions(pdu, code):
    _rt, server = rtu_server()
    assert ask_rtu(server, 1, *pdu) == bytes([0x88, code])


def test_diagnostics_over_tcp_is_illegal_function():
    _rt, s = make_server()
    for sub in (0, 1, 0x0A, 0x0B, 0x12):
        assert ask(s, 8, u16(sub, 0)) == bytes([0x88, 1])
    assert MbapConnection(s).feed(mbap(2, 1, bytes([8]) + u16(0x0B, 0))) == mbap(
        2, 1, bytes([0x88, 1])
    )


@pytest.mark.parametrize("sub,data", [(0x0A, 0), (0x01, 0), (0x01, 0xFF00)])
def test_clear_and_restart_echo_then_count_from_the_next_request(sub, data):
    _rt, server = rtu_server()
    for _ in range(3):
        ask_rtu(server, 1, 3, u16(1024, 1))
    ask_rtu(server, 1, 3, u16(1025, 1))  # an exception
    server.handle(b"\x01\x03\x00")  # a communication error
    assert counter(server, M.DIAG_BUS_MESSAGES) == 5
    assert ask_rtu(server, 1, 8, u16(sub, data)) == bytes([8]) + u16(sub, data)
    assert counter(server, M.DIAG_BUS_MESSAGES) == 1  # this read, the first one counted
    assert counter(server, M.DIAG_BUS_ERRORS) == 0
    assert counter(server, M.DIAG_EXCEPTIONS) == 0
    assert counter(server, M.DIAG_SERVER_MESSAGES) == 4
    assert ask_rtu(server, 1, 11) == bytes([11]) + u16(0, 4)  # the four counter reads


def test_diagnostics_broadcast_is_neither_executed_nor_answered():
    _rt, server = rtu_server()
    ask_rtu(server, 1, 3, u16(1024, 1))
    assert ask_rtu(server, 0, 8, u16(0x0A, 0)) is None
    assert ask_rtu(server, 0, 8, u16(0, 0x1234)) is None
    assert counter(server, M.DIAG_BUS_MESSAGES) == 4  # not cleared
    assert counter(server, M.DIAG_NO_RESPONSE) == 2


def test_serial_counters_report_exactly_what_the_line_carried():
    """N good requests, M bad CRCs, K exceptions (and the rest of what a line carries):
    each FC 8 counter reports exactly its number. The request that reads a counter is
    already counted in the bus and server message counters."""
    rnd = random.Random(13)
    rt, server = rtu_server(unit=7)
    framer = RtuFramer(server=server)
    n_good, n_bad, n_exc, n_other, n_bcast, n_bcast_exc = 11, 5, 4, 3, 2, 1
    frames = (
        [rtu(7, bytes([3]) + u16(1024, 1))] * n_good
        + [rtu(7, bytes([3]) + u16(60000, 1))] * n_exc
        + [rtu(9, bytes([3]) + u16(1024, 1))] * n_other
        + [rtu(0, bytes([6]) + u16(1024, 5))] * n_bcast
        + [rtu(0, bytes([6]) + u16(1025, 5))] * n_bcast_exc
    )
    for _ in range(n_bad):
        bad = bytearray(rtu(7, bytes([3]) + u16(1024, 1)))
        bad[rnd.choice((0, 2, 3, 4, 5, 6, 7))] ^= 1 << rnd.randrange(8)  # not the FC: its length
        frames.append(bytes(bad))
    rnd.shuffle(frames)
    answered = 0
    for f in frames:
        for frame in framer.feed(f):
            answered += server.handle(frame) is not None
    assert answered == n_good + n_exc
    # two frames too long for an RTU frame (one for this unit, one for another), a 3-byte one
    for unit in (7, 9):
        assert framer.feed(bytes([unit, 0x41]) + bytes(300)) == [] and framer.silence() is None
    assert server.handle(b"\x07\x03\x00") is None
    n_comm_errors = n_bad + 2 + 1
    seen = n_good + n_exc + n_other + n_bcast + n_bcast_exc  # good CRC, any unit
    mine = n_good + n_exc + n_bcast + n_bcast_exc  # this unit or broadcast
    assert counter(server, M.DIAG_BUS_MESSAGES) == seen + 1
    assert counter(server, M.DIAG_BUS_ERRORS) == n_comm_errors
    assert counter(server, M.DIAG_EXCEPTIONS) == n_exc + n_bcast_exc
    assert counter(server, M.DIAG_SERVER_MESSAGES) == mine + 4
    assert counter(server, M.DIAG_NO_RESPONSE) == n_bcast + n_bcast_exc
    assert counter(server, M.DIAG_NAK) == 0
    assert counter(server, M.DIAG_BUSY) == 0
    assert counter(server, M.DIAG_OVERRUNS) == 1
    assert counter(server, M.DIAG_BUS_MESSAGES) == seen + 9
    # successful completions: good reads, broadcast writes, the nine counter reads
    assert ask_rtu(server, 7, 11) == bytes([11]) + u16(0, n_good + n_bcast + 9)
    assert ask_rtu(server, 7, 11) == bytes([11]) + u16(0, n_good + n_bcast + 9)
    assert rt.get("setp") == 5


def test_counters_wrap_at_16_bits():
    _rt, server = rtu_server()
    server.counters[0] = 0xFFFF
    assert counter(server, M.DIAG_BUS_MESSAGES) == 0
    server.events = 0xFFFF
    ask_rtu(server, 1, 3, u16(1024, 1))
    assert ask_rtu(server, 1, 11) == bytes([11]) + u16(0, 0)


# ---- FC 11 Get Comm Event Counter ---------------------------------------------------


def test_comm_event_counter_counts_successes_only():
    _rt, server = rtu_server()
    assert ask_rtu(server, 1, 11) == bytes([11]) + u16(0, 0)
    ask_rtu(server, 1, 6, u16(1024, 3))
    ask_rtu(server, 1, 3, u16(1024, 1))
    ask_rtu(server, 1, 3, u16(9999, 1))  # exception: not counted
    ask_rtu(server, 1, 0x41)  # unknown function: not counted
    ask_rtu(server, 1, 11)  # FC 11 itself: not counted
    assert ask_rtu(server, 1, 11) == bytes([11]) + u16(0, 2)


def test_comm_event_counter_malformed_broadcast_and_tcp():
    _rt, server = rtu_server()
    assert ask_rtu(server, 1, 11, 0, 0) == bytes([0x8B, 3])
    assert ask_rtu(server, 0, 11) is None
    assert ask(server.pdu, 11) == bytes([0x8B, 1])


def test_serial_functions_have_fixed_rtu_lengths():
    framer = RtuFramer()
    frames = [
        rtu(1, bytes([7])),
        rtu(1, bytes([11])),
        rtu(1, bytes([17])),
        rtu(1, bytes([8]) + u16(0x0B, 0)),
        rtu(1, bytes([22]) + u16(1, 2, 3)),
    ]
    assert framer.feed(b"".join(frames)) == frames


def test_register_halves_match_the_32_bit_value():
    """var_half (no 32-bit intermediate, for boards) agrees with var_word32 on every type,
    and writing both halves stores exactly the 32-bit value written."""
    rnd = random.Random(22)
    rt, s = make_server()
    dev = s.device
    for _ in range(300):
        rt.v[7] = rnd.choice((0, -1, 1, 2**31 - 1, -(2**31), rnd.randrange(-(2**31), 2**31)))
        rt.v[8] = struct.unpack(">f", struct.pack(">I", rnd.randrange(2**32)))[0]
        rt.v[0] = rnd.random() < 0.5
        for i in (0, 2, 6, 7, 8):
            n = dev.var_word32(i)
            assert (dev.var_half(i, True), dev.var_half(i, False)) == (n >> 16, n & 0xFFFF)
        word = rnd.randrange(2**32)
        ask(s, 16, u16(2048, 2), 4, u16(word >> 16, word))
        assert rt.get("total") == struct.unpack(">i", struct.pack(">I", word))[0]
        ask(s, 6, u16(2051, word & 0xFFFF))
        ask(s, 6, u16(2050, word >> 16))
        if math.isnan(rt.get("ratio")):
            assert word & 0x7F800000 == 0x7F800000 and word & 0x7FFFFF  # a NaN was written
        else:
            assert struct.pack(">f", rt.get("ratio")) == struct.pack(">I", word)


def test_counter_example_of_the_docs():
    """docs/modbus.md, "How the counters count", step by step."""
    _rt, server = rtu_server()
    ask_rtu(server, 1, 8, u16(M.DIAG_CLEAR, 0))
    for _ in range(5):
        ask_rtu(server, 1, 3, u16(1024, 1))
    for _ in range(2):
        assert server.handle(rtu(1, bytes([3]) + u16(1024, 1))[:-1] + b"\x00") is None
    for _ in range(3):
        ask_rtu(server, 1, 3, u16(1025, 1))
    ask_rtu(server, 9, 3, u16(1024, 1))  # another unit: only in 0B
    assert counter(server, M.DIAG_BUS_MESSAGES) == 9 + 1
    assert counter(server, M.DIAG_BUS_ERRORS) == 2
    assert counter(server, M.DIAG_EXCEPTIONS) == 3
    assert ask_rtu(server, 1, 11) == bytes([11]) + u16(0, 8)


def test_rtu_frame_longer_than_256_bytes_is_an_overrun_even_with_a_good_crc():
    _rt, server = rtu_server()
    frame = rtu(1, bytes([8]) + u16(0) + bytes(252))  # 258 bytes, query data
    assert len(frame) == 258 and server.handle(frame) is None
    assert counter(server, M.DIAG_OVERRUNS) == 1
    assert counter(server, M.DIAG_BUS_ERRORS) == 1
    longest = rtu(1, bytes([8]) + u16(0) + bytes(250))  # 256 bytes: the longest RTU frame
    assert server.handle(longest) == longest


def test_a_failure_behind_fc7_answers_04_and_the_line_keeps_serving():
    _rt, server = rtu_server()

    def broken():
        raise RuntimeError("status unavailable")

    server.pdu.device.exception_status = broken
    assert ask_rtu(server, 1, 7) == bytes([0x87, 4])
    assert server.pdu.failures == 1
    assert counter(server, M.DIAG_EXCEPTIONS) == 1
    assert ask_rtu(server, 1, 3, u16(1024, 1)) == bytes([3, 2]) + u16(500)
