"""rung flash, deploy, config and status end to end: the virtual board (the firmware on
MicroPython's unix port behind a USB-like pty) driven through mpremote's SerialTransport,
checked with mbpoll. Every test gets a board of its own, started from a copy of a flash
that rung flash, config and deploy made once per module: the tests pass alone, in any
order and in parallel."""

import contextlib
import io
import json
import os
import pty
import re
import shutil
import subprocess
import time

import pytest

from rung.cli import main
from rung.usb import link as usb_link
from tests.conftest import need, need_tool

HERE = os.path.dirname(os.path.abspath(__file__))
PROGS = os.path.join(HERE, "flashing")
GEN_A, GEN_B, GEN_C = (os.path.join(PROGS, f"gen_{x}.rung") for x in "abc")
PICO_W = {"tcp": "127.0.0.1:0", "wifi_delay_ms": 20}
BOOTED = "Ctrl-C stops the PLC."  # the end of the firmware's boot banner
STOCK = ">>> "  # stock MicroPython's prompt: nothing on the flash yet
WIFI = ("wifi.ssid=greenhouse", "wifi.password=s3cret-pw", "tcp.port=1502")
SERVING = "Rung: Modbus TCP on 127.0.0.1:1502"  # on the Wi-Fi that WIFI configures
WAIT_S = 20  # every wait polls what the board shows; this only bounds a board that hangs


def _vboard():
    try:
        from rung.vboard.board import VboardError, VirtualBoard, micropython_command

        micropython_command()
    except (ImportError, VboardError) as exc:
        need(False, f"virtual board unavailable: {exc}")
    return VirtualBoard


@contextlib.contextmanager
def _running(name, flash, ready, **options):
    """A virtual board on the flash folder `flash`, once its USB port showed `ready`."""
    VirtualBoard = _vboard()
    b = VirtualBoard(name, str(flash), **options)
    b.flash = flash
    b.start()
    try:
        b.wait_output(ready, WAIT_S)
        yield b
    finally:
        b.stop()


# The states tests start from, in the order one board goes through them; each is the
# flash as that board left it when its power went off after the command.
STATES = (
    ("gen_a", ("flash", GEN_A, "--board", "pico_w")),  # default settings: RTU, no Wi-Fi
    ("gen_a wifi", ("config", *WIFI, "--restart")),  # Modbus TCP on the Wi-Fi too
    ("gen_c wifi", ("deploy", GEN_C)),
)


@pytest.fixture(scope="module")
def flashed(tmp_path_factory):
    """{state: flash folder} of STATES, made once through mpremote on a bare Pico W."""
    root = tmp_path_factory.mktemp("flashed")
    trees = {}
    with _running("pico_w", root / "board", STOCK, **PICO_W) as b:
        for state, argv in STATES:
            if not b.running:
                start = len(b.console_log)
                b.power_on()
                b.wait_output(BOOTED, WAIT_S, start)
            said = io.StringIO()
            with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
                code = main([*argv, "--port", b.usb_path])
            assert code == 0, (argv, said.getvalue())
            b.power_off()  # the command returned once the PLC ran again
            b.wait_for(lambda: not b.running, WAIT_S, "the board to go off")
            trees[state] = root / state.replace(" ", "_")
            shutil.copytree(b.flash, trees[state])
    return trees


@contextlib.contextmanager
def _flashed_board(flashed, state, tmp_path):
    flash = tmp_path / "flash"
    shutil.copytree(flashed[state], flash)
    with _running("pico_w", flash, BOOTED, **PICO_W) as b:
        yield b


@pytest.fixture()
def board(flashed, tmp_path):
    """A Pico W running gen_a with retained values fresh and default settings (no Wi-Fi:
    Modbus RTU only)."""
    with _flashed_board(flashed, "gen_a", tmp_path) as b:
        yield b


@pytest.fixture()
def wifi_board(flashed, tmp_path):
    """A Pico W running gen_a with retained values fresh, configured with WIFI (Modbus TCP
    on port 1502 too)."""
    with _flashed_board(flashed, "gen_a wifi", tmp_path) as b:
        yield b


@pytest.fixture()
def gen_c_board(flashed, tmp_path):
    """wifi_board after rung deploy gen_c: gen_c runs with retained values fresh."""
    with _flashed_board(flashed, "gen_c wifi", tmp_path) as b:
        yield b


@pytest.fixture()
def bare_pico_w(tmp_path):
    """A Pico W with stock MicroPython and nothing on its flash."""
    with _running("pico_w", tmp_path / "flash", STOCK, **PICO_W) as b:
        yield b


