# Wi-Fi and Modbus TCP (docs/modbus.md) through asyncio, on the runtime's MBAP core. The
# server listens on the address the Wi-Fi interface reports and the settings' port. Each
# request is served in the time left before the next scan and followed by a yield, a
# client that pipelines or never reads only blocks itself (its output is bounded and it
# is dropped after the idle timeout), and there is a client limit.
import asyncio
from time import ticks_diff, ticks_ms, ticks_us

from runtime.modbus_tcp import MbapConnection

from . import faults

try:
    import network
except ImportError:  # a board without Wi-Fi
    network = None

_RECV = 260  # one full MBAP frame


def piece(conn, available):
    """How many of `available` bytes to feed so that at most one request completes."""
    n = conn.n
    if n < 7:
        return min(7 - n, available)
    return max(1, min(6 + _length(conn) - n, available))


class WifiLink:
    """network.WLAN(network.STA_IF) joined with settings.json's wifi group."""

    def __init__(self, wifi, log):
        self.cfg = wifi
        self.log = log
        self.wlan = None
        self.started = ticks_ms()
        self.reported = False

    def start(self):
        """Start joining (returns at once; connecting goes on in the background)."""
        if network is None or not self.cfg["ssid"]:
            return False
        wlan = network.WLAN(network.STA_IF)
        wlan.active(True)
        cfg = self.cfg
        if cfg["ip"]:
            wlan.ifconfig((cfg["ip"], cfg["netmask"], cfg["gateway"], cfg["dns"]))
        wlan.connect(cfg["ssid"], cfg["password"])
        self.wlan = wlan
        self.started = ticks_ms()
        return True

    def address(self):
        """The interface's IPv4 address once connected, else None."""
        wlan = self.wlan
        if wlan is None or not wlan.isconnected():
            if wlan is not None and not self.reported:
                if ticks_diff(ticks_ms(), self.started) > self.cfg["connect_timeout_s"] * 1000:
                    self.reported = True
                    self.log.log(faults.WIFI, "Wi-Fi not connected to " + self.cfg["ssid"])
            return None
        addr = wlan.ifconfig()[0]
        return addr if addr and addr != "0.0.0.0" else None


class TcpService:
    """Modbus TCP for a PduServer, bound to the Wi-Fi address once there is one."""

    def __init__(self, ctl, pdu, stats, tcp, link, log):
        self.ctl = ctl
        self.pdu = pdu
        self.stats = stats
        self.port = tcp["port"]
        self.max_clients = tcp["max_clients"]
        self.idle_ms = tcp["idle_timeout_s"] * 1000
        self.link = link
        self.log = log
        self.server = None
        self.host = None
        self.clients = 0
        self.refused = 0
        self.requests = 0
        self.writers = []

    async def run(self):
        """Wait for an address, serve on it, and move when the address changes."""
        while not self.ctl.halted:
            addr = self.link.address()
            if addr != self.host:
                await self._close_server()
                if addr is not None:
                    await self._open(addr)
            await asyncio.sleep_ms(500)

    async def _open(self, addr):
        try:
            self.server = await asyncio.start_server(
                self._client, addr, self.port, backlog=self.max_clients
            )
            self.host = addr
            print("Rung: Modbus TCP on " + addr + ":" + str(self.port))
        except OSError as exc:
            self.log.log(
                faults.TCP_SERVER, "Modbus TCP on port " + str(self.port) + ": " + str(exc)
            )
            self.server = None
            self.host = None
            await asyncio.sleep_ms(5000)

    async def _close_server(self):
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
            self.host = None

    def close(self):
        """Stop listening and drop every client (the PLC loop is ending)."""
        if self.server is not None:
            self.server.close()
        for w in self.writers:
            try:
                w.close()
            except OSError:
                pass
        self.writers = []

    def _count(self, delta):
        self.clients += delta
        self.stats.clients = self.clients

    async def _client(self, reader, writer):
        if self.clients >= self.max_clients or self.ctl.halted:
            self.refused += 1
            await _close(writer)
            return
        self._count(1)
        self.writers.append(writer)
        ctl = self.ctl
        conn = MbapConnection(self.pdu)
        buf = bytearray(_RECV)
        mv = memoryview(buf)
        try:
            while not ctl.halted:
                n = await asyncio.wait_for_ms(reader.readinto(buf), self.idle_ms)
                if not n:
                    break
                off = 0
                while off < n and not conn.closed:
                    k = piece(conn, n - off)
                    # the header first, then the rest of the frame: this completes it?
                    complete = conn.n >= 7 and conn.n + k == 6 + _length(conn)
                    if complete:
                        await ctl.serve_slot()
                    t0 = ticks_us()
                    reply = conn.feed(mv[off : off + k])
                    off += k
                    if complete:
                        ctl.served(ticks_diff(ticks_us(), t0))
                        self.requests += 1
                    if reply:
                        writer.write(reply)
                        # a client that does not read blocks here, alone, until idle
                        await asyncio.wait_for_ms(writer.drain(), self.idle_ms)
                    if complete:
                        await asyncio.sleep_ms(0)  # one request, then the others' turn
                if conn.closed:
                    break
        except (OSError, asyncio.TimeoutError, asyncio.CancelledError):
            pass  # the client went away, timed out, or the PLC stopped
        finally:
            self._count(-1)
            if writer in self.writers:
                self.writers.remove(writer)
            await _close(writer)


def _length(conn):
    return (conn.buf[4] << 8) | conn.buf[5]


async def _close(writer):
    try:
        writer.close()
        await writer.wait_closed()
    except OSError:
        pass
