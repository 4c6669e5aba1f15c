"""`make test`'s npm step when the registry cannot be reached: npm's reason, what to do, and
(outside CI) MicroPython tests skipped with that reason instead of a bare `Error 1`."""

import importlib.util
import os
import shutil
import subprocess

import mpy
from conftest import ROOT, need_tool

_spec = importlib.util.spec_from_file_location(
    "npm_install", os.path.join(ROOT, "tools", "npm_install.py")
)
npm_install = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(npm_install)
npm_reason, summary = npm_install.npm_reason, npm_install.summary

NPM_OUTPUT = """npm error code ECONNREFUSED
npm error syscall connect
npm error errno ECONNREFUSED
npm error FetchError: request to http://127.0.0.1:9/@micropython%2fmicropython-webassembly-pyscript failed, reason: connect ECONNREFUSED 127.0.0.1:9
npm error     at ClientRequest.<anonymous> (/usr/lib/node_modules/npm/node_modules/minipass-fetch/lib/index.js:130:14)
npm error     at process.processTicksAndRejections (node:internal/process/task_queues:83:21) {
npm error   code: 'ECONNREFUSED',
npm error   port: 9,
npm error   requiredBy: '.'
npm error }
npm error
npm error If you are behind a proxy, please make sure that the 'proxy' config is set properly.
npm error A complete log of this run can be found in: /root/.npm/_logs/x-debug-0.log
"""


def test_npm_reason_keeps_what_went_wrong_and_drops_the_stack():
    lines = npm_reason(NPM_OUTPUT)
    assert lines[0] == "code ECONNREFUSED" and len(lines) == 6, lines
    assert not any(" at " in line or "port: 9" in line for line in lines)
    assert summary(lines).startswith("FetchError: request to http://127.0.0.1:9/")
    assert summary(npm_reason("npm error code E404\nnpm error 404 Not Found - GET x\n")) == (
        "E404: 404 Not Found - GET x"
    )


def make_npm_step(tmp_path, require_all):
    """`make node_modules/.installed` in a copy of the tree, npm pointed at a dead port."""
    for name in ("Makefile", "package.json", os.path.join("tools", "npm_install.py")):
        os.makedirs(tmp_path / os.path.dirname(name), exist_ok=True)
        shutil.copy(os.path.join(ROOT, name), tmp_path / name)
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
    env.pop("RUNG_REQUIRE_ALL", None)
    env.update(
        npm_config_registry="http://127.0.0.1:9/",
        npm_config_cache=str(tmp_path / "cache"),  # nothing cached to install from
        npm_config_fetch_retries="0",
    )
    if require_all:
        env["RUNG_REQUIRE_ALL"] = "1"
    return subprocess.run(
        ["make", "node_modules/.installed"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_unreachable_registry_outside_ci_shows_why_and_skips(tmp_path):
    need_tool("npm")
    need_tool("make")
    proc = make_npm_step(tmp_path, require_all=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "npm install failed (exit status 1); npm says:" in out
    assert "reason: connect ECONNREFUSED 127.0.0.1:9" in out
    assert "What to do: check that http://127.0.0.1:9/ is reachable" in out
    assert "The MicroPython tests will be skipped with this reason" in out
    assert not (tmp_path / "node_modules" / ".installed").exists()  # tried again next time
    stored = (tmp_path / "node_modules" / ".install-failed").read_text()
    assert stored.startswith("npm install failed: FetchError: request to http://127.0.0.1:9/")


def test_unreachable_registry_in_ci_is_an_error_that_says_why(tmp_path):
    need_tool("npm")
    need_tool("make")
    proc = make_npm_step(tmp_path, require_all=True)
    assert proc.returncode != 0
    assert "reason: connect ECONNREFUSED 127.0.0.1:9" in proc.stderr, proc.stderr
    assert "RUNG_REQUIRE_ALL=1 (CI): the MicroPython tests must run" in proc.stderr


def test_micropython_tests_skip_with_the_stored_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(mpy, "INSTALL_FAILED", str(tmp_path / ".install-failed"))
    assert "(run `make test` or `npm install`)" in mpy._not_installed()
    (tmp_path / ".install-failed").write_text("npm install failed: E404: 404 Not Found\n")
    assert mpy._not_installed() == (
        "MicroPython tests skipped: the npm package @micropython/micropython-webassembly-"
        "pyscript is not installed (npm install failed: E404: 404 Not Found)"
    )
