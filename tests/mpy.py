"""Run code under real MicroPython (webassembly port under node) with runtime/ installed."""

import os
import shutil
import subprocess
import tempfile

from conftest import ROOT, need

RUNNER = os.path.join(ROOT, "tests", "mpy_runner.mjs")
PACKAGE = os.path.join(ROOT, "node_modules", "@micropython", "micropython-webassembly-pyscript")
INSTALL_FAILED = os.path.join(ROOT, "node_modules", ".install-failed")  # tools/npm_install.py


def mpy_available():
    """True when node and the MicroPython npm package are installed."""
    return shutil.which("node") is not None and os.path.isdir(PACKAGE)


def _not_installed():
    """Why the npm package is missing: the reason `make test`'s npm step stored, if any."""
    try:
        with open(INSTALL_FAILED, encoding="utf-8") as f:
            why = f.read().strip()
    except OSError:
        why = "run `make test` or `npm install`"
    return (
        "MicroPython tests skipped: the npm package @micropython/micropython-webassembly-"
        f"pyscript is not installed ({why})"
    )


def run_mpy(code, timeout=120, heap=4 * 1024 * 1024, module_dir=None):
    """Run `code` under MicroPython; return its stdout. Fails the test on a Python error.

    heap: the initial heap. The webassembly build grows its heap on demand (and collects
    garbage only between top-level runs), so this does not bound memory: memory is
    measured with gc.mem_alloc() instead (bench/mpy_memory.py).

    module_dir: a folder of .mpy files to install as the package `runtime` instead of the
    repository's runtime/*.py (see bench/mpy_memory.compile_mpy)."""
    need(shutil.which("node") is not None, "node not found: MicroPython tests skipped")
    need(os.path.isdir(PACKAGE), _not_installed())
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(code)
        path = f.name
    try:
        proc = subprocess.run(
            ["node", RUNNER, path, str(heap)] + ([module_dir] if module_dir else []),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        raise AssertionError("MicroPython failed:\n" + proc.stderr + "\n" + proc.stdout[-2000:])
    return proc.stdout
