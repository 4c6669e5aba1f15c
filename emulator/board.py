"""The emulator board: a Runtime scanned in real time (or N times faster) with virtual I/O."""

import asyncio
import time

from rung.runtime import Runtime
from rung.runtime.modbus_device import ModbusDevice, ScanStats
from rung.runtime.modbus_pdu import PduServer


class EmulatorBoard:
    """A program running on a virtual clock that follows the wall clock times `speed`."""

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
        self._stop = asyncio.Event()

    def virtual_ms(self, start):
        return int((time.monotonic() - start) * 1000 * self.speed)

    async def run(self):
        """Scan every cycle of virtual time until stop() is called."""
        rt = self.runtime
        start = time.monotonic()
        period = rt.cycle_ms / 1000 / self.speed
        next_at = time.monotonic()
        while not self._stop.is_set():
            t0 = time.perf_counter()
            rt.scan(self.virtual_ms(start))
            self.stats.record(int((time.perf_counter() - t0) * 1e6), rt.cycle_ms)
            next_at += period
            delay = next_at - time.monotonic()
            if delay < 0:
                next_at = time.monotonic()  # overrun: do not try to catch up
                delay = 0
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass

    def stop(self):
        self._stop.set()
