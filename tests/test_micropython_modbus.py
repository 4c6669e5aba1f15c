"""FC 22, 17, 7, 8, 11 and the serial-line counters under real MicroPython: byte-identical
answers to CPython's, and FC 22 allocates nothing."""

from conftest import ROOT  # noqa: F401 - puts the tests folder first for the helpers
from modbus_helpers import PROGRAM, make_server, mbap, rtu, u16
from mpy import run_mpy

import rung
from rung.runtime import modbus_map as M
from rung.runtime.modbus_rtu import RtuFramer, RtuServer
from rung.runtime.modbus_tcp import MbapConnection

# (unit, PDU) of RTU requests; None: a frame with a bad CRC; bytes: a raw frame
RTU_REQUESTS = [
    (1, bytes([22]) + u16(1024, 0x00F2, 0x0025)),
    (1, bytes([22]) + u16(0, 0, 0xBEEF)),
    (1, bytes([22]) + u16(2048, 0x00FF, 0x1200)),
    (1, bytes([22]) + u16(2049, 0, 0xFFFE)),
    (1, bytes([22]) + u16(2050, 0xFF00, 0x0040)),
    (1, bytes([22]) + u16(M.HR_COMMAND, 0, M.CMD_STOP)),
    (1, bytes([17])),
    (1, bytes([22]) + u16(M.HR_COMMAND, 0, M.CMD_RUN)),
    (1, bytes([22]) + u16(M.HR_COMMAND, 0, 99)),
    (1, bytes([22]) + u16(M.HR_FORCE + 2, 0, 777)),
    (1, bytes([22]) + u16(5000, 0, 1)),
    (1, bytes([22]) + u16(1024, 0)),
    (0, bytes([22]) + u16(1024, 0, 3)),
    (1, bytes([17])),
    (1, bytes([17, 0])),
    (1, bytes([7])),
    (1, bytes([7, 1])),
    (0, bytes([7])),
    (1, bytes([8]) + u16(0, 0xA55A)),
    (1, bytes([8]) + u16(0) + bytes(range(40))),
    (1, bytes([8]) + u16(0, 1) + b"\x02"),
    (1, bytes([8]) + u16(0x02, 0)),
    (1, bytes([8]) + u16(0x0B, 1)),
    (2, bytes([3]) + u16(1024, 1)),
    None,
    b"\x01\x08",
    (1, bytes([16]) + u16(M.HR_COMMAND, 3) + bytes([6]) + u16(99, 0, 0)),
    (1, bytes([43, 13, 0, 1, 2])),
    (1, bytes([43, 14, 1, 0])),
    (1, bytes([11])),
]
RTU_REQUESTS += [(1, bytes([8]) + u16(sub, 0)) for sub in range(0x0B, 0x13)]
RTU_REQUESTS += [
    (1, bytes([11])),
    (1, bytes([8]) + u16(0x01, 0xFF00)),
    (1, bytes([8]) + u16(0x0B, 0)),
    (1, bytes([8]) + u16(0x0A, 0)),
    (1, bytes([11])),
    (1, bytes([11, 0])),
]
TCP_REQUESTS = [
    bytes([22]) + u16(1024, 0xFFFF, 0),
    bytes([17]),
    bytes([7]),
    bytes([8]) + u16(0x0B, 0),
    bytes([11]),
    bytes([43, 13]),
]


def frames():
    out = []
    for r in RTU_REQUESTS:
        if r is None:
            good = rtu(1, bytes([3]) + u16(1024, 1))
            out.append(good[:-1] + bytes([good[-1] ^ 0xFF]))
        elif isinstance(r, bytes):
            out.append(r)
        else:
            out.append(rtu(*r))
    return out


def answers(server, framer, tcp):
    """The lines both interpreters print: every answer, then the counters."""
    lines = []
    for f in frames():
        resp = server.handle(f)
        lines.append("none" if resp is None else resp.hex())
    framer.feed(bytes([1, 0x41]) + bytes(300))  # an overrun
    framer.silence()
    lines.append(tcp.hex())
    lines.append(" ".join(str(c) for c in server.counters) + " events %d" % server.events)
    return lines


SCRIPT = """
import micropython
from runtime import Runtime
from runtime.modbus_device import ModbusDevice
from runtime.modbus_pdu import PduServer
from runtime.modbus_rtu import RtuFramer, RtuServer
from runtime.modbus_tcp import MbapConnection
rt = Runtime({code!r})
rt.scan(0)
pdu = PduServer(ModbusDevice(rt, "test"))
server = RtuServer(pdu, 1)
framer = RtuFramer(server=server)
for f in {frames!r}:
    resp = server.handle(f)
    print("none" if resp is None else resp.hex())
framer.feed(bytes([1, 0x41]) + bytes(300))
framer.silence()
print(MbapConnection(pdu).feed({tcp!r}).hex())
print(" ".join(str(c) for c in server.counters) + " events %d" % server.events)
# FC 22 on registers of every kind but the forcing ones, and its exceptions, heap-locked
reqs = {locked!r}
out = bytearray(260)
n = 0
lengths = []
for r in reqs:
    micropython.heap_lock()
    try:
        n = pdu.process(r, len(r), out)
    finally:
        micropython.heap_unlock()
    lengths.append(n)
print("locked", lengths, pdu.failures, rt.get("setp"), rt.get("speed"), rt.get("total"))
"""

# %MW, %QW, %MD dint halves, the command register (clear math_error), then 02 and 03
LOCKED = [
    bytes([22]) + u16(1024, 0xFF00, 0x0077),
    bytes([22]) + u16(0, 0, 0x7FFF),
    bytes([22]) + u16(2048, 0, 0x0001),
    bytes([22]) + u16(2049, 0xFF00, 0x0002),
    bytes([22]) + u16(M.HR_COMMAND, 0, M.CMD_CLEAR_MATH_ERROR),
    bytes([22]) + u16(1025, 0, 1),
    bytes([22]) + u16(M.HR_COMMAND, 0, 99),
    bytes([22]) + u16(1024, 0),
]


def test_new_function_codes_identical_under_micropython_and_fc22_allocation_free():
    code = rung.compile_source(PROGRAM, "plant.rung").to_bytes()
    tcp = b"".join(mbap(20 + k, 1, p) for k, p in enumerate(TCP_REQUESTS))
    rt, pdu = make_server()
    rt.scan(0)
    server = RtuServer(pdu, 1)
    expected = answers(server, RtuFramer(server=server), MbapConnection(pdu).feed(tcp))
    for r in LOCKED:
        out = bytearray(260)
        pdu.process(r, len(r), out)
    assert pdu.failures == 0
    want_locked = (
        f"locked [7, 7, 7, 7, 7, 2, 2, 2] 0 {rt.get('setp')} {rt.get('speed')} "
        f"{rt.get('total')}"
    )
    script = SCRIPT.format(code=code, frames=frames(), tcp=tcp, locked=LOCKED)
    got = run_mpy(script).splitlines()
    assert got[:-1] == expected
    assert got[-1] == want_locked
    # the run actually exercised what it claims: answers, silence and exceptions
    assert "none" in expected and any(line.startswith("0196") for line in expected)
