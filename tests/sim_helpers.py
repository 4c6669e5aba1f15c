"""`rung sim` in a child process for the serving tests: its TCP port, its output lines as
they come, its CPU time, and a stop by signal that says how long the child took to exit.
Plus a socat pty pair that can be killed and started again."""

import os
import re
import signal
import subprocess
import sys
import threading
import time

from conftest import ROOT, need_tool

from rung.procnet import listening_port


def clock_program(path, n_ints=61, cycle="20ms"):
    """A program whose block 0 (an RTO that always runs) is the emulator's own clock: its
    ET is the virtual time of the last scan. Variable 0 is a dint; n_ints ints follow."""
    lines = [
        "program clock",
        f"cycle {cycle}",
        "var n : dint at %MD0",
        "timer clk : RTO = 24h",
        *(f"var x{i} : int" for i in range(n_ints)),
        "rung: true -> clk, n := n + 1",
    ]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


class Sim:
    """A running `rung sim PROGRAM ARGS...` (the caller gives --tcp and/or --rtu).

    outputs: (stdout, stderr) of the child, e.g. the write ends of pipes the test never
    reads, instead of pipes read here line by line; the TCP port is then found in /proc."""

    def __init__(self, program, *args, preexec_fn=None, outputs=None):
        out, err = outputs or (subprocess.PIPE, subprocess.PIPE)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rung.cli", "sim", program, "--status-interval", "0", *args],
            stdout=out,
            stderr=err,
            text=True,
            cwd=ROOT,
            preexec_fn=preexec_fn,
        )
        self.lines = {"out": [], "err": []}
        self._changed = threading.Condition()
        self._readers = [] if outputs else [
            threading.Thread(target=self._read, args=(self.proc.stdout, "out"), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, "err"), daemon=True),
        ]
        for t in self._readers:
            t.start()
        self.port = None
        if "--tcp" in args and outputs:
            deadline = time.monotonic() + 20
            while True:
                self.port = listening_port(self.proc.pid)
                if self.port:
                    break
                assert self.proc.poll() is None, f"rung sim ended ({self.proc.returncode})"
                assert time.monotonic() < deadline, "rung sim never listened"
                time.sleep(0.01)  # polling /proc: the child says nothing we read
        elif "--tcp" in args:
            m = self.wait_line("out", r"Modbus TCP listening on 127\.0\.0\.1:(\d+)")
            self.port = int(m.group(1))
        if "--rtu" in args and not outputs:
            self.wait_line("out", r"Modbus RTU on ")

    def _read(self, stream, name):
        for line in stream:
            with self._changed:
                self.lines[name].append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines[name].append(None)  # end of the stream
            self._changed.notify_all()

    def wait_line(self, stream, pattern, timeout=20):
        """The first line of stdout ("out") or stderr ("err") matching pattern."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines[stream]:
                    if line is None:
                        raise AssertionError(
                            f"rung sim ended without printing {pattern!r}: " + self.text()
                        )
                    m = re.search(pattern, line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"rung sim never printed {pattern!r}: " + self.text())
                self._changed.wait(left)

    def count(self, stream, pattern):
        """How many lines so far match pattern."""
        with self._changed:
            return sum(1 for x in self.lines[stream] if x is not None and re.search(pattern, x))

    def text(self):
        with self._changed:
            return "\n".join(x for x in self.lines["out"] + self.lines["err"] if x is not None)

    def stderr(self):
        with self._changed:
            return "\n".join(x for x in self.lines["err"] if x is not None)

    def cpu_seconds(self):
        """User + system CPU time the child has used so far (Linux /proc)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Send sig; returns the seconds until the child exited."""
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        finally:
            elapsed = time.monotonic() - t0
            self.close()
        return elapsed

    def close(self):
        """Kill the child if it still runs (only this PID) and collect its output."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for t in self._readers:
            t.join(10)


def runqueue_wait(pid=None, tid=None):
    """Seconds a thread has spent ready to run but waiting for a CPU (Linux schedstat):
    delay that other processes on the machine cause, not the thread itself. 0.0 where the
    kernel does not say. Default: the calling thread."""
    if pid is None:
        pid, tid = os.getpid(), threading.get_native_id()
    try:
        with open(f"/proc/{pid}/task/{tid or pid}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


_FLOOD = r"""
import socket, struct, sys, threading
port, n, fc, address, count, reply = map(int, sys.argv[1:])
s = socket.create_connection(("127.0.0.1", port))
data = b"".join(
    struct.pack(">HHHBBHH", i & 0xFFFF, 0, 6, 1, fc, address, count) for i in range(n)
)
print("sending", flush=True)
threading.Thread(target=s.sendall, args=(data,), daemon=True).start()
got = 0
while got < n * reply:
    chunk = s.recv(65536)
    if not chunk:
        break
    got += len(chunk)
print(got, flush=True)
"""


class Flood:
    """A child process that sends n requests (FC fc, address, count) in one sendall on one
    connection and reads the answers; `received()` is the bytes of answers it got."""

    def __init__(self, port, n, fc, address, count):
        reply = 9 + 2 * count if fc in (3, 4) else 12
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _FLOOD, *map(str, (port, n, fc, address, count, reply))],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "sending"

    def running(self):
        return self.proc.poll() is None

    def received(self):
        out, _ = self.proc.communicate(timeout=60)
        return int(out.strip() or 0)

    def close(self):
        """Kill the child if it still runs (only this PID)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


class PtyPair:
    """socat linking two ptys at paths a and b; stop() and start() it again at will."""

    def __init__(self, directory):
        need_tool("socat")
        self.a = os.path.join(directory, "ttyA")
        self.b = os.path.join(directory, "ttyB")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={self.a}", f"pty,raw,echo=0,link={self.b}"],
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not (os.path.exists(self.a) and os.path.exists(self.b)):
            assert time.monotonic() < deadline, "socat did not create the pty pair"
            assert self.proc.poll() is None, "socat ended"
            time.sleep(0.01)  # waiting for socat to start, not for logic

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None
