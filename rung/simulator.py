"""rung.Simulator: the runtime on a virtual clock, for tests and experiments (CPython)."""

import os

from rung.runtime import Runtime
from rung.runtime.arith import f32
from rung.runtime.engine import STATE_RUN
from rung.runtime.opcodes import OP_SYS, S_CLOCK_1S, S_CLOCK_100MS, T_DINT, T_INT, T_REAL, T_TIME

_TICKS_MASK = 0x3FFFFFFF  # as runtime/engine.py: timestamps are taken modulo 2**30


def _program_bytes(program):
    if isinstance(program, (bytes, bytearray, memoryview)):
        return bytes(program)
    if hasattr(program, "to_bytes"):
        return program.to_bytes()
    path = os.fspath(program)
    if path.endswith(".rung"):
        from rung.compiler.api import compile_file

        return compile_file(path).to_bytes()
    from rung.files import MAX_BYTECODE_BYTES, read_file

    return read_file(path, MAX_BYTECODE_BYTES)  # a fifo or /dev/zero is refused, not read


def parse_time(value):
    """Milliseconds from an int (ms) or a duration string such as '5s' or '1m30s'."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():  # not inf or nan
        return int(value)
    if isinstance(value, str):
        from rung.compiler.literals import parse_duration

        text = value.strip()
        return int(text) if text.isdigit() else parse_duration(text)
    raise ValueError(f"not a duration: {value!r}")


# What a value written from Python may be, as in scenario files: the runtime itself (and
# Modbus) wraps integers to their type, but in a test a number out of range is a mistake.
_RANGES = {
    T_INT: ("an int", -32768, 32767),
    T_DINT: ("a dint", -(2**31), 2**31 - 1),
    T_TIME: ("a time", 0, 2**31 - 1),
}
_REAL_MAX = 3.4028234663852886e38  # the largest binary32


def check_range(name, vtype, value):
    """ValueError naming the range if a number does not fit the variable's type."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return  # not a number: the runtime says what it needs
    if vtype == T_REAL:
        try:
            big = value - value == 0 and f32(float(value)) - f32(float(value)) != 0
        except OverflowError:  # an int too large for a float
            big = True
        if big:  # finite, but infinite as binary32
            raise ValueError(
                f"{name} is a real: {value!r} is outside -{_REAL_MAX:.8g}..{_REAL_MAX:.8g}"
            )
        return
    if vtype not in _RANGES or value - value != 0:  # bool; inf and nan: refused later
        return
    what, lo, hi = _RANGES[vtype]
    if not lo <= value <= hi:
        unit = " ms" if vtype == T_TIME else ""
        raise ValueError(f"{name} is {what}: {value!r} is outside {lo}..{hi}{unit}")


def reads_clock(code):
    """Whether a (verified) program reads clock_100ms or clock_1s anywhere."""
    from rung.runtime.container import decode
    from rung.runtime.instructions import read_instruction

    img = decode(code)
    for start, end in img.rungs:
        pos = start
        while pos < end:
            entry, ops, pos = read_instruction(img.data, pos, end)
            if entry[1] == OP_SYS and ops[0] in (S_CLOCK_100MS, S_CLOCK_1S):
                return True
    return False


def _identical(before, after):
    """Whether two slot lists hold the same values, -0.0 and 0.0 told apart, 1 and True."""
    if before != after:
        return False
    for x, y in zip(before, after, strict=True):
        if x is not y and (type(x) is not type(y) or repr(x) != repr(y)):
            return False
    return True


