"""Serving the shared Modbus core from the emulator: asyncio TCP and RTU on a serial port.

Both follow the serving policy of docs/modbus.md: scans come first (each request is
followed by `board.yield_to_scan()`), nothing blocks the event loop, every queue is
bounded, and a client can take neither all the connections nor the loop."""

import asyncio
import errno
import os
import socket

from rung.runtime.modbus_rtu import RtuFramer, RtuServer
from rung.runtime.modbus_tcp import MbapConnection

MAX_CLIENTS = 16
IDLE_TIMEOUT = 60.0  # seconds without a complete request before a TCP client is dropped
EVICT_SILENT = 1.0  # over the limit, a client silent this long gives way to a newcomer
LISTEN_BACKLOG = 128  # connections the kernel holds until the server accepts them
TCP_WRITE_HIGH = 16384  # bytes of answers buffered per client before it must read them
RTU_QUEUE = 1024  # bytes of answers waiting for the serial line (four longest frames)
RTU_READ = 64  # bytes read from the serial line per turn of the event loop
RTU_RETRY = 2.0  # seconds between attempts to reopen a serial port that went away
LOG_AGAIN = 60.0  # a repeated condition (clients refused, answers dropped) is said again
# after this many seconds at the soonest


async def _give_way(board):
    if board is not None:
        await board.yield_to_scan()
    else:
        await asyncio.sleep(0)


class _Client:
    __slots__ = ("writer", "task", "last")

    def __init__(self, writer, task, now):
        self.writer = writer
        self.task = task
        self.last = now  # loop time of the last complete request (or of the connection)


