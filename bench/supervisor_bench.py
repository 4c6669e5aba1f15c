"""Whole-state refresh rate of the supervisor against the emulator (docs/supervisor.md).

A 200-rung program (bench/programs.py `mixed`: comparisons, arithmetic, timers, counters)
runs in `rung sim`; the supervisor's Session refreshes status, every variable, every block,
power flow and forcing again and again. References: the same FC4 reads issued bare with
pymodbus (what the supervisor's own work costs on top), and for RTU the time those frames
take on a real 115200-baud line (a socat pty pair does not pace bytes to the baud rate).

    .venv/bin/python bench/supervisor_bench.py [--seconds 5] [--no-rtu]
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

import programs  # noqa: E402
from emulator_proc import Emulator  # noqa: E402

import rung  # noqa: E402
from rung.runtime import modbus_map as M  # noqa: E402
from rung.supervisor.link import Link, chunks  # noqa: E402
from rung.supervisor.program import load_program  # noqa: E402
from rung.supervisor.session import Session  # noqa: E402
from rung.supervisor.target import parse_target  # noqa: E402

BAUD = 115200


def plan(prog):
    """The (address, count) reads of one refresh, as the session issues them."""
    n_vars, n_blocks, n_rungs = prog.counts()
    reads = chunks(M.IR_STATUS, M.STATUS_SIZE)
    reads += chunks(M.IR_VARS, 2 * n_vars)
    reads += chunks(M.IR_BLOCKS, M.BLOCK_REGS * n_blocks)
    reads += chunks(M.IR_POWER, (n_rungs + 15) // 16)
    reads += chunks(M.IR_FORCED, (n_vars + 15) // 16)
    return reads


def wire_seconds(reads, baud=BAUD):
    """Time of the RTU frames of one refresh on a real line, 8N1, with 3.5-character gaps."""
    char = 10 / baud
    gap = 0.00175 if baud > 19200 else 3.5 * char
    total = 0.0
    for _addr, n in reads:
        total += 8 * char + gap + (5 + 2 * n) * char + gap
    return total


async def rate(target_text, prog, seconds):
    target = parse_target(target_text)
    session = Session(target, prog, link=Link(target, timeout=2))
    snap = await session.refresh()
    if not snap.connected or not snap.matched:
        raise SystemExit(f"no match with the emulator: {snap.error}")
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        snap = await session.refresh()
        assert snap.connected, snap.error
        n += 1
    hz = n / (time.perf_counter() - t0)
    # bare pymodbus: the same reads, nothing decoded
    client = session.link.client
    reads = plan(prog)
    m = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for addr, count in reads:
            await client.read_input_registers(addr, count=count, device_id=target.unit)
        m += 1
    bare = m / (time.perf_counter() - t0)
    session.link.close()
    return hz, bare, snap.requests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--no-rtu", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    try:
        # 134 generated rungs make 200: timer and counter rungs come in pairs
        src, _hand, _ni, _no = programs.mixed(134)
        path = os.path.join(tmp, "mixed200.rbc")
        with open(path, "wb") as f:
            f.write(rung.compile_source(src, "mixed200.rung").to_bytes())
        prog = load_program(path)
        n_vars, n_blocks, n_rungs = prog.counts()
        assert n_rungs == 200, n_rungs
        reads = plan(prog)
        print(f"program: {n_rungs} rungs, {n_vars} variables, {n_blocks} timers/counters")
        print(f"one refresh: {len(reads)} FC4 reads, {sum(c for _, c in reads)} registers")
        emu = Emulator(path)
        try:
            hz, bare, requests = asyncio.run(rate(f"tcp:127.0.0.1:{emu.port}", prog, args.seconds))
        finally:
            emu.stop()
        assert requests == len(reads)
        print(
            f"TCP: {hz:.1f} refreshes/s (bare pymodbus, same reads: {bare:.1f}/s, "
            f"ratio {hz / bare:.2f}); target >= 10"
        )
        wire = wire_seconds(reads)
        print(
            f"RTU at {BAUD} baud on a real line: {wire * 1000:.1f} ms of frames per refresh, "
            f"at most {1 / wire:.1f} refreshes/s"
        )
        socat = shutil.which("socat")
        if args.no_rtu or not socat:
            return
        a, b = os.path.join(tmp, "ttyA"), os.path.join(tmp, "ttyB")
        pair = subprocess.Popen(
            [socat, f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 5
            while not (os.path.exists(a) and os.path.exists(b)):
                if time.monotonic() > deadline:
                    raise SystemExit("socat made no pty pair")
                time.sleep(0.02)
            emu = Emulator(path, tcp=None, rtu=a, baud=BAUD)
            try:
                hz, bare, _ = asyncio.run(rate(f"rtu:{b}@{BAUD}/1", prog, args.seconds))
            finally:
                emu.stop()
        finally:
            pair.terminate()
            pair.wait(5)
        print(
            f"RTU over a socat pty pair (not paced to the baud rate): {hz:.1f} refreshes/s "
            f"(bare pymodbus: {bare:.1f}/s); a real {BAUD}-baud line caps it at "
            f"{min(hz, 1 / wire):.1f}/s"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
