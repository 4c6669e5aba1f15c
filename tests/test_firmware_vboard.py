"""Firmware behaviour on the virtual board (the real firmware, unmodified, on the unix port
with the machine/network doubles): a missing, corrupt, forged or foreign program leaves the board
in STOP with its fault code over Modbus until a deploy; the watchdog keeps the REPL alive
after Ctrl-C and resets a hung board; a program slower than its cycle counts overruns;
a power cut at every block write of a retain save leaves the old or the new value."""

import os

import pytest

board_mod = pytest.importorskip("rung.vboard.board")
try:
    board_mod.micropython_command()
except board_mod.VboardError:
    pytest.skip("the vboard extra is not installed", allow_module_level=True)

from bytecode_gen import grow_table  # noqa: E402
from pymodbus.client import ModbusTcpClient  # noqa: E402

import rung  # noqa: E402
from rung.boards import write_flash_tree  # noqa: E402
from rung.runtime import modbus_map as mm  # noqa: E402
from rung.runtime.container import SEC_VARS  # noqa: E402
from rung.runtime.opcodes import T_INT  # noqa: E402
from rung.vboard import lfsimage  # noqa: E402
from rung.vboard.board import WDT_RESET, VirtualBoard  # noqa: E402
from tests.vboard_helpers import plc_settings  # noqa: E402

GOOD = (
    "program good\ncycle 10ms\ninput a : bool at %IX0.0\noutput x : bool at %QX0.0\n"
    "var n : int retain at %MW0\nrung: a -> x\n"
)
FOREIGN = "program wide\ninput a : bool at %IX5.0\noutput x : bool at %QX0.0\nrung: a -> x\n"


def _status(b):
    host, port = b.tcp_address(30)
    with ModbusTcpClient(host, port=port, timeout=5) as c:
        r = c.read_input_registers(mm.IR_STATUS, count=mm.STATUS_SIZE, device_id=1)
        return None if r.isError() else r.registers


def _wait_state(b, state, fault):
    def ok():
        try:
            regs = _status(b)
        except Exception:  # noqa: BLE001 - the server may still be starting
            return None
        if regs and regs[mm.ST_STATE] == state and regs[mm.ST_FAULT] == fault:
            return regs
        return None

    return b.wait_for(ok, 30, f"state {state} fault {fault} over Modbus")


def _reboot(b):
    n = len(b.boots)
    b.reset()
    b.wait_for(lambda: len(b.boots) > n, 10, "the reset")


def test_missing_corrupt_and_foreign_programs_stop_with_a_fault_code_until_a_deploy(tmp_path):
    flash = tmp_path / "flash"
    write_flash_tree(str(flash), "pico_w", None, plc_settings())
    good = rung.compile_source(GOOD, "good.rung", debug=False).to_bytes()
    with VirtualBoard("pico_w", str(flash), tcp="127.0.0.1:0", wifi_delay_ms=20) as b:
        _wait_state(b, 0, 10)  # no program: STOP, fault 10
        # one variable more than the Modbus map has room for: no compiler writes it
        forged = grow_table(good, SEC_VARS, mm.MAX_VARS + 1, bytes([T_INT, 0, 0, 0, 0]))
        for data, fault in (
            (good[:-7], 11),  # truncated
            (b"RUNG" + bytes(60), 11),  # not Rung bytecode
            (forged, 11),
            (rung.compile_source(FOREIGN, "wide.rung").to_bytes(), 12),  # %IX5.0: no pin
        ):
            (flash / "program.rbc").write_bytes(data)
            _reboot(b)
            _wait_state(b, 0, fault)
        assert len(b.boots) == 5  # each boot ended in STOP, none in a reboot loop
        (flash / "program.rbc").write_bytes(good)
        _reboot(b)
        _wait_state(b, 1, 0)
    # (E24: rp2 reports the reset button as a watchdog reset, MicroPython issue 19409)
    log = [x for x in (flash / "faults.log").read_text().splitlines() if x[:4] != "E24 "]
    assert [line.split()[0] for line in log] == ["E10", "E11", "E11", "E11", "E12"]
    assert log[3] == ("E11 program.rbc refused: the program has 5001 variables; the Modbus "
                      "variable window has room for 5000 (docs/modbus.md, Limits)")
    assert "%IX5.0" in log[-1]


