"""PLC semantics of the runtime (docs/semantics.md), one rule or trap per test."""

import math

import pytest

import rung
from rung.runtime import STATE_FAULT, STATE_RUN, STATE_STOP, LoadError, Runtime

HEAD = "program t\ncycle 10ms\n"


def sim(body):
    return rung.Simulator(rung.compile_source(HEAD + body, "t.rung"))


# ---- process image and rung order ---------------------------------------------------


def test_inputs_are_sampled_once_per_scan():
    s = sim("input a : bool at %IX0.0\noutput q : bool at %QX0.0\nrung: a -> q\n")
    s.set("a", True)
    assert s.get("q") is False  # nothing happens before a scan
    s.scan()
    assert s.get("q") is True and s.runtime.outputs == [True]


def test_mid_scan_input_change_is_invisible():
    s = sim(
        "input a : bool at %IX0.0\noutput q : bool at %QX0.0\nvar m : bool\n"
        "rung: a -> m\nrung: a -> q\n"
    )
    rt = s.runtime
    # change the input image between the two chunks' rungs: the runtime copied it already
    orig = rt._ns["_c0"]

    def chunk(v, dt, watched):
        rt.inputs[0] = True
        orig(v, dt, watched)

    rt._ns["_c0"] = chunk
    s.scan()
    assert s.get("m") is False and s.get("q") is False
    rt._ns["_c0"] = orig
    s.scan()
    assert s.get("m") is True and s.get("q") is True


def test_last_coil_wins():
    s = sim(
        "input a : bool at %IX0.0\noutput q : bool at %QX0.0\n" "rung: a -> q\nrung: not a -> q\n"
    )
    s.set("a", True)
    s.scan()
    assert s.get("q") is False


def test_read_before_write_across_rungs_sees_last_scan():
    s = sim(
        "input a : bool at %IX0.0\nvar m : bool\noutput q : bool at %QX0.0\n"
        "rung: m -> q\nrung: a -> m\n"
    )
    s.set("a", True)
    s.scan()
    assert s.get("m") is True and s.get("q") is False
    s.scan()
    assert s.get("q") is True


def test_set_reset_and_negated_coil():
    s = sim(
        "input a : bool at %IX0.0\ninput b : bool at %IX0.1\noutput q : bool at %QX0.0\n"
        "output n : bool at %QX0.1\nrung: a -> set q\nrung: b -> reset q\nrung: a -> not n\n"
    )
    s.set("a", True)
    s.scan()
    assert s.get("q") is True and s.get("n") is False
    s.set("a", False)
    s.scan()
    assert s.get("q") is True and s.get("n") is True
    s.set("b", True)
    s.scan()
    assert s.get("q") is False


def test_actions_of_one_rung_run_left_to_right():
    # the last action on a bit wins inside a rung too, whatever mix of coils and latches
    s = sim(
        "input a : bool at %IX0.0\nvar m : bool\nvar k : bool\nvar c : bool\nvar d : int\n"
        "output q : bool at %QX0.0\n"
        "rung: a -> m, reset m, k, q\nrung: a -> reset c, c, d := d + 1, not q\n"
    )
    s.set("a", True)
    s.scan()
    assert (s.get("m"), s.get("k"), s.get("c"), s.get("q")) == (False, True, True, False)
    assert s.get("d") == 1 and list(s.runtime.power) == [1, 1]
    s.set("a", False)
    s.scan()
    assert (s.get("m"), s.get("k"), s.get("c"), s.get("q")) == (False, False, False, True)
    assert s.get("d") == 1 and list(s.runtime.power) == [0, 0]


def test_parallel_legs_all_run():
    # an edge behind a true parallel leg still updates its memory
    s = sim(
        "input a : bool at %IX0.0\ninput b : bool at %IX0.1\noutput q : bool at %QX0.0\n"
        "var n : int\nrung: a or rising b -> q\nrung: rising b -> n := n + 1\n"
    )
    s.scan()
    s.set("a", True)
    s.set("b", True)
    s.scan()
    s.set("a", False)
    s.scan()
    assert s.get("q") is False  # b's rising edge was consumed in the scan where a was true
    assert s.get("n") == 1


# ---- edges and first scan -----------------------------------------------------------