class TcpServer:
    """Modbus TCP for a board's PduServer: up to `max_clients` clients at once, each dropped
    after `idle_timeout` seconds without a request (None: never)."""

    def __init__(
        self,
        pdu,
        stats=None,
        board=None,
        max_clients=MAX_CLIENTS,
        idle_timeout=IDLE_TIMEOUT,
        log=None,
        evict_after=EVICT_SILENT,
    ):
        if max_clients < 1:
            raise ValueError("max_clients must be at least 1")
        self.pdu = pdu
        self.stats = stats
        self.board = board
        self.max_clients = max_clients
        self.idle_timeout = idle_timeout or None
        self.log = log
        self.evict_after = evict_after
        self.conns = []
        self.refused = 0  # connections closed at once: every slot taken by an active client
        self.evicted = 0  # silent clients closed to make room for a newcomer
        self.idle_closed = 0  # clients closed by the idle timeout
        self._sock = None
        self._acceptor = None
        self._sweeper = None
        self._said_full = None
        self._said_accept = None

    @property
    def clients(self):
        """Clients connected now."""
        return len(self.conns)

    async def start(self, host="127.0.0.1", port=5020):
        """Listen; returns the (host, port) actually bound (port 0 lets the OS choose)."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        # one socket: IPv4 first when a name has both (localhost); '::' takes IPv4 too
        infos.sort(key=lambda info: info[0] != socket.AF_INET)
        family, _type, _proto, _name, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            # waiting connections cost no file descriptor: only accepted ones do
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._acceptor = asyncio.create_task(self._accept(loop, sock))
        if self.idle_timeout:
            self._sweeper = asyncio.create_task(self._sweep())
        return sock.getsockname()[:2]

    async def _accept(self, loop, sock):
        # one connection at a time, so that the client limit (not the accept loop) decides
        # how many file descriptors the clients hold
        while True:
            try:
                conn, _peer = await loop.sock_accept(sock)
            except OSError as exc:
                if exc.errno in (errno.ECONNABORTED, errno.EPROTO, errno.EPERM):
                    continue  # that client is gone already
                now = loop.time()  # out of files or memory: say so, try again soon
                if self._said_accept is None or now - self._said_accept >= LOG_AGAIN:
                    self._said_accept = now
                    self._say(f"Modbus TCP: cannot accept a connection: {exc.strerror or exc}")
                await asyncio.sleep(0.1)
                continue
            now = loop.time()
            if len(self.conns) >= self.max_clients and not self._evict(now):
                self.refused += 1
                self._say_full(now)
                conn.close()
                continue
            try:
                reader, writer = await asyncio.open_connection(sock=conn)
            except OSError:
                conn.close()
                continue
            client = _Client(writer, None, now)
            self.conns.append(client)
            self._count()
            client.task = asyncio.create_task(self._serve(client, reader, writer))

    async def _serve(self, client, reader, writer):
        loop = asyncio.get_running_loop()
        writer.transport.set_write_buffer_limits(high=TCP_WRITE_HIGH)
        conn = MbapConnection(self.pdu)
        try:
            while True:
                # one request at a time, so that the server gives way after each one
                header = await reader.readexactly(7)
                length = (header[4] << 8) | header[5]
                if 2 <= length <= 254:
                    header += await reader.readexactly(length - 1)
                reply = conn.feed(header)
                if conn.closed:
                    break
                client.last = loop.time()
                if reply:
                    writer.write(reply)
                    await writer.drain()  # waits only while the client does not read
                await _give_way(self.board)
        except (OSError, asyncio.IncompleteReadError):
            pass  # the client went away or was dropped
        except asyncio.CancelledError:
            pass  # shutting down: the connection ends quietly
        finally:
            if client in self.conns:
                self.conns.remove(client)
            self._count()
            writer.transport.abort()

    def _evict(self, now):
        """Close the client silent longest if it has been silent `evict_after` seconds."""
        oldest = min(self.conns, key=lambda c: c.last)
        if now - oldest.last < self.evict_after:
            return False
        self.conns.remove(oldest)
        self.evicted += 1
        oldest.writer.transport.abort()
        return True

    def _say_full(self, now):
        if self._said_full is None or now - self._said_full >= LOG_AGAIN:
            self._said_full = now
            self._say(
                f"Modbus TCP: {self.max_clients} clients connected (the limit): refusing "
                f"new connections ({self.refused} so far)"
            )

    def _say(self, text):
        if self.log is not None:
            self.log(text)

    async def _sweep(self):
        loop = asyncio.get_running_loop()
        interval = min(1.0, max(0.05, self.idle_timeout / 4))
        while True:
            await asyncio.sleep(interval)
            now = loop.time()
            for client in list(self.conns):
                if now - client.last >= self.idle_timeout:
                    self.conns.remove(client)
                    self.idle_closed += 1
                    client.writer.transport.abort()
            self._count()

    def _count(self):
        if self.stats is not None:
            self.stats.clients = len(self.conns)

    async def close(self):
        """Stop listening and end every connection (quietly, within a second)."""
        own = [t for t in (self._acceptor, self._sweeper) if t is not None]
        for task in own:
            task.cancel()
        await asyncio.gather(*own, return_exceptions=True)
        self._acceptor = self._sweeper = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        tasks = [c.task for c in self.conns]
        for client in list(self.conns):
            client.writer.transport.abort()
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)


def char_time(baud, parity):
    """Seconds per character (11 bits with parity or two stop bits, 10 otherwise)."""
    bits = 11 if parity != "N" else 10
    return bits / baud


class RtuSerialServer:
    """Modbus RTU on a serial device (a real port or a pty), inside the asyncio loop.

    Writes never block: answers wait in a queue of RTU_QUEUE bytes for the line to take
    them, and an answer that does not fit (the master does not read) is dropped and
    counted in `dropped`. If the port goes away (the pty's peer closed, a USB adapter
    unplugged), that is said once and the port is reopened every RTU_RETRY seconds."""

    def __init__(self, pdu, device, baud=19200, parity="N", unit=1, board=None, log=None):
        self.rtu = RtuServer(pdu, unit)
        self.framer = RtuFramer(server=self.rtu)  # overruns count in the serial counters
        self.device = device
        self.baud = baud
        self.parity = parity
        self.board = board
        self.log = log
        self.dropped = 0  # answers dropped because the master did not read them
        self.lost = 0  # times the port went away
        self.port = self._open()  # errors here are the caller's: the port must exist
        # 3.5 characters of silence end a frame; fixed 1.75 ms above 19200 baud (spec)
        self.silence = 3.5 * char_time(baud, parity) if baud <= 19200 else 0.00175
        self._out = bytearray()
        self._writing = False
        self._timer = None
        self._retry = None
        self._loop = None
        self._deferred = False
        self._said_dropped = None
        self._said_gone = None  # when the port going away was last said
        self._announced = False  # whether that loss was said (then its return is said too)
        self._closed = False

    def _open(self):
        import serial  # pyserial, only needed for RTU

        return serial.Serial(self.device, baudrate=self.baud, parity=self.parity, timeout=0)

    @property
    def connected(self):
        """True while the serial port is open."""
        return self.port is not None

    def start(self):
        """Serve from the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.port.fileno(), self._readable)

    def _readable(self):
        if self.board is not None and self.board.scan_due() and not self._deferred:
            # the scan comes first: the loop calls again after it has run. Only once in a
            # row, so that a board that is always late (too fast a --speed) still serves
            self._deferred = True
            return
        self._deferred = False
        try:
            data = os.read(self.port.fileno(), RTU_READ)
        except BlockingIOError:
            return
        except OSError as exc:
            self._gone(exc.strerror or str(exc))
            return
        if not data:
            # readable with nothing to read: the line hung up
            self._gone("the line hung up")
            return
        for frame in self.framer.feed(data):
            self._answer(frame)
        if self._timer is not None:
            self._timer.cancel()
        # ptys deliver in bursts: allow a little more than 3.5 characters of silence
        self._timer = self._loop.call_later(max(self.silence, 0.005), self._silence)

    def _silence(self):
        self._timer = None
        frame = self.framer.silence()
        if frame:
            self._answer(frame)

    def _answer(self, frame):
        reply = self.rtu.handle(frame)
        if not reply or self.port is None:
            return
        if len(self._out) + len(reply) > RTU_QUEUE:
            self.dropped += 1
            self._say_dropped()
            return
        self._out += reply
        self._flush()

    def _flush(self):
        try:
            n = os.write(self.port.fileno(), self._out)
        except BlockingIOError:
            n = 0
        except OSError as exc:
            self._gone(exc.strerror or str(exc))
            return
        del self._out[:n]
        if self._out and not self._writing:
            self._loop.add_writer(self.port.fileno(), self._flush)
            self._writing = True
        elif not self._out and self._writing:
            self._loop.remove_writer(self.port.fileno())
            self._writing = False

    def _say_dropped(self):
        now = self._loop.time()
        if self.log is not None and (
            self._said_dropped is None or now - self._said_dropped >= LOG_AGAIN
        ):
            self._said_dropped = now
            self.log(
                f"Modbus RTU: the master on {self.device} does not read its answers: "
                f"dropping them ({self.dropped} so far)"
            )

    def _gone(self, why):
        self.lost += 1
        self._release()
        now = self._loop.time()
        # a port that comes and goes is said once a minute, not at every loss
        self._announced = self._said_gone is None or now - self._said_gone >= LOG_AGAIN
        if self.log is not None and self._announced:
            self._said_gone = now
            self.log(
                f"Modbus RTU: {self.device} went away ({why}); trying to reopen it every "
                f"{RTU_RETRY:g} s"
            )
        self._retry = self._loop.call_later(RTU_RETRY, self._reopen)

    def _reopen(self):
        self._retry = None
        if self._closed:
            return
        try:
            self.port = self._open()
        except Exception:  # pyserial raises SerialException, OSError, ValueError
            self._retry = self._loop.call_later(RTU_RETRY, self._reopen)
            return
        if self.log is not None and self._announced:
            self.log(f"Modbus RTU: {self.device} is back, serving again")
        self.start()

    def _release(self):
        """Stop watching the port and close it, discarding what it still had to send."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        port, self.port = self.port, None
        self._out.clear()
        self.framer.silence()
        if port is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(port.fileno())
            if self._writing:
                self._loop.remove_writer(port.fileno())
        self._writing = False
        try:
            port.reset_output_buffer()  # so that closing does not wait for a stuck line
        except Exception:
            pass
        try:
            port.close()
        except Exception:
            pass

    def close(self):
        """Stop serving and close the port (never blocks)."""
        self._closed = True
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        self._release()