def test_watchdog_keeps_the_repl_after_ctrl_c_and_resets_a_hung_board(tmp_path):
    flash = tmp_path / "flash"
    good = rung.compile_source(GOOD, "good.rung", debug=False).to_bytes()
    write_flash_tree(str(flash), "pico_w", good, plc_settings(watchdog_ms=500))
    with VirtualBoard("pico_w", str(flash), tcp="127.0.0.1:0", wifi_delay_ms=20) as b:
        _wait_state(b, 1, 0)
        assert b.watchdog()[0] == 500
        fd = os.open(b.usb_path, os.O_RDWR | os.O_NOCTTY)
        try:
            mark = len(b.console_log)
            os.write(fd, b"\x03")
            end = b.wait_output("outputs safe", start=mark)
            b.wait_output(">>> ", start=end)
            feeds = b.watchdog()[1]
            # eight timeouts long in the REPL: the Timer feeds the watchdog, no reset
            b.wait_for(lambda: b.watchdog()[1] > feeds + 16, 20, "the Timer's feeds")
            assert len(b.boots) == 1
            os.write(fd, b"print(6*7)\r")
            b.wait_output("42\r\n>>> ", start=end)
            # now the loop hangs with nothing feeding: the watchdog resets the board
            os.write(fd, b"import plc.boot; plc.boot.current.wdt.timer.deinit()\r")
            os.write(fd, b"while True: pass\r")
            b.wait_for(lambda: len(b.boots) == 2, 20, "the watchdog reset")
        finally:
            os.close(fd)
        assert b.boots[-1] == WDT_RESET
        _wait_state(b, 1, 0)  # back in RUN
    assert any(line.startswith("E24 ") for line in (flash / "faults.log").read_text().splitlines())


def test_a_program_slower_than_its_cycle_counts_overruns(tmp_path):
    # about 2 ms a scan on a 2025 laptop's unix port, twice the cycle (contacts alone are
    # too fast: 1,500 rungs of them scan in 0.15 ms); 5,000 rungs fit the default heap
    rungs = "\n".join(
        f"rung: not a -> m{i % 50} := (m{(i + 1) % 50} * 3 + m{(i + 2) % 50} * 5"
        f" + m{(i + 3) % 50} * 7 + m{(i + 4) % 50} * 11 + {i}) / 13" for i in range(5000)
    )
    mems = "\n".join(f"var m{i} : int" for i in range(50))
    src = f"program slow\ncycle 1ms\ninput a : bool at %IX0.0\n{mems}\n{rungs}\n"
    flash = tmp_path / "flash"
    code = rung.compile_source(src, "slow.rung", debug=False).to_bytes()
    write_flash_tree(str(flash), "pico_w", code, plc_settings())
    with VirtualBoard("pico_w", str(flash), tcp="127.0.0.1:0", wifi_delay_ms=20) as b:
        first = _wait_state(b, 1, 0)

        def overruns(regs):
            return (regs[mm.ST_OVERRUNS] << 16) | regs[mm.ST_OVERRUNS + 1]

        b.wait_for(lambda: overruns(_status(b)) > overruns(first) + 20, 30, "overruns")
        regs = _status(b)
        longest = (regs[mm.ST_MAX_US] << 16) | regs[mm.ST_MAX_US + 1]
        assert longest > 1000 and regs[mm.ST_CYCLE] == 1