@pytest.mark.parametrize("level", [True, False])
def test_edges_do_not_fire_on_first_scan(level):
    s = sim(
        "input a : bool at %IX0.0\nvar r : int\nvar f : int\n"
        "rung: rising a -> r := r + 1\nrung: falling a -> f := f + 1\n"
    )
    s.set("a", level)
    s.scan()
    assert (s.get("r"), s.get("f")) == (0, 0)
    s.set("a", not level)
    s.scan()
    assert (s.get("r"), s.get("f")) == ((1, 0) if not level else (0, 1))
    s.scan()
    assert (s.get("r"), s.get("f")) == ((1, 0) if not level else (0, 1))  # once only


def test_each_edge_occurrence_has_its_own_memory():
    s = sim(
        "input a : bool at %IX0.0\nvar x : int\nvar y : int\n"
        "rung: rising a -> x := x + 1\nrung: rising a -> y := y + 1\n"
    )
    s.scan()
    s.set("a", True)
    s.scan()
    assert (s.get("x"), s.get("y")) == (1, 1)


def test_first_scan_flag_and_clocks():
    s = sim(
        "var n : int\nvar c : int\nrung: first_scan -> n := n + 1\n"
        "rung: clock_100ms -> c := c + 1\n"
    )
    s.run_for(1000)
    assert s.get("n") == 1
    # clock_100ms is true 50 ms of every 100 ms: 5 of 10 scans at a 10 ms cycle
    assert s.get("c") == 50  # 100 scans, at t=0, 10, ..., 990
    s.restart()
    s.scan()
    assert s.get("n") == 1  # not retained: re-initialised, then counted once more


def test_clock_1s_square_wave():
    s = sim("output q : bool at %QX0.0\nrung: clock_1s -> q\n")
    seen = []
    for _ in range(200):
        s.scan()
        seen.append(s.get("q"))
    assert seen[:50] == [True] * 50 and seen[50:100] == [False] * 50 and seen[100] is True


# ---- timers -------------------------------------------------------------------------

TON = "input a : bool at %IX0.0\ntimer t : TON = 100ms\nrung: a -> t\n"


def test_ton_delays_and_clamps_and_resets():
    s = sim(TON)
    s.set("a", True)
    s.scan()
    assert s.get("t.ET") == 0 and s.get("t.Q") is False
    s.run_for(90)
    assert s.get("t.ET") == 90 and s.get("t.Q") is False
    s.run_for(10)
    assert s.get("t.ET") == 100 and s.get("t.Q") is True
    s.run_for(500)
    assert s.get("t.ET") == 100  # clamps at PT
    s.set("a", False)
    s.scan()
    assert s.get("t.ET") == 0 and s.get("t.Q") is False


def test_ton_pt_changed_while_timing_takes_effect_at_once():
    s = sim(TON)
    s.set("a", True)
    s.scan()
    s.run_for(50)
    s.set("t.PT", 40)
    s.scan()
    assert s.get("t.Q") is True and s.get("t.ET") == 40


def test_ton_uses_real_elapsed_time_not_scan_count():
    s = sim(TON)
    s.set("a", True)
    s.scan()
    rt = s.runtime
    rt.scan(s.time_ms + 250)  # one overrun scan of 250 ms
    assert rt.get("t.Q") is True and rt.get("t.ET") == 100


def test_ton_ticks_wrap():
    s = sim(TON)
    rt = s.runtime
    rt.set("a", True)
    now = (1 << 30) - 50
    rt.scan(now)
    for _ in range(10):
        now = (now + 10) & ((1 << 30) - 1)
        rt.scan(now)
    assert rt.get("t.ET") == 100 and rt.get("t.Q") is True


def test_tof_no_pulse_at_power_up_and_off_delay():
    s = sim("input a : bool at %IX0.0\ntimer t : TOF = 100ms\nrung: a -> t\n")
    s.scan()
    assert s.get("t.Q") is False
    s.set("a", True)
    s.scan()
    assert s.get("t.Q") is True
    s.set("a", False)
    s.scan()
    assert s.get("t.Q") is True and s.get("t.ET") == 0
    s.run_for(90)
    assert s.get("t.Q") is True and s.get("t.ET") == 90
    s.run_for(10)
    assert s.get("t.Q") is False and s.get("t.ET") == 100
    s.set("a", True)
    s.scan()
    assert s.get("t.Q") is True and s.get("t.ET") == 0


