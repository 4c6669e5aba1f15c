"""`rung sim examples/tank.rung` driven from mbpoll, as the issue's Done-when describes."""

import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import time

import pytest
from conftest import EXAMPLES, ROOT, need_tool

from rung.runtime import modbus_map as M


def start_sim(*extra):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rung.cli",
            "sim",
            os.path.join(EXAMPLES, "tank.rung"),
            "--tcp",
            "127.0.0.1:0",
            "--status-interval",
            "0",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    port = None
    deadline = time.monotonic() + 20
    while port is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"Modbus TCP listening on 127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
    assert port, proc.stderr.read() if proc.poll() is not None else "no port printed"
    return proc, port


def mbpoll(port, *args):
    proc = subprocess.run(
        ["mbpoll", "-m", "tcp", "-p", str(port), *args, "-1", "-o", "2"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    return proc.returncode, proc.stdout + proc.stderr


def read_one(port, table, ref):
    code, out = mbpoll(port, "-t", table, "-r", str(ref), "-c", "1", "127.0.0.1")
    assert code == 0, out
    return int(re.search(r"\[%d\]:\s+(-?\d+)" % ref, out).group(1))


def wait_for(port, table, ref, value, seconds=15):
    """Poll a real-time emulator until a register shows `value` (it scans on its own)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if read_one(port, table, ref) == value:
            return
    raise AssertionError(f"register {ref} never became {value}")


def test_tank_driven_from_mbpoll():
    need_tool("mbpoll")
    proc, port = start_sim()
    try:
        # variables of tank.rung: 0 auto, 1 high_switch, 2 alarm_reset, 3 level, 4 pump
        assert mbpoll(port, "-t", "4", "-r", str(M.HR_MW + 1), "127.0.0.1", "4000")[0] == 0
        assert read_one(port, "4", M.HR_MW + 1) == 4000  # low setpoint written
        assert mbpoll(port, "-t", "4", "-r", str(M.HR_FORCE + 0 + 1), "127.0.0.1", "1")[0] == 0
        assert mbpoll(port, "-t", "4", "-r", str(M.HR_FORCE + 3 + 1), "127.0.0.1", "3500")[0] == 0
        wait_for(port, "0", 1, 1)  # pump (coil 0) starts: level 35 % below the new 40 %
        assert read_one(port, "3", 1) == 3500  # %IW0 shows the forced level
        wait_for(port, "4", 1, 35)  # %QW0 level in percent
        # the forced set is visible in the diagnostic window
        assert read_one(port, "3", M.IR_STATUS + M.ST_FORCED + 1) == 2
        assert mbpoll(port, "-t", "4", "-r", str(M.HR_FORCE + 3 + 1), "127.0.0.1", "9000")[0] == 0
        wait_for(port, "0", 1, 0)  # above the high setpoint: pump stops
        code, out = mbpoll(port, "-t", "1", "-r", "1", "-c", "1", "127.0.0.1")
        assert code == 0  # discrete input %IX0.0 is readable
        code, out = mbpoll(port, "-t", "0", "-r", "9", "-c", "1", "127.0.0.1")
        assert code != 0 and "Illegal data address" in out  # unmapped coil
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "stopped after" in out and "Traceback" not in err


def test_sim_bad_program_and_bad_arguments():
    proc = subprocess.run(
        [sys.executable, "-m", "rung.cli", "sim", "/nonexistent.rung"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rung.cli",
            "sim",
            os.path.join(EXAMPLES, "tank.rung"),
            "--tcp",
            "nonsense",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 1 and "HOST:PORT" in proc.stderr


def test_sim_duration_and_speed():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rung.cli",
            "sim",
            os.path.join(EXAMPLES, "motor.rung"),
            "--tcp",
            "127.0.0.1:0",
            "--speed",
            "10",
            "--duration",
            "0.5",
            "--status-interval",
            "0",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    scans = int(re.search(r"stopped after (\d+) scans", proc.stdout).group(1))
    assert scans > 60  # 0.5 s at x10 with a 10 ms cycle is about 500 virtual ms


def test_sim_over_rtu_driven_from_mbpoll(tmp_path):
    need_tool("mbpoll")
    need_tool("socat")
    a, b = str(tmp_path / "ttyA"), str(tmp_path / "ttyB")
    socat = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not (os.path.exists(a) and os.path.exists(b)):
            assert time.monotonic() < deadline
            time.sleep(0.02)  # waiting for socat to create the ptys
        sim = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rung.cli",
                "sim",
                os.path.join(EXAMPLES, "tank.rung"),
                "--rtu",
                a,
                "--baud",
                "19200",
                "--parity",
                "N",
                "--unit",
                "3",
                "--status-interval",
                "0",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            line = ""
            while "Modbus RTU on" not in line:
                line = sim.stdout.readline()
                assert line, sim.stderr.read()
            rtu = ["mbpoll", "-m", "rtu", "-a", "3", "-b", "19200", "-P", "none", "-1", "-o", "2"]
            out = subprocess.run(
                rtu + ["-t", "4", "-r", "1025", "-c", "2", b],
                capture_output=True,
                text=True,
                timeout=20,
            )
            assert out.returncode == 0 and "[1025]: \t3000" in out.stdout, out.stdout + out.stderr
            out = subprocess.run(
                rtu + ["-t", "4", "-r", "1025", b, "4500"],
                capture_output=True,
                text=True,
                timeout=20,
            )
            assert out.returncode == 0, out.stdout + out.stderr
            out = subprocess.run(
                rtu + ["-t", "4", "-r", "1025", "-c", "1", b],
                capture_output=True,
                text=True,
                timeout=20,
            )
            assert "[1025]: \t4500" in out.stdout
        finally:
            sim.send_signal(signal.SIGINT)
            sim.communicate(timeout=20)
        assert sim.returncode == 0
    finally:
        socat.terminate()
        socat.wait()


def run_sim(*args, timeout=30):
    return subprocess.run(
        [sys.executable, "-m", "rung.cli", "sim", os.path.join(EXAMPLES, "tank.rung"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


def one_line_error(capsys, *args):
    """The one line `rung sim tank.rung ARGS` prints on stderr, exit code 1 (in-process)."""
    from rung.cli import main

    code = main(["sim", os.path.join(EXAMPLES, "tank.rung"), *args])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1, err
    return lines[0]


def test_sim_bad_tcp_port_and_bad_options_are_one_line_errors(capsys):
    proc = run_sim("--tcp", "127.0.0.1:99999")  # end to end: this was a traceback
    assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
        "rung sim: --tcp port must be 0..65535, not 99999"
    ]
    assert "cannot listen on" in one_line_error(capsys, "--tcp", "192.0.2.1:5020")
    assert "--max-clients" in one_line_error(capsys, "--max-clients", "0")
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY:  # more clients than this process may open files
        assert "ulimit -n" in one_line_error(capsys, "--max-clients", str(soft))
    err = one_line_error(capsys, "--idle-timeout=-5s")
    assert "--idle-timeout cannot be negative" in err
    assert "--status-interval" in one_line_error(capsys, "--status-interval=-1")


def test_sim_duration_takes_durations_and_refuses_negatives(capsys):
    proc = run_sim("--tcp", "127.0.0.1:0", "--duration", "300ms", "--status-interval", "0")
    assert proc.returncode == 0, proc.stderr
    scans = int(re.search(r"stopped after (\d+) scans", proc.stdout).group(1))
    assert scans >= 1
    from rung.emulator.commands.sim import _seconds

    assert _seconds("--duration", "1m30s") == 90.0
    assert _seconds("--duration", "T#500ms") == 0.5
    assert _seconds("--duration", "2") == 2.0
    for bad in ("--duration=-2s", "--duration=-1", "--duration=-0.5"):
        assert "--duration cannot be negative" in one_line_error(capsys, bad)
    assert "not a duration" in one_line_error(capsys, "--duration", "2x")
    assert "largest to the smallest" in one_line_error(capsys, "--duration", "1s1m")
    assert "must be a finite duration" in one_line_error(capsys, "--duration", "nan")


@pytest.mark.parametrize(
    "sig, state",
    [
        (signal.SIGINT, "client connected"),
        (signal.SIGTERM, "client connected"),
        (signal.SIGTERM, "client pipelining"),
        (signal.SIGINT, "program stopped"),
    ],
)
def test_sim_stops_quietly_within_a_second(sig, state):
    """SIGTERM and Ctrl-C end `rung sim` at once, with clients connected, without a
    CancelledError traceback."""
    from pymodbus.client import ModbusTcpClient
    from sim_helpers import Sim

    sim = Sim(os.path.join(EXAMPLES, "tank.rung"), "--tcp", "127.0.0.1:0")
    flood = None
    try:
        client = ModbusTcpClient("127.0.0.1", port=sim.port, timeout=5, retries=0)
        assert client.connect()
        assert not client.read_input_registers(M.IR_STATUS, count=4, device_id=1).isError()
        if state == "program stopped":
            assert not client.write_register(M.HR_COMMAND, M.CMD_STOP, device_id=1).isError()
        if state == "client pipelining":
            flood = socket.create_connection(("127.0.0.1", sim.port))
            request = struct.pack(">HHHBBHH", 1, 0, 6, 1, 4, M.IR_STATUS, 22)
            flood.sendall(request * 5000)
            assert flood.recv(100)  # being answered
        assert sim.stop(sig) < 1.0
        client.close()
    finally:
        if flood is not None:
            flood.close()
        sim.close()
    assert sim.proc.returncode == 0 and sim.count("out", "stopped after") == 1
    assert "Traceback" not in sim.stderr() and "CancelledError" not in sim.stderr()
