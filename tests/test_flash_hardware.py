"""rung flash, deploy and status against a real board on RUNG_BOARD_PORT (RUNG_BOARD names
its board file, default pico). Skipped without one: `RUNG_BOARD_PORT=/dev/ttyACM0 pytest -m
hardware tests/test_flash_hardware.py`. The board is reflashed: nothing else on it stays."""

import os
import re

import pytest

from rung.cli import main

PORT = os.environ.get("RUNG_BOARD_PORT")
BOARD = os.environ.get("RUNG_BOARD", "pico")
HERE = os.path.dirname(os.path.abspath(__file__))
GEN_A, GEN_B = (os.path.join(HERE, "flashing", f"gen_{x}.rung") for x in "ab")

pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(not PORT, reason="no real board: set RUNG_BOARD_PORT"),
]


def cli(capsys, *argv):
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_flash_then_reflash_unchanged(capsys):
    code, out, err = cli(capsys, "flash", GEN_A, "--board", BOARD, "--port", PORT)
    assert code == 0, err
    assert re.search(r"program gen_a crc [0-9a-f]{8} RUN", out), out
    code, out, err = cli(capsys, "flash", GEN_A, "--board", BOARD, "--port", PORT)
    assert code == 0, err
    assert "0 file(s) written (0 bytes)" in out, out


@pytest.fixture()
def flashed_gen_a(capsys):
    """The board flashed with gen_a, whatever ran before (an unchanged reflash is quick:
    it skips every file)."""
    code, _out, err = cli(capsys, "flash", GEN_A, "--board", BOARD, "--port", PORT)
    assert code == 0, err


def test_deploy_and_status(flashed_gen_a, capsys):
    code, out, err = cli(capsys, "deploy", GEN_B, "--port", PORT)
    assert code == 0, err
    assert "program gen_b" in out and "retained values kept" in out
    code, out, err = cli(capsys, "status", "--port", PORT)
    assert code == 0, err
    assert re.search(r"^program\s+gen_b crc [0-9a-f]{8}", out, re.M), out
    assert re.search(r"^firmware\s+Rung ", out, re.M), out
