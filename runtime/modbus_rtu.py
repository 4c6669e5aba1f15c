# Modbus RTU framing: CRC16 (low byte first), unit addressing, broadcast, cutting a serial
# byte stream into frames by expected length or by line silence, and what only a serial line
# has: the diagnostic counters of Modbus over Serial Line 1.02 and the functions that read
# them (FC 7, 8, 11; docs/modbus.md).
from array import array

from .modbus_map import (
    DIAG_BUS_MESSAGES,
    DIAG_CLEAR,
    DIAG_OVERRUNS,
    DIAG_QUERY_DATA,
    DIAG_RESTART,
    EX_BUSY,
    EX_DEVICE_FAILURE,
    EX_ILLEGAL_FUNCTION,
    EX_ILLEGAL_VALUE,
    EX_NAK,
)
from .modbus_pdu import exception

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


def _table():
    t = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        t.append(crc)
    return t


_CRC_TABLE = _table()


def crc16(data, n=None):
    """Modbus CRC16 (init 0xFFFF, polynomial 0xA001) of data[0:n]."""
    crc = 0xFFFF
    t = _CRC_TABLE
    for i in range(len(data) if n is None else n):
        crc = (crc >> 8) ^ t[(crc ^ data[i]) & 0xFF]
    return crc


def expected_length(buf, n):
    """Full RTU request length from its first n bytes, 0 if more bytes are needed to tell,
    -1 if the function code does not say (then line silence ends the frame)."""
    if n < 2:
        return 0
    fc = buf[1]
    if fc in (1, 2, 3, 4, 5, 6):
        return 8
    if fc in (7, 11, 17):
        return 4
    if fc == 8:
        if n < 4:
            return 0
        return -1 if buf[2] == 0 and buf[3] == 0 else 8  # query data has any length
    if fc in (15, 16):
        return 9 + buf[6] if n >= 7 else 0
    if fc == 22:
        return 10
    if fc == 23:
        return 13 + buf[10] if n >= 11 else 0
    if fc == 43:
        return 7
    return -1


# Serial-line counters (Modbus over Serial Line 1.02), indexed by FC 8 sub-function - 0x0B
_BUS_MESSAGES = const(0)
_BUS_ERRORS = const(1)
_EXCEPTIONS = const(2)
_SERVER_MESSAGES = const(3)
_NO_RESPONSE = const(4)
_NAK = const(5)
_BUSY = const(6)
_OVERRUNS = const(7)