def test_tp_is_not_retriggerable_and_holds_et():
    s = sim("input a : bool at %IX0.0\ntimer t : TP = 100ms\nrung: a -> t\n")
    s.scan()
    s.set("a", True)
    s.scan()
    assert s.get("t.Q") is True
    s.set("a", False)
    s.run_for(50)
    s.set("a", True)  # re-trigger attempt while timing: ignored
    s.run_for(50)
    assert s.get("t.Q") is False and s.get("t.ET") == 100
    s.run_for(200)
    assert s.get("t.ET") == 100  # held at PT while IN stays true
    s.set("a", False)
    s.scan()
    assert s.get("t.ET") == 0
    s.set("a", True)
    s.scan()
    assert s.get("t.Q") is True  # a new rising edge starts a new pulse


def test_tp_does_not_fire_at_power_up():
    s = sim("input a : bool at %IX0.0\ntimer t : TP = 100ms\nrung: a -> t\n")
    s.set("a", True)
    s.scan()
    assert s.get("t.Q") is False


def test_rto_accumulates_holds_and_clears_only_on_reset():
    s = sim(
        "input a : bool at %IX0.0\ninput r : bool at %IX0.1\ntimer t : RTO = 100ms\n"
        "rung: a -> t\nrung: r -> reset t\n"
    )
    s.set("a", True)
    s.scan()
    s.run_for(60)
    s.set("a", False)
    s.run_for(1000)
    assert s.get("t.ET") == 60 and s.get("t.Q") is False
    s.set("a", True)
    s.scan()
    s.run_for(40)
    assert s.get("t.ET") == 100 and s.get("t.Q") is True
    s.set("a", False)
    s.set("r", True)
    s.scan()
    assert s.get("t.ET") == 0 and s.get("t.Q") is False


def timer_trace(kind, pt, steps):
    """Scan a lone timer at explicit timestamps. steps: (t_ms, IN) or (t_ms, IN, new PT);
    returns [(Q, ET)] after each scan."""
    rt = Runtime(
        rung.compile_source(
            HEAD + f"input a : bool at %IX0.0\ntimer t : {kind} = {pt}ms\nrung: a -> t\n",
            "t.rung",
        ).to_bytes()
    )
    out = []
    for step in steps:
        if len(step) == 3:
            rt.set("t.PT", step[2])
        rt.set("a", step[1])
        rt.scan(step[0])
        out.append((rt.get("t.Q"), rt.get("t.ET")))
    return out


def test_tp_pulse_ending_while_in_is_false_rearms_at_once():
    ins = [0, 1, 0, 0, 0, 1, 1, 0]
    got = timer_trace("TP", 30, [(10 * k, bool(x)) for k, x in enumerate(ins)])
    assert [q for q, _ in got] == [False, True, True, True, False, True, True, True]
    assert [et for _, et in got] == [0, 0, 10, 20, 0, 0, 10, 20]


def test_tp_rising_in_on_the_scan_its_pulse_ends_is_part_of_that_pulse():
    got = timer_trace("TP", 30, [(0, False), (10, True), (20, False), (40, True), (50, True)])
    assert got[3:] == [(False, 30), (False, 30)]  # still busy at t=40: no second pulse


def test_finished_ton_keeps_q_and_et_when_pt_is_raised():
    # IN true, PT 20 -> 50 once Q is on: Q and ET stay as they were until IN falls
    steps = [(0, True), (10, True), (20, True), (30, True, 50), (40, True), (50, True)]
    steps += [(60, True), (70, False), (80, True), (120, True), (130, True)]
    got = timer_trace("TON", 20, steps)
    assert got[2:7] == [(True, 20)] * 5
    assert got[7:] == [(False, 0), (False, 0), (False, 40), (True, 50)]  # now PT 50


@pytest.mark.parametrize(
    "kind, steps, want",
    [
        # TOF done (IN false): raising PT does not restart the off-delay
        ("TOF", [(0, True), (10, False), (30, False), (40, False, 50), (50, False)], (False, 20)),
        # TP done with IN held: ET holds at the PT the pulse ended with
        ("TP", [(0, False), (10, True), (30, True), (40, True, 50), (50, True)], (False, 20)),
        # RTO done: Q and ET hold until reset, whatever PT becomes
        ("RTO", [(0, True), (10, True), (30, True), (40, True, 50), (50, False)], (True, 20)),
        ("RTO", [(0, True), (10, True), (30, True), (40, False, 5), (50, False)], (True, 20)),
    ],
)
def test_finished_timers_hold_q_and_et_when_pt_changes(kind, steps, want):
    assert timer_trace(kind, 20, steps)[-2:] == [want, want]


