"""The benchmark programs in pyrung (PyPI `pyrung`, a Python PLC simulator): its
`PLC.step()` against Rung's `Runtime.scan` on the same rungs.

pyrung pins an older pymodbus than Rung, so it lives in its own virtual environment
(`make bench` creates .venv/pyrung); this file runs in both: under Rung's venv it writes the
programs' source, under pyrung's it translates that source rung by rung into pyrung's DSL and
times `step()`. Run: .venv/bin/python bench/pyrung_bench.py [--quick]
pyrung's timers and counters follow the Click PLC's semantics (a timer keeps accumulating
past its preset, a counter has a reset input), so values can differ from Rung's: this
compares the cost of a scan of the same rungs, not results."""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYRUNG_PYTHON = os.path.join(ROOT, ".venv", "pyrung", "bin", "python")


def _condition(text, ns, p):
    """A Rung condition (and/or/not, comparisons; valid Python) as a pyrung condition."""
    import ast
    import operator

    ops = {ast.Gt: operator.gt, ast.Lt: operator.lt, ast.GtE: operator.ge, ast.LtE: operator.le}

    def build(node):
        if isinstance(node, ast.BoolOp):
            parts = [build(v) for v in node.values]
            return (p.And if isinstance(node.op, ast.And) else p.Or)(*parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~build(node.operand)
        if isinstance(node, ast.Compare):
            return ops[type(node.ops[0])](build(node.left), build(node.comparators[0]))
        if isinstance(node, ast.Attribute):  # t3.Q, c2.Q
            return ns[node.value.id + "_done"]
        if isinstance(node, ast.Constant):
            return node.value
        return ns[node.id]

    return build(ast.parse(text, mode="eval").body)


def pyrung_program(src):
    """Build the pyrung Program for a generated Rung source (the forms bench/programs uses)."""
    import pyrung as p

    ns = {}
    presets = {}
    n_timers = len(re.findall(r"^timer ", src, re.M))
    n_counters = len(re.findall(r"^counter ", src, re.M))
    arrays = {
        "timer": p.Timer.clone("T", count=max(1, n_timers)),
        "counter": p.Counter.clone("C", count=max(1, n_counters)),
    }
    used = {"timer": 0, "counter": 0}
    for line in src.splitlines():
        m = re.match(r"(input|output|var)\s+(\w+)\s*:\s*(\w+)", line)
        if m:
            ns[m.group(2)] = (p.Bool if m.group(3) == "bool" else p.Int)(m.group(2))
        m = re.match(r"(timer|counter)\s+(\w+)\s*:\s*\w+\s*=\s*(\d+)", line)
        if m:
            used[m.group(1)] += 1
            block = arrays[m.group(1)][used[m.group(1)]]
            presets[m.group(2)] = (m.group(1), block, int(m.group(3)))
            ns[m.group(2) + "_done"] = block.Done
    reset = p.Bool("never")
    with p.Program(strict=False) as logic:
        for line in src.splitlines():
            m = re.match(r"rung:\s*(.*?)\s*->\s*(.*)$", line)
            if not m:
                continue
            cond, action = m.groups()
            args = () if cond == "true" else (_condition(cond, ns, p),)
            with p.Rung(*args):
                if action in presets:
                    _kind, block, preset = presets[action]
                    p.on_delay(block, preset=preset)
                elif action.startswith("count "):
                    _kind, block, preset = presets[action.split()[1]]
                    p.count_up(block, preset=preset).reset(reset)
                elif ":=" in action:
                    dest, expr = (s.strip() for s in action.split(":="))
                    p.calc(eval(expr.replace("/", "//"), {}, ns), ns[dest])  # noqa: S307
                else:
                    for coil in action.split(","):
                        p.out(ns[coil.strip()])
    inputs = [ns[n] for n in re.findall(r"^input\s+(\w+)", src, re.M)]
    return p, logic, inputs


def child(path, scans):
    """In pyrung's venv: time PLC.step() for each program in the JSON file at path."""
    import time

    with open(path) as f:
        sources = json.load(f)
    out = {}
    for name, src in sources.items():
        p, logic, inputs = pyrung_program(src)
        plc = p.PLC(logic, dt=0.01, history=1)
        with plc:
            times = []
            for _rep in range(5):
                t0 = time.process_time()
                for i in range(scans):
                    tag = inputs[i % len(inputs)]
                    tag.value = (i * 7919 >> 3) % 3 != 0 if isinstance(tag, p.Bool) else i % 999
                    plc.step()
                times.append(time.process_time() - t0)
        out[name] = sorted(times)[2] / scans * 1e6
    print(json.dumps(out))


def run(quick=False):
    """µs per PLC.step() for each benchmark program, or None if pyrung is not installed."""
    if not os.path.exists(PYRUNG_PYTHON):
        return None
    sys.path.insert(0, HERE)
    import programs

    sources = {
        name: make(8 if quick else size)[0] for name, (make, size, _w) in programs.PROGRAMS.items()
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(sources, f)
    try:
        proc = subprocess.run(
            [PYRUNG_PYTHON, __file__, "--child", f.name, "--scans", "5" if quick else "200"],
            capture_output=True,
            text=True,
            timeout=1200,
        )
    finally:
        os.unlink(f.name)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def version():
    """pyrung's version in its venv."""
    proc = subprocess.run(
        [PYRUNG_PYTHON, "-c", "from importlib.metadata import version; print(version('pyrung'))"],
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", metavar="JSON")
    ap.add_argument("--scans", type=int, default=200)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.scans)
    else:
        print(run(args.quick))


if __name__ == "__main__":
    main()
