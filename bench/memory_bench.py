"""MicroPython heap of the runtime and a loaded 500-rung program (webassembly port, `.mpy`
modules from mpy-cross), and of each runtime module: the figures of docs/performance.md.

Run: .venv/bin/python bench/memory_bench.py   (needs node and the npm package; mpy-cross)"""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import mpy_memory  # noqa: E402
import programs  # noqa: E402

MEMORY_PROGRAMS = (
    ("contacts", 500, "500 rungs of contacts and coils"),
    ("mixed", 333, "499 rungs: comparisons, arithmetic, 83 TON timers and 83 CTU counters"),
)


def memory_500_rungs(name, size):
    """Heap bytes under MicroPython for the runtime and a loaded 500-rung program."""
    import rung

    src = getattr(programs, name)(size)[0]
    code = rung.compile_source(src, "m500.rung", debug=False).to_bytes()
    tiny = rung.compile_source(mpy_memory.TINY, "tiny.rung", debug=False).to_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        mpy_memory.compile_mpy(tmp)
        mem = mpy_memory.parse(mpy_memory.on_webassembly(mpy_memory.script(code, tiny), module_dir=tmp))
    mem["size"] = len(code)
    return mem


def module_costs():
    """Heap bytes of each runtime module imported in turn, under MicroPython."""
    with tempfile.TemporaryDirectory() as tmp:
        mpy_memory.compile_mpy(tmp, empty_package=True)
        return mpy_memory.parse_modules(mpy_memory.on_webassembly(mpy_memory.modules_script(), module_dir=tmp))


def measure():
    """The memory figures of both programs, with the per-module costs on the first."""
    mems = []
    for name, size, what in MEMORY_PROGRAMS:
        mem = memory_500_rungs(name, size)
        mem["name"], mem["what"] = name, what
        mems.append(mem)
    mems[0]["per_module"] = module_costs()
    return mems


def section(mems):
    """The memory section of docs/performance.md, as lines."""
    lines = [
        "## Memory (MicroPython heap, `gc.mem_alloc()`)",
        "",
        "Measured as on a board (`bench/memory_bench.py` with `bench/mpy_memory.py`, checked by",
        "`tests/test_micropython_memory.py`): the runtime package compiled by mpy-cross and",
        "imported from `.mpy` files, the bytecode read from a file into a buffer that the",
        "caller drops after loading, no debug section. The webassembly port is a 32-bit",
        "port like ESP32 and RP2040 (4-byte pointers and small ints, 16-byte heap blocks),",
        "so its objects have their sizes. Target: runtime + a 500-rung program < 65536",
        "bytes.",
        "",
        "| what | " + " | ".join(m["name"] for m in mems) + " |",
        "|---|" + "---|" * len(mems),
        "| program | " + " | ".join(m["what"] for m in mems) + " |",
    ]

    def row(label, key, bold=False):
        cells = [str(m[key]) for m in mems]
        if bold:
            cells = ["**" + c + "**" for c in cells]
        lines.append("| " + label + " | " + " | ".join(cells) + " |")

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
    dropped = ("opcodes", "addresses", "map_limits", "crc", "container", "instructions",
               "translate")
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
    return lines


if __name__ == "__main__":
    print("\n".join(section(measure())))
