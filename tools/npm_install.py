"""`make test`'s npm step: install the MicroPython webassembly port, or say why not.

npm's own output is kept and, on failure, its reason is shown with what to do. Outside CI
(RUNG_REQUIRE_ALL unset) the failure is not fatal: the reason is stored in
node_modules/.install-failed, where tests/mpy.py finds it and skips the MicroPython tests
with it. In CI it is an error. Usage: python3 tools/npm_install.py [ROOT]"""

import os
import re
import shutil
import subprocess
import sys

PACKAGE = "@micropython/micropython-webassembly-pyscript"
STAMP = os.path.join("node_modules", ".installed")
FAILED = os.path.join("node_modules", ".install-failed")
_AT = re.compile(r"^\s+at ")


def npm_reason(output):
    """The lines of npm's output that say what went wrong (no stack, no object dump)."""
    lines = []
    in_object = False
    for raw in output.splitlines():
        m = re.match(r"npm (?:error|ERR!) ?(.*)", raw)
        if not m:
            continue
        text = m.group(1).rstrip()
        if in_object:
            in_object = text != "}"
            continue
        if text.endswith("{"):
            in_object = True
            text = text[:-1].rstrip()
        if not text or _AT.match(text):
            continue
        lines.append(text)
    return lines


def summary(lines):
    """One line for a skip message: npm's error code and its first real sentence."""
    code = None
    for line in lines:
        m = re.match(r"code (\S+)$", line)
        if m:
            code = m.group(1)
    for line in lines:
        if not re.match(r"(code|syscall|errno) \S+$", line):
            return f"{code}: {line}" if code and code not in line else line
    return code or "npm gave no reason"


def _registry():
    env = os.environ.get("npm_config_registry") or os.environ.get("NPM_CONFIG_REGISTRY")
    if env:
        return env
    try:
        proc = subprocess.run(
            ["npm", "config", "get", "registry"], capture_output=True, text=True, timeout=30
        )
        return proc.stdout.strip() or "the npm registry"
    except (OSError, subprocess.SubprocessError):
        return "the npm registry"


def _give_up(reason, detail, required):
    os.makedirs("node_modules", exist_ok=True)
    with open(FAILED, "w", encoding="utf-8") as f:
        f.write(reason + "\n")
    print(detail, file=sys.stderr)
    if required:
        print(
            "RUNG_REQUIRE_ALL=1 (CI): the MicroPython tests must run, so this is an error.",
            file=sys.stderr,
        )
        return 1
    print(
        "The MicroPython tests will be skipped with this reason; the rest of the suite runs.",
        file=sys.stderr,
    )
    return 0


def main(root):
    os.chdir(root)
    required = os.environ.get("RUNG_REQUIRE_ALL") == "1"
    if shutil.which("npm") is None:
        return _give_up(
            "npm not found",
            "npm not found: MicroPython tests will be skipped (Debian: apt-get install npm).",
            required,
        )
    print(f"npm install: {PACKAGE} (real MicroPython, for the tests)", flush=True)
    proc = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if proc.returncode == 0:
        if os.path.exists(FAILED):
            os.unlink(FAILED)
        with open(STAMP, "w"):
            pass
        return 0
    lines = npm_reason(proc.stdout) or proc.stdout.strip().splitlines()[-12:]
    detail = "\n".join(
        [f"npm install failed (exit status {proc.returncode}); npm says:"]
        + ["    " + line for line in lines[:15]]
        + [
            f"What to do: check that {_registry()} is reachable from this machine (or set a "
            "proxy: `npm config set proxy URL`, or another registry: `npm config set registry "
            "URL`), then run `make test` again."
        ]
    )
    return _give_up(f"npm install failed: {summary(lines)}", detail, required)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
