"""Timers, counters and edges against an independent model, scan by scan.

The model below is written from IEC 61131-3 (the MatIEC standard function blocks, see
/work/shared/reference/ladder-semantics.md) and docs/semantics.md, as explicit state
machines that share no code with runtime/blocks.py. Where Rung documents a choice of its
own (edges and counters ignore the first scan, a TON with PT 0 is done on its rising scan,
time is the real elapsed time, counters saturate at the limits of int), the model follows
docs/semantics.md. Seeded random sequences drive one program holding every block kind;
after every scan each block's outputs must equal the model's.

RUNG_FUZZ_SCALE=N (`make fuzz`) runs N times as many sequences.
"""

import os
import random

import rung
from rung.runtime import Runtime
from rung.runtime.modbus_device import ModbusDevice

SCALE = int(os.environ.get("RUNG_FUZZ_SCALE", "1"))
N_SEQUENCES = 4000 * SCALE
TICKS = 1 << 30  # the board's ticks_ms period: the runtime sees timestamps modulo this
INT_MIN, INT_MAX = -32768, 32767

IDLE, TIMING, DONE = "idle", "timing", "done"
STATE_CODES = {IDLE: 0, TIMING: 1, DONE: 2}  # a timer's state register over Modbus

# ---- the model ---------------------------------------------------------------------------


class TonModel:
    """IEC TON: ET counts while IN stays true; done at PT; IN false clears."""

    def __init__(self, pt):
        self.pt, self.state, self.et, self.prev = pt, IDLE, 0, False

    @property
    def q(self):
        return self.state == DONE

    def run(self, inp, dt, first):
        pt = max(self.pt, 0)
        if not inp:
            self.state, self.et = IDLE, 0
        elif self.state != DONE:  # idle or timing; once done, PT changes are ignored
            # a rising IN starts from 0; a held IN (timing, or idle after a reset) counts
            # the time since the previous evaluation
            elapsed = self.et + dt if self.prev else 0
            if elapsed >= pt:
                self.state, self.et = DONE, pt
            else:
                self.state, self.et = TIMING, elapsed
        self.prev = inp

    def reset(self):
        self.state, self.et = IDLE, 0


class TofModel:
    """IEC TOF: Q follows IN up, stays true for PT after IN falls; no power-up pulse."""

    def __init__(self, pt):
        self.pt, self.state, self.et, self.prev, self.q_on = pt, IDLE, 0, False, False

    @property
    def q(self):
        return self.q_on

    def run(self, inp, dt, first):
        pt = max(self.pt, 0)
        falling = self.prev and not inp
        if inp:
            self.state, self.et, self.q_on = IDLE, 0, True
        elif falling:
            self.et = 0
            self.state = TIMING if pt > 0 else DONE
            self.q_on = self.state == TIMING
        elif self.state == TIMING:
            if self.et + dt >= pt:
                self.state, self.et = DONE, pt
            else:
                self.et += dt
            self.q_on = self.state == TIMING
        else:  # idle with IN false (power-up, or after a reset), or done
            self.q_on = False
        self.prev = inp

    def reset(self):
        self.state, self.et, self.q_on = IDLE, 0, False


class TpModel:
    """IEC TP: a rising IN gives one pulse of PT, not re-triggerable; ET holds at PT while
    IN stays true after the pulse, and a pulse ending with IN false re-arms at once."""

    def __init__(self, pt):
        self.pt, self.state, self.et, self.prev = pt, IDLE, 0, False

    @property
    def q(self):
        return self.state == TIMING

    def run(self, inp, dt, first):
        pt = max(self.pt, 0)
        rising = inp and not self.prev and not first
        if self.state == IDLE and rising:
            self.et = 0
            self.state = TIMING if pt > 0 else DONE
        elif self.state == TIMING:
            if self.et + dt >= pt:
                self.state, self.et = DONE, pt
            else:
                self.et += dt
        if self.state == DONE and not inp:  # the same scan: MatIEC's TP does this too
            self.state, self.et = IDLE, 0
        self.prev = inp

    def reset(self):
        self.state, self.et = IDLE, 0


