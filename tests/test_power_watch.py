"""Power flow is recorded only while someone watches it (docs/modbus.md, "Power flow"):
a read of the power-flow window keeps it on for POWER_WATCH_MS of scan time."""

import struct

from modbus_helpers import ask, make_server, u16

from rung.runtime import modbus_map as M
from rung.runtime.engine import POWER_WATCH_MS


def power_word(server):
    reply = ask(server, 4, u16(M.IR_POWER, 1))
    assert reply[:2] == bytes([4, 2])
    return struct.unpack(">H", reply[2:])[0]


def test_power_flow_is_recorded_while_its_window_is_read():
    rt, s = make_server()
    rt.inputs[0] = True  # start: rung 0 (the motor) and rung 2 (motor -> t) powered
    now = 0
    rt.scan(now)
    # a new device records for a first while: a client that connects sees it at once
    assert rt.power_watched and power_word(s) == 0b0101
    rt.inputs[0] = False
    # no read for POWER_WATCH_MS of scan time: recording stops and the window is cleared
    while now < 2 * POWER_WATCH_MS:
        now += 10
        rt.scan(now)
    assert not rt.power_watched and list(rt.power) == [0, 0, 0, 0]
    assert rt.outputs[0] is True  # the program ran on: the motor seals itself in
    # a read switches recording on; it answers with the cleared window, the next scan
    # records again
    assert power_word(s) == 0 and rt.power_watched
    now += 10
    rt.scan(now)
    assert power_word(s) == 0b0101
    # reads more often than POWER_WATCH_MS keep it on, scan after scan
    for k in range(3 * POWER_WATCH_MS // 10):
        now += 10
        rt.scan(now)
        if k % 100 == 0:
            assert power_word(s) == 0b0101
        assert rt.power_watched, k


def test_watched_and_unwatched_scans_compute_the_same():
    """The Modbus device switching recording on and off changes nothing but the window."""
    rt, s = make_server()
    ref, _ = make_server()
    ref.watch_power()  # every scan
    now = 0
    watched = 0
    for k in range(4000):
        if k % 1200 < 300 and k % 50 == 0:  # read for 3 s, then pause for 9 s
            power_word(s)
        for r in (rt, ref):
            r.inputs[0] = k % 7 == 0
            r.inputs[1] = k % 11 == 0
            r.inputs[2] = (k * 37) % 1200
            r.scan(now)
        watched += rt.power_watched
        assert rt.v == ref.v and rt.outputs == ref.outputs, k
        assert list(rt.power) == (list(ref.power) if rt.power_watched else [0, 0, 0, 0]), k
        now += 10
    assert 500 < watched < 3500  # on from each first read to 5 s after each last