class RtuServer:
    """One RTU unit: checks CRC and address, answers through a PduServer, keeps the
    serial-line counters and answers the serial-line-only codes 7, 8 and 11 itself."""

    def __init__(self, pdu_server, unit=1):
        self.pdu = pdu_server
        self.unit = unit
        self.out = bytearray(260)
        self.counters = array("H", bytes(16))  # CPT1..CPT8, read by FC 8 0x0B..0x12
        self.events = 0  # FC 11's event counter
        self._clear = False
        # lifetime totals, never cleared by a master
        self.frames_ok = 0
        self.frames_bad_crc = 0
        self.frames_other_unit = 0

    def _count(self, i):
        c = self.counters
        c[i] = (c[i] + 1) & 0xFFFF

    def clear_counters(self):
        """Zero the serial-line counters and the event counter (FC 8 0x01 and 0x0A)."""
        c = self.counters
        for i in range(8):
            c[i] = 0
        self.events = 0

    def character_overrun(self, unit):
        """The framer lost characters of a frame that began with this unit address."""
        self.frames_bad_crc += 1
        self._count(_BUS_ERRORS)
        if unit == self.unit or unit == 0:
            self._count(_OVERRUNS)

    def handle(self, frame, n=None):
        """The response frame (bytes) to an RTU request frame, or None for no answer."""
        n = len(frame) if n is None else n
        if n > 256:
            self.character_overrun(frame[0])  # longer than an RTU frame can be
            return None
        if n < 4:
            self.frames_bad_crc += 1
            self._count(_BUS_ERRORS)
            return None
        crc = crc16(frame, n - 2)
        if frame[n - 2] != crc & 0xFF or frame[n - 1] != crc >> 8:
            self.frames_bad_crc += 1
            self._count(_BUS_ERRORS)
            return None
        self._count(_BUS_MESSAGES)
        unit = frame[0]
        if unit != self.unit and unit != 0:
            self.frames_other_unit += 1
            return None
        self.frames_ok += 1
        self._count(_SERVER_MESSAGES)
        out = self.out
        fc = frame[1]
        req = memoryview(frame)[1 : n - 2]
        body = memoryview(out)[1:]
        serial = fc == 7 or fc == 8 or fc == 11
        if unit == 0 and (serial or fc == 17):
            length = 0  # not broadcast functions: neither executed nor answered
        elif serial:
            try:
                length = self.serial_function(req, n - 3, body)
            except Exception:  # noqa: BLE001 - as PduServer.process: answer 04, keep serving
                self.pdu.failures += 1
                length = exception(body, fc, EX_DEVICE_FAILURE)
        else:
            length = self.pdu.process(req, n - 3, body)
        if length and out[1] & 0x80:
            self._count(_EXCEPTIONS)  # broadcast ones too, though they are not answered
            if out[2] == EX_BUSY:
                self._count(_BUSY)
            elif out[2] == EX_NAK:
                self._count(_NAK)
        elif length and fc != 11:
            self.events = (self.events + 1) & 0xFFFF
        if unit == 0 or length == 0:
            self._count(_NO_RESPONSE)
            return None
        out[0] = unit
        crc = crc16(out, length + 1)
        out[length + 1] = crc & 0xFF
        out[length + 2] = crc >> 8
        if self._clear:
            self._clear = False
            self.clear_counters()  # after this request's own counting: the next one is 1
        return bytes(out[: length + 3])

    def serial_function(self, req, n, out):
        """Answer the request PDU req[0:n] of FC 7, 8 or 11 into out; the length."""
        fc = req[0]
        if fc == 8:
            return self.diagnostics(req, n, out)
        if n != 1:
            return exception(out, fc, EX_ILLEGAL_VALUE)
        out[0] = fc
        if fc == 7:
            out[1] = self.pdu.device.exception_status()
            return 2
        out[1] = 0  # status word: never busy with a previous program command
        out[2] = 0
        out[3] = self.events >> 8
        out[4] = self.events & 0xFF
        return 5

    def diagnostics(self, req, n, out):
        """FC 8: sub-functions 00, 01, 0A and the counters 0B-12; others are 01."""
        if n < 3:
            return exception(out, 8, EX_ILLEGAL_VALUE)
        sub = (req[1] << 8) | req[2]
        if sub == DIAG_QUERY_DATA:
            if n < 5 or (n - 3) & 1:
                return exception(out, 8, EX_ILLEGAL_VALUE)  # data: one or more words
            for k in range(n):
                out[k] = req[k]
            return n
        if sub != DIAG_RESTART and not DIAG_CLEAR <= sub <= DIAG_OVERRUNS:
            return exception(out, 8, EX_ILLEGAL_FUNCTION)
        if n != 5:
            return exception(out, 8, EX_ILLEGAL_VALUE)
        data = (req[3] << 8) | req[4]
        if data != 0 and not (sub == DIAG_RESTART and data == 0xFF00):
            return exception(out, 8, EX_ILLEGAL_VALUE)
        for k in range(5):
            out[k] = req[k]
        if sub <= DIAG_CLEAR:
            self._clear = True  # restart communications / clear counters: echo, then clear
        else:
            value = self.counters[sub - DIAG_BUS_MESSAGES]
            out[3] = value >> 8
            out[4] = value & 0xFF
        return 5


class RtuFramer:
    """Accumulates serial bytes; feed() returns frames once their length is known;
    silence() ends a frame whose length the function code does not give (or junk).
    A frame longer than an RTU frame can be (256 bytes) is a character overrun: it is
    dropped up to the next silence and reported to `server` (an RtuServer) if given."""

    def __init__(self, size=256, server=None):
        self.buf = bytearray(size)
        self.n = 0
        self.server = server
        self.overrun = False

    def feed(self, data):
        """Add received bytes; returns the list of complete frames now available."""
        frames = []
        buf = self.buf
        for b in data:
            if self.overrun:
                continue  # the rest of a frame that did not fit: wait for silence
            if self.n == len(buf):
                self.overrun = True
                self.n = 0
                if self.server is not None:
                    self.server.character_overrun(buf[0])
                continue
            buf[self.n] = b
            self.n += 1
            want = expected_length(buf, self.n)
            if want > 0 and self.n == want:
                frames.append(bytes(buf[: self.n]))
                self.n = 0
        return frames

    def silence(self):
        """The line went quiet (3.5 characters): whatever is buffered is one frame."""
        if self.overrun:
            self.overrun = False
            return None
        if self.n == 0:
            return None
        frame = bytes(self.buf[: self.n])
        self.n = 0
        return frame
