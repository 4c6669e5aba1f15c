"""Odd files and several files on the command line (issue 8, points 9 and 10)."""

import json
import os
import subprocess
import sys

import pytest
from conftest import EXAMPLES, ROOT

from rung.files import UnreadableFile, read_file

DIAGNOSTICS = os.path.join(ROOT, "tests", "diagnostics")


def run_cli(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "rung.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    "command, name",
    [
        ("check", "p.rung"),
        ("compile", "p.rung"),
        ("dis", "p.rung"),
        ("dis", "p.rbc"),
        ("draw", "p.rbc"),
        ("sim", "p.rung"),
        ("sim", "p.rbc"),
        ("test", "s.yaml"),
    ],
)
def test_a_fifo_is_refused_at_once(tmp_path, command, name):
    # open() on a fifo waits for a writer: the command hung forever
    path = tmp_path / name
    os.mkfifo(path)
    proc = run_cli(command, str(path), timeout=30)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "it is a fifo, not a regular file" in out
    assert "Traceback" not in out and len(out.strip().splitlines()) <= 3


@pytest.mark.parametrize("command", ["check", "dis", "sim", "test"])
def test_dev_zero_is_refused_without_reading_it(command):
    # it read /dev/zero until MemoryError (1.9 GB)
    proc = run_cli(command, "/dev/zero", timeout=30)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "it is a character device, not a regular file" in out
    assert "Traceback" not in out


def test_the_size_limit_holds_while_reading(tmp_path):
    # /proc files say size 0: only the bytes read show how large they are
    with pytest.raises(UnreadableFile, match="larger than 10 bytes"):
        read_file("/proc/self/status", 10)
    path = tmp_path / "big.rung"
    path.write_bytes(b"x" * 11)
    with pytest.raises(UnreadableFile, match="larger than 10 bytes"):
        read_file(path, 10)
    assert read_file(path, 11) == b"x" * 11
    with pytest.raises(FileNotFoundError):
        read_file(tmp_path / "missing", 10)


def test_a_source_over_4_mb_is_e001(tmp_path):
    path = tmp_path / "big.rung"
    path.write_bytes(b"program p\n" + b"#" * (4 * 1024 * 1024))
    proc = run_cli("check", str(path))
    assert proc.returncode == 1 and "error[E001]" in proc.stderr
    assert "it is larger than 4 MB" in proc.stderr


def test_check_takes_several_files_and_fails_if_any_has_errors():
    good = [os.path.join(EXAMPLES, n) for n in ("motor.rung", "tank.rung")]
    bad = os.path.join(DIAGNOSTICS, "E061.rung")
    proc = run_cli("check", *good)
    assert proc.returncode == 0 and proc.stdout.count(": ok: program") == 2
    proc = run_cli("check", good[0], bad, good[1], "/nonexistent.rung")
    assert proc.returncode == 1
    assert proc.stdout.count(": ok: program") == 2
    assert "error[E061]" in proc.stderr and "error[E001]" in proc.stderr
    assert "4 files checked, 2 with errors" in proc.stderr
    proc = run_cli("check", "--json", good[0], bad)
    data = json.loads(proc.stdout)
    assert proc.returncode == 1 and [d["code"] for d in data] == ["E061"]
    assert data[0]["file"].endswith("E061.rung")
