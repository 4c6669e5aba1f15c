"""What the virtual-board tests share: real mpremote on a board's USB port, bytes typed on
that port, and the settings.json the firmware tests flash."""

import os
import subprocess
import sys

from rung.boards.flash import settings_module

MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")


def mpremote(link, *args, timeout=60):
    """Run `mpremote connect LINK ARGS...`; its stdout (fails the test if it fails)."""
    r = subprocess.run(
        [MPREMOTE, "connect", link, *args], capture_output=True, text=True, timeout=timeout
    )
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def write_usb(board, data):
    """Type bytes on the board's USB port, as a terminal would."""
    fd = os.open(board.usb_path, os.O_RDWR | os.O_NOCTTY)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def plc_settings(**extra):
    """The firmware's default settings, no RUN/STOP switch, Wi-Fi "plant", then extra."""
    s = settings_module().defaults()
    s["run_switch"] = False
    s["wifi"]["ssid"] = "plant"
    s.update(extra)
    return s
