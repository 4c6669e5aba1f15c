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

import mpy_memory  # noqa: E402
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


def memory_500_rungs():
    """Heap bytes under MicroPython for the runtime and a loaded 500-rung program."""
    src, _hand, _i, _o = programs.contacts(500)
    code = rung.compile_source(src, "m500.rung", debug=False).to_bytes()
    tiny = rung.compile_source(mpy_memory.TINY, "tiny.rung", debug=False).to_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        mpy_memory.compile_mpy(tmp)
        out = micropython_run(mpy_memory.script(code, tiny), tmp)
    mem = mpy_memory.parse(out)
    mem["size"] = len(code)
    return mem


def module_costs():
    """Heap bytes of each runtime module imported in turn, under MicroPython."""
    with tempfile.TemporaryDirectory() as tmp:
        mpy_memory.compile_mpy(tmp, empty_package=True)
        return mpy_memory.parse_modules(micropython_run(mpy_memory.modules_script(), tmp))


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
        mem["per_module"] = module_costs()
        print(
            f"\nMicroPython heap: runtime modules {mem['modules']} B, 500-rung program "
            f"({mem['size']} B of bytecode) {mem['program']} B, total {mem['total']} B; "
            f"while loading about {mem['peak']} B"
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
        lines += [
            "## Memory (MicroPython heap, `gc.mem_alloc()`)",
            "",
            "Measured as on a board (`bench/mpy_memory.py`): the runtime package compiled by",
            "mpy-cross and imported from `.mpy` files, the bytecode read from a file into a",
            "buffer that the caller drops after loading. The program is the 500-rung `contacts`",
            f"program ({mem['size']} bytes of bytecode, no debug section). The webassembly port's",
            "objects have the same layout as the 32-bit ports (ESP32, RP2040).",
            "",
            "| what | bytes |",
            "|---|---|",
            f"| runtime modules, resident after loading | {mem['modules']} |",
            f"| 500-rung program loaded (generated code, slots, tables) | {mem['program']} |",
            f"| **runtime + program** | **{mem['total']}** (target < 65536) |",
            f"| runtime modules imported before the first load | {mem['modules_imported']} |",
            f"| verifier/translator modules, present only while loading | {mem['loader']} |",
            f"| bytecode buffer, held only while loading | {mem['buffer']} |",
            f"| about the peak while loading | {mem['peak']} |",
            "",
            "The verifier/translator (`translate`, `instructions`) and the opcode table are",
            "needed only while a program loads: on MicroPython `Runtime(code)` drops those",
            "modules afterwards (the next load imports them again), and it keeps neither the",
            "bytecode buffer nor the rung offsets once the rungs are translated. The names",
            "those modules interned stay (MicroPython never frees qstrs). The peak is the",
            "resident figure plus what exists only during loading, summed from the",
            "measurements above (the webassembly build cannot collect garbage in the middle of",
            "a run, so it is not observed directly).",
            "",
            "Heap cost of each module imported in turn (`.mpy`; each after the modules it",
            "imports, so shared names are counted once, where first imported):",
            "",
            "| module | bytes | kept after loading |",
            "|---|---|---|",
        ]
        dropped = ("opcodes", "instructions", "translate")
        for name, size in mem["per_module"].items():
            kept = "no (names it interned stay)" if name in dropped else "yes"
            if name == "retain":
                kept = "only if the program retains something"
            lines.append(f"| {name} | {size} | {kept} |")
        lines += [
            "",
            "The program's share is mostly generated code: about 45 bytes of MicroPython",
            "bytecode for a rung of five contacts and two coils, the slot list (4 bytes a",
            "slot: variables, block state, edge memories, one power-flow slot a rung) and the",
            "variable table (a tuple a variable; equal rows share one tuple).",
            "",
            "Not measured here: a runtime frozen into the firmware (`manifest.py`) runs its",
            "bytecode and reads its constant objects from flash (MicroPython's manifest",
            "documentation), leaving mostly the modules' global dictionaries and the objects",
            "built at import in the heap; the webassembly build cannot be rebuilt with frozen",
            "modules in this setup.",
        ]
    with open(os.path.join(ROOT, "docs", "benchmarks.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
