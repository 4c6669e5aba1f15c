"""The watchdog across soft resets on the virtual board, with real mpremote (issue 9): a
started WDT cannot be stopped and a soft reset ends every Timer, so boot.py (run after every
reset, main.py only in the friendly REPL) keeps it fed until the scan loop takes over.
After Ctrl-C, mpremote with its default soft reset works for many watchdog periods; a soft
reset into main.py runs the PLC again, and a scan loop that hangs is still reset; a boot.py
that cannot do its work leaves the REPL usable, with no reset loop."""

import os
import time

import pytest

board_mod = pytest.importorskip("rung.vboard.board")
try:
    board_mod.micropython_command()
except board_mod.VboardError:
    pytest.skip("the vboard extra is not installed", allow_module_level=True)

from pymodbus.client import ModbusTcpClient  # noqa: E402

import rung  # noqa: E402
from rung.boards import write_flash_tree  # noqa: E402
from rung.boards.flash import firmware_dir  # noqa: E402
from rung.runtime import modbus_map as mm  # noqa: E402
from rung.vboard.board import PWRON_RESET, SOFT_RESET, WDT_RESET, VirtualBoard  # noqa: E402
from tests.vboard_helpers import mpremote, plc_settings, write_usb  # noqa: E402

GOOD = "program good\ncycle 10ms\ninput a : bool at %IX0.0\noutput x : bool at %QX0.0\n" \
    "rung: a -> x\n"
# A test hook put before the firmware's main.py: with a file "hang" on the flash at boot,
# the scan loop hangs in Python after 30 scans while every Timer still runs (a soft
# Timer on a board would run too), so only the scan loop's own feeding can be missing.
HANG_HOOK = """\
import os
from plc import controller
try:
    os.stat("hang")
    _scan = controller.Controller.scan_once
    _n = [0]

    def _hanging(self, now):
        _n[0] += 1
        if _n[0] == 30:
            print("test: the scan loop hangs")
            while True:
                pass
        _scan(self, now)

    controller.Controller.scan_once = _hanging
except OSError:
    pass
"""


def _in_run(b):
    def ok():
        try:
            host, port = b.tcp_address(30)
            with ModbusTcpClient(host, port=port, timeout=5) as c:
                r = c.read_input_registers(mm.IR_STATUS, count=mm.STATUS_SIZE, device_id=1)
        except Exception:  # noqa: BLE001 - the server may still be starting
            return None
        return not r.isError() and r.registers[mm.ST_STATE] == 1

    b.wait_for(ok, 30, "RUN over Modbus")


def _ctrl_c(b):
    mark = len(b.console_log)
    write_usb(b, b"\x03")
    try:
        b.wait_output(">>> ", start=b.wait_output("outputs safe", start=mark))
    except TimeoutError:
        print(b.boots, repr(bytes(b.console_log[mark - 3000:])))
        raise


