"""VirtualBoard: Rung's firmware on MicroPython's unix port behind a USB-like pty.

One host thread relays the USB pty to the interpreter's own pty and owns the interpreter's
life: Ctrl-D (the port exits) becomes a soft reboot, machine.reset(), a watchdog that was
not fed and power cuts become hard resets. See docs/firmware.md, "rung vboard"."""

import fcntl
import hashlib
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty

from rung.procnet import listening_port

from .console import RAW_BANNER, ConsoleFilter
from .doubles import vbio_layout as L
from .iofile import MODE_NAMES, IoFile, pin_slot

HERE = os.path.dirname(os.path.abspath(__file__))
DOUBLES = os.path.join(HERE, "doubles")
VBOOT = os.path.join(HERE, "vboot.py")
INSTALL_HINT = "the virtual board needs the vboard extra: pip install 'rung[vboard]'"

PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 3, 4, 5
# after a Ctrl-C is written the pty raises SIGINT a moment later (the line discipline
# runs apart from the write); collections wait this long for it, which a board never
# notices: one skipped gc.collect() of the firmware's housekeeping
CTRL_C_HOLD_S = 0.25
CAUSE_NAMES = {1: "power on", 2: "hard reset", 3: "watchdog", 4: "deep sleep", 5: "soft reset"}


class VboardError(Exception):
    """The virtual board cannot start (missing extra, bad board name or flash)."""


def micropython_command():
    """The argv prefix that runs the unix port (VboardError when it is not installed)."""
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    if os.path.isfile(exe) and os.access(exe, os.X_OK):
        return [exe]
    try:
        import micropython_unix  # noqa: F401
    except ImportError:
        raise VboardError(INSTALL_HINT) from None
    return [sys.executable, "-m", "micropython_unix"]


def board_info(name):
    """The board file's fields the virtual board needs (port, rtu, watchdog, Wi-Fi)."""
    try:
        from rung.boards import board_path
    except ImportError:
        board_path = None
    data = None
    if board_path is not None:
        try:
            path = board_path(name)
        except Exception as exc:  # BoardError: no such board
            raise VboardError(str(exc)) from None
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    if data is None:
        data = {"port": "rp2" if name.startswith("pico") else "esp32", "wifi": True}
    return data


def _raw_child_tty(fd):
    # The interpreter's pty: no echo and no line editing (a board's USB does neither),
    # Ctrl-C still a signal while code runs, no output processing (the host adds \r).
    attrs = termios.tcgetattr(fd)
    attrs[0] &= ~(termios.ICRNL | termios.IXON | termios.INLCR | termios.IGNCR)
    attrs[1] &= ~termios.OPOST
    attrs[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | termios.ECHOCTL)
    attrs[3] |= termios.ISIG
    attrs[6][termios.VMIN] = 1
    attrs[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


def _nonblock(fd):
    fl = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, fl | os.O_NONBLOCK)


def _new_ctty():
    # In the child: a session of its own whose controlling terminal is its stdin pty, so
    # that Ctrl-C typed there is SIGINT to it (and to nothing else).
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class _Pty:
    """A pty pair whose master the host keeps; the slave path is what clients open."""

    def __init__(self, link=None):
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        _nonblock(self.master)
        self.name = os.ttyname(self.slave)
        self.link = None
        if link:
            link = os.path.abspath(link)
            if os.path.islink(link):
                os.unlink(link)
            elif os.path.exists(link):
                raise VboardError(f"{link} exists and is not a symlink")
            os.symlink(self.name, link)
            self.link = link

    @property
    def path(self):
        return self.link or self.name

    def close(self):
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.link and os.path.islink(self.link):
            os.unlink(self.link)


