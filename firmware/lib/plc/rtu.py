# Modbus RTU on the board's UART (docs/modbus.md), on the runtime's RTU core. The UART is
# polled from an asyncio task; each request is answered in the time left before the next
# scan, and the RS-485 direction pin is high exactly while the answer is sent.
import asyncio
from time import ticks_diff, ticks_us

from machine import UART, Pin

from runtime.modbus_rtu import RtuFramer, RtuServer

_PARITY = {"N": None, "E": 0, "O": 1}


def char_us(baud, parity, stop_bits):
    """Microseconds per character: start bit, 8 data bits, parity, stop bits."""
    bits = 1 + 8 + (0 if parity == "N" else 1) + stop_bits
    return (bits * 1000000 + baud - 1) // baud


class RtuService:
    """Serves a PduServer on UART rtu['uart'] with the settings' baud, parity and unit."""

    def __init__(self, ctl, pdu, rtu, settings, unit):
        baud = settings["baud"]
        parity = settings["parity"]
        stop = settings["stop_bits"]
        self.ctl = ctl
        self.server = RtuServer(pdu, unit)
        self.framer = RtuFramer()
        self.uart = UART(
            rtu["uart"],
            baudrate=baud,
            bits=8,
            parity=_PARITY[parity],
            stop=stop,
            tx=Pin(rtu["tx"]),
            rx=Pin(rtu["rx"]),
            timeout=0,
            rxbuf=512,
        )
        self.de = None
        if rtu.get("de") is not None:
            self.de = Pin(rtu["de"], Pin.OUT, value=0)
        self.char_us = char_us(baud, parity, stop)
        # 3.5 characters of silence end a frame; 1.75 ms above 19200 baud (specification)
        self.silence_us = 1750 if baud > 19200 else (7 * self.char_us) // 2
        self.buf = bytearray(256)
        self.answers = 0

    async def run(self):
        """Poll the UART forever."""
        uart = self.uart
        buf = self.buf
        mv = memoryview(buf)
        framer = self.framer
        last_rx = ticks_us()
        while not self.ctl.halted:
            n = uart.any()
            if n:
                n = uart.readinto(mv[: min(n, len(buf))]) or 0
                last_rx = ticks_us()
                for frame in framer.feed(mv[:n]):
                    await self.answer(frame)
            elif framer.n and ticks_diff(ticks_us(), last_rx) >= self.silence_us:
                frame = framer.silence()
                if frame:
                    await self.answer(frame)
            await asyncio.sleep_ms(1)

    async def answer(self, frame):
        """Answer one frame in the time left before the next scan."""
        ctl = self.ctl
        await ctl.serve_slot()
        t0 = ticks_us()
        reply = self.server.handle(frame)
        ctl.served(ticks_diff(ticks_us(), t0))
        if reply is None:
            return
        de = self.de
        uart = self.uart
        if de is not None:
            de.value(1)
        uart.write(reply)
        if de is not None:
            tx_ms = (len(reply) * self.char_us) // 1000 + 1
            if ctl.time_left() > tx_ms + ctl.reserve_ms:
                uart.flush()  # done before the next scan is due
            else:
                while not uart.txdone():
                    await asyncio.sleep_ms(1)
            de.value(0)
            n = uart.any()
            if n:  # our own answer echoed by a transceiver whose receiver stayed on
                uart.read(n)
        self.answers += 1
