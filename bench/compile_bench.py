"""Compiler speed: rungs/s against lark's parse alone of the same text, peak memory, and the
start-up time of `rung check` on a small file.

Run: .venv/bin/python bench/compile_bench.py [--quick]
Each measurement runs in a fresh process (so peak memory is that of one compile); times are
the CPU time of the work itself (time.process_time), start-up is the child's CPU time and
its wall time, medians of five."""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SIZES = (1_000, 10_000, 50_000)

# One compile (or one parse) in a fresh interpreter; prints a JSON line.
CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {here!r})
import programs
mode, n = sys.argv[1], int(sys.argv[2])
src = programs.contacts(n)[0]
if mode == "lark":
    from lark import Lark
    with open({grammar!r}, encoding="utf-8") as f:
        parser = Lark(f.read(), parser="lalr", propagate_positions=True, maybe_placeholders=True)
    t0 = time.process_time()
    parser.parse(src)
    outcome = "parsed"
else:
    import rung
    rung.compile_source("program warm\n", "warm.rung")  # builds the parser, as lark's side
    t0 = time.process_time()
    try:
        rung.compile_source(src, "big.rung").to_bytes()
        outcome = "compiled"
    except rung.CompileError as exc:
        outcome = "refused: " + ", ".join(sorted({{d.code for d in exc.diagnostics}}))
cpu = time.process_time() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"cpu": cpu, "peak": peak, "bytes": len(src), "outcome": outcome}}))
"""


def _child(mode, n):
    code = CHILD.format(here=HERE, grammar=os.path.join(ROOT, "compiler", "grammar.lark"))
    proc = subprocess.run(
        [sys.executable, "-c", code, mode, str(n)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    if proc.returncode:
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compile_rows(sizes=SIZES):
    """Per size: rungs, source bytes, compile CPU s, lark parse CPU s, peak RSS of each."""
    rows = []
    for n in sizes:
        full = _child("compile", n)
        lark = _child("lark", n)
        rows.append({"rungs": n, "compile": full, "lark": lark})
    return rows


def check_startup(repeats=5):
    """(median CPU s, median wall s) of `rung check` on examples/motor.rung."""
    exe = os.path.join(os.path.dirname(sys.executable), "rung")
    cmd = [exe] if os.path.exists(exe) else [sys.executable, "-m", "rung.cli"]
    cpus, walls = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(
            cmd + ["check", os.path.join(ROOT, "examples", "motor.rung")],
            check=True,
            capture_output=True,
        )
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return sorted(cpus)[repeats // 2], sorted(walls)[repeats // 2]


def table(rows):
    out = [
        "| rungs | source | Rung compile | rungs/s | lark parse alone | compile / parse "
        "| peak memory, compile | peak memory, parse alone |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c, p = r["compile"], r["lark"]
        note = "" if c["outcome"] == "compiled" else f" ({c['outcome']})"
        out.append(
            f"| {r['rungs']:,} | {c['bytes'] / 1e6:.2f} MB | {c['cpu']:.2f} s{note} | "
            f"{r['rungs'] / c['cpu']:,.0f} | {p['cpu']:.2f} s | **{c['cpu'] / p['cpu']:.2f}** | "
            f"{c['peak'] / 2**20:.0f} MB | {p['peak'] / 2**20:.0f} MB |"
        )
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a tiny run (tests)")
    quick = ap.parse_args().quick
    print(table(compile_rows((20,) if quick else SIZES)))
    cpu, wall = check_startup(1 if quick else 5)
    print(f"\n`rung check examples/motor.rung`: {cpu:.3f} s CPU, {wall:.3f} s wall")


if __name__ == "__main__":
    main()
