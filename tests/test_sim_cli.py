"""`rung sim examples/tank.rung` driven from mbpoll, as the issue's Done-when describes."""

import os
import re
import signal
import subprocess
import sys
import time

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