@pytest.mark.parametrize("reset_first", [False, True])
def test_a_ton_that_resets_itself_repeats_every_pt_exactly(reset_first):
    drive, reset = "rung: true -> t\n", "rung: t.Q -> reset t, n := n + 1\n"
    rungs = reset + drive if reset_first else drive + reset
    rt = Runtime(
        rung.compile_source(
            HEAD + "timer t : TON = 50ms\nvar n : int\n" + rungs, "t.rung"
        ).to_bytes()
    )
    counted = []
    for k in range(40):
        rt.scan(10 * k)
        counted.append(rt.get("n"))
    times = [10 * k for k in range(1, 40) if counted[k] != counted[k - 1]]
    assert [b - a for a, b in zip(times, times[1:], strict=False)] == [50] * (len(times) - 1)
    assert times[0] == (60 if reset_first else 50)


@pytest.mark.parametrize("pt", [-1, -5])
@pytest.mark.parametrize("kind", ["TON", "TOF", "TP", "RTO"])
def test_a_negative_pt_counts_as_zero(kind, pt):
    # PT is a time (signed 32 bits): -5 comes through Runtime.set or Modbus, never from
    # the compiler; ET never goes negative and the timer is done at once
    steps = [(0, kind == "TOF"), (10, kind != "TOF", pt), (20, kind != "TOF"), (30, False)]
    got = timer_trace(kind, 100, steps)
    assert all(et == 0 for _, et in got)
    if kind in ("TON", "RTO"):
        assert got[1] == (True, 0)
    else:
        assert got[1][0] is False


# ---- counters -----------------------------------------------------------------------

CTUD = (
    "input u : bool at %IX0.0\ninput d : bool at %IX0.1\ninput r : bool at %IX0.2\n"
    "input l : bool at %IX0.3\ncounter c : CTUD = 3\n"
    "rung: u -> count c\nrung: d -> count_down c\nrung: r -> reset c\nrung: l -> load c\n"
)


def pulse(s, name):
    s.set(name, True)
    s.scan()
    s.set(name, False)
    s.scan()


def test_counter_input_true_at_first_scan_does_not_count():
    s = sim(CTUD)
    s.set("u", True)
    s.scan()
    assert s.get("c.CV") == 0
    s.set("u", False)
    s.scan()
    pulse(s, "u")
    assert s.get("c.CV") == 1


def test_ctud_counts_and_flags_past_preset():
    s = sim(CTUD)
    s.scan()
    for _ in range(4):
        pulse(s, "u")
    assert s.get("c.CV") == 4 and s.get("c.QU") is True and s.get("c.QD") is False
    for _ in range(5):
        pulse(s, "d")
    assert s.get("c.CV") == -1 and s.get("c.QD") is True


def test_up_and_down_in_one_scan_cancel():
    s = sim(CTUD)
    s.scan()
    s.set("u", True)
    s.set("d", True)
    s.scan()
    assert s.get("c.CV") == 0


def test_reset_beats_load_beats_count():
    s = sim(CTUD)
    s.scan()
    s.set("u", True)
    s.set("l", True)
    s.scan()
    assert s.get("c.CV") == 3  # load beats counting
    s.set("u", False)
    s.set("r", True)
    s.scan()
    assert s.get("c.CV") == 0  # reset beats load


def test_counter_saturates_at_int_limits():
    s = sim(CTUD)
    s.scan()
    s.set("c.CV", 32766)
    for _ in range(3):
        pulse(s, "u")
    assert s.get("c.CV") == 32767
    s.set("c.CV", -32767)
    for _ in range(3):
        pulse(s, "d")
    assert s.get("c.CV") == -32768


