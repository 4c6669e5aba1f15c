"""Output lines that never make the program wait for their reader.

`rung sim` and `rung vboard` print status lines while they serve. On a pipe nobody reads
(a service manager that only starts them, `rung sim | slow-tool`), a plain print blocks
once the pipe is full, and with it the emulator's scans or the board's control interface;
on a pipe whose reader is gone it raises BrokenPipeError. A LineOut writes to the stream's
file descriptor only when the reader has room for the text, drops the text otherwise (and
counts it), and after a closed reader drops everything quietly."""

import os
import select
import threading

# at most this much per write: a pipe takes it whole or not at all (POSIX PIPE_BUF)
CHUNK = getattr(select, "PIPE_BUF", 512)
_LOCK = threading.Lock()  # one for all streams: stdout and stderr may be one pipe (2>&1)


class LineOut:
    """Writes text to `stream` (sys.stdout, sys.stderr) without blocking. Everything the
    program prints to that stream while it runs must go through here: the stream's own
    buffer is bypassed."""

    def __init__(self, stream):
        self.stream = stream
        try:
            self.fd = stream.fileno()
        except (AttributeError, OSError, ValueError):  # io.StringIO, pytest's capture
            self.fd = None
        try:
            self.tty = stream.isatty()
        except (AttributeError, OSError, ValueError):
            self.tty = False
        self.encoding = getattr(stream, "encoding", None) or "utf-8"
        self.dropped = 0  # texts left out because the reader had no room
        self.closed = False  # the reader is gone: nothing more is written

    def write(self, text):
        """Write text now if the reader has room for it, else drop it; True if written."""
        with _LOCK:
            if self.closed:
                return False
            if self.fd is None:
                return self._to_stream(text)
            data = memoryview(text.encode(self.encoding, "replace"))
            while data:
                if not self._room():
                    self.dropped += 1
                    return False
                try:
                    n = os.write(self.fd, data[:CHUNK])
                except BlockingIOError:  # the descriptor is non-blocking and full
                    self.dropped += 1
                    return False
                except OSError:  # EPIPE: the reader closed; EIO: the terminal went away
                    self.closed = True
                    return False
                data = data[n:]
            return True

    def _room(self):
        try:
            if hasattr(select, "poll"):
                p = select.poll()
                p.register(self.fd, select.POLLOUT)
                return bool(p.poll(0))  # POLLERR (reader closed) counts: write says EPIPE
            return bool(select.select([], [self.fd], [], 0)[1])
        except (OSError, ValueError):  # a descriptor select cannot watch: write as before
            return True

    def _to_stream(self, text):
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.closed = True
            return False
        return True
