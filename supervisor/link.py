"""One Modbus link to a device: connects with backoff, counts what works, never raises
anything but LinkDown (the link broke) or DeviceError (the device answered an exception)."""

import asyncio
import collections
import time

from rung.runtime.modbus_map import MAX_READ_REGISTERS

EXCEPTION_TEXT = {
    1: "illegal function",
    2: "illegal address (not mapped, read-only, or refused by the device's policy)",
    3: "illegal value",
    4: "device failure",
}


class LinkDown(Exception):
    """The connection is lost or the device does not answer."""


class DeviceError(Exception):
    """The device answered a Modbus exception."""

    def __init__(self, code, what):
        self.code = code
        super().__init__(f"{what}: exception {code:02d} {EXCEPTION_TEXT.get(code, '')}".strip())


def chunks(start, count, size=MAX_READ_REGISTERS):
    """(address, count) reads covering start..start+count-1, each at most `size` long."""
    out = []
    while count > 0:
        n = min(count, size)
        out.append((start, n))
        start += n
        count -= n
    return out


class Link:
    """A pymodbus async client to a Target, reconnected with exponential backoff."""

    def __init__(self, target, timeout=1.0, backoff_min=0.2, backoff_max=5.0):
        self.target = target
        self.timeout = timeout
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self.delay = backoff_min
        self.client = None
        self.connected = False
        self.last_error = ""
        self.next_attempt = 0.0  # monotonic time of the next connection attempt
        self.attempts = 0
        self.reconnects = 0
        self.rtt_ms = 0.0
        self.results = collections.deque(maxlen=100)  # True per answered request
        self.requests = 0  # requests sent since the start
        self._ever = False

    @property
    def quality(self):
        """Share of the last 100 requests that got an answer, 0..100 (None before any)."""
        if not self.results:
            return None
        return round(100 * sum(self.results) / len(self.results))

    async def connect(self):
        """One connection attempt, when the backoff allows it; True when connected."""
        if self.connected:
            return True
        now = time.monotonic()
        if now < self.next_attempt:
            return False
        self.attempts += 1
        client = self.target.client(self.timeout)
        try:
            ok = await asyncio.wait_for(client.connect(), self.timeout + 1)
        except Exception as exc:  # pyserial and sockets raise many kinds
            ok = False
            self.last_error = str(exc) or type(exc).__name__
        if not ok or not client.connected:
            client.close()
            if not self.last_error:
                self.last_error = f"cannot connect to {self.target}"
            self.next_attempt = time.monotonic() + self.delay
            self.delay = min(self.delay * 2, self.backoff_max)
            return False
        self.client = client
        self.connected = True
        self.delay = self.backoff_min
        self.last_error = ""
        if self._ever:
            self.reconnects += 1
        self._ever = True
        return True

    def drop(self, reason):
        """Mark the link down and close it; the next connect() waits out the backoff."""
        if self.client is not None:
            self.client.close()
        self.client = None
        self.connected = False
        self.last_error = reason
        self.results.append(False)
        self.next_attempt = time.monotonic() + self.delay
        self.delay = min(self.delay * 2, self.backoff_max)

    def close(self):
        """Close the connection for good."""
        if self.client is not None:
            self.client.close()
        self.client = None
        self.connected = False

    async def _call(self, what, make):
        if not self.connected:
            raise LinkDown(self.last_error or "not connected")
        t0 = time.perf_counter()
        self.requests += 1
        try:
            rr = await asyncio.wait_for(make(self.client), self.timeout + 1)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.drop(f"{what}: {exc or type(exc).__name__}")
            raise LinkDown(self.last_error) from None
        self.rtt_ms = (time.perf_counter() - t0) * 1000
        self.results.append(True)
        if rr.isError():
            raise DeviceError(getattr(rr, "exception_code", 4), what)
        return rr

    async def read_input_registers(self, address, count):
        """FC4: `count` (<= 125) input registers from `address`."""
        unit = self.target.unit
        rr = await self._call(
            f"read input registers {address}+{count}",
            lambda c: c.read_input_registers(address, count=count, device_id=unit),
        )
        if len(rr.registers) < count:
            raise DeviceError(4, f"short answer reading {address}+{count}")
        return rr.registers[:count]

    async def read_span(self, address, count):
        """Any number of input registers, in as few FC4 reads as the protocol allows."""
        out = []
        for a, n in chunks(address, count):
            out.extend(await self.read_input_registers(a, n))
        return out

    async def write_register(self, address, value):
        """FC6."""
        unit = self.target.unit
        await self._call(
            f"write register {address}",
            lambda c: c.write_register(address, value & 0xFFFF, device_id=unit),
        )

    async def write_registers(self, address, values):
        """FC16."""
        unit = self.target.unit
        await self._call(
            f"write registers {address}+{len(values)}",
            lambda c: c.write_registers(address, list(values), device_id=unit),
        )

    async def write_coil(self, address, on):
        """FC5."""
        unit = self.target.unit
        await self._call(
            f"write coil {address}", lambda c: c.write_coil(address, bool(on), device_id=unit)
        )
