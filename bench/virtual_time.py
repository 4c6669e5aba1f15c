"""Virtual time: plant seconds simulated per second of CPU for `run: 1h` of each example.

Run: .venv/bin/python bench/virtual_time.py [--quick]
Each example from power-up, inputs as they power up, through the scenario runner's `run`
step (rung test's own path); CPU time (time.process_time) and wall time of the run alone,
with the simulator skipping fixed-point scans (the default) and scanning every cycle."""

import argparse
import glob
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def measure(path, duration_ms, skip=True):
    """(scans, CPU s, wall s) of one `run: duration` step of the program at path."""
    import rung
    from rung.emulator.scenario import Case, Step
    from rung.emulator.scenario_runner import run_case

    code = rung.compile_file(path).to_bytes()
    case = Case("bench", 1, [Step("run", 1, value=duration_ms)])
    c0, w0 = time.process_time(), time.perf_counter()
    assert run_case(code, case, skip=skip) is None
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    cycle = rung.Simulator(code).cycle_ms
    return duration_ms // cycle, cpu, wall


def rows(duration_ms=3_600_000):
    """(example, cycle scans, (CPU s, wall s, plant s per CPU s) skipping, the same
    scanning every cycle) for every example."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*.rung"))):
        row = [os.path.basename(path)]
        for skip in (True, False):
            scans, cpu, wall = measure(path, duration_ms, skip)
            row.append((cpu, wall, duration_ms / 1000 / max(cpu, 1e-6)))
        out.append((row[0], scans, row[1], row[2]))
    return out


def table(data):
    lines = [
        "| example | scans in 1 h | skipping: CPU | wall | plant s per CPU s "
        "| every scan: CPU | wall | plant s per CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, scans, fast, slow in data:
        cells = [f"{cpu:.2f} s | {wall:.2f} s | {rate:,.0f}" for cpu, wall, rate in (fast, slow)]
        lines.append(f"| {name} | {scans:,} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one virtual second (tests)")
    print(table(rows(1000 if ap.parse_args().quick else 3_600_000)))


if __name__ == "__main__":
    sys.exit(main())
