# Modbus TCP framing: the MBAP header, several requests per segment, requests split across
# segments. One MbapConnection per client.


class MbapConnection:
    """Buffers a client's byte stream and answers each complete request."""

    def __init__(self, pdu_server, size=1024):
        self.pdu = pdu_server
        self.buf = bytearray(size)
        self.n = 0
        self.out = bytearray(260)
        self.closed = False

    def feed(self, data):
        """Add received bytes; returns the response bytes to send (possibly empty).
        Sets `closed` on a malformed header, after which the connection should be closed."""
        replies = b""
        for b in data:
            if self.closed:
                break
            self.buf[self.n] = b
            self.n += 1
            if self.n < 7:
                continue
            length = (self.buf[4] << 8) | self.buf[5]
            if length < 2 or length > 254:
                self.closed = True  # not Modbus TCP: the stream cannot be resynchronised
                break
            if self.n < 6 + length:
                continue
            replies += self._answer(length)
            self.n = 0
        return replies

    def _answer(self, length):
        buf = self.buf
        out = self.out
        if buf[2] != 0 or buf[3] != 0:
            return b""  # protocol id other than Modbus: ignore the frame
        n = self.pdu.process(memoryview(buf)[7 : 6 + length], length - 1, memoryview(out)[7:])
        if n == 0:
            return b""
        out[0] = buf[0]
        out[1] = buf[1]
        out[2] = 0
        out[3] = 0
        out[4] = (n + 1) >> 8
        out[5] = (n + 1) & 0xFF
        out[6] = buf[6]
        return bytes(out[: 7 + n])
