"""The firmware on a real board (docs/hardware-test.md): run when RUNG_BOARD_PORT names
the board's USB serial port, skipped otherwise. RUNG_BOARD is its board file (default
pico); RUNG_BOARD_RTU, the USB-RS485 adapter wired to its RTU pins, enables the Modbus
checks. The board's flash is replaced by the test's: use a board kept for testing."""

import os
import subprocess
import sys
import tempfile
import time

import pytest
from conftest import ROOT

import rung
from rung.boards import write_flash_tree
from rung.boards.flash import settings_module
from rung.runtime import modbus_map as mm

PORT = os.environ.get("RUNG_BOARD_PORT")
BOARD = os.environ.get("RUNG_BOARD", "pico")
RTU = os.environ.get("RUNG_BOARD_RTU")
MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")
pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(not PORT, reason="no board: set RUNG_BOARD_PORT to run"),
]


def mpremote(*args, timeout=120):
    """mpremote with `resume`: connecting interrupts the PLC (Ctrl-C) without the soft
    reset that would end the Timer feeding the watchdog (docs/firmware.md)."""
    cmd = [MPREMOTE, "connect", PORT] + (["resume"] if args[0] != "reset" else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def install(program):
    """Lay out the flash tree and copy it onto the board (watchdog off while copying)."""
    settings = settings_module().defaults()
    settings["watchdog_ms"] = 2000
    settings["retain_interval_s"] = 1
    with tempfile.TemporaryDirectory() as tmp:
        write_flash_tree(tmp, BOARD, program, settings)
        if program is None and os.path.exists(os.path.join(tmp, "program.rbc")):
            os.remove(os.path.join(tmp, "program.rbc"))
        mpremote(
            "exec", "import os\ntry:\n    os.remove('program.rbc')\nexcept OSError:\n" "    pass"
        )
        mpremote("fs", "cp", "-r", *[os.path.join(tmp, f) for f in os.listdir(tmp)], ":")
    mpremote("reset")
    time.sleep(3)  # the board boots (a real one: no observable state before its USB is back)


def program():
    path = os.path.join(ROOT, "tests", "hardware_program.rung")
    return rung.compile_file(path, debug=False).to_bytes()


@pytest.fixture(scope="module")
def rtu():
    if not RTU:
        pytest.skip("set RUNG_BOARD_RTU to the USB-RS485 adapter for the Modbus checks")
    from pymodbus.client import ModbusSerialClient

    client = ModbusSerialClient(RTU, baudrate=19200, timeout=1)
    assert client.connect()
    yield client
    client.close()


def status(client):
    r = client.read_input_registers(mm.IR_STATUS, count=mm.STATUS_SIZE, device_id=1)
    assert not r.isError(), r
    return r.registers


def test_boots_into_run_and_scans(rtu):
    install(program())
    first = status(rtu)
    assert first[mm.ST_STATE] == 1 and first[mm.ST_FAULT] == 0
    time.sleep(1)
    later = status(rtu)
    scans = ((later[2] << 16) | later[3]) - ((first[2] << 16) | first[3])
    assert 80 <= scans <= 110  # 10 ms cycle
    assert later[mm.ST_CYCLE] == 10


def test_retained_value_survives_a_reset(rtu):
    assert not rtu.write_register(mm.HR_MW + 1, 77, device_id=1).isError()
    time.sleep(2)  # retain_interval_s is 1
    mpremote("reset")
    time.sleep(3)
    assert rtu.read_holding_registers(mm.HR_MW + 1, count=1, device_id=1).registers == [77]


def test_forcing_is_refused_by_default(rtu):
    r = rtu.write_register(mm.HR_FORCE, 1, device_id=1)
    assert r.isError() and r.exception_code == 2


def test_ctrl_c_leaves_a_usable_repl_beyond_the_watchdog_timeout():
    out = mpremote("exec", "import time; time.sleep(5); print('still', 6 * 7)", timeout=60)
    assert "still 42" in out  # 5 s in the REPL with a 2 s watchdog: the Timer feeds it
    mpremote("reset")


def test_missing_program_is_stop_with_fault_10_then_a_deploy_runs(rtu):
    install(None)
    regs = status(rtu)
    assert regs[mm.ST_STATE] == 0 and regs[mm.ST_FAULT] == 10
    install(program())
    assert status(rtu)[mm.ST_STATE] == 1