def test_ctu_q_and_ctd_q():
    s = sim(
        "input u : bool at %IX0.0\ninput l : bool at %IX0.1\ncounter up : CTU = 2\n"
        "counter dn : CTD = 2\nrung: u -> count up, count_down dn\nrung: l -> load dn\n"
    )
    s.scan()
    assert s.get("dn.Q") is True  # CV 0 <= 0
    pulse(s, "l")
    assert s.get("dn.CV") == 2 and s.get("dn.Q") is False
    pulse(s, "u")
    pulse(s, "u")
    assert s.get("up.Q") is True and s.get("up.CV") == 2
    assert s.get("dn.Q") is True and s.get("dn.CV") == 0


# ---- arithmetic ---------------------------------------------------------------------


def calc(expr, vtype="int", **inputs):
    decls = "".join(f"var {k} : {t} = {v}\n" for k, (t, v) in inputs.items())
    s = sim(decls + f"var r : {vtype}\nrung: true -> r := {expr}\n")
    s.scan()
    return s.get("r"), s.runtime.math_error


@pytest.mark.parametrize(
    "expr,want",
    [
        ("a / b", -3),
        ("a mod b", -1),
        ("c / b", 3),
        ("c mod b", 1),
        ("a / d", 3),
        ("a mod d", -1),
    ],
)
def test_truncating_division(expr, want):
    assert calc(expr, a=("int", -7), b=("int", 2), c=("int", 7), d=("int", -2))[0] == want


def test_division_by_zero_gives_zero_and_sets_math_error():
    s = sim(
        "var a : int = 5\nvar z : int\nvar r : int = 9\noutput e : bool at %QX0.0\n"
        "rung: true -> r := a / z\nrung: math_error -> e\n"
    )
    s.scan()
    assert s.get("r") == 0 and s.runtime.math_error is True and s.get("e") is True
    assert s.runtime.state == STATE_RUN


@pytest.mark.parametrize(
    "expr,vtype,want",
    [
        ("a + 1", "int", -32768),
        ("-b", "int", -32768),
        ("abs(b)", "int", -32768),
        ("a * 2", "int", -2),
        ("d + 1", "dint", -2147483648),
        ("int(e)", "int", -25536),
    ],
)
def test_integer_wrap_around(expr, vtype, want):
    got, _ = calc(
        expr, vtype, a=("int", 32767), b=("int", -32768), d=("dint", 2147483647), e=("dint", 40000)
    )
    assert got == want


def test_reals_are_binary32():
    got, _ = calc("x + 0.1", "real", x=("real", 0.2))
    import struct

    assert got == struct.unpack("<f", struct.pack("<f", 0.2 + 0.1))[0]
    assert got != 0.2 + 0.1


def test_initial_values_keep_their_sign_and_type():
    # equal-looking variable rows share one tuple in memory; -0.0 must stay -0.0
    s = sim(
        "var a : real = 0.0\nvar b : real = -0.0\nvar c : real\nvar n : int = 1\n"
        "var m : int = 1\nvar k : bool = true\nrung: true -> c := a * 1.0\n"
    )
    s.scan()
    assert [math.copysign(1, s.get(x)) for x in "abc"] == [1, -1, 1]
    assert s.get("n") == s.get("m") == 1 and s.get("k") is True
    rt = s.runtime
    assert rt.image.vars[3] is rt.image.vars[4]  # shared
    assert rt.image.vars[0] is not rt.image.vars[1]


@pytest.mark.parametrize("value,want", [(2.5, 3), (-2.5, -3), (2.4, 2), (-0.5, -1)])
def test_real_to_int_rounds_half_away_from_zero(value, want):
    assert calc("int(x)", "int", x=("real", value))[0] == want


def test_functions_and_widening():
    assert calc("limit(0, a, 10) + min(a, 3) + max(a, 30)", a=("int", 20))[0] == 10 + 3 + 30
    assert calc("a + d", "dint", a=("int", 1), d=("dint", 100000))[0] == 100001
    assert calc("a + x", "real", a=("int", 1), x=("real", 0.5))[0] == 1.5


# ---- state, forcing, faults, retain -------------------------------------------------

MOTOR = (
    "input start : bool at %IX0.0\ninput stop : bool at %IX0.1\n"
    "output motor : bool at %QX0.0\nvar starts : dint retain\nvar plain : int\n"
    "counter c : CTU = 5 retain\ntimer t : RTO = 1s retain\n"
    "rung: (start or motor) and stop -> motor\n"
    "rung: rising motor -> starts := starts + 1, plain := plain + 1, count c\n"
    "rung: motor -> t\n"
)