def cli(capsys, *argv):
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def mbpoll(args):
    """mbpoll's run: (return code, {address: value} read). Each request waits up to 5 s
    for the answer, as a loaded machine may need; callers retry until WAIT_S."""
    exe = need_tool("mbpoll")
    try:
        r = subprocess.run([exe, "-0", "-1", "-o", "5", *args], capture_output=True,
                           text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return None, {}
    regs = {int(a): int(v) for a, v in re.findall(r"^\[(\d+)\]:\s+(-?\d+)", r.stdout, re.M)}
    return r.returncode, regs


def rtu_read(b, reg, count=1):
    return mbpoll(["-m", "rtu", "-b", "19200", "-P", "none", "-a", "1", "-t", "4", "-r",
                   str(reg), "-c", str(count), b.rtu_path])[1]


def tcp_read(b, reg, count=1):
    host, port = b.tcp_address(WAIT_S)
    return mbpoll(["-m", "tcp", "-p", str(port), "-t", "4", "-r", str(reg), "-c", str(count),
                   host])[1]


def tcp_write(b, reg, value):
    """Write a holding register over Modbus TCP; again until the board took it (writing
    the same value twice is harmless)."""
    host, port = b.tcp_address(WAIT_S)
    argv = ["-m", "tcp", "-p", str(port), "-t", "4", "-r", str(reg), host, str(value)]
    b.wait_for(lambda: mbpoll(argv)[0] == 0, WAIT_S, f"Modbus TCP to write {value} at {reg}")


def wait_regs(b, read, want, what):
    """Poll Modbus until registers {addr: value} read as wanted (no sleeping on logic)."""
    got = {}

    def ok():
        nonlocal got
        got = read(b, min(want), max(want) - min(want) + 1)
        return all(got.get(k) == v for k, v in want.items())

    try:
        b.wait_for(ok, WAIT_S, what)
    except TimeoutError as exc:
        pytest.fail(f"{what}: read {got}, wanted {want}; {exc}")


def test_flash_a_bare_board_boots_as_a_plc_and_answers_modbus(bare_pico_w, capsys):
    code, out, err = cli(capsys, "flash", GEN_A, "--board", "pico_w", "--port",
                         bare_pico_w.usb_path)
    assert code == 0, err
    assert re.search(r"modules as \.mpy v6\.3; (\d+) file\(s\) written \(\d+ bytes\), 0 "
                     r"unchanged; program gen_a crc [0-9a-f]{8} RUN", out), out
    names = sorted(os.listdir(bare_pico_w.flash / "lib" / "plc"))
    assert names and all(n.endswith(".mpy") for n in names)
    # %MW1 = setpoint + 1: the program runs and Modbus RTU answers with default settings
    wait_regs(bare_pico_w, rtu_read, {1024: 0, 1025: 1}, "gen_a over RTU")


def test_reflash_unchanged_skips_every_file(board, capsys):
    t0 = time.monotonic()
    code, out, err = cli(capsys, "flash", GEN_A, "--board", "pico_w", "--port", board.usb_path)
    took = time.monotonic() - t0
    assert code == 0, err
    m = re.search(r"0 file\(s\) written \(0 bytes\), (\d+) unchanged", out)
    assert m and int(m.group(1)) > 20, out
    print(f"reflash unchanged: {took:.2f} s")  # docs/flashing.md reports it
    wait_regs(board, rtu_read, {1025: 1}, "gen_a after the reflash")


def test_config_shows_and_changes_settings_and_the_restart_applies_them(board, capsys):
    start = len(board.console_log)
    code, out, err = cli(capsys, "config", "--port", board.usb_path, "wifi.ssid=greenhouse",
                         "wifi.password=s3cret-pw", "tcp.port=1502", "--restart")
    assert code == 0, err
    assert 'wifi.ssid="greenhouse", wifi.password=********, tcp.port=1502 written; the PLC ' \
        'restarted with them: RUN' in out
    assert "s3cret" not in out + err
    board.wait_output(SERVING, WAIT_S, start=start)
    # the firmware listens on its new port (the virtual board maps the bind to its --tcp)
    wait_regs(board, tcp_read, {1025: 1}, "Modbus TCP after the config")
    code, out, err = cli(capsys, "config", "--port", board.usb_path)
    assert code == 0, err
    assert 'tcp.port = 1502' in out and 'wifi.ssid = "greenhouse"' in out
    assert 'wifi.password = "********"' in out and "s3cret" not in out
    assert start <= len(board.console_log)


def test_config_off_a_terminal_leaves_the_plc_stopped_and_the_hint_applies(wifi_board,
                                                                          capsys):
    board = wifi_board
    start = len(board.console_log)
    code, out, err = cli(capsys, "config", "--port", board.usb_path, "tcp.idle_timeout_s=120")
    assert code == 0, err  # capsys: stdout is no terminal, so no question and no restart
    assert "tcp.idle_timeout_s=120 written; the PLC stays stopped" in out
    assert json.loads((board.flash / "settings.json").read_text())["tcp"]["idle_timeout_s"] \
        == 120
    assert b"Ctrl-C stops the PLC." not in board.console_log[start:]  # no boot since
    hint = re.search(r"`rung (config [^`]+)`", out).group(1).split()
    code, out, err = cli(capsys, *hint)
    assert code == 0, err
    assert "tcp.idle_timeout_s = 120" in out
    board.wait_output("Ctrl-C stops the PLC.", WAIT_S, start=start)
    wait_regs(board, tcp_read, {1025: 1}, "Modbus TCP after the hinted restart")


def test_reflash_keeps_the_settings(wifi_board, capsys):
    before = (wifi_board.flash / "settings.json").read_bytes()
    start = len(wifi_board.console_log)
    code, out, err = cli(capsys, "flash", GEN_A, "--board", "pico_w", "--port",
                         wifi_board.usb_path)
    assert code == 0, err
    assert "0 file(s) written" in out
    assert (wifi_board.flash / "settings.json").read_bytes() == before
    wifi_board.wait_output(SERVING, WAIT_S, start=start)


def test_deploy_of_a_program_the_board_cannot_run(wifi_board, capsys, tmp_path):
    src = tmp_path / "foreign.rung"
    src.write_text("program foreign\noutput q : bool at %QX9.7\nrung: true -> q\n")
    code, _out, err = cli(capsys, "deploy", str(src), "--port", wifi_board.usb_path)
    assert code == 1 and "does not fit board pico_w" in err and "%QX9.7" in err
    wait_regs(wifi_board, tcp_read, {1025: 1}, "gen_a still running")


def test_config_refuses_bad_values_and_changes_nothing(wifi_board, capsys):
    before = (wifi_board.flash / "settings.json").read_text()
    code, _out, err = cli(capsys, "config", "--port", wifi_board.usb_path, "tcp.port=99999")
    assert code == 1 and "tcp.port=99999: tcp.port is a whole number from 1 to 65535" in err
    code, _out, err = cli(capsys, "config", "--port", wifi_board.usb_path, "wifi.ssd=x")
    assert code == 1 and "did you mean wifi.ssid" in err
    assert (wifi_board.flash / "settings.json").read_text() == before
    wait_regs(wifi_board, tcp_read, {1025: 1}, "the PLC resumed after a refused config")


def test_deploy_a_changed_program_keeps_retained_values(wifi_board, capsys):
    tcp_write(wifi_board, 1024, 42)  # %MW0, the retained setpoint
    wait_regs(wifi_board, tcp_read, {1024: 42, 1025: 43}, "gen_a with setpoint 42")
    code, out, err = cli(capsys, "deploy", GEN_B, "--port", wifi_board.usb_path)
    assert code == 0, err
    assert re.search(r"program gen_b crc [0-9a-f]{8} RUN, retained values kept", out), out
    assert "start fresh" not in out
    wait_regs(wifi_board, tcp_read, {1024: 42, 1025: 142}, "gen_b with the kept setpoint")
    assert not (wifi_board.flash / "program.tmp").exists()


def test_deploy_with_a_changed_retained_layout_says_so_then_deploys(wifi_board, capsys):
    tcp_write(wifi_board, 1024, 42)  # a retained setpoint that must not survive the deploy
    wait_regs(wifi_board, tcp_read, {1024: 42, 1025: 43}, "gen_a with setpoint 42")
    code, out, err = cli(capsys, "deploy", GEN_C, "--port", wifi_board.usb_path)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "the retained layout changed: these start fresh: hours, setpoint"
    assert "retained values start fresh" in lines[-1]
    wait_regs(wifi_board, tcp_read, {1024: 0, 1025: 7, 1026: 0}, "gen_c from fresh values")


def test_deploy_refused_by_the_board_leaves_the_old_program(gen_c_board, capsys, tmp_path,
                                                            monkeypatch):
    from rung.usb import deploy

    # a program the host accepts but the board refuses: a byte flipped on the way
    real_write = usb_link.BoardLink.write

    def corrupt(self, path, data, progress=None):
        if path == deploy.TMP:
            data = data[:-3] + bytes([data[-3] ^ 0xFF]) + data[-2:]
        return real_write(self, path, data, progress)

    monkeypatch.setattr(usb_link.BoardLink, "write", corrupt)
    code, _out, err = cli(capsys, "deploy", GEN_A, "--port", gen_c_board.usb_path)
    assert code == 1 and "the board refused" in err and "the old program runs" in err
    assert len(err.strip().splitlines()) == 1
    monkeypatch.undo()
    wait_regs(gen_c_board, tcp_read, {1025: 7}, "gen_c still running")
    assert not (gen_c_board.flash / "program.tmp").exists()


def test_status_reports_and_the_plc_resumes(gen_c_board, capsys):
    gen_c_board.wait_output(SERVING, WAIT_S)  # on the Wi-Fi: status shows its address
    code, out, err = cli(capsys, "status", "--port", gen_c_board.usb_path)
    assert code == 0, err
    fields = dict(re.findall(r"^(\S+(?: \S+)?)\s{2,}(.*)$", out, re.M))
    assert fields["board"].startswith("pico_w")
    assert fields["MicroPython"] == "1.29.0"
    assert fields["state"] == "RUN"
    assert re.match(r"gen_c crc [0-9a-f]{8}, cycle 10 ms, \d+ scans", fields["program"])
    assert re.match(r"last \d+ us, max \d+ us, overruns \d+", fields["scan time"])
    assert re.match(r"\d+ bytes", fields["free heap"])
    assert fields["IP address"] == "127.0.0.1"
    assert "faults" in fields
    tcp_write(gen_c_board, 1026, 5)  # hours: the resumed PLC computes again
    wait_regs(gen_c_board, tcp_read, {1025: 12}, "the PLC after status")


def test_port_busy(board, capsys):
    import serial

    holder = serial.Serial(board.usb_path, exclusive=True)
    try:
        code, _out, err = cli(capsys, "status", "--port", board.usb_path)
    finally:
        holder.close()
    assert code == 1 and f"port {board.usb_path} is busy" in err
    assert len(err.strip().splitlines()) == 1


def test_a_device_that_does_not_answer_the_raw_repl(capsys, monkeypatch):
    monkeypatch.setattr(usb_link, "RAW_REPL_TIMEOUT_S", 1)
    master, slave = pty.openpty()  # a serial device that never answers
    try:
        code, out, err = cli(capsys, "status", "--port", os.ttyname(slave))
    finally:
        os.close(master)
        os.close(slave)
    assert code == 1 and "does not answer MicroPython's raw REPL" in err
    assert out == "" and len(err.strip().splitlines()) == 1


@pytest.fixture()
def bare(tmp_path):
    """A Pico (no Wi-Fi) with stock MicroPython and nothing on its flash."""
    with _running("pico", tmp_path / "flash", STOCK) as b:
        yield b


def test_stock_micropython_board(bare, capsys):
    code, out, err = cli(capsys, "status", "--port", bare.usb_path)
    assert code == 0, err
    assert "firmware     none: stock MicroPython" in out
    code, out, err = cli(capsys, "deploy", GEN_A, "--port", bare.usb_path)
    assert code == 1 and "has no Rung firmware: run rung flash" in err
    code, out, err = cli(capsys, "config", "--port", bare.usb_path, "unit=300")
    assert code == 1 and "unit=300: unit is a whole number from 1 to 247" in err


def test_readme_usb_commands_work_on_a_virtual_pico(bare, capsys):
    from tests.test_docs import readme_commands

    usb = [c for c in readme_commands() if c[1] in ("flash", "deploy", "config", "status")]
    assert [c[1] for c in usb] == ["flash", "deploy", "config", "status"]
    outs = {}
    for command in usb:
        argv = [os.path.join(HERE, "..", a) if a.endswith(".rung") else a for a in command[1:]]
        code, outs[command[1]], err = cli(capsys, *argv, "--port", bare.usb_path)
        assert code == 0, (command, err)
    # not on a terminal: config wrote the setting and said how to apply it; status, which
    # restarts the PLC, shows it running again
    assert "unit=3 written; the PLC stays stopped; apply them with" in outs["config"]
    assert json.loads((bare.flash / "settings.json").read_text())["unit"] == 3
    assert re.search(r"^program\s+motor_station crc", outs["status"], re.M), outs["status"]


def test_unplugged_in_the_middle_of_a_flash(bare, capsys, monkeypatch):
    real_write = usb_link.BoardLink.write
    count = [0]

    def unplug_at_third(self, path, data, progress=None):
        count[0] += 1
        if count[0] == 3:
            self.transport.serial.close()  # the cable is pulled: the port goes away
        return real_write(self, path, data, progress)

    monkeypatch.setattr(usb_link.BoardLink, "write", unplug_at_third)
    port = bare.usb_path
    code, _out, err = cli(capsys, "flash", GEN_A, "--board", "pico", "--port", port)
    assert code == 1, err
    assert err.startswith(f"rung flash: lost the board on {port}")
    assert "the firmware on it is incomplete" in err and "run rung flash again" in err
    assert len(err.strip().splitlines()) == 1
    assert not (bare.flash / "main.py").exists()  # main.py goes last: no half firmware runs


def test_deploy_cut_at_every_block_write_leaves_the_old_or_the_new_program(tmp_path, capsys,
                                                                         monkeypatch):
    """The power cut at each block write a deploy makes on the LittleFS2 image: after it
    the board boots the old program or the new one, never none."""
    VirtualBoard = _vboard()
    from rung.compiler.api import compile_file
    from rung.vboard import lfsimage

    tree = tmp_path / "tree"
    assert main(["flash", GEN_A, "--board", "pico", "--out", str(tree)]) == 0
    image = str(tmp_path / "flash.img")
    lfsimage.create_image(image, 848)
    lfsimage.copy_tree_in(str(tree), image)
    crcs = {compile_file(p, debug=False).image.crc: p for p in (GEN_A, GEN_B)}
    links = []
    real_open = usb_link.BoardLink.open

    def remember(self):
        links.append(self)
        return real_open(self)

    monkeypatch.setattr(usb_link.BoardLink, "open", remember)
    b = VirtualBoard("pico", flash_image=image)
    b.start()
    capsys.readouterr()
    try:
        running = _booted_program(b, 0, crcs)
        assert running == GEN_A
        outcomes = []
        k = 0
        while True:  # cut at the 1st, 2nd, ... block write until a deploy has fewer
            k += 1
            assert k < 200
            target = GEN_A if running == GEN_B else GEN_B
            start = len(b.console_log)
            b.cut_power_after_writes(k)
            code = _deploy_in_thread(b, target, links)
            if b._powered:  # the deploy made fewer than k block writes: it is done
                assert code == 0, bytes(b.console_log[start:]).decode(errors="replace")[-1500:]
                assert _booted_program(b, start, crcs) == target
                break
            assert code == 1
            b.wait_for(lambda: not b.running, WAIT_S, "the board to go off")
            b.power_on()
            now = _booted_program(b, start, crcs)
            assert now in (running, target), (k, now)  # old or new, never none
            outcomes.append("new" if now == target else "old")
            running = now
        capsys.readouterr()
        print(f"deploy: {k - 1} block writes before the restart, cut at each: {outcomes}")
        assert k > 2 and outcomes[0] == "old"
    finally:
        b.stop()


def _booted_program(b, start, crcs):
    """The program the first boot banner after offset start says runs; fails on none."""
    end = b.wait_output(BOOTED, WAIT_S, start)
    text = bytes(b.console_log[start:end]).decode(errors="replace")
    banners = re.findall(r"Rung \S+ on pico: (\w+)(?: \(fault (\d+)\))?(?:, program crc "
                         r"([0-9a-f]{8}))?", text)
    state, fault, crc = banners[-1]
    assert state == "RUN", f"booted in {state} (fault {fault}): {text[-300:]}"
    return crcs[int(crc, 16)]


def _deploy_in_thread(b, program, links):
    """rung deploy in a thread; if the board goes off meanwhile, unplug its USB (the
    command's port closes, as when a cable is pulled)."""
    import threading

    result = []
    t = threading.Thread(target=lambda: result.append(
        main(["deploy", program, "--port", b.usb_path])))
    n = len(links)
    t.start()
    while t.is_alive():
        # powered off by the cut (not a soft reboot's short gap between interpreters)
        if not b._powered and len(links) > n and links[-1].transport is not None:
            try:
                links[-1].transport.serial.close()
            except Exception:  # noqa: BLE001 - closed already
                pass
        t.join(0.02)
    return result[0]
