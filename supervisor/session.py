"""A supervisor session: the link, the program, and the latest picture of the device.

Both `rung monitor` and `rung hmi` run one Session: it refreshes the whole diagnostic
window in batched reads, publishes a Snapshot to its listeners, and carries out writes,
forcing and commands between refreshes (one request at a time on the link)."""

import asyncio
import time

from rung.errors import CommandError
from rung.runtime import modbus_map as M
from rung.runtime import opcodes as O

from .link import DeviceError, Link, LinkDown
from .program import COUNTER_REGS, TIMER_REGS, decode_value, parse_value, registers, s32

STATE_TEXT = {0: "STOP", 1: "RUN", 2: "FAULT"}
FAULT_TEXT = {0: "", 1: "exception in a scan", 2: "out of memory", 3: "raised by the host"}
COMMANDS = {
    "run": M.CMD_RUN,
    "stop": M.CMD_STOP,
    "reset": M.CMD_FAULT_RESET,
    "release-all": M.CMD_RELEASE_ALL,
    "clear-math-error": M.CMD_CLEAR_MATH_ERROR,
}


class Snapshot:
    """What one refresh saw. `matched` is True when the device runs the loaded program
    (names, types and power flow are then meaningful), False on a CRC mismatch, None
    without a program. `raw` holds every variable's 32 bits by index in any case."""

    def __init__(self):
        self.time = time.time()
        self.connected = False
        self.error = ""
        self.status = {}
        self.matched = None
        self.raw = []
        self.blocks = []
        self.power = []
        self.forced = set()
        self.values = {}  # tag key -> decoded value (only when matched)
        self.refresh_ms = 0.0
        self.requests = 0

    @property
    def state(self):
        return STATE_TEXT.get(self.status.get("state"), "?") if self.connected else "OFFLINE"


def _u32(regs, k):
    return (regs[k] << 16) | regs[k + 1]


def decode_status(regs):
    """The status block (docs/modbus.md) as a dict."""
    return {
        "state": regs[M.ST_STATE],
        "fault": regs[M.ST_FAULT],
        "scans": _u32(regs, M.ST_SCANS),
        "last_us": _u32(regs, M.ST_LAST_US),
        "max_us": _u32(regs, M.ST_MAX_US),
        "avg_us": _u32(regs, M.ST_AVG_US),
        "overruns": _u32(regs, M.ST_OVERRUNS),
        "crc": _u32(regs, M.ST_CRC),
        "vars": regs[M.ST_VARS],
        "blocks": regs[M.ST_BLOCKS],
        "rungs": regs[M.ST_RUNGS],
        "forced": regs[M.ST_FORCED],
        "math_error": regs[M.ST_MATH_ERROR],
        "cycle_ms": regs[M.ST_CYCLE],
        "clients": regs[M.ST_CLIENTS],
        "first_scan": regs[M.ST_FIRST_SCAN],
    }