def started(s):
    s.scan()
    s.set("stop", True)
    s.set("start", True)
    s.scan()
    s.set("start", False)
    s.scan()


def test_stop_and_run_drive_outputs_safe():
    s = sim(MOTOR)
    started(s)
    rt = s.runtime
    assert rt.outputs == [True]
    rt.stop()
    assert rt.state == STATE_STOP and rt.outputs == [False]
    s.scan()
    assert rt.outputs == [False]
    rt.run()
    s.scan()
    assert rt.outputs == [True]


def test_forcing_applies_at_start_and_end_of_scan():
    s = sim(MOTOR)
    rt = s.runtime
    started(s)
    rt.force(rt.input_vars[1], False)  # force the stop button pressed
    s.scan()
    assert rt.outputs == [False] and rt.forced == {rt.input_vars[1]: False}
    rt.release_all()
    rt.force(rt.output_vars[0], True)  # force the motor output on
    s.scan()
    assert rt.outputs == [True]
    rt.release(rt.output_vars[0])
    s.scan()
    assert rt.forced == {}


def test_fault_drives_outputs_safe_and_keeps_retained():
    s = sim(MOTOR)
    started(s)
    rt = s.runtime
    snap = rt.retain_snapshot()

    def broken(v, dt, watched):
        raise ValueError("boom")

    good = rt._ns["_c0"]
    rt._ns["_c0"] = broken
    s.scan()
    assert rt.state == STATE_FAULT and rt.fault_code == 1 and rt.outputs == [False]
    s.scan()
    assert rt.state == STATE_FAULT
    assert rt.retain_snapshot() == snap
    rt._ns["_c0"] = good
    rt.reset_fault()
    assert rt.state == STATE_RUN and rt.get("starts") == 1


def test_retain_round_trip_and_restart():
    s = sim(MOTOR)
    started(s)
    s.run_for(300)
    rt = s.runtime
    assert (rt.get("starts"), rt.get("plain"), rt.get("c.CV")) == (1, 1, 1)
    snap = rt.retain_snapshot()
    s.restart()
    assert (rt.get("starts"), rt.get("plain"), rt.get("c.CV")) == (1, 0, 1)
    # RTO began at t=10 (the start scan) and the clock is now at 320
    assert rt.get("t.ET") == 310 and rt.get("motor") is False and rt.first_scan
    fresh = Runtime(rung.compile_source(HEAD + MOTOR, "t.rung").to_bytes())
    fresh.retain_restore(memoryview(snap))  # any bytes-like object
    assert fresh.get("starts") == 1 and fresh.get("t.ET") == 310
    with pytest.raises(LoadError, match="a retain snapshot is bytes"):
        fresh.retain_restore("RRET")


def test_retain_snapshot_of_other_program_or_corrupt_is_refused():
    a = sim(MOTOR).runtime
    b = sim(MOTOR + "var other : int retain\n").runtime
    with pytest.raises(LoadError, match="another program"):
        b.retain_restore(a.retain_snapshot())
    bad = bytearray(a.retain_snapshot())
    bad[12] ^= 0xFF
    with pytest.raises(LoadError, match="corrupted"):
        a.retain_restore(bytes(bad))


def test_power_flow_per_rung():
    s = sim(MOTOR)
    started(s)
    assert list(s.runtime.power) == [1, 0, 1]


def test_get_set_by_name_and_errors():
    s = sim(MOTOR + "const K = 3\n")
    rt = s.runtime
    with pytest.raises(KeyError):
        rt.get("nope")
    with pytest.raises(ValueError):
        rt.set("K", 4)
    with pytest.raises(ValueError):
        rt.set("motor", 7)
    rt.set("plain", 70000)
    assert rt.get("plain") == 70000 - 65536