def test_power_cut_at_every_block_write_of_a_retain_save(tmp_path):
    """The firmware's own RetainStore.save on a LittleFS2 image, cut at each block write."""
    src = tmp_path / "src"
    write_flash_tree(str(src), "pico", rung.compile_source(GOOD, "good.rung").to_bytes())
    image = str(tmp_path / "flash.img")
    lfsimage.create_image(image, 512)  # the flash tree is about 250 KB of .py
    lfsimage.copy_tree_in(str(src), image)
    setup = """
import sys
sys.path.insert(0, 'lib')
from runtime import Runtime
from plc.retain_store import RetainStore
from plc.faults import FaultLog
def runtime():
    with open('program.rbc', 'rb') as f:
        return Runtime(f.read())
def store():
    s = RetainStore(FaultLog(echo=False), 1000)
    s.read()
    return s
"""
    lfsimage.run_on_image(image, setup + "rt = runtime()\nrt.set('n', 111)\nstore().save(rt)\n")
    with open(image, "rb") as f:
        pristine = f.read()
    code = (
        setup
        + """
import vbflash, vfs
rt = runtime()
rt.set('n', 222)
s = store()
s.restore(rt)
rt.set('n', 222)
w0 = dev.writes
s.save(rt)
total = dev.writes - w0
os.chdir('/')
vfs.umount('/flash')
results = []
for cut in range(total + 1):
    with open(IMG, 'wb') as f:
        f.write(PRISTINE)
    d = vbflash.BlockFile(IMG, -1)
    vfs.mount(vfs.VfsLfs2(d), '/flash')
    os.chdir('/flash')
    rt = runtime()
    s = store()
    s.restore(rt)
    rt.set('n', 222)
    d.cut_after = d.writes + cut
    try:
        s.save(rt)
    except OSError:
        pass
    os.chdir('/')
    vfs.umount('/flash')
    vfs.mount(vfs.VfsLfs2(vbflash.BlockFile(IMG, -1)), '/flash')
    os.chdir('/flash')
    rt = runtime()
    store().restore(rt)
    results.append(str(rt.get('n')))
    os.chdir('/')
    vfs.umount('/flash')
print(total, ' '.join(results))
"""
    )
    out = lfsimage.run_on_image(
        image, f"IMG = {image!r}\nPRISTINE = {pristine!r}\n" + code, timeout=120
    )
    total, *results = out.split()
    assert int(total) >= 2 and len(results) == int(total) + 1
    assert set(results) <= {"111", "222"}, results  # never lost, never a mix
    assert results[0] == "111" and results[-1] == "222"
    print(f"retain save: {total} block writes, a power cut tested at each")


def test_retained_value_survives_ctrl_c_and_a_soft_reset(tmp_path):
    flash = tmp_path / "flash"
    good = rung.compile_source(GOOD, "good.rung", debug=False).to_bytes()
    write_flash_tree(str(flash), "pico_w", good, plc_settings(retain_interval_s=3600))
    with VirtualBoard("pico_w", str(flash), tcp="127.0.0.1:0", wifi_delay_ms=20) as b:
        _wait_state(b, 1, 0)
        host, port = b.tcp_address()
        with ModbusTcpClient(host, port=port, timeout=5) as c:
            assert not c.write_register(mm.HR_MW, 555, device_id=1).isError()
        fd = os.open(b.usb_path, os.O_RDWR | os.O_NOCTTY)
        try:
            mark = len(b.console_log)
            os.write(fd, b"\x03")  # the stop saves retained values (the interval is 1 h)
            end = b.wait_output("outputs safe", start=mark)
            b.wait_output(">>> ", start=end)
            os.write(fd, b"\x04")  # soft reset: main.py runs again
            b.wait_output("soft reboot", start=end)
        finally:
            os.close(fd)
        _wait_state(b, 1, 0)
        host, port = b.tcp_address()
        with ModbusTcpClient(host, port=port, timeout=5) as c:
            assert c.read_holding_registers(mm.HR_MW, count=1, device_id=1).registers == [555]