class RtoModel:
    """Retentive on-delay: ET accumulates while IN is held true, holds while false; done
    (Q) at PT and held until reset."""

    def __init__(self, pt):
        self.pt, self.state, self.et, self.prev = pt, IDLE, 0, False

    @property
    def q(self):
        return self.state == DONE

    def run(self, inp, dt, first):
        if self.state != DONE:
            pt = max(self.pt, 0)
            if inp and self.prev:
                self.et += dt
            if self.et >= pt:
                self.state, self.et = DONE, pt
        self.prev = inp

    def reset(self):
        self.state, self.et = IDLE, 0


class CounterModel:
    """CTU / CTD / CTUD: edges of CU and CD (not on the first scan); R beats LD beats
    counting; an up and a down edge together cancel; CV saturates at the int limits."""

    def __init__(self, kind, pv):
        self.kind, self.pv, self.cv = kind, pv, 0
        self.cu = self.cd = self.r = self.ld = False
        self.cu_mem = self.cd_mem = False
        self.qu, self.qd = 0 >= pv, True

    def update(self, first):
        up = self.cu and not self.cu_mem and not first
        down = self.cd and not self.cd_mem and not first
        self.cu_mem, self.cd_mem = self.cu, self.cd
        if self.r:
            self.cv = 0
        elif self.ld:
            self.cv = self.pv
        elif up != down:
            self.cv = min(self.cv + 1, INT_MAX) if up else max(self.cv - 1, INT_MIN)
        self.qu, self.qd = self.cv >= self.pv, self.cv <= 0
        self.cu = self.cd = self.r = self.ld = False


class EdgeModel:
    """R_TRIG / F_TRIG as contacts: memory from the first scan, so neither fires then."""

    def __init__(self, falling):
        self.falling, self.mem = falling, False

    def run(self, x, first):
        fired = (self.mem and not x) if self.falling else (x and not self.mem)
        self.mem = x
        return fired and not first


# ---- the program, and the model of its rungs ------------------------------------------

PT = 30
PV = 3
INPUTS = (
    "ton_r ton_in tof_in tof_r tp_in tp_r rto_r rto_in " "cu cd cr cl u1 r1 d2 l2 r2 e g"
).split()
SOURCE = (
    "program model\ncycle 10ms\n"
    + "".join(f"input {n} : bool at %IX{k // 8}.{k % 8}\n" for k, n in enumerate(INPUTS))
    + "var re : bool\nvar fe : bool\nvar ge : bool\n"
    + f"timer t_ton : TON = {PT}ms\ntimer t_tof : TOF = {PT}ms\n"
    + f"timer t_tp : TP = {PT}ms\ntimer t_rto : RTO = {PT}ms\n"
    + f"counter c_ud : CTUD = {PV}\ncounter c_u : CTU = {PV}\ncounter c_d : CTD = {PV}\n"
    # resets before the timer for TON and RTO, after it for TOF and TP: both orders
    + "rung: ton_r -> reset t_ton\nrung: ton_in -> t_ton\n"
    + "rung: tof_in -> t_tof\nrung: tof_r -> reset t_tof\n"
    + "rung: tp_in -> t_tp\nrung: tp_r -> reset t_tp\n"
    + "rung: rto_r -> reset t_rto\nrung: rto_in -> t_rto\n"
    + "rung: cu -> count c_ud\nrung: cd -> count_down c_ud\n"
    + "rung: cr -> reset c_ud\nrung: cl -> load c_ud\n"
    + "rung: u1 -> count c_u\nrung: r1 -> reset c_u\n"
    + "rung: d2 -> count_down c_d\nrung: l2 -> load c_d\nrung: r2 -> reset c_d\n"
    + "rung: rising e -> re\nrung: falling e -> fe\n"
    # an edge in an assignment's value runs only when the rung is powered
    + "rung: g -> ge := rising e\n"
)
TIMERS = {"t_ton": TonModel, "t_tof": TofModel, "t_tp": TpModel, "t_rto": RtoModel}
COUNTERS = {"c_ud": "CTUD", "c_u": "CTU", "c_d": "CTD"}
PULSED = {"ton_r", "tof_r", "tp_r", "rto_r", "cr", "cl", "r1", "r2", "l2"}


