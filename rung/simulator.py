"""rung.Simulator: the runtime on a virtual clock, for tests and experiments (CPython)."""

import os

from rung.runtime import Runtime
from rung.runtime.arith import f32
from rung.runtime.opcodes import T_DINT, T_INT, T_REAL, T_TIME


def _program_bytes(program):
    if isinstance(program, (bytes, bytearray, memoryview)):
        return bytes(program)
    if hasattr(program, "to_bytes"):
        return program.to_bytes()
    path = os.fspath(program)
    if path.endswith(".rung"):
        from rung.compiler.api import compile_file

        return compile_file(path).to_bytes()
    with open(path, "rb") as f:
        return f.read()


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


class Simulator:
    """A program on a virtual clock that starts at 0.

    `time_ms` is the time now. Each scan runs at `time_ms` and lasts one program cycle, so
    from a fresh simulator scan(10) runs scans at 0, 1, ..., 9 cycles and leaves `time_ms`
    at 10 cycles; get() reads the values of the latest scan."""

    def __init__(self, program):
        self.runtime = Runtime(_program_bytes(program))
        self.cycle_ms = self.runtime.cycle_ms
        self.time_ms = 0

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
        for _ in range(n):
            self.runtime.scan(self.time_ms)
            self.time_ms += self.cycle_ms

    def run_for(self, duration):
        """Advance the clock by exactly `duration` (ms or '5s'), scanning once a cycle: the
        scans start at the current time and every cycle after it, before the end."""
        ms = parse_time(duration)
        if ms < 0:
            raise ValueError(f"a duration cannot be negative: {duration!r}")
        end = self.time_ms + ms
        while self.time_ms < end:
            self.runtime.scan(self.time_ms)
            # the last scan of a duration that is not whole cycles lasts only what is left
            self.time_ms = min(self.time_ms + self.cycle_ms, end)

    def restart(self):
        """A power cycle: retained values kept, everything else re-initialised."""
        self.runtime.restart()
