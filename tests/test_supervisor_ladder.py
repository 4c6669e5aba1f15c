"""The HMI's live ladder computed from the diagnostic window: every example draws and
evaluates, and for rungs that read only inputs it agrees with the runtime's power flow."""

import glob
import os
import random

import pytest
from conftest import EXAMPLES

import rung
from rung.runtime import Runtime
from rung.runtime import modbus_map as M
from rung.runtime.modbus_device import ModbusDevice
from rung.supervisor.ladder_svg import RungView
from rung.supervisor.live import Context
from rung.supervisor.program import Program
from rung.supervisor.session import Session, Snapshot, decode_status

PROGRAM = """program live
input a : bool at %IX0.0
input b : bool at %IX0.1
input c : bool at %IX0.2
input w : int at %IW0
input x : int at %IW1
output o0 : bool at %QX0.0
output o1 : bool at %QX0.1
output o2 : bool at %QX0.2
output o3 : bool at %QX0.3
output o4 : bool at %QX0.4
output o5 : bool at %QX0.5
rung: (a or b and not c) and w > 100 -> o0
rung: not (a and b) or x / 3 >= w - 7 -> o1
rung: a and (b or c or w * 2 < x) -> o2
rung: abs(w - x) <= 50 and not a -> o3
rung: real(w) / 2.5 > 10.0 or b -> o4
rung: w * 2 < x or w mod 7 == 3 -> o5
"""


def window(session, rt):
    """A Snapshot of a runtime as the supervisor reads it over Modbus."""
    dev = ModbusDevice(rt)
    snap = Snapshot()
    snap.connected = True
    snap.status = decode_status([dev.status(k) for k in range(M.STATUS_SIZE)])
    snap.matched = True
    snap.raw = [dev.var_word32(i) for i in range(len(rt.image.vars))]
    snap.blocks = [dev.block_register(b, k) for b in range(len(rt.image.blocks)) for k in range(8)]
    snap.power = [bool(p) for p in rt.power]
    session._decode(snap)
    return snap


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(EXAMPLES, "*.rung"))))
def test_every_example_draws_and_evaluates(path):
    compiled = rung.compile_file(path)
    prog = Program(compiled.image, path)
    rt = Runtime(compiled.to_bytes())
    session = Session(None, prog)
    views = [RungView(prog, r) for r in prog.rungs]
    for t in range(0, 500, rt.cycle_ms):
        rt.scan(t)
    snap = window(session, rt)
    ctx = Context(prog, snap)
    for view in views:
        assert view.svg.startswith("<svg") and view.svg.endswith("</svg>")
        sig, texts = view.live(ctx)
        assert len(sig) == view.n_signals and len(texts) == view.n_texts
        assert sig[view.s_power] == int(snap.power[view.rung.index])
        assert all(s in (0, 1, None) for s in sig)


def test_live_ladder_agrees_with_the_runtime():
    compiled = rung.compile_source(PROGRAM, "live.rung")
    prog = Program(compiled.image)
    rt = Runtime(compiled.to_bytes())
    session = Session(None, prog)
    views = [RungView(prog, r) for r in prog.rungs]
    rnd = random.Random(5)
    for scan in range(200):
        for name in ("a", "b", "c"):
            rt.set(name, rnd.random() < 0.5)
        # boundary values, so that every comparison is also seen at equality
        rt.set("w", rnd.choice((-60, 0, 4, 7, 10, 25, 26, 50, 99, 100, 101, 300)))
        rt.set("x", rnd.choice((-60, 0, 9, 10, 100, 199, 200, 202, 350)))
        rt.scan(scan * 10)
        snap = window(session, rt)
        ctx = Context(prog, snap)
        for view in views:
            sig, texts = view.live(ctx)
            assert sig[view.s_cond] == int(snap.power[view.rung.index]), (scan, view.rung.index)
            for text in texts:
                assert "?" not in text
