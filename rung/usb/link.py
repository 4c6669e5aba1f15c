"""The USB link to a board: find its port, stop the PLC and talk to the raw REPL through
mpremote's SerialTransport, restart the PLC. Every failure a user can meet becomes one
CommandError line saying what state the board is left in (docs/flashing.md)."""

import contextlib
import io
import json
import os

from rung.errors import CommandError

# USB vendor ids of MicroPython boards: Raspberry Pi (Pico), MicroPython (pyboard and
# the id MicroPython's own USB stack reports), Espressif (native USB of ESP32-S2/S3/C3),
# and the USB-serial bridges of ESP32 DevKitC boards (Silicon Labs CP210x, WCH CH340,
# FTDI).
MICROPYTHON_VIDS = {
    0x2E8A: "Raspberry Pi",
    0xF055: "MicroPython",
    0x303A: "Espressif",
    0x10C4: "Silicon Labs",
    0x1A86: "WCH",
    0x0403: "FTDI",
}
RAW_REPL_TIMEOUT_S = 5

HASH_SCRIPT = """
import binascii, hashlib, json, os
def _rh(p):
    try:
        f = open(p, 'rb')
    except OSError:
        return None
    h = hashlib.sha256()
    b = bytearray(512)
    m = memoryview(b)
    while True:
        n = f.readinto(b)
        if not n:
            break
        h.update(m[:n])
    f.close()
    return binascii.hexlify(h.digest()).decode()
def _rl(d):
    try:
        return [e[0] for e in os.ilistdir(d)]
    except OSError:
        return None
print(json.dumps({'hashes': {p: _rh(p) for p in %r}, 'dirs': {d: _rl(d) for d in %r}}))
del _rh, _rl
"""


def usb_ports():
    """Serial ports that look like MicroPython boards: (device, description), sorted."""
    from serial.tools import list_ports

    out = []
    for p in sorted(list_ports.comports()):
        if p.vid is not None and p.pid is not None and p.vid in MICROPYTHON_VIDS:
            what = p.product or p.description or MICROPYTHON_VIDS[p.vid]
            out.append((p.device, f"{what} {p.vid:04x}:{p.pid:04x}"))
    return out


def find_port(port=None):
    """The port to use: `port` if given, else the one MicroPython board plugged in."""
    if port:
        return port
    ports = usb_ports()
    if not ports:
        raise CommandError(
            "no board found: plug a board with MicroPython in by USB, or give --port"
        )
    if len(ports) > 1:
        listed = ", ".join(f"{dev} ({what})" for dev, what in ports)
        raise CommandError(f"several boards found: {listed}; choose one with --port")
    return ports[0][0]


def _link_errors():
    # what a read or write raises when the port goes away: OSError (EIO, pyserial's
    # SerialException), mpremote's TransportError, and pyserial's TypeError/AttributeError
    # when the port was closed under a blocked read
    from mpremote.transport import TransportError

    return (OSError, TransportError, TypeError, AttributeError)


class Unplugged(CommandError):
    """The link broke in the middle of a command."""


