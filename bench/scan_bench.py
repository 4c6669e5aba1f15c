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


MEMORY_PROGRAMS = (
    ("contacts", 500, "500 rungs of contacts and coils"),
    ("mixed", 333, "499 rungs: comparisons, arithmetic, 83 TON timers and 83 CTU counters"),
)


def memory_500_rungs(name, size):
    """Heap bytes under MicroPython for the runtime and a loaded 500-rung program."""
    src, _hand, _i, _o = getattr(programs, name)(size)
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
    mems = []
    if not args.no_mpy:
        for name, size, what in MEMORY_PROGRAMS:
            mem = memory_500_rungs(name, size)
            mem["name"], mem["what"] = name, what
            mems.append(mem)
            print(
                f"\nMicroPython heap, {name}: runtime modules {mem['modules']} B, program "
                f"({mem['size']} B of bytecode) {mem['program']} B, total {mem['total']} B; "
                f"while loading about {mem['peak']} B"
            )
        mems[0]["per_module"] = module_costs()
    if args.write_doc:
        write_doc(text, mems)


def write_doc(table, mems):
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
    if mems:
        lines += [
            "## Memory (MicroPython heap, `gc.mem_alloc()`)",
            "",
            "Measured as on a board (`bench/mpy_memory.py`, checked by",
            "`tests/test_micropython_memory.py`): the runtime package compiled by mpy-cross and",
            "imported from `.mpy` files, the bytecode read from a file into a buffer that the",
            "caller drops after loading, no debug section. The webassembly port is a 32-bit",
            "port like ESP32 and RP2040 (4-byte pointers and small ints, 16-byte heap blocks),",
            "so its objects have their sizes. Target: runtime + a 500-rung program < 65536",
            "bytes.",
            "",
            "| what | " + " | ".join(m["name"] for m in mems) + " |",
            "|---|" + "---|" * len(mems),
        ]

        def row(label, key, bold=False):
            cells = [str(m[key]) for m in mems]
            if bold:
                cells = ["**" + c + "**" for c in cells]
            lines.append("| " + label + " | " + " | ".join(cells) + " |")

        lines.append("| program | " + " | ".join(m["what"] for m in mems) + " |")
        row("bytecode size", "size")
        row("runtime modules, resident after loading", "modules")
        row("the loaded program (generated code, slots, tables)", "program")
        row("runtime + program", "total", bold=True)
        row("runtime modules imported before the first load", "modules_imported")
        row("decoder and verifier/translator, present only while loading", "loader")
        row("bytecode buffer, held only while loading", "buffer")
        row("about the peak while loading (see below)", "peak")
        lines += [
            "",
            "Only the scan engine stays resident. The decoder (`container`), the",
            "verifier/translator (`translate`, `instructions`) and the opcode, address and CRC",
            "tables are needed only while a program loads: on MicroPython `Runtime(code)` drops",
            "those modules afterwards (the next load imports them again), and it keeps neither",
            "the bytecode buffer nor the rung offsets once the rungs are translated. The names",
            "those modules interned stay (MicroPython never frees qstrs).",
            "",
            "The peak is the resident figure plus what exists only during loading (loader",
            "modules, buffer, rung offsets), summed from the measurements above, plus the",
            "generated source and compiler state of one chunk of 32 rungs (about 2.6 KB of",
            "source), which is not included: the webassembly build collects garbage only",
            "between top-level runs, so the peak inside a load cannot be observed there.",
            "",
            "Heap cost of each module imported in turn (`.mpy`; each after the modules it",
            "imports, so shared names are counted once, where first imported):",
            "",
            "| module | bytes | kept after loading |",
            "|---|---|---|",
        ]
        dropped = ("opcodes", "addresses", "crc", "container", "instructions", "translate")
        for name, size in mems[0]["per_module"].items():
            kept = "no (names it interned stay)" if name in dropped else "yes"
            if name == "retain":
                kept = "only if the program retains something"
            lines.append(f"| {name} | {size} | {kept} |")
        lines += [
            "",
            "The program's share is mostly generated code (about 48 bytes of MicroPython",
            "bytecode for a rung of five contacts and two coils), the slot list (4 bytes a",
            "slot: variables, block state, edge memories), a byte a rung of power flow, and the",
            "variable and block tables (a tuple a row; equal rows share one tuple).",
            "",
            "Not measured here: a runtime frozen into the firmware (`manifest.py`) runs its",
            "bytecode and reads its constant objects and names from flash (MicroPython's",
            "manifest documentation), which would remove most of the module share; the",
            "webassembly build cannot be rebuilt with frozen modules in this setup.",
        ]
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    keep = ""
    with open(path) as f:  # the firmware's section (bench/fw_memory.py) stays
        text = f.read()
    if "<!-- firmware memory:" in text:
        keep = "\n" + text[text.index("<!-- firmware memory:") :]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + keep)


if __name__ == "__main__":
    main()
