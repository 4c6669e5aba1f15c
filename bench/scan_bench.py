"""Scan cost against hand-written Python, on CPython and under MicroPython; and memory.

Run: .venv/bin/python bench/scan_bench.py [--no-mpy] [--write-doc]
Ratios are measured in one run (runtime scan time / hand-written scan time, same data)."""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import programs  # noqa: E402

import rung  # noqa: E402
from rung.runtime import Runtime  # noqa: E402

SCANS = 2000

# Runs on CPython and MicroPython alike: times Runtime.scan against hand_scan.
TIMING = """
try:
    from time import ticks_us, ticks_diff
except ImportError:
    from time import perf_counter
    def ticks_us():
        return int(perf_counter() * 1000000)
    def ticks_diff(a, b):
        return a - b

def measure(rt, hand_scan, scans):
    v2 = list(rt.v)
    inputs = rt.inputs
    outs2 = list(rt.outputs)
    best_rt = best_hand = None
    for rep in range(3):
        t0 = ticks_us()
        for i in range(scans):
            inputs[i % len(inputs)] = (i & 4) == 4 if isinstance(inputs[i % len(inputs)], bool) else i % 999
            rt.scan(i * 10)
        t1 = ticks_us()
        for i in range(scans):
            inputs[i % len(inputs)] = (i & 4) == 4 if isinstance(inputs[i % len(inputs)], bool) else i % 999
            hand_scan(v2, inputs, outs2, 10)
        t2 = ticks_us()
        a, b = ticks_diff(t1, t0), ticks_diff(t2, t1)
        best_rt = a if best_rt is None or a < best_rt else best_rt
        best_hand = b if best_hand is None or b < best_hand else best_hand
    return best_rt / scans, best_hand / scans
"""


def build(name, scans):
    src, hand, n_in, n_out = getattr(programs, name)()
    code = rung.compile_source(src, name + ".rung").to_bytes()
    rt = Runtime(code)
    hsrc = programs.hand_source(hand, n_in, n_out, rt.input_vars, rt.output_vars)
    return code, hsrc


def cpython_ratio(code, hsrc, scans):
    ns = {}
    exec(TIMING, ns)
    exec(hsrc, ns)
    return ns["measure"](Runtime(code), ns["hand_scan"], scans)


def micropython_run(script, module_dir=None):
    runner = os.path.join(ROOT, "tests", "mpy_runner.mjs")
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(script)
    extra = ["4194304", module_dir] if module_dir else []
    try:
        proc = subprocess.run(
            ["node", runner, f.name, *extra], capture_output=True, text=True, cwd=ROOT, timeout=600
        )
    finally:
        os.unlink(f.name)
    if proc.returncode:
        raise RuntimeError(proc.stderr)
    return proc.stdout


def micropython_ratio(code, hsrc, scans):
    script = (
        TIMING
        + hsrc
        + "\nfrom runtime import Runtime\n"
        + f"a, b = measure(Runtime({code!r}), hand_scan, {scans})\nprint(a, b)\n"
    )
    a, b = micropython_run(script).split()
    return float(a), float(b)


def compile_mpy(dest):
    """The runtime package compiled with mpy-cross, as a board would receive it."""
    import glob

    for path in glob.glob(os.path.join(ROOT, "runtime", "*.py")):
        out = os.path.join(dest, os.path.basename(path)[:-3] + ".mpy")
        subprocess.run([sys.executable, "-m", "mpy_cross", "-o", out, path], check=True)


def memory_500_rungs():
    """Heap bytes for the runtime plus a loaded 500-rung program, under MicroPython.

    Each step is its own top-level run so the pyscript build's deferred GC really collects;
    the runtime is imported from .mpy files as on a board."""
    src, _hand, _i, _o = programs.contacts(500)
    code = rung.compile_source(src, "m500.rung", debug=False).to_bytes()
    sep = "\n#--- top level ---\n"
    script = sep.join(
        [
            "import gc\nimport builtins\ngc.collect()",
            "builtins.base = gc.mem_alloc()\nbuiltins.code = " + repr(code),
            "gc.collect()",
            "builtins.with_code = gc.mem_alloc()\nfrom runtime import Runtime\nbuiltins.R = Runtime",
            "gc.collect()",
            "builtins.with_runtime = gc.mem_alloc()\nbuiltins.rt = R(code)\nrt.scan(0)",
            "gc.collect()",
            "builtins.loaded = gc.mem_alloc()\n"
            "print(with_code - base, with_runtime - with_code, loaded - with_runtime, len(code))",
        ]
    )
    with tempfile.TemporaryDirectory() as tmp:
        compile_mpy(tmp)
        out = micropython_run(script, tmp)
    code_b, runtime_b, program_b, size = (int(x) for x in out.split())
    return code_b, runtime_b, program_b, size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-mpy", action="store_true", help="CPython only")
    ap.add_argument("--write-doc", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    rows = []
    for name in ("contacts", "mixed"):
        code, hsrc = build(name, SCANS)
        a, b = cpython_ratio(code, hsrc, SCANS)
        rows.append((name, "CPython " + sys.version.split()[0], a, b))
        if not args.no_mpy:
            a, b = micropython_ratio(code, hsrc, SCANS // 4)
            rows.append((name, "MicroPython 1.27 (webassembly, node)", a, b))
    out = [
        "| program (200 rungs) | interpreter | runtime µs/scan | hand-written µs/scan | ratio |",
        "|---|---|---|---|---|",
    ]
    for name, interp, a, b in rows:
        out.append(f"| {name} | {interp} | {a:.1f} | {b:.1f} | {a / b:.2f} |")
    text = "\n".join(out)
    print(text)
    mem = None
    if not args.no_mpy:
        mem = memory_500_rungs()
        code_b, runtime_b, program_b, size = mem
        print(
            f"\nMicroPython heap: runtime modules {runtime_b} B, 500-rung program "
            f"({size} B of bytecode) loaded {program_b} B, total {runtime_b + program_b} B "
            f"(bytecode buffer itself {code_b} B)"
        )
    if args.write_doc:
        write_doc(text, mem)


def write_doc(table, mem):
    lines = [
        "# Benchmarks",
        "",
        "Measured by `bench/scan_bench.py` (`.venv/bin/python bench/scan_bench.py --write-doc`)",
        "in one run: the runtime's `scan()` against the same logic hand-written in plain",
        "Python over the same data (`bench/programs.py`), both including the copy of the",
        "input and output images. Best of three runs of 2000 scans (500 under MicroPython).",
        "Target: ratio ≤ 1.5.",
        "",
        table,
        "",
    ]
    if mem:
        code_b, runtime_b, program_b, size = mem
        total = runtime_b + program_b
        lines += [
            "## Memory (MicroPython heap, `gc.mem_alloc()`)",
            "",
            "| what | bytes |",
            "|---|---|",
            f"| runtime modules imported | {runtime_b} |",
            f"| 500-rung program loaded (verified, translated, slots) | {program_b} |",
            f"| **runtime + program** | **{total}** (target < 65536) |",
            f"| the bytecode buffer ({size} bytes, held by the caller) | {code_b} |",
            "",
            "Measured on the webassembly port, whose objects have the same layout as the",
            "32-bit ports (ESP32, RP2040). The runtime is imported from `.mpy` files (mpy-cross), as",
            "on a board with the runtime copied to its filesystem.",
        ]
    with open(os.path.join(ROOT, "docs", "benchmarks.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