class ProgramModel:
    """SOURCE's rungs, run in order on the models."""

    def __init__(self):
        self.timers = {name: cls(PT) for name, cls in TIMERS.items()}
        self.counters = {name: CounterModel(kind, PV) for name, kind in COUNTERS.items()}
        self.rising, self.falling, self.gated = EdgeModel(False), EdgeModel(True), EdgeModel(False)
        self.re = self.fe = self.ge = False
        self.first = True

    def scan(self, i, dt):
        """One scan with input values i (a dict) and dt ms since the previous scan."""
        first = self.first
        t = self.timers
        if i["ton_r"]:
            t["t_ton"].reset()
        t["t_ton"].run(i["ton_in"], dt, first)
        t["t_tof"].run(i["tof_in"], dt, first)
        if i["tof_r"]:
            t["t_tof"].reset()
        t["t_tp"].run(i["tp_in"], dt, first)
        if i["tp_r"]:
            t["t_tp"].reset()
        if i["rto_r"]:
            t["t_rto"].reset()
        t["t_rto"].run(i["rto_in"], dt, first)
        ud, u, d = self.counters["c_ud"], self.counters["c_u"], self.counters["c_d"]
        ud.cu, ud.cd, ud.r, ud.ld = i["cu"], i["cd"], i["cr"], i["cl"]
        ud.update(first)
        u.cu, u.r = i["u1"], i["r1"]
        u.update(first)
        d.cd, d.ld, d.r = i["d2"], i["l2"], i["r2"]
        d.update(first)
        self.re = self.rising.run(i["e"], first)
        self.fe = self.falling.run(i["e"], first)
        if i["g"]:
            self.ge = self.gated.run(i["e"], first)
        self.first = False

    def observe(self):
        out = {"re": self.re, "fe": self.fe, "ge": self.ge}
        for name, m in self.timers.items():
            out[name + ".Q"], out[name + ".ET"], out[name + ".PT"] = m.q, m.et, m.pt
            out[name + ".state"] = STATE_CODES[m.state]
        for name, m in self.counters.items():
            out[name + ".CV"], out[name + ".PV"] = m.cv, m.pv
            if m.kind == "CTUD":
                out[name + ".QU"], out[name + ".QD"] = m.qu, m.qd
            else:
                out[name + ".Q"] = m.qu if m.kind == "CTU" else m.qd
        return out


# ---- random sequences ----------------------------------------------------------------------


def preset(r, period, n):
    """A PT: 0, below one period, an exact multiple, beyond the sequence, or anything."""
    return r.choice(
        (
            0,
            r.randint(1, max(1, period - 1)),
            period * r.randint(1, 6),
            period * n + r.randint(1, 1000),
            r.randint(0, 400),
        )
    )


def sequence(seed):
    """Scans as (timestamp, inputs, writes before the scan, restart before the scan)."""
    r = random.Random(seed)
    n = r.randint(5, 60)
    period = r.randint(1, 50)
    jitter = r.random() < 0.5
    # start anywhere, often just before the 2**30 wrap of ticks_ms
    t = r.choice((0, r.randrange(TICKS), TICKS - r.randint(1, 50 * n)))
    busy = r.choice((0.05, 0.2, 0.5, 0.9))  # how often an input changes
    resets = r.choice((0.0, 0.03, 0.15))
    level = {name: r.random() < 0.5 for name in INPUTS}
    scans = []
    for _ in range(n):
        for name in INPUTS:
            if name in PULSED:  # resets and loads: mostly off, now and then a scan or two
                level[name] = r.random() < resets or (level[name] and r.random() < 0.3)
            elif r.random() < busy:
                level[name] = not level[name]
        inputs = dict(level)
        if r.random() < 0.08:  # a one-scan glitch on one input
            g = r.choice(INPUTS)
            inputs[g] = not inputs[g]
        writes = {}
        if r.random() < 0.07:  # PT changed while running (rarely negative: Modbus can)
            pt = preset(r, period, n) if r.random() < 0.9 else r.choice((-1, -r.randint(2, 99)))
            writes[r.choice(list(TIMERS)) + ".PT"] = pt
        if r.random() < 0.05:
            writes[r.choice(list(COUNTERS)) + ".PV"] = r.choice((0, 1, 2, 5, -1, INT_MAX))
        if r.random() < 0.02:
            writes[r.choice(list(COUNTERS)) + ".CV"] = r.choice((INT_MAX, INT_MIN, 1, -1))
        restart = bool(scans) and r.random() < 0.01
        scans.append((t, inputs, writes, restart))
        t += period if not jitter else r.randint(1, 50)
    return period, scans


