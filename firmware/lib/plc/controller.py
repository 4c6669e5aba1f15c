# The PLC loop: a scan every program cycle on time.ticks_ms (inputs -> scan -> outputs),
# watchdog, status LED, RUN/STOP switch, retained data and garbage collection, with the
# Modbus servers served only in the time left before the next scan (serve_slot()).
import asyncio
import gc
from time import ticks_add, ticks_diff, ticks_ms, ticks_us

from runtime.engine import STATE_FAULT, STATE_RUN, STATE_STOP
from runtime.opcodes import B_RETAIN, F_RETAIN  # imported before a program loads

from .faults import HARDWARE

_STOP_CYCLE_MS = 100  # the loop's period without a program
_GC_GUESS_MS = 5  # first estimate of a gc.collect(); then measured


class NoProgram:
    """Stands in for a Runtime when no program could be loaded: the board stays in STOP
    with its fault code readable over Modbus (status block) and accepts a new deploy."""

    def __init__(self, fault_code):
        self.state = STATE_STOP
        self.fault_code = fault_code
        self.scan_count = 0
        self.crc = 0
        self.cycle_ms = _STOP_CYCLE_MS
        self.forced = {}
        self.math_error = False
        self.first_scan = False
        self.inputs = []
        self.outputs = []
        self.input_vars = []
        self.output_vars = []
        self.power = b""
        self.v = []
        self.image = self

    vars = ()
    blocks = ()
    rungs = ()

    def scan(self, now):
        pass

    def run(self):
        pass

    def stop(self):
        pass

    def fault(self, code=3):
        pass

    def reset_fault(self):
        pass

    def release_all(self):
        pass

    def release(self, i):
        pass

    def watch_power(self, ms=-1):
        pass

    def clear_math_error(self):
        pass


