"""rung.Simulator: the runtime on a virtual clock, for tests and experiments (CPython)."""

import os

from rung.runtime import Runtime
from rung.runtime.opcodes import T_TIME


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


class Simulator:
    """A program on a virtual clock that starts at 0.

    `time_ms` is the timestamp of the latest scan; the first scan runs at 0 and every
    later scan one program cycle after the previous one."""

    def __init__(self, program):
        self.runtime = Runtime(_program_bytes(program))
        self.cycle_ms = self.runtime.cycle_ms
        self.time_ms = 0
        self._scanned = False

    def set(self, name, value):
        """Write a variable or member (an input goes to the input image, seen next scan)."""
        entry = self.runtime.names().get(name)
        if entry is not None and entry[1] == T_TIME and isinstance(value, str):
            value = parse_time(value)
        self.runtime.set(name, value)

    def get(self, name):
        """A variable's or member's value as of the latest scan (time in ms)."""
        return self.runtime.get(name)

    def scan(self, n=1):
        """Run n scans, each one cycle after the previous."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"scan(n) needs a count of scans >= 0, not {n!r}")
        for _ in range(n):
            if self._scanned:
                self.time_ms += self.cycle_ms
            self._scanned = True
            self.runtime.scan(self.time_ms)

    def run_for(self, duration):
        """Scan every cycle until `duration` (ms or '5s') has passed on the virtual clock."""
        ms = parse_time(duration)
        if ms < 0:
            raise ValueError(f"a duration cannot be negative: {duration!r}")
        end = self.time_ms + ms
        if not self._scanned:
            self.scan()
        while self.time_ms + self.cycle_ms <= end:
            self.scan()
        if self.time_ms < end:  # a duration that is not a whole number of cycles
            self.time_ms = end - self.cycle_ms
            self.scan()

    def restart(self):
        """A power cycle: retained values kept, everything else re-initialised."""
        self.runtime.restart()
