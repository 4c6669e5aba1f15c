"""`rung demo` (what `make demo` runs): the tank example in the emulator with the web HMI
on it; Ctrl-C stops both."""

import os
import re
import selectors
import signal
import subprocess
import sys
import time

from rung.errors import CommandError

EXAMPLE = "tank.rung"


def _examples_dir():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(here, "examples")


def add_arguments(parser):
    parser.add_argument(
        "--no-sim", action="store_true", help="only compile and show the program, do not serve it"
    )
    parser.add_argument("--tcp", default="127.0.0.1:5020", help="Modbus TCP address to serve")
    parser.add_argument(
        "--listen", default="127.0.0.1:8080", help="where the HMI page is served (HOST:PORT)"
    )


def _start_emulator(rel, tcp):
    """`rung sim` as a child process; returns (process, its TCP port)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "rung.cli", "sim", rel, "--tcp", tcp, "--status-interval", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    fd = proc.stdout.fileno()
    out = b""
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if sel.select(0.2):
                data = os.read(fd, 65536)
                if not data:
                    break
                out += data
                m = re.search(rb"Modbus TCP listening on \S+:(\d+)", out)
                if m:
                    sys.stdout.write(out.decode(errors="replace"))
                    return proc, int(m.group(1))
    finally:
        sel.close()
    _stop(proc)
    text = out.decode(errors="replace").strip().splitlines()
    raise CommandError("the emulator did not start: " + (text[-1] if text else "no output"))


def _stop(proc):
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
    proc.stdout.close()


def run(args):
    from rung.cli import main as rung_main

    path = os.path.join(_examples_dir(), EXAMPLE)
    if not os.path.exists(path):
        raise CommandError("example program not found: " + path)
    rel = os.path.relpath(path)
    print("== Rung demo: " + rel + " ==\n")
    if args.no_sim:
        code = rung_main(["draw", rel])
        return code or rung_main(["dis", rel])
    print("Starting the emulator and the HMI; stop both with Ctrl-C.\n", flush=True)
    proc, port = _start_emulator(rel, args.tcp)
    print(f"emulator PID {proc.pid}", flush=True)
    try:
        return rung_main(
            ["hmi", f"tcp:127.0.0.1:{port}", "--program", rel, "--listen", args.listen]
        )
    finally:
        _stop(proc)
        print("rung demo: emulator stopped", flush=True)