def test_system_contacts_are_read_by_name():
    src = HEAD + "var z : int\nvar q : int\nrung: true -> q := 7 / z\n"
    rt = Runtime(rung.compile_source(src, "t.rung").to_bytes())
    names = ("first_scan", "clock_100ms", "clock_1s", "math_error")
    assert [rt.get(n) for n in names] == [False] * 4  # nothing scanned yet
    assert all(rt.names()[n][1:] == (0, False, -1) for n in names)  # bool, read-only
    rt.scan(0)
    assert [rt.get(n) for n in names] == [True, True, True, True]
    rt.scan(60)  # 60 ms on: clock_100ms in its second half
    assert [rt.get(n) for n in names] == [False, False, True, True]
    rt.clear_math_error()
    assert rt.get("math_error") is False
    rt.scan(510)
    assert [rt.get(n) for n in names] == [False, True, False, True]
    for n in names:
        with pytest.raises(ValueError, match=n + " is a system contact"):
            rt.set(n, True)
    # known without the debug section, unlike the program's own names
    bare = Runtime(rung.compile_source(src, "t.rung", debug=False).to_bytes())
    bare.scan(0)
    assert bare.get("first_scan") is True and bare.get("math_error") is True
    with pytest.raises(KeyError, match="no debug section"):
        bare.get("q")


# ---- rules checked one more way -------------------------------------------------------


@pytest.mark.parametrize("kind", ["TON", "TOF", "TP"])
def test_reset_returns_a_timer_to_idle(kind):
    s = sim(
        "input a : bool at %IX0.0\ninput r : bool at %IX0.1\n"
        f"timer t : {kind} = 100ms\nrung: a -> t\nrung: r -> reset t\n"
    )
    s.scan()
    s.set("a", True)
    s.scan()
    if kind == "TOF":  # an off-delay times after IN falls
        s.set("a", False)
        s.scan()
    s.run_for(150 if kind == "TON" else 50)
    assert s.get("t.ET") == (100 if kind == "TON" else 50) and s.get("t.Q") is True
    s.set("r", True)
    s.scan()
    assert s.get("t.ET") == 0 and s.get("t.Q") is False


def test_math_error_is_sticky_until_cleared_and_covers_mod_and_real():
    s = sim(
        "var z : int\nvar a : int = 7\nvar m : int = 5\nvar x : real = 1.5\nvar zr : real\n"
        "var y : real = 9.0\nvar arm : bool\n"
        "rung: arm -> m := a mod z, y := x / zr\n"
    )
    s.scan()
    assert s.runtime.math_error is False
    s.set("arm", True)
    s.scan()
    assert (s.get("m"), s.get("y"), s.runtime.math_error) == (0, 0.0, True)
    s.set("arm", False)
    s.scan()
    assert s.runtime.math_error is True  # sticky: no new error, still set
    s.runtime.clear_math_error()
    s.scan()
    assert s.runtime.math_error is False and s.runtime.state == STATE_RUN


@pytest.mark.parametrize("value", ["1.0e38 * 10.0", "0.0 - 1.0e38 * 10.0"])
def test_real_overflow_to_int_gives_zero(value):
    assert calc(f"int({value})", "int")[0] == 0


def test_stop_runs_no_rungs_and_timers_do_not_jump_on_resume():
    s = sim("var n : int\ntimer t : TON = 1s\nrung: true -> n := n + 1, t\n")
    s.run_for(100)
    rt = s.runtime
    rt.stop()
    s.run_for(5000)
    assert s.get("n") == 10 and s.get("t.ET") == 90  # scans at 0 .. 90 ms
    rt.run()
    s.scan()
    # the first scan after RUN sees the time since the last scan call, not since the stop
    assert s.get("n") == 11 and s.get("t.ET") == 100


def test_fault_codes_for_memory_and_host_faults():
    s = sim(MOTOR)
    started(s)
    rt = s.runtime
    good = rt._ns["_c0"]

    def exhausted(v, dt, watched):
        raise MemoryError

    rt._ns["_c0"] = exhausted
    s.scan()
    assert rt.state == STATE_FAULT and rt.fault_code == 2
    rt._ns["_c0"] = good
    rt.reset_fault()
    s.scan()
    assert rt.state == STATE_RUN and rt.fault_code == 0 and rt.outputs == [False]
    rt.fault()  # e.g. the board's watchdog
    assert rt.state == STATE_FAULT and rt.fault_code == 3 and rt.outputs == [False]
    rt.run()  # RUN does not leave FAULT: only reset_fault does
    assert rt.state == STATE_FAULT