def _run_with_doubles(flash, code, port="rp2"):
    import subprocess

    from rung.vboard.board import DOUBLES, micropython_command

    env = dict(os.environ, MICROPYPATH=".frozen:" + DOUBLES, RUNG_VBOARD_PORT=port)
    env.pop("RUNG_VBOARD_IO", None)
    script = flash / "_t.py"
    script.write_text("import sys\nsys.path.insert(0, 'lib')\n" + code)
    r = subprocess.run(micropython_command() + [str(script)], capture_output=True, text=True,
                       cwd=str(flash), env=env, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_firmware_boots_from_mpy_cross_compiled_modules(tmp_path):
    flash = tmp_path / "flash"
    good = rung.compile_source(GOOD, "good.rung", debug=False).to_bytes()
    s = plc_settings()
    s["rtu"]["enabled"] = False
    write_flash_tree(str(flash), "pico", good, s, mpy=True)
    assert not list((flash / "lib").rglob("*.py"))
    out = _run_with_doubles(
        flash, "from plc import boot\nplc = boot.boot()\nprint('STATE', plc.rt.state)\n"
    )
    assert "STATE 1" in out


def test_rtu_answer_drives_the_direction_pin_around_the_reply_and_drops_the_echo(tmp_path):
    flash = tmp_path / "flash"
    write_flash_tree(str(flash), "pico", rung.compile_source(GOOD, "g.rung").to_bytes())
    out = _run_with_doubles(
        flash,
        """
import asyncio
from plc import rtu
from runtime import Runtime
from runtime.modbus_device import ModbusDevice
from runtime.modbus_pdu import PduServer
from runtime.modbus_rtu import crc16
class Ctl:
    halted = False
    reserve_ms = 1
    async def serve_slot(self):
        pass
    def served(self, us):
        pass
    def time_left(self):
        return LEFT
class De:
    level = 0
    def value(self, v):
        self.level = v
        log.append('de%d' % v)
class Uart:
    def __init__(self):
        self.rx = b''
    def write(self, b):
        log.append('write de=%d' % de.level)
        self.rx = b'echo'  # a transceiver whose receiver stayed on hears us
        return len(b)
    def flush(self):
        log.append('flush de=%d' % de.level)
    def txdone(self):
        return True
    def any(self):
        return len(self.rx)
    def read(self, n):
        d, self.rx = self.rx[:n], self.rx[n:]
        log.append('drop %d' % len(d))
        return d
log = []
rt = Runtime(open('program.rbc', 'rb').read())
class Bare(rtu.RtuService):
    def __init__(self):  # the parts a real UART would need are set below
        pass
svc = Bare()
svc.ctl = Ctl()
svc.server = rtu.RtuServer(PduServer(ModbusDevice(rt, 'pico')), 1)
de = svc.de = De()
svc.uart = Uart()
svc.char_us = rtu.char_us(19200, 'N', 1)
svc.answers = 0
req = bytearray(b'\\x01\\x04\\x20\\x00\\x00\\x01')
c = crc16(req)
req += bytes((c & 255, c >> 8))
for LEFT in (50, 0):  # time for the reply before the next scan: flush(); else poll txdone()
    log = []
    asyncio.run(svc.answer(bytes(req)))
    print(' | '.join(log))
print(svc.answers)
""",
    )
    assert out.split("\n")[:3] == [
        "de1 | write de=1 | flush de=1 | de0 | drop 4",
        "de1 | write de=1 | de0 | drop 4",
        "2",
    ]


def test_ctrl_c_while_wifi_is_still_connecting(tmp_path):
    flash = tmp_path / "flash"
    good = rung.compile_source(GOOD, "good.rung", debug=False).to_bytes()
    write_flash_tree(str(flash), "pico_w", good, plc_settings())
    with VirtualBoard("pico_w", str(flash), tcp="127.0.0.1:0", wifi_delay_ms=600000) as b:
        b.wait_output("Rung 0.1.0 on pico_w: RUN")
        assert b.wifi() == "connecting"
        fd = os.open(b.usb_path, os.O_RDWR | os.O_NOCTTY)
        try:
            mark = len(b.console_log)
            os.write(fd, b"\x03")
            end = b.wait_output("outputs safe", start=mark)
            b.wait_output(">>> ", start=end)
            os.write(fd, b"print(6*7)\r")
            b.wait_output("42\r\n>>> ", start=end)
        finally:
            os.close(fd)
        assert len(b.boots) == 1
