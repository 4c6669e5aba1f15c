"""The USB console of the virtual board: what the unix port writes, turned into what a
board's USB REPL sends (board banner, \\r\\n line ends, no boot markers), and the REPL mode
(friendly or raw) read from it so that a soft reboot comes back in the same mode."""

import re

MARK = b"\x1b_vb:"
MARK_END = b"\x1b\\"
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
UNIX_BANNER_END = b'Type "help()" for more information.\r\n'
_BARE_LF = re.compile(rb"(?<!\r)\n")
UNIX_BANNER = re.compile(rb"MicroPython [0-9a-f]+ on [0-9-]+; linux [^\r\n]*version\r?\n")


class ConsoleFilter:
    """Feed it the interpreter's output; it returns the bytes for the USB port and calls
    on_mark(name) for each boot marker."""

    def __init__(self, banner, on_mark):
        self.banner = banner
        self.on_mark = on_mark
        self.pending = b""
        self.swallow_until = None  # drop output up to this pattern (kept or not)
        self.keep_pattern = False
        self.replacement = b""
        self.last = b""
        self.raw = False
        self.tail = b""

    def swallow(self, pattern, keep, replacement=b""):
        """Drop what comes until pattern, emit replacement (and pattern when keep)."""
        self.swallow_until = pattern
        self.keep_pattern = keep
        self.replacement = replacement

    def feed(self, data):
        """Process output bytes; return the bytes to send to the USB port."""
        self.pending += UNIX_BANNER.sub(self.banner.replace(b"\\", b"\\\\"), data)
        out = []
        while self.pending:
            if self.swallow_until is not None:
                i = self.pending.find(self.swallow_until)
                if i < 0:
                    # keep a possible partial match only
                    keep = len(self.swallow_until) - 1
                    self.pending = self.pending[-keep:] if keep else b""
                    break
                end = i + len(self.swallow_until)
                out.append(self.replacement)
                if self.keep_pattern:
                    out.append(self.pending[i:end])
                self._track(self.pending[i:end])
                self.pending = self.pending[end:]
                self.swallow_until = None
                continue
            i = self.pending.find(MARK)
            if i < 0:
                # hold back a tail that could be the start of a marker
                hold = 0
                for k in range(min(len(MARK) - 1, len(self.pending)), 0, -1):
                    if MARK.startswith(self.pending[-k:]):
                        hold = k
                        break
                chunk = self.pending[: len(self.pending) - hold]
                self.pending = self.pending[len(self.pending) - hold :]
                out.append(chunk)
                self._track(chunk)
                break
            j = self.pending.find(MARK_END, i)
            if j < 0:
                chunk = self.pending[:i]
                self.pending = self.pending[i:]
                out.append(chunk)
                self._track(chunk)
                break
            chunk = self.pending[:i]
            out.append(chunk)
            self._track(chunk)
            name = self.pending[i + len(MARK) : j].decode("ascii", "replace")
            self.pending = self.pending[j + len(MARK_END) :]
            self.on_mark(name)
        return self._crlf(b"".join(out))

    def _track(self, chunk):
        # The last of the two banners seen decides the REPL mode.
        if not chunk:
            return
        window = self.tail + chunk
        r = window.rfind(RAW_BANNER)
        f = window.rfind(UNIX_BANNER_END)
        if r >= 0 or f >= 0:
            self.raw = r > f
        self.tail = window[-64:]

    def _crlf(self, data):
        # The unix port writes bare \n; a board's USB REPL sends \r\n.
        if not data:
            return data
        fixed = _BARE_LF.sub(b"\r\n", data)
        if self.last == b"\r" and data[:1] == b"\n":
            fixed = fixed[1:]  # the \r ended the previous chunk
        self.last = data[-1:]
        return fixed
