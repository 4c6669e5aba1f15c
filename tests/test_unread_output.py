"""`rung sim` and `rung vboard` print status lines while they serve. With their stdout and
stderr on pipes nobody reads (full after 64 KB) or whose reader is gone (EPIPE), they go
on serving Modbus and stop on SIGTERM within a second: a line without room is dropped,
never waited for (rung/lineout.py). The pipes are read by nobody while the child runs;
the TCP port is found in /proc."""

import fcntl
import os
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest
from conftest import ROOT, need
from sim_helpers import Sim, clock_program
from test_modbus_serving import emulator_clock

from rung.runtime import modbus_map as M


def buffered(fd):
    """Bytes waiting in a pipe, read end fd (FIONREAD: nothing is consumed)."""
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


def capacity(fd):
    return fcntl.fcntl(fd, getattr(fcntl, "F_GETPIPE_SZ", 1032))


def wait_full(fd, proc, what):
    """Poll until the child has (nearly) filled the pipe: a writer that waits for room
    would soon block. Not to the last byte: a kernel may stop a writer a page or two early
    (lines do not span pages)."""
    full = capacity(fd) * 3 // 4
    deadline = time.monotonic() + 60
    while buffered(fd) < full:
        assert proc.poll() is None, f"{what} ended ({proc.returncode})"
        assert time.monotonic() < deadline, f"{what} wrote {buffered(fd)} bytes, not {full}"
        time.sleep(0.01)  # polling the pipe's fill


@pytest.mark.parametrize("wiring", ["separate pipes", "one pipe (2>&1)", "readers closed"])
def test_sim_serves_and_stops_with_output_nobody_reads(tmp_path, wiring):
    from pymodbus.client import ModbusTcpClient

    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe() if wiring != "one pipe (2>&1)" else (out_r, out_w)
    size = capacity(err_r)
    if wiring == "readers closed":
        os.close(out_r)
        os.close(err_r)
    # a status line every millisecond: about 85 KB a second, the pipe is full within one
    program = clock_program(tmp_path / "c.rung", n_ints=0, cycle="10ms")
    sim = Sim(program, "--tcp", "127.0.0.1:0", "--status-interval", "0.001",
              outputs=(out_w, err_w))
    for fd in {out_w, err_w}:
        os.close(fd)  # the child holds them now
    client = ModbusTcpClient("127.0.0.1", port=sim.port, timeout=5, retries=0)
    try:
        assert client.connect()
        if wiring != "readers closed":
            wait_full(err_r, sim.proc, "rung sim")
        # 500 scans of 10 ms after that: about 500 status lines more even on a machine
        # so loaded that a 1 ms sleep lasts 10; the old prints blocked at the first one
        _ms, scans0 = emulator_clock(client)
        deadline = time.monotonic() + 60
        while emulator_clock(client)[1] < scans0 + 500:
            assert time.monotonic() < deadline, "the scans stalled"
        regs = client.read_input_registers(M.IR_STATUS, count=M.STATUS_SIZE, device_id=1)
        assert not regs.isError() and regs.registers[M.ST_STATE] == 1
        client.close()
        assert sim.stop(signal.SIGTERM) < 1.0
    finally:
        client.close()
        sim.close()
    assert sim.proc.returncode == 0
    if wiring == "readers closed":
        return
    # the child is gone: now what it wrote can be read
    os.set_blocking(out_r, False)
    text = b""
    for fd in {out_r, err_r}:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            text += chunk
        os.close(fd)
    text = text.decode(errors="replace")
    assert "Traceback" not in text
    if wiring == "separate pipes":
        assert "rung sim: stopped after" in text  # stdout had room: nothing was lost
        dropped = int(text.split(" lines of stderr dropped")[0].rsplit(" ", 1)[1])
        line = len(next(x for x in text.splitlines() if x.startswith("RUN ")))
        # what the old prints would have written: the pipe, and as much again at least
        assert dropped * line > size, (dropped, line, size)


def test_vboard_takes_commands_serves_and_stops_with_output_nobody_reads(tmp_path):
    from pymodbus.client import ModbusSerialClient
    from pymodbus.exceptions import ModbusException

    from rung.vboard.board import VboardError, micropython_command

    try:
        micropython_command()
    except VboardError as exc:
        need(False, f"virtual board unavailable: {exc}")
    src = tmp_path / "echo.rung"
    src.write_text("program echo\ninput a : bool at %IX0.0\noutput q : bool at %QX0.0\n"
                   "rung: a -> q\n")
    link = tmp_path / "rtu"
    err_r, err_w = os.pipe()
    out_r, out_w = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rung.cli", "vboard", "pico", "--dir", str(tmp_path / "flash"),
         "--program", str(src), "--rtu", str(link)],
        stdin=subprocess.PIPE, stdout=out_w, stderr=err_w, cwd=ROOT)
    os.close(err_w)
    os.close(out_w)
    client = None
    try:
        deadline = time.monotonic() + 60
        while not os.path.islink(link):
            assert proc.poll() is None and time.monotonic() < deadline, "no RTU link"
            time.sleep(0.01)  # polling for the link the board makes
        client = ModbusSerialClient(str(link), baudrate=19200, timeout=1, retries=0)
        assert client.connect()

        def coil():
            try:
                r = client.read_coils(0, count=1, device_id=1)
            except ModbusException:  # no answer yet: the board is booting
                return None
            return None if r.isError() else r.bits[0]

        while coil() is not False:  # the PLC runs, its output off
            assert proc.poll() is None and time.monotonic() < deadline, "the PLC never ran"
        # 3000 status lines asked for (about 300 KB of answers on stderr), then an input
        proc.stdin.write(b"status\n" * 3000)
        proc.stdin.flush()
        wait_full(err_r, proc, "rung vboard")
        proc.stdin.write(b"set %IX0.0 1\n")
        proc.stdin.flush()
        # taken after all 3000: the control interface never waited for stderr's reader
        while coil() is not True:
            assert proc.poll() is None and time.monotonic() < deadline, "the set was not taken"
        client.close()
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        assert time.monotonic() - t0 < 1.0
        assert not os.path.lexists(link)  # stopped as after Ctrl-C: the links are gone
    finally:
        if client is not None:
            client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
        os.close(err_r)
        os.close(out_r)


def test_lineout_drops_what_a_full_pipe_has_no_room_for_and_stops_at_a_closed_one():
    from rung.lineout import LineOut

    r, w = os.pipe()
    with os.fdopen(w, "w") as stream:
        out = LineOut(stream)
        assert not out.tty
        line = "x" * 99 + "\n"
        written = 0
        while out.write(line):  # never blocks: the loop ends when the pipe is full
            written += 1
            assert written < 10 * capacity(r) // len(line)
        assert out.dropped == 1 and not out.closed
        assert buffered(r) == written * len(line) >= capacity(r) * 3 // 4
        os.read(r, capacity(r))  # the reader catches up: lines go through again
        assert out.write(line) and out.dropped == 1
        os.close(r)  # the reader is gone: EPIPE, then silence, never an exception
        assert not out.write(line) and out.closed
        assert not out.write(line) and out.dropped == 1


def test_lineout_on_a_stream_without_a_descriptor_writes_through():
    import io

    from rung.lineout import LineOut

    s = io.StringIO()
    out = LineOut(s)
    assert out.fd is None and out.write("one\n") and s.getvalue() == "one\n"
    s.close()
    assert not out.write("two\n") and out.closed