class Controller:
    """Runs the scans of rt on the board's hardware (hw may be None: no board file)."""

    def __init__(self, rt, hw, wdt, stats, retain=None, use_switch=True, log=None):
        self.rt = rt
        self.log = log
        self.hw = hw
        self.wdt = wdt
        self.stats = stats
        self.retain = retain if retain is not None and _retains(rt) else None
        self.use_switch = use_switch and hw is not None and hw.switch is not None
        self.cycle = rt.cycle_ms if rt.cycle_ms > 0 else 10
        self.next_scan = ticks_ms()
        self.scan_done = asyncio.Event()
        self.reserve_ms = 1  # time a request needs: none starts closer to a scan
        self.serve_max_us = 0
        self.serve_overlaps = 0  # requests still running when a scan was due
        self._serve_est = 0
        self.late_max_ms = 0  # how much later than planned a scan started, at most
        self.late_scans = 0  # scans that started more than 1 ms late
        self.gc_ms = _GC_GUESS_MS
        self.gc_runs = 0
        self.halted = False
        self.loops = 0
        self._retain_at = ticks_ms()
        self._was_running = rt.state == STATE_RUN
        self._switch_run = True

    # ---- serving in the time left -----------------------------------------------------

    def time_left(self):
        """Milliseconds until the next scan is due."""
        return ticks_diff(self.next_scan, ticks_ms())

    async def serve_slot(self):
        """Wait until a request can be served without delaying the next scan."""
        while ticks_diff(self.next_scan, ticks_ms()) < self.reserve_ms:
            if self.halted:
                raise OSError("halted")
            await self.scan_done.wait()
        if self.halted:
            raise OSError("halted")

    def served(self, us):
        """A server reports how long one request took; the reserve follows the slow ones
        (a decaying maximum, so one preempted request does not widen it for ever)."""
        if ticks_diff(ticks_ms(), self.next_scan) > 0:
            self.serve_overlaps += 1  # this request ran into the time of a scan
        if us > self.serve_max_us:
            self.serve_max_us = us
        est = self._serve_est
        est = us if us > est else est - (est >> 6)
        self._serve_est = est
        self.reserve_ms = min(1 + (est + 999) // 1000, max(1, self.cycle // 2))

    # ---- the loop ---------------------------------------------------------------------

    def scan_once(self, now):
        """One cycle: inputs, scan, outputs (safe values unless RUN), stats, watchdog."""
        rt = self.rt
        hw = self.hw
        t0 = ticks_us()
        if hw is not None:
            try:
                if self.use_switch:
                    self._apply_switch(hw.switch_run(now))
                hw.read_inputs(rt.inputs, now)
            except Exception as exc:  # noqa: BLE001 - a pin error faults the PLC, safely
                self._hw_fault(exc)
        rt.scan(now)
        if hw is not None:
            try:
                if rt.state == STATE_RUN:
                    hw.write_outputs(rt.outputs)
                else:
                    hw.write_safe()
            except Exception as exc:  # noqa: BLE001
                self._hw_fault(exc)
        self.stats.record(ticks_diff(ticks_us(), t0), self.cycle)
        self.wdt.feed()

    def _hw_fault(self, exc):
        if self.rt.state != STATE_FAULT and self.log is not None:
            self.log.log(HARDWARE, "I/O error: " + repr(exc))
        self.rt.fault(HARDWARE)

    def _apply_switch(self, run):
        rt = self.rt
        if run != self._switch_run:
            self._switch_run = run
            if run:
                rt.run()
        if not run and rt.state == STATE_RUN:
            rt.stop()  # the switch in STOP wins over Modbus

    def _housekeeping(self, now):
        rt = self.rt
        running = rt.state == STATE_RUN
        if self.retain is not None:
            stopped = self._was_running and not running
            if stopped or (
                running and ticks_diff(now, self._retain_at) >= self.retain.interval_ms
            ):
                self._retain_at = now
                self.retain.save(rt)
        self._was_running = running
        if self.hw is not None:
            self.hw.set_led(_led(rt, now))
        if ticks_diff(self.next_scan, ticks_ms()) > self.gc_ms + self.reserve_ms:
            t0 = ticks_ms()
            gc.collect()
            took = ticks_diff(ticks_ms(), t0)
            self.gc_ms = max(took + 1, (self.gc_ms * 7) // 8)
            self.gc_runs += 1

    async def run(self):
        """Scan forever at the program's cycle (until halted)."""
        cycle = self.cycle
        take_over = getattr(self.wdt, "take_over", None)
        if take_over is not None:
            take_over()  # boot.py's Timer stops feeding: a hung loop trips the watchdog
        self.next_scan = ticks_ms()
        while not self.halted:
            wait = ticks_diff(self.next_scan, ticks_ms())
            if wait > 0:
                await asyncio.sleep_ms(wait)
                if self.halted:
                    break
            now = ticks_ms()
            late = ticks_diff(now, self.next_scan)
            if late > 1:
                self.late_scans += 1
                if late > self.late_max_ms:
                    self.late_max_ms = late
            self.scan_once(now)
            self.loops += 1
            self.next_scan = ticks_add(self.next_scan, cycle)
            end = ticks_ms()
            if ticks_diff(self.next_scan, end) < self.reserve_ms:
                # overrun: no catching up, and a slot for the servers before the next scan
                self.next_scan = ticks_add(end, self.reserve_ms)
            self.scan_done.set()
            self.scan_done.clear()
            self._housekeeping(end)
            if wait <= 0:
                await asyncio.sleep_ms(0)  # let the servers have their slot

    def halt(self):
        """End the loop: outputs safe now, retained values saved."""
        self.halted = True
        self.scan_done.set()
        if self.hw is not None:
            self.hw.write_safe()
        if self.retain is not None:
            self.retain.save(self.rt)


def _retains(rt):
    for row in rt.image.vars:
        if row[1] & F_RETAIN:
            return True
    for row in rt.image.blocks:
        if row[1] & B_RETAIN:
            return True
    return False


def _led(rt, now):
    """RUN: on with a short blink each second; STOP: 1 Hz; FAULT (any fault code): 5 Hz."""
    if rt.fault_code:
        return (now // 100) & 1 == 0
    if rt.state == STATE_RUN:
        return now % 1000 >= 100
    return now % 1000 < 500
