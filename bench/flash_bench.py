"""Times of the USB commands on the virtual board (docs/flashing.md, "How long it takes"):
flash of a bare board, reflash unchanged, deploy of a 200-rung program, status.

    .venv/bin/python bench/flash_bench.py [RUNGS]

The board is the firmware on MicroPython's unix port behind a pty, driven by mpremote's
SerialTransport as a real board is; a real board's USB and flash are slower (a Pico's
full-speed USB moves about 100 KB/s in the raw REPL)."""

import os
import sys
import tempfile
import time

from rung.cli import main
from rung.vboard.board import VirtualBoard

HERE = os.path.dirname(os.path.abspath(__file__))
SMALL = os.path.join(HERE, "..", "tests", "flashing", "gen_a.rung")


def program(n_rungs):
    """n_rungs rungs of contacts, comparisons and timers on memory, one retained count."""
    src = ["program big", "cycle 10ms", "var starts : int = 0 retain at %MW0",
           "input start : bool at %IX0.0", "output lamp : bool at %QX0.0"]
    src += [f"var m{k} : bool" for k in range(n_rungs + 2)]
    src += [f"timer t{k} : TON = {k + 1}00ms" for k in range(n_rungs // 10)]
    for k in range(n_rungs):
        if k % 10 == 0:
            src.append(f"rung r{k}: (m{k} or start) and not m{k + 1} -> t{k // 10}")
        elif k % 10 == 5:
            src.append(f"rung r{k}: starts > {k} and m{k} -> m{k + 2}")
        else:
            src.append(f"rung r{k}: m{k} and not m{k + 1} or m{k + 2} -> m{k + 1}")
    src.append("rung last: rising start -> starts := starts + 1, lamp")
    return "\n".join(src) + "\n"


def timed(argv):
    t0 = time.monotonic()
    code = main(argv)
    took = time.monotonic() - t0
    if code != 0:
        sys.exit(f"failed: rung {' '.join(argv)}")
    return took


def run(n_rungs=200):
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "big.rung")
        with open(big, "w") as f:
            f.write(program(n_rungs))
        with VirtualBoard("pico", os.path.join(tmp, "flash")) as b:
            b.wait_output(">>> ", 20)
            port = b.usb_path
            rows = [("flash, bare board", timed(["flash", SMALL, "--board", "pico", "--port",
                                                 port]))]
            rows.append(("reflash unchanged", timed(["flash", SMALL, "--board", "pico",
                                                     "--port", port])))
            rows.append((f"deploy {n_rungs} rungs", timed(["deploy", big, "--port", port])))
            rows.append(("status", timed(["status", "--port", port])))
    print()
    for what, took in rows:
        print(f"| {what} | {took:.2f} s |")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
