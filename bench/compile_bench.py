"""Compiler speed: rungs/s against lark's parse alone of the same text, peak memory, and the
start-up time of `rung check` on a small file; with lark_cython where it is installed (the
compiler's default there) and with plain lark (RUNG_LARK_CYTHON=0), each against lark's
parse alone with the same parser.

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

from rung.compiler.parser import LARK_CYTHON_ENV, parser_name

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SIZES = (1_000, 10_000, 50_000)

# One compile (or one parse) in a fresh interpreter; prints a JSON line. Modes: compile;
# lark (lark's parse alone); loop (the same with every rule's tree building replaced by the
# builtin len and the rules compared in C as in the compiler's parser, compiler/direct.py:
# what the compiler's LALR loop and lexer cost by themselves).
CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {here!r})
import programs
mode, n = sys.argv[1], int(sys.argv[2])
src = programs.contacts(n)[0]
from rung.compiler.parser import parser_name
name = parser_name()
if mode in ("lark", "loop"):
    from lark import Lark
    plugins = {{}}
    if name != "lark":
        import lark_cython
        plugins = lark_cython.plugins
    with open({grammar!r}, encoding="utf-8") as f:
        parser = Lark(f.read(), parser="lalr", propagate_positions=True, maybe_placeholders=True,
                      _plugins=plugins)
    if mode == "loop":
        from rung.compiler import direct
        for key in parser._callbacks:  # rules; the strings are the lexer's (none here)
            if not isinstance(key, str):
                parser._callbacks[key] = len
        direct.identity_rules(parser)
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
out = {{"cpu": cpu, "peak": peak, "bytes": len(src), "outcome": outcome, "parser": name}}
print(json.dumps(out))
"""


def _env(plain):
    """The environment of a child: RUNG_LARK_CYTHON=0 for plain lark, else the default."""
    env = {k: v for k, v in os.environ.items() if k != LARK_CYTHON_ENV}
    if plain:
        env[LARK_CYTHON_ENV] = "0"
    return env


def _child(mode, n, plain):
    code = CHILD.format(here=HERE, grammar=os.path.join(ROOT, "compiler", "grammar.lark"))
    proc = subprocess.run(
        [sys.executable, "-c", code, mode, str(n)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
        env=_env(plain),
    )
    if proc.returncode:
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def parsers():
    """The parsers to measure: the compiler's default, then plain lark if that is another."""
    plain = [False, True] if parser_name() != "lark" else [True]
    return [(p, "lark" if p else parser_name()) for p in plain]


def compile_rows(sizes=SIZES):
    """Per size and parser (lark-cython where installed, then plain lark): rungs, parser name,
    and for the compile, lark's parse alone and its LALR loop and lexer alone with the same
    parser: CPU s, peak RSS, source bytes."""
    rows = []
    for n in sizes:
        for plain, _name in parsers():
            full = _child("compile", n, plain)
            lark = _child("lark", n, plain)
            loop = _child("loop", n, plain)
            rows.append(
                {"rungs": n, "parser": full["parser"], "compile": full, "lark": lark, "loop": loop}
            )
    return rows


def check_startup(repeats=5, plain=False):
    """(median CPU s, median wall s) of `rung check` on examples/motor.rung (plain: with
    RUNG_LARK_CYTHON=0)."""
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
            env=_env(plain),
        )
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return sorted(cpus)[repeats // 2], sorted(walls)[repeats // 2]


def table(rows):
    out = [
        "| rungs | source | parser | Rung compile | rungs/s | lark parse alone "
        "| compile / parse | LALR loop and lexer alone | peak memory, compile "
        "| peak memory, parse alone |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c, p = r["compile"], r["lark"]
        note = "" if c["outcome"] == "compiled" else f" ({c['outcome']})"
        out.append(
            f"| {r['rungs']:,} | {c['bytes'] / 1e6:.2f} MB | {r['parser']} | "
            f"{c['cpu']:.2f} s{note} | "
            f"{r['rungs'] / c['cpu']:,.0f} | {p['cpu']:.2f} s | **{c['cpu'] / p['cpu']:.2f}** | "
            f"{r['loop']['cpu']:.2f} s | {c['peak'] / 2**20:.0f} MB | {p['peak'] / 2**20:.0f} MB |"
        )
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a tiny run (tests)")
    quick = ap.parse_args().quick
    print(table(compile_rows((20,) if quick else SIZES)))
    print()
    for plain, name in parsers():
        cpu, wall = check_startup(1 if quick else 5, plain)
        print(f"`rung check examples/motor.rung`, {name}: {cpu:.3f} s CPU, {wall:.3f} s wall")


if __name__ == "__main__":
    main()
