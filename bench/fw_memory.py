"""Heap in use after the firmware boots a 200-rung program, against each board's budget.

Two measurements (docs/performance.md, "Firmware memory"):
- the whole firmware on the MicroPython unix port (the virtual board's interpreter, with
  the machine/network doubles): gc.mem_alloc() after boot.boot() has built everything,
  minus what the doubles themselves take (a board has them built in), and the smallest
  `-X heapsize=` in which the board boots into RUN. The unix port is 64-bit: its objects
  are about twice a board's.
- the runtime part (runtime + loaded program) on the 32-bit webassembly port, as
  bench/mpy_memory.py measures it: object sizes as on ESP32 and RP2040.

    .venv/bin/python bench/fw_memory.py [--write-doc]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import mpy_memory  # noqa: E402

import rung  # noqa: E402
from rung.boards import board_names, load_board, write_flash_tree  # noqa: E402
from rung.boards.flash import settings_module  # noqa: E402

MARK = "<!-- firmware memory: bench/fw_memory.py --write-doc -->"
RUNGS = 200
BOOT = """
import gc, sys
sys.path.insert(0, 'lib')
import machine, network, socket
gc.collect()
base = gc.mem_alloc()
from plc import boot
plc = boot.boot()
gc.collect()
print('MEM', gc.mem_alloc() - base, plc.rt.state, plc.rt.fault_code, len(plc.rt.image.rungs))
"""


def program(n_rungs=RUNGS, seed=1):
    """200 rungs of contacts and coils over the I/O every board has (7 inputs, 4 outputs)
    and 64 memory bits, like bench/programs.py's contacts."""
    rnd = random.Random(seed)
    src = ["program contacts_io", "cycle 10ms"]
    src += [f"input i{k} : bool at %IX0.{k}" for k in range(7)]
    src += [f"output o{k} : bool at %QX0.{k}" for k in range(4)]
    src += [f"var m{k} : bool" for k in range(64)]
    src += ["var keep : int retain at %MW0"]
    for r in range(n_rungs):
        a, b, c, d = (rnd.randrange(7) for _ in range(4))
        m = r % 64
        src.append(f"rung: (i{a} or m{m}) and not i{b} and i{c} or i{d} -> m{m}, o{r % 4}")
    return rung.compile_source("\n".join(src) + "\n", "io200.rung", debug=False).to_bytes()


def _unix(flash, board, heap):
    from rung.vboard.board import DOUBLES, micropython_command

    script = os.path.join(flash, "_bench.py")
    with open(script, "w") as f:
        f.write(BOOT)
    env = dict(os.environ, MICROPYPATH=".frozen:" + DOUBLES, RUNG_VBOARD_PORT=board.data["port"])
    env.pop("RUNG_VBOARD_IO", None)
    r = subprocess.run(
        micropython_command() + ["-X", "heapsize=" + str(heap), script],
        capture_output=True,
        text=True,
        cwd=flash,
        env=env,
        timeout=120,
    )
    os.unlink(script)
    for line in r.stdout.splitlines():
        if line.startswith("MEM "):
            used, state, fault, rungs = (int(x) for x in line.split()[1:])
            return used, state, fault, rungs
    return None


def unix_boot(name, code, mpy=False):
    """(heap bytes after boot, smallest heapsize booting into RUN) on the unix port."""
    board = load_board(name)
    with tempfile.TemporaryDirectory() as tmp:
        settings = settings_module().defaults()
        settings["rtu"]["enabled"] = False  # no UART pty outside the virtual board
        settings["wifi"]["ssid"] = "plant" if board.wifi else ""
        write_flash_tree(tmp, name, code, settings, mpy=mpy)
        got = _unix(tmp, board, 4 << 20)
        if got is None or got[1] != 1:
            raise RuntimeError(f"{name}: the firmware did not boot into RUN: {got}")
        lo, hi = 16 << 10, 4 << 20  # bisect the smallest heap that still boots into RUN
        while hi - lo > 4096:
            mid = (lo + hi) // 2
            ok = _unix(tmp, board, mid)
            if ok is not None and ok[1] == 1:
                hi = mid
            else:
                lo = mid
        return got[0], hi


