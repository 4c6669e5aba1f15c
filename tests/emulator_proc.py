"""Run `rung sim` as a child process for the supervisor tests: started on port 0 (or a
given one), its PID kept, and stopped (only that PID) at the end."""

import os
import re
import selectors
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNG = [sys.executable, "-m", "rung.cli"]


class Emulator:
    """`rung sim PROGRAM ...`; .port is the TCP port it listens on (None for RTU only)."""

    def __init__(self, program, *extra, tcp="127.0.0.1:0", rtu=None, baud=115200):
        args = [*RUNG, "sim", program, "--status-interval", "0", *extra]
        if tcp:
            args += ["--tcp", tcp]
        if rtu:
            args += ["--rtu", rtu, "--baud", str(baud)]
        self.proc = subprocess.Popen(
            args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self.port = None
        self.output = ""
        self._wait_ready(tcp, rtu)

    def _wait_ready(self, tcp, rtu, timeout=20):
        fd = self.proc.stdout.fileno()
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not sel.select(timeout=0.2):
                    if self.proc.poll() is not None:
                        break
                    continue
                data = os.read(fd, 65536)  # not readline: text buffering hides lines
                if not data:
                    break
                self.output += data.decode(errors="replace")
                m = re.search(r"Modbus TCP listening on \S+:(\d+)", self.output)
                if m:
                    self.port = int(m.group(1))
                if (not rtu or "Modbus RTU on" in self.output) and (not tcp or m):
                    return
        finally:
            sel.close()
        self.stop()
        raise RuntimeError("the emulator did not start:\n" + self.output)

    def kill(self):
        """A power cut: SIGKILL, by PID."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()
