"""Serving the shared Modbus core from the emulator: asyncio TCP and RTU on a serial port."""

import asyncio
import os

from rung.runtime.modbus_rtu import RtuFramer, RtuServer
from rung.runtime.modbus_tcp import MbapConnection


class TcpServer:
    """Modbus TCP for a board's PduServer; several clients at once."""

    def __init__(self, pdu, stats=None):
        self.pdu = pdu
        self.stats = stats
        self.clients = 0
        self.server = None

    async def start(self, host="127.0.0.1", port=5020):
        self.server = await asyncio.start_server(self._client, host, port)
        return self.server.sockets[0].getsockname()[:2]

    async def _client(self, reader, writer):
        conn = MbapConnection(self.pdu)
        self._count(+1)
        try:
            while True:
                data = await reader.read(1024)
                if not data:
                    break
                reply = conn.feed(data)
                if reply:
                    writer.write(reply)
                    await writer.drain()
                if conn.closed:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._count(-1)
            writer.close()

    def _count(self, delta):
        self.clients += delta
        if self.stats is not None:
            self.stats.clients = self.clients

    async def close(self):
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


def char_time(baud, parity):
    """Seconds per character (11 bits with parity or two stop bits, 10 otherwise)."""
    bits = 11 if parity != "N" else 10
    return bits / baud


class RtuSerialServer:
    """Modbus RTU on a serial device (a real port or a pty), inside the asyncio loop."""

    def __init__(self, pdu, device, baud=19200, parity="N", unit=1):
        import serial  # pyserial, only needed for RTU

        self.rtu = RtuServer(pdu, unit)
        self.framer = RtuFramer(server=self.rtu)  # overruns count in the serial counters
        self.port = serial.Serial(device, baudrate=baud, parity=parity, timeout=0)
        # 3.5 characters of silence end a frame; fixed 1.75 ms above 19200 baud (spec)
        self.silence = 3.5 * char_time(baud, parity) if baud <= 19200 else 0.00175
        self._timer = None
        self._loop = None

    def start(self):
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.port.fileno(), self._readable)

    def _readable(self):
        try:
            data = os.read(self.port.fileno(), 512)
        except BlockingIOError:
            return
        except OSError:
            return
        for frame in self.framer.feed(data):
            self._answer(frame)
        if self._timer is not None:
            self._timer.cancel()
        # ptys deliver in bursts: allow a little more than 3.5 characters of silence
        self._timer = self._loop.call_later(max(self.silence, 0.005), self._silence)

    def _silence(self):
        frame = self.framer.silence()
        if frame:
            self._answer(frame)

    def _answer(self, frame):
        reply = self.rtu.handle(frame)
        if reply:
            self.port.write(reply)

    def close(self):
        if self._loop is not None:
            self._loop.remove_reader(self.port.fileno())
        if self._timer is not None:
            self._timer.cancel()
        self.port.close()