def apply_write(model, name, value):
    block, member = name.split(".")
    target = model.timers.get(block) or model.counters[block]
    setattr(target, member.lower(), value)


def check(rt, seed):
    """Run one sequence on the runtime and the model; a mismatch names the scan."""
    period, scans = sequence(seed)
    device = ModbusDevice(rt)
    rt.restart()
    model = ProgramModel()
    previous = None
    history = []
    for k, (t, inputs, writes, restart) in enumerate(scans):
        if restart:
            rt.restart()
            for name in TIMERS:  # a power cycle re-initialises PT from the program
                assert rt.get(name + ".PT") == PT
            model = ProgramModel()
            previous = None
        for name, value in writes.items():
            rt.set(name, value)
            apply_write(model, name, value)
        for name, value in inputs.items():
            rt.set(name, value)
        dt = 0 if previous is None else t - previous
        previous = t
        rt.scan(t % TICKS)
        model.scan(inputs, dt)
        history.append((t, dt, {n for n, v in inputs.items() if v}, writes, restart))
        want = model.observe()
        got = {name: rt.get(name) for name in want if not name.endswith(".state")}
        for b, name in enumerate(TIMERS):  # declared first, in this order
            got[name + ".state"] = device.block_register(b, 1)
        if got != want:
            diff = {n: (got[n], want[n]) for n in want if got[n] != want[n]}
            lines = [f"seed {seed}, scan {k} (period {period}): runtime vs model {diff}"]
            for j, (tj, dtj, on, w, rs) in enumerate(history):
                lines.append(
                    f"  scan {j}: t={tj} dt={dtj} true={sorted(on)} {w or ''}"
                    + (" restart" if rs else "")
                )
            raise AssertionError("\n".join(lines))
    return len(scans)


def runtime():
    return Runtime(rung.compile_source(SOURCE, "model.rung").to_bytes())


def test_blocks_match_the_iec_model_on_random_sequences():
    rt = runtime()
    scans = sum(check(rt, seed) for seed in range(N_SEQUENCES))
    assert scans > 20 * N_SEQUENCES  # the sequences are not trivially short


def test_the_model_finds_the_tp_pulse_the_runtime_used_to_lose():
    """The comparison would have caught issue 8's TP bug: a runtime TP that stays done
    when a pulse ends with IN false is told apart from the model by these seeds."""
    from rung.runtime import blocks

    good = blocks.tp

    def old_tp(v, b, inp, dt, first):  # the TP of before the fix, kept to prove the point
        st = v[b + 4]
        if st == 0:
            if inp and not v[b + 3] and not first:
                st, v[b + 1] = (1, 0) if v[b + 2] > 0 else (2, 0)
        elif st == 1:
            et = v[b + 1] + dt
            if et >= v[b + 2]:
                et, st = v[b + 2], 2
            v[b + 1] = et
        elif not inp:
            st, v[b + 1] = 0, 0
        v[b + 4], v[b], v[b + 3] = st, st == 1, inp

    rt = runtime()
    rt._ns["_tp"] = old_tp  # the generated code looks its block functions up here
    try:
        caught = 0
        for seed in range(200):
            try:
                check(rt, seed)
            except AssertionError as exc:
                assert "t_tp" in str(exc)
                caught += 1
        assert caught >= 20
    finally:
        rt._ns["_tp"] = good