class BoardLink:
    """An open raw-REPL session with a board (use as a context manager)."""

    def __init__(self, port, timeout=None):
        self.port = port
        self.timeout = RAW_REPL_TIMEOUT_S if timeout is None else timeout
        self.transport = None
        self.left_in = "the PLC is running as before"  # what a broken link leaves

    def open(self):
        """Open the port and enter the raw REPL (Ctrl-C stops the PLC first)."""
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport

        if not self.port.startswith(("socket:", "rfc2217:", "loop:")) and not os.path.exists(
            self.port
        ):
            raise CommandError(f"no port {self.port}: is the board plugged in? (rung flash "
                               "finds it without --port)")
        try:
            with _quiet():
                # a read timeout: mpremote reads a pty (the virtual board) with blocking
                # reads, which would wait forever for a device that never answers
                self.transport = SerialTransport(self.port, baudrate=115200, timeout=0.1)
        except TransportError:
            raise CommandError(
                f"port {self.port} is busy: another program holds it (mpremote, a serial "
                "monitor, Thonny); close it and try again"
            ) from None
        try:
            with _quiet():
                # no soft reset: the PLC's Ctrl-C handler keeps a started watchdog fed
                try:
                    self.transport.enter_raw_repl(soft_reset=False,
                                                  timeout_overall=self.timeout)
                except TransportError:
                    # once more: a Ctrl-C that came while the board was busy booting or
                    # stopping may have been lost
                    self.transport.enter_raw_repl(soft_reset=False,
                                                  timeout_overall=self.timeout)
        except TransportError:
            self.close()
            raise CommandError(
                f"the device on {self.port} does not answer MicroPython's raw REPL: not "
                "MicroPython, or a program that ignores Ctrl-C (hold BOOTSEL or reinstall "
                "MicroPython, docs/flashing.md)"
            ) from None
        except _link_errors() as exc:
            self.close()
            self.left_in = "the PLC may have stopped; press reset to restart it"
            raise self.unplugged(exc) from None
        self.left_in = "the PLC is stopped, outputs safe; press reset to restart it"
        return self

    def close(self):
        """Leave the port (the board stays as it is)."""
        if self.transport is not None:
            with contextlib.suppress(Exception):
                if self.transport.in_raw_repl:
                    self.transport.exit_raw_repl()  # the user finds the friendly REPL
            with contextlib.suppress(Exception):
                self.transport.close()
            self.transport = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    def unplugged(self, exc=None):
        """The error for a link that broke: what the board is left with."""
        return Unplugged(f"lost the board on {self.port} ({_why(exc)}): {self.left_in}")

    def exec(self, code, timeout=30):
        """Run code in the raw REPL; its output (CommandError on an exception there)."""
        try:
            self.transport.exec_raw_no_follow(code)
            out, err = self.transport.follow(timeout)
        except _link_errors() as exc:
            raise self.unplugged(exc) from None
        if err:
            last = err.decode(errors="replace").strip().splitlines()[-1:]
            raise CommandError(f"the board refused a command: {' '.join(last)}")
        return out.decode(errors="replace")

    def exec_json(self, code, timeout=30):
        """Run code that prints one JSON line; that line decoded."""
        out = self.exec(code, timeout)
        for line in reversed(out.strip().splitlines()):
            line = line.strip()
            if line.startswith("{"):
                return json.loads(line)
        raise CommandError(f"unexpected answer from the board: {out.strip()[:200]!r}")

    def info(self):
        """sys.implementation of the board: version tuple, _mpy word, machine."""
        return self.exec_json(
            "import sys, json\n"
            "i = sys.implementation\n"
            "print(json.dumps({'version': list(i.version[:3]), 'mpy': getattr(i, '_mpy', 0),"
            " 'machine': getattr(i, '_machine', sys.platform)}))\n"
        )

    def hashes(self, paths, dirs=()):
        """({path: sha256 hex or None}, {dir: names or None}) read on the board."""
        answer = self.exec_json(HASH_SCRIPT % (list(paths), list(dirs)), timeout=60)
        return answer["hashes"], answer["dirs"]

    def write(self, path, data, progress=None):
        """Write data to path on the board (mpremote's chunked write)."""
        try:
            self.transport.fs_writefile(path, data, chunk_size=2048, progress_callback=progress)
        except _link_errors() as exc:
            raise self.unplugged(exc) from None

    def read(self, path):
        """A file's bytes from the board, None if it has none."""
        from mpremote.transport import TransportError

        try:
            return self.transport.fs_readfile(path, chunk_size=2048)
        except TransportError as exc:
            if "ENOENT" in str(exc) or "OSError" in str(exc):
                return None
            raise self.unplugged(exc) from None
        except _link_errors() as exc:
            if getattr(exc, "errno", None) == 2:
                return None
            raise self.unplugged(exc) from None

    def restart(self, timeout=30):
        """Soft-reset into main.py (the PLC boots again); the text the boot printed up to
        its banner ("" on a board without main.py: nothing to boot)."""
        has_main = self.exec("import os\ntry:\n os.stat('main.py')\n print(1)\n"
                             "except OSError:\n print(0)\n").strip()
        if has_main != "1":
            self.left_in = "stock MicroPython, as before"
            return ""
        try:
            self.transport.exit_raw_repl()
            self.transport.serial.write(b"\x04")  # soft reset in the friendly REPL
            data = self.transport.read_until(1, b"Ctrl-C stops the PLC.", timeout=timeout)
        except _link_errors() as exc:
            self.left_in = "the board may be rebooting; press reset if it does not run"
            raise self.unplugged(exc) from None
        self.left_in = "the PLC is running"
        return data.decode(errors="replace")

    def restart_quietly(self):
        """restart() for a command that already failed: its own error wins."""
        try:
            self.restart(timeout=10)
        except CommandError:
            pass


def _why(exc):
    if isinstance(exc, (TypeError, AttributeError)):
        return "the port closed"  # pyserial's state after the port went away under it
    text = str(exc) if exc is not None else ""
    return (text.splitlines() or ["the port closed"])[0][:80] or "the port closed"


@contextlib.contextmanager
def _quiet():
    # mpremote prints what it read when entering the raw REPL fails: the user gets our
    # one line instead
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def parse_banner(text):
    """(state, crc or None, fault code or None) from the firmware's boot banner."""
    import re

    m = re.search(r"Rung \S+ on (\S+): (RUN|STOP|FAULT)(?: \(fault (\d+)\))?"
                  r"(?:, program crc ([0-9a-f]{8}))?", text)
    if m is None:
        return None, None, None
    crc = int(m.group(4), 16) if m.group(4) else None
    fault = int(m.group(3)) if m.group(3) else None
    return m.group(2), crc, fault