def _bits(words, n):
    return [bool(words[k // 16] >> (k % 16) & 1) for k in range(n)]


class Session:
    """The supervisor's core; `program` may be None (values by index only)."""

    def __init__(self, target, program=None, interval=0.1, link=None):
        self.target = target
        self.program = program
        self.interval = interval
        self.link = link or Link(target)
        self.snapshot = Snapshot()
        self.listeners = []
        self.lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()

    # ---- refreshing -------------------------------------------------------------------

    async def refresh(self):
        """Read the whole window once (connecting first if needed) and publish it."""
        snap = Snapshot()
        t0 = time.perf_counter()
        async with self.lock:
            link = self.link
            n0 = link.requests
            if await link.connect():
                try:
                    await self._read(snap)
                    snap.connected = True
                except LinkDown as exc:
                    snap.error = str(exc)
                except DeviceError as exc:
                    snap.error = str(exc)
                    snap.connected = True
            else:
                snap.error = link.last_error
            snap.requests = link.requests - n0
        snap.refresh_ms = (time.perf_counter() - t0) * 1000
        self.snapshot = snap
        for fn in list(self.listeners):
            fn(snap)
        return snap

    async def _read(self, snap):
        link = self.link
        st = decode_status(await link.read_span(M.IR_STATUS, M.STATUS_SIZE))
        snap.status = st
        prog = self.program
        if prog is not None:
            snap.matched = st["crc"] == prog.crc and prog.counts() == (
                st["vars"],
                st["blocks"],
                st["rungs"],
            )
        n_vars, n_blocks, n_rungs = st["vars"], st["blocks"], st["rungs"]
        if n_vars:
            regs = await link.read_span(M.IR_VARS, 2 * n_vars)
            snap.raw = [_u32(regs, 2 * i) for i in range(n_vars)]
        if n_blocks:
            snap.blocks = await link.read_span(M.IR_BLOCKS, M.BLOCK_REGS * n_blocks)
        if n_rungs:
            snap.power = _bits(await link.read_span(M.IR_POWER, (n_rungs + 15) // 16), n_rungs)
        if n_vars:
            words = await link.read_span(M.IR_FORCED, (n_vars + 15) // 16)
            snap.forced = {i for i, on in enumerate(_bits(words, n_vars)) if on}
        if snap.matched:
            self._decode(snap)

    def _decode(self, snap):
        for tag in self.program.tags:
            if tag.var is not None:
                snap.values[tag.key] = decode_value(tag.vtype, snap.raw[tag.var])
                continue
            b, m = tag.block
            kind = self.program.img.blocks[b][0]
            off, wide = (TIMER_REGS if kind <= O.K_RTO else COUNTER_REGS)[m]
            base = M.BLOCK_REGS * b + off
            regs = snap.blocks
            word = _u32(regs, base) if wide else regs[base]
            snap.values[tag.key] = bool(word) if tag.vtype == O.T_BOOL else s32(word)

    async def run(self):
        """Refresh every `interval` seconds until stop(); a broken link is retried."""
        while not self._stop.is_set():
            started = time.monotonic()
            await self.refresh()
            delay = self.interval - (time.monotonic() - started)
            if not self.link.connected:
                delay = max(delay, min(0.2, self.link.next_attempt - time.monotonic()))
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), max(delay, 0.0))
            except asyncio.TimeoutError:
                pass
        self.link.close()

    def stop(self):
        """End run() after the refresh in progress."""
        self._stop.set()
        self._wake.set()

    # ---- acting -----------------------------------------------------------------------

    def _matched_tag(self, name):
        if self.program is None:
            raise CommandError("load the program (--program) to write by name")
        if self.snapshot.matched is False:
            raise CommandError(
                "the device runs another program (CRC mismatch): writing by name refused"
            )
        return self.program.tag(name)

    async def _do(self, what, fn):
        async with self.lock:
            if not self.link.connected and not await self.link.connect():
                raise CommandError(f"{what}: not connected ({self.link.last_error})")
            try:
                await fn()
            except LinkDown as exc:
                raise CommandError(f"{what}: link lost ({exc})") from None
            except DeviceError as exc:
                raise CommandError(f"{what}: refused by the device, {exc}") from None
        self._wake.set()  # show the result at once

    async def write(self, name, text):
        """Write a variable by name from typed text (outputs and memory)."""
        tag = self._matched_tag(name)
        if tag.write is None:
            hint = " (force it instead)" if tag.forceable else ""
            raise CommandError(f"{name} is {tag.kind} and cannot be written over Modbus{hint}")
        try:
            value = parse_value(tag.vtype, text)
        except ValueError as exc:
            raise CommandError(f"{name}: {exc}") from None
        kind, addr = tag.write
        link = self.link
        if kind == "coil":
            await self._do(f"write {name}", lambda: link.write_coil(addr, value))
        elif kind == "hr":
            await self._do(f"write {name}", lambda: link.write_register(addr, value))
        else:
            regs = registers(tag.vtype, value)
            await self._do(f"write {name}", lambda: link.write_registers(addr, regs))
        return value

    async def force(self, name, text):
        """Force an input or output by name to a typed value."""
        tag = self._matched_tag(name)
        if not tag.forceable:
            raise CommandError(f"{name} is {tag.kind}: only inputs and outputs can be forced")
        try:
            value = parse_value(tag.vtype, text)
        except ValueError as exc:
            raise CommandError(f"{name}: {exc}") from None
        addr = M.HR_FORCE + tag.var
        await self._do(f"force {name}", lambda: self.link.write_register(addr, int(value)))
        return value

    async def unforce(self, name):
        """Release the forcing of one variable."""
        tag = self._matched_tag(name)
        if not tag.forceable:
            raise CommandError(f"{name} is {tag.kind} and is never forced")
        i = tag.var
        await self._do(f"unforce {name}", lambda: self.link.write_register(M.HR_RELEASE, i))

    async def command(self, word):
        """run, stop, reset (a fault), release-all (forces) or clear-math-error."""
        if word not in COMMANDS:
            raise CommandError(f"unknown command {word!r}: one of {', '.join(COMMANDS)}")
        code = COMMANDS[word]
        await self._do(word, lambda: self.link.write_register(M.HR_COMMAND, code))
