"""Modbus TCP: requests/s and latency of `rung sim` against pymodbus's own server holding the
same data (100 holding registers, 1,000 coils), with the same client, in one run.

Run: .venv/bin/python bench/modbus_bench.py [--quick]
Each server runs in its own process; the client is a plain asyncio Modbus TCP client (one
request in flight per connection), 1 and 8 connections. The two servers take turns on each
configuration. Client and server share the machine's cores, so absolute figures are the
machine's; the ratio is the figure to compare."""

import argparse
import asyncio
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
N_COILS, N_REGS = 1000, 100

PYMODBUS_SERVER = f"""
import asyncio, logging
logging.disable(logging.CRITICAL)
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

def block(n, kind):
    zero = False if kind == DataType.BITS else 0
    return [SimData(0, values=[zero] * n, datatype=kind)]

async def main():
    bits, regs = DataType.BITS, DataType.REGISTERS
    device = SimDevice(
        id=1,
        simdata=(block({N_COILS}, bits), block(1, bits), block({N_REGS}, regs), block(1, regs)),
    )
    server = ModbusTcpServer(device, address=("127.0.0.1", 0))
    await server.serve_forever(background=True)
    print("Modbus TCP listening on 127.0.0.1:%d" % server.transport.sockets[0].getsockname()[1],
          flush=True)
    await server.serving

asyncio.run(main())
"""


def rung_program():
    """The same data as a Rung program: 1,000 %QX outputs (coils), 100 %QW (registers)."""
    lines = ["program modbus_bench", "cycle 10ms", "input run : bool at %IX0.0"]
    lines += [f"output c{k} : bool at %QX{k // 8}.{k % 8}" for k in range(N_COILS)]
    lines += [f"output r{k} : int at %QW{k}" for k in range(N_REGS)]
    lines += ["rung: run -> c0"]
    return "\n".join(lines) + "\n"


class Server:
    """A server process; its port is read from its first lines. Stopped by its PID."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
        )
        deadline = time.monotonic() + 60
        self.port = None
        while self.port is None and time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"Modbus TCP listening on 127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
        if self.port is None:
            self.stop()
            raise RuntimeError(f"server did not start: {argv}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def _connection(port, pdu, n, latencies):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for tid in range(n):
            frame = struct.pack(">HHHB", tid & 0xFFFF, 0, len(pdu) + 1, 1) + pdu
            t0 = time.perf_counter()
            writer.write(frame)
            head = await reader.readexactly(7)
            body = await reader.readexactly(struct.unpack(">H", head[4:6])[0] - 1)
            latencies.append(time.perf_counter() - t0)
            if body[0] & 0x80:
                raise RuntimeError(f"exception {body[1]} from the server")
    finally:
        writer.close()


async def _load(port, pdu, clients, total):
    latencies = []
    per = total // clients
    t0 = time.perf_counter()
    await asyncio.gather(*(_connection(port, pdu, per, latencies) for _ in range(clients)))
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


REQUESTS = (
    ("FC3: 100 holding registers", struct.pack(">BHH", 3, 0, N_REGS)),
    ("FC1: 1,000 coils", struct.pack(">BHH", 1, 0, N_COILS)),
)


def run(total=4000):
    """Rows (request, clients, server, figures) for both servers, taking turns."""
    with tempfile.TemporaryDirectory() as tmp:
        prog = os.path.join(tmp, "modbus_bench.rung")
        with open(prog, "w") as f:
            f.write(rung_program())
        servers = {
            "rung sim": Server(
                [sys.executable, "-m", "rung.cli", "sim", prog, "--tcp", "127.0.0.1:0"]
            ),
            "pymodbus server": Server([sys.executable, "-c", PYMODBUS_SERVER]),
        }
        rows = []
        try:
            for label, pdu in REQUESTS:
                for clients in (1, 8):
                    for name, server in servers.items():
                        figures = asyncio.run(_load(server.port, pdu, clients, total))
                        rows.append((label, clients, name, figures))
        finally:
            for server in servers.values():
                server.stop()
    return rows


def table(rows):
    out = [
        "| request | clients | server | requests/s | p50 | p99 |",
        "|---|---|---|---|---|---|",
    ]
    for label, clients, name, f in rows:
        out.append(
            f"| {label} | {clients} | {name} | {f['rps']:,.0f} | {f['p50']:.2f} ms | "
            f"{f['p99']:.2f} ms |"
        )
    return "\n".join(out)


def ratios(rows):
    """(request, clients, rung requests/s / pymodbus requests/s)."""
    by = {(r[0], r[1], r[2]): r[3]["rps"] for r in rows}
    return [
        (label, c, by[(label, c, "rung sim")] / by[(label, c, "pymodbus server")])
        for label, c, name, _f in rows
        if name == "rung sim"
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a few requests (tests)")
    rows = run(16 if ap.parse_args().quick else 4000)
    print(table(rows))


if __name__ == "__main__":
    main()