def wasm_runtime(code):
    """Runtime + loaded program on the 32-bit webassembly port (bench/mpy_memory.py)."""
    tiny = rung.compile_source(mpy_memory.TINY, "tiny.rung", debug=False).to_bytes()
    runner = os.path.join(ROOT, "tests", "mpy_runner.mjs")
    with tempfile.TemporaryDirectory() as tmp:
        mpy_memory.compile_mpy(tmp)
        path = os.path.join(tmp, "script.py")
        with open(path, "w") as f:
            f.write(mpy_memory.script(code, tiny))
        r = subprocess.run(
            ["node", runner, path, str(4 << 20), tmp],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return mpy_memory.parse(r.stdout)["total"]


def measure():
    code = program()
    rows = []
    wasm = wasm_runtime(code)
    for name in board_names():
        used, min_heap = unix_boot(name, code)
        used_mpy, min_heap_mpy = unix_boot(name, code, mpy=True)
        rows.append(
            {
                "board": name,
                "budget": load_board(name).heap_budget,
                "unix_after_boot": used,
                "unix_min_heap": min_heap,
                "unix_after_boot_mpy": used_mpy,
                "unix_min_heap_mpy": min_heap_mpy,
                "wasm_runtime": wasm,
            }
        )
    return {"bytecode": len(code), "rows": rows}


def _fits(n, budget):
    return "yes" if n <= budget else "**no**"


def markdown(result):
    lines = [
        MARK,
        "## Firmware memory (boards)",
        "",
        f"Measured by `bench/fw_memory.py`: the firmware booting a {RUNGS}-rung program",
        "(contacts and coils over 7 inputs, 4 outputs and 64 memory bits, no debug section,",
        f"{result['bytecode']} bytes of",
        "bytecode) from the flash tree `rung.boards.write_flash_tree` lays out.",
        "*After boot*: `gc.mem_alloc()` once",
        "`boot.boot()` has built the board's I/O, watchdog, retain store, Modbus device and",
        "servers and loaded the program, minus what the `machine`/`network` doubles take",
        "(built in on a board), on the MicroPython unix port (64-bit: its objects are about",
        "twice a board's), from `.py` sources and from `.mpy` modules",
        "(`write_flash_tree(..., mpy=True)`). *Smallest heap*: the smallest",
        "`-X heapsize=` in which that board's boot still ends in RUN (bisected to 4 KB). *Runtime + program, 32-bit*: the",
        "runtime part alone on the webassembly port, object sizes as on ESP32 and RP2040",
        "(`.mpy` modules; see the table above).",
        "",
        "| board | budget | after boot, .py | about a board's (half) | within budget "
        "| smallest heap, .py | after boot, .mpy | half | within budget | smallest heap, .mpy "
        "| runtime + program, 32-bit | its share of the budget |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        share = 100 * r["wasm_runtime"] / r["budget"]
        half = r["unix_after_boot"] // 2
        half_mpy = r["unix_after_boot_mpy"] // 2
        lines.append(
            f"| {r['board']} | {r['budget']} | {r['unix_after_boot']} | {half} "
            f"| {_fits(half, r['budget'])} | {r['unix_min_heap']} "
            f"| {r['unix_after_boot_mpy']} | {half_mpy} | {_fits(half_mpy, r['budget'])} "
            f"| {r['unix_min_heap_mpy']} | {r['wasm_runtime']} | {share:.0f} % |"
        )
    lines += [
        "",
        "Halving the 64-bit figures estimates a board's heap after boot (pointers and small",
        "objects halve; strings and bytes do not, so it is a lower estimate). `.mpy` modules",
        "(`mpy=True`) spare the board compiling them, which cuts the heap needed while",
        "booting by about a third; their bytecode still lives in RAM afterwards (only",
        "modules frozen into the MicroPython image run from flash), so the heap after boot",
        "hardly changes. The ESP32 DevKitC is at its 60 KB budget with a 200-rung program:",
        "use `mpy=True` there and keep programs smaller, or freeze the modules. The Wi-Fi",
        "boards also hold the Modbus TCP server; the RTU server is off here (no UART",
        "outside the virtual board).",
    ]
    return "\n".join(lines) + "\n"


def write_doc(result):
    path = os.path.join(ROOT, "docs", "performance.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if MARK in text:
        text = text[: text.index(MARK)]
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.rstrip("\n") + "\n\n" + markdown(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-doc", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    result = measure()
    print(json.dumps(result, indent=2))
    if args.write_doc:
        write_doc(result)


if __name__ == "__main__":
    main()