def test_mpremote_soft_resets_keep_a_stopped_plc_alive_and_a_hung_loop_resets(tmp_path):
    flash = tmp_path / "flash"
    good = rung.compile_source(GOOD, "good.rung", debug=False).to_bytes()
    write_flash_tree(str(flash), "esp32_devkitc", good, plc_settings(watchdog_ms=2000))
    main = flash / "main.py"
    main.write_text(HANG_HOOK + main.read_text())
    with VirtualBoard("esp32_devkitc", str(flash), tcp="127.0.0.1:0", wifi_delay_ms=20) as b:
        _in_run(b)
        assert b.watchdog()[0] == 2000
        _ctrl_c(b)
        # four watchdog periods of mpremote sessions, each starting with a soft reset
        # (only boot.py runs), one of them longer than a period by itself
        n = len(b.boots)
        start = time.monotonic()
        out = mpremote(b.usb_path, "exec", "import time; time.sleep_ms(2500); print('long')")
        assert "long" in out
        sessions = 1
        while time.monotonic() - start < 8 or sessions < 4:
            out = mpremote(b.usb_path, "exec",
                            "import machine, time; time.sleep_ms(300); print('cause', "
                            "machine.reset_cause())")
            assert "cause 5" in out  # ESP32: SOFT_RESET
            sessions += 1
        (tmp_path / "x.txt").write_text("kept\n")
        mpremote(b.usb_path, "cp", str(tmp_path / "x.txt"), ":x.txt")
        assert "x.txt" in mpremote(b.usb_path, "ls")
        sessions += 2
        assert b.boots[n:] == [SOFT_RESET] * sessions, b.boots  # no hard reset at all
        assert b.watchdog()[0] == 2000  # still running: boot.py re-attached to it
        assert (flash / "x.txt").read_text() == "kept\n"
        # a soft reset from the friendly REPL runs boot.py and main.py: the PLC again
        write_usb(b, b"\x02")  # leave the raw REPL if mpremote left it there
        mark = len(b.console_log)
        write_usb(b, b"\x04")
        b.wait_output("Ctrl-C stops the PLC", start=mark, timeout=30)
        _in_run(b)
        assert b.boots[-1] == SOFT_RESET and WDT_RESET not in b.boots
        # the scan loop takes over feeding: if it hangs, the watchdog resets the board
        (flash / "hang").write_text("")
        _ctrl_c(b)
        mark = len(b.console_log)
        n = len(b.boots)
        write_usb(b, b"\x04")
        b.wait_output("test: the scan loop hangs", start=mark, timeout=30)
        (flash / "hang").unlink()  # the next boot runs normally
        b.wait_for(lambda: len(b.boots) >= n + 2, 20, "the watchdog reset")
        assert b.boots[n:] == [SOFT_RESET, WDT_RESET], b.boots
        _in_run(b)


def test_a_boot_py_that_cannot_work_leaves_the_repl_usable(tmp_path):
    # boot.py alone, no lib/: its import fails, it says so, the REPL stays; no reset loop
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "boot.py").write_bytes(open(os.path.join(firmware_dir(), "boot.py"), "rb").read())
    with VirtualBoard("pico", str(flash)) as b:
        b.wait_output("ImportError", timeout=30)
        assert "42" in mpremote(b.usb_path, "exec", "print(6*7)")
        assert b.boots == [PWRON_RESET, SOFT_RESET] and b.watchdog() is None
    # the firmware with no program: a watchdog above the board's limit is clamped in
    # boot.py as in main.py; settings.json that is not JSON means the defaults (5000 ms);
    # a watchdog of 0 is none at all
    flash = tmp_path / "full"
    write_flash_tree(str(flash), "pico", None, plc_settings())
    (flash / "settings.json").write_text('{"watchdog_ms": 60000, "run_switch": false}')
    with VirtualBoard("pico", str(flash)) as b:
        b.wait_output("Ctrl-C stops the PLC", timeout=30)  # STOP: no program
        assert b.watchdog()[0] == 8388
        _ctrl_c(b)
        assert "ok" in mpremote(b.usb_path, "exec", "print('ok')")
        assert b.watchdog()[0] == 8388  # boot.py alone started it again
        (flash / "board.json").write_text("[1, 2]")  # boot.py does not need the board file
        (flash / "settings.json").write_text("{ not json")
        assert "ok" in mpremote(b.usb_path, "exec", "print('ok')")
        assert b.watchdog()[0] == 5000
        (flash / "settings.json").write_text('{"watchdog_ms": 0}')
        n = len(b.boots)
        b.reset()  # the only way to stop a started watchdog
        b.wait_for(lambda: len(b.boots) > n, 30, "the reset")
        assert "ok" in mpremote(b.usb_path, "exec", "print('ok')")
        assert b.watchdog() is None
        assert WDT_RESET not in b.boots[1:] or b.info["port"] == "rp2"
