# Modbus RTU framing: CRC16 (low byte first), unit addressing, broadcast, and cutting a
# serial byte stream into frames by expected length or by line silence.


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
    if fc in (15, 16):
        return 9 + buf[6] if n >= 7 else 0
    if fc == 23:
        return 13 + buf[10] if n >= 11 else 0
    if fc == 43:
        return 7
    return -1


class RtuServer:
    """One RTU unit: checks CRC and address, answers through a PduServer."""

    def __init__(self, pdu_server, unit=1):
        self.pdu = pdu_server
        self.unit = unit
        self.out = bytearray(260)
        self.frames_ok = 0
        self.frames_bad_crc = 0
        self.frames_other_unit = 0

    def handle(self, frame, n=None):
        """The response frame (bytes) to an RTU request frame, or None for no answer."""
        n = len(frame) if n is None else n
        if n < 4:
            self.frames_bad_crc += 1
            return None
        crc = crc16(frame, n - 2)
        if frame[n - 2] != crc & 0xFF or frame[n - 1] != crc >> 8:
            self.frames_bad_crc += 1
            return None
        unit = frame[0]
        if unit != self.unit and unit != 0:
            self.frames_other_unit += 1
            return None
        self.frames_ok += 1
        out = self.out
        length = self.pdu.process(memoryview(frame)[1 : n - 2], n - 3, memoryview(out)[1:])
        if unit == 0 or length == 0:
            return None  # broadcast: the write is done, no reply
        out[0] = unit
        crc = crc16(out, length + 1)
        out[length + 1] = crc & 0xFF
        out[length + 2] = crc >> 8
        return bytes(out[: length + 3])


class RtuFramer:
    """Accumulates serial bytes; complete() yields frames once their length is known;
    silence() ends a frame whose length the function code does not give (or junk)."""

    def __init__(self, size=512):
        self.buf = bytearray(size)
        self.n = 0

    def feed(self, data):
        """Add received bytes; returns the list of complete frames now available."""
        frames = []
        for b in data:
            if self.n == len(self.buf):
                self.n = 0  # an overlong frame is line noise: drop it
            self.buf[self.n] = b
            self.n += 1
            want = expected_length(self.buf, self.n)
            if want > 256:
                want = -1
            if want > 0 and self.n == want:
                frames.append(bytes(self.buf[: self.n]))
                self.n = 0
        return frames

    def silence(self):
        """The line went quiet (3.5 characters): whatever is buffered is one frame."""
        if self.n == 0:
            return None
        frame = bytes(self.buf[: self.n])
        self.n = 0
        return frame
