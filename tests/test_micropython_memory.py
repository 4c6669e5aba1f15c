"""The memory target under real MicroPython: runtime + a 500-rung program < 64 KB of heap.

Measured as on a board by bench/mpy_memory.py (the figures in docs/performance.md)."""

import os
import sys

import pytest
from conftest import ROOT
from mpy import run_mpy

import rung

sys.path.insert(0, os.path.join(ROOT, "bench"))
import mpy_memory  # noqa: E402
import programs  # noqa: E402


# contacts: 500 rungs of contacts and coils; mixed(333): 499 rungs of which a third drive
# or read 83 TON timers and 83 CTU counters, the rest comparisons and arithmetic
@pytest.mark.parametrize("name,size", [("contacts", 500), ("mixed", 333)])
def test_runtime_and_500_rung_program_fit_in_64_kb(tmp_path, name, size):
    src, _hand, _i, _o = getattr(programs, name)(size)
    code = rung.compile_source(src, "m500.rung", debug=False).to_bytes()
    tiny = rung.compile_source(mpy_memory.TINY, "tiny.rung", debug=False).to_bytes()
    mpy_memory.compile_mpy(str(tmp_path))
    mem = mpy_memory.parse(
        run_mpy(mpy_memory.script(code, tiny), timeout=300, module_dir=str(tmp_path))
    )
    assert mem["rungs"] in (499, 500) and mem["state"] == 1
    # the runtime keeps no reference to the bytecode buffer: dropping it frees it
    assert mem["freed"] >= len(code)
    # the loader really is gone after loading: importing it again costs its full size
    assert mem["loader"] > 8000
    assert mem["total"] < 65536, mem