class Simulator:
    """A program on a virtual clock that starts at 0.

    `time_ms` is the time now. Each scan runs at `time_ms` and lasts one program cycle, so
    from a fresh simulator scan(10) runs scans at 0, 1, ..., 9 cycles and leaves `time_ms`
    at 10 cycles; get() reads the values of the latest scan.

    With skip=True (the default) whole-cycle scans that provably change nothing are not
    run: see _scans. The result is the same as scanning every cycle, slot for slot;
    `skipped` counts the scans saved."""

    def __init__(self, program, skip=True):
        code = _program_bytes(program)
        self.runtime = Runtime(code)
        self.cycle_ms = self.runtime.cycle_ms
        self.time_ms = 0
        self.skip = skip
        self.skipped = 0
        # a program reading a clock contact changes with the phase: never at a fixed point
        self._clocked = skip and reads_clock(code)

    def set(self, name, value):
        """Write a variable or member (an input goes to the input image, seen next scan).
        A number outside its type's range is a ValueError (the runtime would wrap it)."""
        entry = self.runtime.names().get(name)
        if entry is not None:
            if entry[1] == T_TIME and isinstance(value, str):
                value = parse_time(value)
            check_range(name, entry[1], value)
        self.runtime.set(name, value)

    def get(self, name):
        """A variable's, member's, constant's or system contact's value as of the latest
        scan (time in ms)."""
        return self.runtime.get(name)

    def scan(self, n=1):
        """Run n scans, each lasting one cycle: the clock advances by n cycles."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"scan(n) needs a count of scans >= 0, not {n!r}")
        self._scans(n)

    def run_for(self, duration):
        """Advance the clock by exactly `duration` (ms or '5s'), scanning once a cycle: the
        scans start at the current time and every cycle after it, before the end."""
        ms = parse_time(duration)
        if ms < 0:
            raise ValueError(f"a duration cannot be negative: {duration!r}")
        end = self.time_ms + ms
        self._scans(ms // self.cycle_ms)
        if self.time_ms < end:
            # the last scan of a duration that is not whole cycles lasts only what is left
            self.runtime.scan(self.time_ms)
            self.time_ms = end

    def _scans(self, n):
        """n scans lasting one cycle each, from time_ms.

        The generated scan function reads only the slots, the input image, dt and the
        forcing tables (it writes the slots, the output image and the power flow). So when a
        scan in RUN, not the first, with dt one cycle and the input image as the previous
        scan left it, leaves every slot exactly as it found it, the next scan (same slots,
        same inputs, same dt) does the same again, and so does every scan after it, as long
        as nothing from outside changes: the rest of these n scans can be skipped. Only
        what the runtime writes around the scan function moves on: the scan count, the
        time of the last scan, the clock phase and the clock slots. The clock slots are an
        input that changes with time: in a program that reads a clock contact, the fixed
        point must also hold for each of the four pairs of clock values (see
        _clock_proof). Timers timing, edges pending, first_scan, a sticky math_error being
        set: each changes a slot, so such a scan is no fixed point."""
        rt = self.runtime
        cyc = self.cycle_ms
        t = self.time_ms
        if not self.skip:
            for _ in range(n):
                rt.scan(t)
                t += cyc
            self.time_ms = t
            return
        v = rt.v
        lay = rt.layout
        system = (lay.first_scan, lay.clock_100ms, lay.clock_1s)
        # a program that keeps changing pays for a probe (a copy of the slots) only every
        # `gap` scans, gap doubling up to 64 after each failed probe
        gap = wait = 1
        while n > 0:
            wait -= 1
            # the runtime's own conditions for a scan that runs the program with dt = cyc
            steady = wait == 0 and rt.state == STATE_RUN and not rt.first_scan
            steady = steady and (t - rt._last) & _TICKS_MASK == cyc
            before = v[:] if steady else None
            rt.scan(t)
            t += cyc
            n -= 1
            if before is None or n == 0 or rt.state != STATE_RUN:
                if wait <= 0:
                    wait = gap
                continue
            for i in system:  # written by the runtime before the program runs
                before[i] = v[i]
            if _identical(before, v) and (not self._clocked or self._clock_proof(before)):
                self._skip(n, t)
                t += n * cyc
                n = 0
            else:
                gap = min(gap * 2, 64)
                wait = gap
        self.time_ms = t

    def _clock_proof(self, state):
        """Whether the scan function, run from `state` (the slots now) with every pair of
        clock values, leaves the slots as they are and the power flow as the last scan set
        it. Everything it touches is put back as it was."""
        rt = self.runtime
        v = rt.v
        lay = rt.layout
        power = rt._power.flags  # CPython: one list per chunk of rungs
        flows = [part[:] for part in power]
        outputs = rt.outputs[:]
        ok = True
        # the scan function sets the clock slots from the phase (ms into the second):
        # 550, 50, 500 and 0 give each pair (clock_100ms, clock_1s) once
        recording = rt._watch_ms != 0
        for phase in (550, 50, 500, 0):
            try:
                rt._scan_fn(
                    v, rt.inputs, rt.outputs, self.cycle_ms, rt._n_forced, recording, False, phase
                )
            except Exception:  # noqa: BLE001 - it would fault at that phase: no fixed point
                ok = False
            for i in (lay.clock_100ms, lay.clock_1s):
                v[i] = state[i]
            ok = ok and _identical(state, v) and [part[:] for part in power] == flows
            if not ok:
                break
        v[:] = state
        for part, saved in zip(power, flows, strict=True):
            part[:] = saved
        rt.outputs[:] = outputs
        return ok

    def _skip(self, n, t):
        """Account for n scans at t, t + cycle, ... that would change no slot (as in
        Runtime.scan: count, last timestamp, phase, clock slots)."""
        rt = self.runtime
        cyc = self.cycle_ms
        lay = rt.layout
        rt.scan_count = (rt.scan_count + n) & _TICKS_MASK
        rt._last = t + (n - 1) * cyc
        phase = (rt._phase + n * (cyc & _TICKS_MASK)) % 1000
        rt._phase = phase
        rt.v[lay.clock_100ms] = phase % 100 < 50
        rt.v[lay.clock_1s] = phase < 500
        self.skipped += n

    def restart(self):
        """A power cycle: retained values kept, everything else re-initialised."""
        self.runtime.restart()