class VirtualBoard:
    """A virtual board NAME whose flash is flash_dir (a directory) or flash_image (a
    LittleFS2 image file); start() powers it on, stop() ends it."""

    def __init__(self, name, flash_dir=None, *, flash_image=None, usb=None, tcp=None,
                 rtu=None, heap=None, cut_after=None, wifi_delay_ms=200,
                 wdt_survives_soft_reset=True, image_kb=1408):
        if (flash_dir is None) == (flash_image is None):
            raise VboardError("give the flash as a directory or as an image, not both")
        self.name = name
        self.info = board_info(name)
        self.flash_dir = os.path.abspath(flash_dir) if flash_dir else None
        self.flash_image = os.path.abspath(flash_image) if flash_image else None
        self.usb_link = usb
        self.rtu_link = rtu
        self.tcp = tcp if tcp is not None else "127.0.0.1:0"
        host, _, port = self.tcp.rpartition(":")
        if not host or not port.isdigit() or int(port) > 65535:
            raise VboardError(f"--tcp wants HOST:PORT, not {self.tcp!r}")
        self.tcp_host = "127.0.0.1" if host == "localhost" else host
        self.tcp_port_wanted = int(port)
        self.heap = heap
        self.cut_after = cut_after
        self.wifi_delay_ms = wifi_delay_ms
        self.wdt_survives_soft_reset = wdt_survives_soft_reset
        self.image_kb = image_kb
        self.cmd = micropython_command()
        self.proc = None
        self.boots = []  # reset cause of every start of the interpreter, in order
        self.console_log = bytearray()  # everything sent to the USB port
        self._lock = threading.RLock()
        self._thread = None
        self._stop = False
        self._powered = False
        self._reason = None  # why the running interpreter is being ended
        self._mode = "friendly"
        self._to_child = bytearray()
        self._hold = True
        self._raw_restart = False
        self._wdt = None  # (timeout_ms, feeds, since) while a watchdog runs
        self._gc_hold = 0  # monotonic time until which collections wait (0: they do not)
        self._ctrl_c_waiting = False  # a Ctrl-C waits for a collection to end
        self._ctrl_c_since = 0.0
        self._hard_cause = PWRON_RESET
        self._wake_r, self._wake_w = os.pipe()
        self.run_dir = None
        self.io = None
        self.usb = None
        self.rtu = None
        self.cm = None

    # ---- life cycle -------------------------------------------------------------------
    def start(self):
        """Create the ports and power the board on; returns self."""
        try:
            self.run_dir = tempfile.mkdtemp(prefix="rung-vboard-")
            self.io = IoFile(os.path.join(self.run_dir, "io.bin"))
            if self.flash_dir:
                os.makedirs(self.flash_dir, exist_ok=True)
            elif not os.path.exists(self.flash_image):
                with open(self.flash_image, "wb") as f:
                    f.truncate(self.image_kb * 1024)
            self.usb = _Pty(self.usb_link)
            self.rtu = _Pty(self.rtu_link)
            self._stop = False
            self._powered = True
            self._spawn(PWRON_RESET)
        except OSError as exc:
            self.stop()
            raise VboardError(f"cannot start the virtual board: {exc}") from None
        except BaseException:
            self.stop()
            raise
        self._thread = threading.Thread(target=self._relay, name="vboard-usb", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """End the interpreter, close the ports, remove the links and the run files."""
        self._stop = True
        self._end_child("stop")
        self._wake()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        for p in (self.usb, self.rtu):
            if p is not None:
                p.close()
        self.usb = self.rtu = None
        if self.io is not None:
            self.io.close()
        if self.run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._wake_r = self._wake_w = None

    def __enter__(self):
        return self.start() if self.proc is None else self

    def __exit__(self, *exc):
        self.stop()

    def reset(self):
        """Press the reset button: a hard reset (reset_cause() == HARD_RESET)."""
        self._end_child(HARD_RESET)

    def power_off(self):
        """Cut the power: the interpreter is killed where it stands; the board stays off."""
        self._powered = False
        self._end_child("off")

    kill = power_off

    def freeze(self):
        """Hang the board: the interpreter stops where it is (SIGSTOP), timers and all, as
        a firmware stuck with interrupts off; a started watchdog then resets it."""
        p = self.proc
        if p is not None:
            os.kill(p.pid, signal.SIGSTOP)

    def power_on(self, cut_after=None):
        """Power the board on again (reset_cause() == PWRON_RESET); cut_after as in
        the constructor: the flash drops every block write after that many."""
        with self._lock:
            if self.proc is not None:
                raise VboardError("the board is on")
            self.cut_after = cut_after
            self._powered = True
            self._spawn(PWRON_RESET)
        self._wake()

    def power_cycle(self, cut_after=None):
        """power_off() then power_on()."""
        self.power_off()
        self.wait_for(lambda: self.proc is None, 10, "the board to go off")
        self.power_on(cut_after)

    @property
    def running(self):
        """True while an interpreter runs."""
        return self.proc is not None

    @property
    def pid(self):
        """The interpreter's process id (None while off)."""
        p = self.proc
        return p.pid if p is not None else None

    @property
    def usb_path(self):
        """The USB port clients open (the --usb link, else the pty's /dev/pts path)."""
        return self.usb.path

    @property
    def rtu_path(self):
        """The RTU UART's port (the --rtu link, else the pty's /dev/pts path)."""
        return self.rtu.path

    def wait_for(self, predicate, timeout=10, what="the condition"):
        """Poll predicate() until true; TimeoutError after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            v = predicate()
            if v:
                return v
            if time.monotonic() > deadline:
                tail = bytes(self.console_log[-600:]).decode(errors="replace")
                raise TimeoutError(f"virtual board: timed out waiting for {what}; the "
                                   f"USB port's last output:\n{tail}")
            time.sleep(0.005)

    def wait_output(self, text, timeout=10, start=0):
        """Wait until the USB output from offset start contains text; its end offset."""
        pat = text.encode() if isinstance(text, str) else text

        def found():
            i = bytes(self.console_log[start:]).find(pat)
            return start + i + len(pat) if i >= 0 else None

        return self.wait_for(found, timeout, f"{pat!r} on the USB port")

    # ---- virtual I/O ------------------------------------------------------------------
    def set_pin(self, pin, level):
        """Drive an input pin from outside: 1, 0, or None (not driven: the pull decides)."""
        s = pin_slot(pin)
        before = self._input_level(s)
        self.io.put(L.LEVEL_IN + s, 1, L.NOT_DRIVEN if level is None else (1 if level else 0))
        after = self._input_level(s)
        if before != after:  # count the edge, as a pin's interrupt latch would
            at = (L.RISES if after else L.FALLS) + s
            self.io.put(at, 1, (self.io.get(at, 1) + 1) & 255)

    def _input_level(self, s):
        lv = self.io.get(L.LEVEL_IN + s, 1)
        if lv == L.NOT_DRIVEN:
            return 1 if self.io.get(L.PULL + s, 1) == 1 else 0
        return lv

    def pin(self, pin):
        """The level the board drives on an output pin (0 or 1), None unless an output."""
        s = pin_slot(pin)
        mode = self.io.get(L.MODE + s, 1)
        if mode not in (L.MODE_OUT, L.MODE_OPEN_DRAIN):
            return None
        return self.io.get(L.LEVEL_OUT + s, 1)

    def pin_mode(self, pin):
        """'in', 'out', 'od', 'adc', 'pwm' or '-' (not configured)."""
        return MODE_NAMES[self.io.get(L.MODE + pin_slot(pin), 1)]

    def set_adc(self, pin, value):
        """The value ADC(pin).read_u16() returns, 0..65535."""
        if not 0 <= int(value) <= 65535:
            raise ValueError("ADC values are 0..65535")
        self.io.put(L.ADC_IN + 2 * pin_slot(pin), 2, int(value))

    def pwm(self, pin):
        """(freq, duty_u16) of a PWM pin, None unless it is one."""
        s = pin_slot(pin)
        if self.io.get(L.MODE + s, 1) != L.MODE_PWM:
            return None
        return self.io.get(L.PWM_FREQ + 4 * s, 4), self.io.get(L.PWM_DUTY + 2 * s, 2)

    def flash_writes(self):
        """Block writes the LittleFS2 flash image took since the board booted."""
        return self.io.get(L.FLASH_WRITES, 4)

    def cut_power_after_writes(self, n):
        """Cut the power at the n-th block write from now (the flash keeps the n-1 before
        it; n=1 cuts at the next write). The board then stays off until power_on()."""
        if n < 1:
            raise ValueError("n >= 1")
        self.io.put(L.CUT_AT, 4, self.flash_writes() + n - 1)

    def set_access_point(self, up):
        """Whether the Wi-Fi access point answers (the station joins only while it does)."""
        self.io.put(L.AP_UP, 1, 1 if up else 0)

    def wifi(self):
        """'off', 'connecting' or 'connected', as the network double last reported."""
        return ("off", "connecting", "connected")[min(2, self.io.get(L.WIFI, 1))]

    def watchdog(self):
        """(timeout_ms, feeds) of the running watchdog, None if none was started."""
        t = self.io.get(L.WDT_TIMEOUT, 4)
        return (t, self.io.get(L.WDT_FEEDS, 4)) if t else None

    def tcp_address(self, timeout=10):
        """(host, port) where the firmware's Modbus TCP server listens, once it does."""
        if self.tcp_port_wanted:
            port = self.wait_for(lambda: self._listening_port(self.tcp_port_wanted), timeout,
                                 "the Modbus TCP server")
        else:
            port = self.wait_for(lambda: self._listening_port(None), timeout,
                                 "the Modbus TCP server")
        return self.tcp_host, port

    def _listening_port(self, want):
        pid = self.pid
        return None if pid is None else listening_port(pid, want)

    def status_line(self):
        """One line: power, pins by mode, Wi-Fi, watchdog, resets."""
        if self.io is None:
            return "off"
        ins, outs, adcs, pwms = [], [], [], []
        for s in range(L.SLOTS):
            mode = self.io.get(L.MODE + s, 1)
            label = "LED" if s == L.LED_SLOT else str(s)
            if mode == L.MODE_IN:
                lv = self.io.get(L.LEVEL_IN + s, 1)
                if lv == L.NOT_DRIVEN:
                    lv = 1 if self.io.get(L.PULL + s, 1) == 1 else 0
                ins.append(f"{label}={lv}")
            elif mode in (L.MODE_OUT, L.MODE_OPEN_DRAIN):
                outs.append(f"{label}={self.io.get(L.LEVEL_OUT + s, 1)}")
            elif mode == L.MODE_ADC:
                adcs.append(f"{label}={self.io.get(L.ADC_IN + 2 * s, 2)}")
            elif mode == L.MODE_PWM:
                duty = self.io.get(L.PWM_DUTY + 2 * s, 2)
                pwms.append(f"{label}={duty * 100 // 65535}%")
        state = "on" if self.proc is not None else "off"
        parts = [f"{self.name} {state}", "in " + " ".join(ins or ["-"]),
                 "out " + " ".join(outs or ["-"])]
        if adcs:
            parts.append("adc " + " ".join(adcs))
        if pwms:
            parts.append("pwm " + " ".join(pwms))
        if self.info.get("wifi"):
            parts.append("wifi " + self.wifi())
        wdt = self.watchdog()
        parts.append(f"wdt {wdt[0]}ms" if wdt else "wdt -")
        parts.append(f"boots {len(self.boots)}")
        return " | ".join(parts)

    # ---- the interpreter --------------------------------------------------------------
    def _env(self, cause):
        info = self.info
        if info.get("port") == "rp2":
            # rp2 knows only PWRON_RESET and WDT_RESET; machine.reset() goes through the
            # watchdog (MicroPython issue 19409); a soft reset keeps the last cause
            if cause == SOFT_RESET:
                cause = self._hard_cause
            elif cause in (HARD_RESET, DEEPSLEEP_RESET):
                cause = WDT_RESET
        if cause != SOFT_RESET:
            self._hard_cause = cause
        env = dict(os.environ)
        env.pop("MICROPYPATH", None)
        uid = hashlib.sha1((self.name + (self.flash_dir or self.flash_image)).encode())
        rtu_uart = (info.get("rtu") or {}).get("uart")
        env.update({
            "MICROPYPATH": DOUBLES,
            "RUNG_VBOARD_IO": self.io.path,
            "RUNG_VBOARD_PORT": info.get("port", "esp32"),
            "RUNG_VBOARD_RESET_CAUSE": str(cause),
            "RUNG_VBOARD_UID": uid.hexdigest()[:16 if info.get("port") == "rp2" else 12],
            "RUNG_VBOARD_WDT_MAX_MS": str(info.get("watchdog_max_ms") or 0),
            "RUNG_VBOARD_MODE": self._mode,
            "RUNG_VBOARD_IP": self.tcp_host,
            "RUNG_VBOARD_TCP": f"{self.tcp_host}:{self.tcp_port_wanted}",
            "RUNG_VBOARD_WIFI_DELAY_MS": str(self.wifi_delay_ms),
            "RUNG_VBOARD_FLASH_KIND": "dir" if self.flash_dir else "image",
            "RUNG_VBOARD_FLASH": self.flash_dir or self.flash_image,
            "RUNG_VBOARD_CUT_AFTER": str(-1 if self.cut_after is None else self.cut_after),
        })
        key = "RUNG_VBOARD_UART" if rtu_uart is None else f"RUNG_VBOARD_UART{rtu_uart}"
        env[key] = str(self.rtu.master)
        if not info.get("wifi"):
            env["RUNG_VBOARD_NO_WIFI"] = "1"
        return env

    def _spawn(self, cause):
        # Start one interpreter ("a boot"); the caller holds no child.
        with self._lock:
            soft = cause == SOFT_RESET
            keep_wdt = soft and self.wdt_survives_soft_reset
            wdt = (self.io.get(L.WDT_TIMEOUT, 4), self.io.get(L.WDT_FEEDS, 4))
            if not soft:
                self.io.board_reset()
                self._mode = "friendly"
                self._wdt = None
            else:
                self.io.board_reset()
                if keep_wdt and wdt[0]:
                    self.io.put(L.WDT_TIMEOUT, 4, wdt[0])
                    self.io.put(L.WDT_FEEDS, 4, wdt[1])
                else:
                    self._wdt = None
            self._gc_hold = 0  # board_reset() cleared GC_HOLD
            self._ctrl_c_waiting = False
            self._drain(self.rtu.master)  # bytes on the line during a reset are lost
            master, slave = pty.openpty()
            _raw_child_tty(slave)
            _nonblock(master)
            argv = list(self.cmd)
            if self.heap:
                argv += ["-X", f"heapsize={self.heap}"]
            argv += ["-i", VBOOT]
            self.proc = subprocess.Popen(
                argv, stdin=slave, stdout=slave, stderr=slave, cwd=self.run_dir,
                env=self._env(cause), preexec_fn=_new_ctty, pass_fds=(self.rtu.master,),
                close_fds=True,
            )
            os.close(slave)
            self.child_fd = master
            self._reason = None
            self._hold = True
            self._raw_restart = self._mode == "raw"
            banner = (f"MicroPython v1.29.0-preview on 2026-07-05; Rung virtual board "
                      f"{self.name} (unix port)\r\n").encode()
            self.cm = ConsoleFilter(banner, self._on_mark)
            self.cm.raw = self._mode == "raw"
            self.boots.append(cause)

    def _drain(self, fd):
        try:
            while os.read(fd, 4096):
                pass
        except OSError:
            pass

    def _on_mark(self, name):
        if name == "ready" and not self._raw_restart:
            self._hold = False
        elif name == "repl":
            if self._raw_restart:
                # the REPL starts friendly: enter raw mode as the board was, show only
                # from the raw banner on
                self._to_child[:0] = b"\x01"
                self.cm.swallow(RAW_BANNER, keep=True)
                self._hold = False

    def _end_child(self, reason):
        # Ask the relay thread to end the interpreter (SIGKILL: nothing more runs).
        with self._lock:
            p = self.proc
            if p is None:
                return
            if self._reason is None or reason in ("stop", "off"):
                self._reason = reason
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._wake()

    def _wake(self):
        if self._wake_w is not None:
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass

    def _to_usb(self, data):
        if not data:
            return
        self.console_log += data
        fd = self.usb.master
        while data:
            try:
                n = os.write(fd, data)
                data = data[n:]
            except BlockingIOError:
                # nobody reads the port: a board's USB output is lost then
                termios.tcflush(self.usb.slave, termios.TCIFLUSH)
                try:
                    n = os.write(fd, data)
                    data = data[n:]
                except BlockingIOError:
                    return
            except OSError:
                return

    def _check_requests(self):
        # Requests from the doubles and the watchdog, seen from the host.
        if self.proc is None or self._reason is not None:
            return
        req = self.io.get(L.REQ, 1)
        if req:
            self.io.put(L.REQ, 1, 0)
            if req == L.REQ_HARD:
                self._end_child(HARD_RESET)
            elif req == L.REQ_SOFT:
                self._end_child(SOFT_RESET)
            elif req == L.REQ_DEEPSLEEP:
                self._end_child(DEEPSLEEP_RESET)
            elif req == L.REQ_CTRL_C:
                self._to_child[:0] = b"\x03"
            elif req == L.REQ_POWER_CUT:
                self._powered = False
                self._end_child("off")
            return
        timeout = self.io.get(L.WDT_TIMEOUT, 4)
        if not timeout:
            self._wdt = None
            return
        feeds = self.io.get(L.WDT_FEEDS, 4)
        now = time.monotonic()
        if self._wdt is None or self._wdt[1] != feeds or self._wdt[0] != timeout:
            self._wdt = (timeout, feeds, now)
        elif (now - self._wdt[2]) * 1000 > timeout:
            self._end_child(WDT_RESET)

    def _child_gone(self):
        # The interpreter has exited (or was killed): what comes next depends on why.
        with self._lock:
            p = self.proc
            rc = p.wait()
            try:
                os.close(self.child_fd)
            except OSError:
                pass
            self.proc = None
            reason = self._reason
            self._reason = None
            self._to_child.clear()
            if reason in ("stop", "off") or self._stop:
                return
            if reason is None:
                if rc >= 0:
                    reason = SOFT_RESET  # Ctrl-D or sys.exit(): a board soft-reboots
                else:
                    self._to_usb(f"\r\n[vboard: the interpreter died ({rc}); hard reset]"
                                 "\r\n".encode())
                    reason = HARD_RESET
            if reason == SOFT_RESET:
                self._mode = "raw" if self.cm.raw else "friendly"
                self._to_usb(b"MPY: soft reboot\r\n")
            else:
                self._mode = "friendly"
            if self._powered:
                self._spawn(reason)

    def _relay(self):
        wake = self._wake_r
        while not self._stop:
            with self._lock:
                child = self.child_fd if self.proc is not None else None
            rl = [self.usb.master, wake] + ([child] if child is not None else [])
            wl = [child] if child is not None and self._to_child and not self._hold else []
            if wl and self._to_child[0] == 3 and not self._ctrl_c_may_go():
                wl = []  # a collection runs: the Ctrl-C waits for its end (vbgc.py)
            try:
                r, w, _ = select.select(rl, wl, [], 0.001 if self._gc_hold else 0.01)
            except (OSError, ValueError):
                if self._stop:
                    return
                continue
            if wake in r:
                try:
                    os.read(wake, 4096)
                except OSError:
                    pass
            if self.usb.master in r:
                try:
                    data = os.read(self.usb.master, 4096)
                except OSError:
                    data = b""
                if data and child is not None:
                    self._to_child += data
            if child is not None and child in w:
                try:
                    n = os.write(child, self._to_child[: self._next_write()])
                    del self._to_child[:n]
                except BlockingIOError:
                    pass
                except OSError:
                    pass
            gone = False
            if child is not None and child in r:
                try:
                    data = os.read(child, 65536)
                except BlockingIOError:
                    data = None
                except OSError:  # EIO: every end of the child's pty is closed
                    data = b""
                if data:
                    self._to_usb(self.cm.feed(data))
                elif data == b"":
                    gone = True
            if child is not None and not gone and self.proc is not None:
                if self.proc.poll() is not None and not select.select([child], [], [], 0)[0]:
                    gone = True
            if gone:
                self._child_gone()
                continue
            if self._gc_hold and not self._ctrl_c_waiting and time.monotonic() > self._gc_hold:
                self._gc_hold = 0
                self.io.put(L.GC_HOLD, 1, 0)
            self._check_requests()

    # ---- Ctrl-C: never inside a garbage collection (see doubles/vbgc.py) ---------------
    def _next_write(self):
        # How much of _to_child goes now: up to a Ctrl-C, or the Ctrl-C alone.
        if self._to_child[0] == 3:
            self._ctrl_c_waiting = False
            self._gc_hold = time.monotonic() + CTRL_C_HOLD_S  # until its SIGINT is in
            return 1
        i = self._to_child.find(b"\x03")
        return len(self._to_child) if i < 0 else i

    def _ctrl_c_may_go(self):
        # Hold collections back and wait for a running one to end (at most a second: a
        # frozen board still gets its Ctrl-C).
        now = time.monotonic()
        if not self._ctrl_c_waiting:
            self._ctrl_c_waiting = True
            self._ctrl_c_since = now
            self._gc_hold = now + CTRL_C_HOLD_S
            self.io.put(L.GC_HOLD, 1, 1)
        return not self.io.get(L.GC_BUSY, 1) or now - self._ctrl_c_since > 1.0