def test_restart_keeps_the_input_image_and_scan_count_wraps():
    s = sim(MOTOR)
    started(s)
    rt = s.runtime
    rt.restart()
    assert rt.inputs == [False, True] and rt.scan_count == 0 and rt.first_scan
    rt.scan_count = (1 << 30) - 1
    s.scan()
    assert rt.scan_count == 0


def test_forcing_only_inputs_and_outputs_with_checked_values():
    s = sim(MOTOR)
    rt = s.runtime
    with pytest.raises(ValueError, match="only inputs and outputs"):
        rt.force(rt.slot("starts"), 1)
    with pytest.raises(ValueError):
        rt.force(rt.output_vars[0], 5)
    assert rt.forced == {}


RETAINED = """program r
cycle 10ms
input a : bool at %IX0.0
input b : bool at %IX0.1
output q : bool at %QX0.0
var n : dint retain
var f : real retain
timer on : TON = 1s retain
timer off : TOF = 300ms retain
timer pulse : TP = 200ms retain
timer acc : RTO = 2s retain
counter c : CTUD = 5 retain
counter plain : CTU = 3
rung: a -> on, acc
rung: a -> off
rung: b -> pulse
rung: rising b -> count c, n := n + 1, f := f + 0.5
rung: falling a -> count_down c, count plain
rung: on.Q or off.Q or pulse.Q -> q
"""


def inputs_at(i):
    return [(i // 7) % 3 != 0, (i // 5) % 2 == 1]


@pytest.mark.parametrize("cut", [13, 29, 40, 57])
def test_restart_equals_a_board_power_cycle_through_a_snapshot(cut):
    # a board powers up with a fresh Runtime and restores the snapshot it saved; the
    # emulator's restart() must land in exactly the same state, scan after scan
    code = rung.compile_source(RETAINED, "r.rung").to_bytes()
    rt = Runtime(code)
    for i in range(cut):
        rt.inputs[:] = inputs_at(i)
        rt.scan(i * 10)
    snap = rt.retain_snapshot()
    rt.restart()
    board = Runtime(code)
    board.retain_restore(snap)
    for i in range(cut, cut + 60):
        for r in (rt, board):
            r.inputs[:] = inputs_at(i)
            r.scan(i * 10)
        assert rt.v == board.v and rt.outputs == board.outputs, i


def test_snapshot_survives_edits_that_keep_the_retained_variables():
    base = rung.compile_source(RETAINED, "r.rung")
    rt = Runtime(base.to_bytes())
    for i in range(40):
        rt.inputs[:] = inputs_at(i)
        rt.scan(i * 10)
    snap = rt.retain_snapshot()
    assert rt.get("n") > 0
    kept = [
        rung.compile_source(RETAINED, "r.rung", debug=False),  # the board's build
        rung.compile_source("# a comment\n" + RETAINED, "r.rung"),
        rung.compile_source(RETAINED + "rung: a and b -> q\n", "r.rung"),
        rung.compile_source(RETAINED + "var extra : int\n", "r.rung"),  # after the retained
    ]
    for program in kept:
        other = Runtime(program.to_bytes())
        other.retain_restore(snap)
        assert [other.v[s] for s in other._codec().slots] == [rt.v[s] for s in rt._codec().slots]
    refused = [
        RETAINED.replace("var n : dint retain", "var n : int retain"),
        RETAINED.replace("var n : dint retain", "var z : int\nvar n : dint retain"),
        RETAINED.replace("counter plain : CTU = 3", "counter plain : CTU = 3 retain"),
    ]
    for src in refused:
        with pytest.raises(LoadError, match="another program"):
            Runtime(rung.compile_source(src, "r.rung").to_bytes()).retain_restore(snap)


@pytest.mark.parametrize(
    "value,want",
    [
        # where rounding x + 0.5 in single precision (ESP32, RP2040) would give another answer
        (0.49999997, 0),
        (-0.49999997, 0),
        (8388609.0, 8388609),
        (-8388609.0, -8388609),
        (4194304.5, 4194305),
        (-4194304.5, -4194305),
    ],
)
def test_real_to_int_needs_no_extra_precision(value, want):
    from rung.runtime import arith

    assert arith.r2i(arith.f32(value), 32) == want
    # the same steps in binary32 arithmetic, as a single-precision board runs them
    x = arith.f32(value)
    n = int(x)
    f = arith.f32(x - n)
    assert f == x - n  # the fraction is exact in binary32 too
