"""A small program and raw-frame helpers shared by the Modbus tests."""

import asyncio
import contextlib
import os
import shutil
import struct
import subprocess
import tempfile
import time

import rung
from rung.runtime import Runtime
from rung.runtime.modbus_device import ModbusDevice
from rung.runtime.modbus_pdu import PduServer
from rung.runtime.modbus_rtu import crc16

PROGRAM = """program plant
input  start   : bool at %IX0.0
input  stop    : bool at %IX0.1
input  level   : int  at %IW0
output motor   : bool at %QX0.0
output lamp    : bool at %QX0.1
output speed   : int  at %QW0
var    setp   : int = 500 at %MW0
var    total   : dint = -2 at %MD0
var    ratio   : real = 1.5 at %MD1
const  K = 3
timer  t : TON = 1s
counter c : CTU = 3
rung: (start or motor) and not stop -> motor
rung: level > setp -> lamp
rung: motor -> t, speed := level / 2
rung: rising start -> count c, total := total + 1
"""
# variable indices: 0 start, 1 stop, 2 level, 3 motor, 4 lamp, 5 speed, 6 setp, 7 total,
# 8 ratio, 9 K


def make_server(**policy):
    rt = Runtime(rung.compile_source(PROGRAM, "plant.rung").to_bytes())
    dev = ModbusDevice(rt, "test", **policy)
    return rt, PduServer(dev)


def ask(server, *parts):
    """Send a PDU given as bytes/ints; return the response PDU bytes."""
    req = b"".join(p if isinstance(p, bytes) else bytes([p]) for p in parts)
    out = bytearray(260)
    n = server.process(req, len(req), out)
    return bytes(out[:n])


def u16(*values):
    return b"".join(struct.pack(">H", v & 0xFFFF) for v in values)


def rtu(unit, pdu):
    frame = bytes([unit]) + pdu
    crc = crc16(frame)
    return frame + bytes([crc & 0xFF, crc >> 8])


def mbap(tid, unit, pdu):
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


@contextlib.contextmanager
def socat_pty_pair():
    """Two linked ptys from socat (a virtual serial line); yields their paths, stops socat."""
    d = tempfile.mkdtemp()
    a, b = os.path.join(d, "ttyA"), os.path.join(d, "ttyB")
    proc = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not (os.path.exists(a) and os.path.exists(b)):
            assert time.monotonic() < deadline, "socat did not create the pty pair"
            time.sleep(0.02)  # waiting for socat to start, not for logic
        yield a, b
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


async def run_mbpoll(*args):
    """Run mbpoll without blocking the event loop; returns (exit code, stdout + stderr)."""
    proc = await asyncio.create_subprocess_exec(
        "mbpoll", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    return proc.returncode, out.decode() + err.decode()
