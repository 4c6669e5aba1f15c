"""The emulator board: a Runtime scanned in real time (or N times faster) with virtual I/O."""

import asyncio
import time

from rung.runtime import Runtime
from rung.runtime.modbus_device import ModbusDevice, ScanStats
from rung.runtime.modbus_pdu import PduServer


class EmulatorBoard:
    """A program running on a virtual clock that follows the wall clock times `speed`.

    Scans come first: the Modbus servers call `yield_to_scan()` after each request, which
    lets a due scan run before any further request is served (docs/modbus.md, serving
    policy)."""

    def __init__(self, code, speed=1.0, allow_forcing=True, allow_run_stop=True):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.runtime = Runtime(code)
        self.speed = speed
        self.stats = ScanStats()
        self.device = ModbusDevice(
            self.runtime, "emulator", allow_forcing, allow_run_stop, self.stats
        )
        self.pdu = PduServer(self.device)
        self.period = self.runtime.cycle_ms / 1000 / speed  # real seconds between scans
        self.late_scans = 0  # scans that started a whole cycle or more after their time
        self._stopped = False
        self._due = None  # loop time of the next scan while run() is running
        self._wake = None  # the future run() sleeps on
        self._waiters = []  # servers waiting for the due scan

    def virtual_ms(self, start):
        """Virtual milliseconds since the monotonic time `start`."""
        return int((time.monotonic() - start) * 1000 * self.speed)

    def scan_due(self):
        """True while a scan is due and has not run yet."""
        return self._due is not None and time.monotonic() >= self._due

    async def yield_to_scan(self):
        """Give way after serving a request: wait for the scan if one is due, else let the
        other tasks (clients) have a turn."""
        if not self.scan_due():
            await asyncio.sleep(0)
            return
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        await fut

    async def run(self):
        """Scan every cycle of virtual time until stop() is called."""
        rt = self.runtime
        stats = self.stats
        loop = asyncio.get_running_loop()
        start = time.monotonic()
        self._due = time.monotonic()
        try:
            while not self._stopped:
                t0 = time.perf_counter()
                late = time.monotonic() - self._due
                rt.scan(self.virtual_ms(start))
                overruns = stats.overruns
                stats.record(int((time.perf_counter() - t0) * 1e6), rt.cycle_ms)
                if late >= self.period:
                    # the loop was busy past a whole cycle: a scan was missed, which is an
                    # overrun even though this scan itself was quick
                    self.late_scans += 1
                    if stats.overruns == overruns:
                        stats.overruns += 1
                self._release_waiters()
                self._due += self.period
                now = time.monotonic()
                if self._due <= now:
                    self._due = now  # overrun: do not try to catch up
                await self._sleep(loop, self._due - now)
        finally:
            self._due = None
            self._release_waiters()

    async def _sleep(self, loop, delay):
        fut = self._wake = loop.create_future()
        handle = loop.call_later(delay, _resolve, fut)
        try:
            await fut
        finally:
            handle.cancel()
            self._wake = None

    def _release_waiters(self):
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            _resolve(fut)

    def stop(self):
        """End run() at once (safe from a signal handler)."""
        self._stopped = True
        if self._wake is not None:
            _resolve(self._wake)


def _resolve(fut):
    if not fut.done():
        fut.set_result(None)
