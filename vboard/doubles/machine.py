# Test double of a board's `machine` module for the virtual board (docs/firmware.md,
# "rung vboard"). MicroPython's unix port has a built-in `machine` without Pin, ADC, PWM,
# UART, WDT or Timer. `machine` is one of the built-in modules that a .py file of the
# same name on sys.path extends (MicroPython docs, library/index "Extending built-in
# libraries from Python"): this file imports the built-in one with sys.path emptied and
# adds what a board has, following docs.micropython.org/library/machine*.html.
# Pins, ADC values, PWM and the watchdog live in the I/O file the host shares
# (vbio_layout.py); the UART is a file descriptor the host passes (a pty).
import _thread
import os
import select
import sys
import time

import vbio_layout as _L

_path = sys.path
sys.path = ()
try:
    from machine import *  # noqa: F401,F403  (mem8, Signal, idle, time_pulse_us ...)
finally:
    sys.path = _path
    del _path

_PORT = os.getenv("RUNG_VBOARD_PORT") or "esp32"
_RP2 = _PORT == "rp2"


class _FileIO:
    # The host's I/O file: unbuffered reads and writes at fixed offsets.
    def __init__(self, path):
        self.f = open(path, "r+b")
        self.b1 = bytearray(1)
        self.b2 = bytearray(2)
        self.b4 = bytearray(4)
        self.lock = _thread.allocate_lock()

    def get(self, off, n):
        b = self.b1 if n == 1 else (self.b2 if n == 2 else self.b4)
        with self.lock:
            self.f.seek(off)
            self.f.readinto(b)
            return int.from_bytes(b, "little")

    def put(self, off, n, v):
        # no allocation: a Timer callback on the ticker thread may run while the main
        # thread collects garbage, and the unix port then refuses any allocation
        b = self.b1 if n == 1 else (self.b2 if n == 2 else self.b4)
        with self.lock:
            i = 0
            while i < n:
                b[i] = (v >> (8 * i)) & 0xFF
                i += 1
            self.f.seek(off)
            self.f.write(b)


class _MemIO:
    # Without a host (the doubles imported on their own): the same layout in RAM.
    def __init__(self):
        self.m = bytearray(_L.SIZE)
        for i in range(_L.SLOTS):
            self.m[_L.LEVEL_IN + i] = _L.NOT_DRIVEN
        self.m[_L.AP_UP] = 1
        self.put(_L.CUT_AT, 4, _L.NO_CUT)

    def get(self, off, n):
        return int.from_bytes(self.m[off : off + n], "little")

    def put(self, off, n, v):
        self.m[off : off + n] = v.to_bytes(n, "little")


_io_path = os.getenv("RUNG_VBOARD_IO")
_io = _FileIO(_io_path) if _io_path else _MemIO()

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
IDLE = 0
SLEEP = 2
DEEPSLEEP = 4

_cause = int(os.getenv("RUNG_VBOARD_RESET_CAUSE") or PWRON_RESET)
_freq = int(os.getenv("RUNG_VBOARD_FREQ") or (125000000 if _RP2 else 160000000))
_uid = os.getenv("RUNG_VBOARD_UID") or "e6614103e7452d2f"


def _request(kind):
    # The host ends this process and starts the next; nothing after a reset runs.
    _io.put(_L.REQ, 1, kind)
    if isinstance(_io, _MemIO):
        raise SystemExit(kind)
    while True:
        time.sleep_ms(1000)


def reset():
    """Hard reset: like pressing the board's reset button."""
    _request(_L.REQ_HARD)


def soft_reset():
    """Soft reset of the interpreter (runs boot.py and main.py again)."""
    _request(_L.REQ_SOFT)


def reset_cause():
    """Why the board last reset: PWRON_RESET, HARD_RESET, WDT_RESET, SOFT_RESET..."""
    return _cause


def unique_id():
    """The board's unique identifier (bytes)."""
    return bytes(int(_uid[i : i + 2], 16) for i in range(0, len(_uid), 2))


def freq(hz=None):
    """The CPU frequency in hertz; freq(hz) sets it."""
    global _freq
    if hz is None:
        return _freq
    _freq = int(hz)


def disable_irq():
    """Disable interrupt requests; returns the state for enable_irq()."""
    return 1


def enable_irq(state=1):
    """Re-enable interrupt requests."""


def lightsleep(time_ms=None):
    """Sleep time_ms (forever without it) and carry on."""
    if time_ms is None:
        while True:
            time.sleep_ms(1000)
    time.sleep_ms(time_ms)


def deepsleep(time_ms=None):
    """Deep sleep: the board resets when it wakes (reset_cause() == DEEPSLEEP_RESET)."""
    if time_ms:
        time.sleep_ms(time_ms)
    _request(_L.REQ_DEEPSLEEP)


def _slot(pin_id):
    if isinstance(pin_id, Pin):
        return pin_id._slot
    if isinstance(pin_id, int):
        if 0 <= pin_id < _L.LED_SLOT:
            return pin_id
    elif isinstance(pin_id, str):
        if pin_id == "LED":
            return _L.LED_SLOT
        if pin_id[:2] == "GP" and pin_id[2:].isdigit():
            return _slot(int(pin_id[2:]))
    raise ValueError("invalid pin")


class Pin:
    """A GPIO pin (docs: machine.Pin)."""

    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    ALT = 3
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8
    DRIVE_0 = 0
    DRIVE_1 = 1
    DRIVE_2 = 2
    DRIVE_3 = 3

    def __init__(self, id, mode=-1, pull=-1, *, value=None, drive=None, alt=None):
        self._id = id
        self._slot = _slot(id)
        self._irq = None
        self.init(mode, pull, value=value)

    def init(self, mode=-1, pull=-1, *, value=None, drive=None, alt=None):
        """Re-initialise the pin; arguments not given keep their state."""
        s = self._slot
        if value is not None:
            _io.put(_L.LEVEL_OUT + s, 1, 1 if value else 0)
        if mode != -1:
            m = {Pin.IN: _L.MODE_IN, Pin.OUT: _L.MODE_OUT, Pin.OPEN_DRAIN: _L.MODE_OPEN_DRAIN}
            if mode not in m:
                raise ValueError("invalid pin mode")
            _io.put(_L.MODE + s, 1, m[mode])
        if pull != -1:
            p = {None: 0, Pin.PULL_UP: 1, Pin.PULL_DOWN: 2}
            if pull not in p:
                raise ValueError("invalid pull")
            _io.put(_L.PULL + s, 1, p[pull])

    def _level(self):
        s = self._slot
        mode = _io.get(_L.MODE + s, 1)
        if mode == _L.MODE_OUT:
            return _io.get(_L.LEVEL_OUT + s, 1)
        if mode == _L.MODE_OPEN_DRAIN and _io.get(_L.LEVEL_OUT + s, 1) == 0:
            return 0
        lv = _io.get(_L.LEVEL_IN + s, 1)
        if lv == _L.NOT_DRIVEN:
            return 1 if _io.get(_L.PULL + s, 1) == 1 else 0
        return lv

    def value(self, x=None):
        """Read the pin's level (0 or 1), or set the output level to x."""
        if x is None:
            return self._level()
        _io.put(_L.LEVEL_OUT + self._slot, 1, 1 if x else 0)

    def __call__(self, x=None):
        return self.value(x)

    def on(self):
        """Set the pin to 1."""
        self.value(1)

    def off(self):
        """Set the pin to 0."""
        self.value(0)

    high = on
    low = off

    def toggle(self):
        """Invert the output level."""
        self.value(1 - _io.get(_L.LEVEL_OUT + self._slot, 1))

    def mode(self, mode=None):
        """Get or set the pin mode."""
        if mode is not None:
            self.init(mode)
            return
        m = _io.get(_L.MODE + self._slot, 1)
        return {_L.MODE_OUT: Pin.OUT, _L.MODE_OPEN_DRAIN: Pin.OPEN_DRAIN}.get(m, Pin.IN)

    def pull(self, pull=-1):
        """Get or set the pull resistor (None, PULL_UP, PULL_DOWN)."""
        if pull != -1:
            self.init(pull=pull)
            return
        return (None, Pin.PULL_UP, Pin.PULL_DOWN)[_io.get(_L.PULL + self._slot, 1)]

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING, *, priority=1, wake=None,
            hard=False):
        """Call handler(pin) for each edge in trigger (run within a millisecond or so)."""
        if handler is None:
            _irqs.pop(self._slot, None)
        else:
            s = self._slot
            _irqs[s] = [self, handler, trigger, _io.get(_L.RISES + s, 1),
                        _io.get(_L.FALLS + s, 1)]
            _ticker.start()
        return _PinIRQ(self, trigger)

    def __repr__(self):
        return "Pin(" + repr(self._id) + ")"


class _PinIRQ:
    def __init__(self, pin, trigger):
        self.pin = pin
        self._trigger = trigger

    def trigger(self, trigger=None):
        return self._trigger

    def flags(self):
        return self._trigger


_irqs = {}


class ADC:
    """An analog input (docs: machine.ADC); read_u16() gives what the host set."""

    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_9BIT = 9
    WIDTH_10BIT = 10
    WIDTH_11BIT = 11
    WIDTH_12BIT = 12
    CORE_TEMP = 4

    def __init__(self, id, *, atten=None):
        if isinstance(id, int) and _RP2 and 0 <= id <= 4:
            id = 26 + id  # rp2: channels 0..3 are GP26..GP29, 4 the temperature sensor
        self._slot = _slot(id)
        self._atten = ATTN_11DB if atten is None else atten
        _io.put(_L.MODE + self._slot, 1, _L.MODE_ADC)

    def read_u16(self):
        """The reading scaled to 0..65535."""
        return _io.get(_L.ADC_IN + 2 * self._slot, 2)

    def read_uv(self):
        """The reading in microvolts (0..3.3 V)."""
        return self.read_u16() * 3300000 // 65535

    def read(self):
        """ESP32: the raw 12-bit reading."""
        return self.read_u16() >> 4

    def atten(self, atten):
        """ESP32: set the input attenuation."""
        self._atten = atten

    def width(self, bits):
        """ESP32: set the resolution of read()."""

    def init(self, *, atten=None):
        if atten is not None:
            self._atten = atten


ATTN_11DB = ADC.ATTN_11DB


class PWM:
    """A PWM output (docs: machine.PWM); the host reads its frequency and duty."""

    def __init__(self, dest, *, freq=None, duty_u16=None, duty_ns=None, invert=False):
        self._slot = _slot(dest)
        _io.put(_L.MODE + self._slot, 1, _L.MODE_PWM)
        if _io.get(_L.PWM_FREQ + 4 * self._slot, 4) == 0:
            _io.put(_L.PWM_FREQ + 4 * self._slot, 4, 5000 if not _RP2 else 1000)
        self.init(freq=freq, duty_u16=duty_u16, duty_ns=duty_ns, invert=invert)

    def init(self, *, freq=None, duty_u16=None, duty_ns=None, invert=False):
        """Change the settings given."""
        if freq is not None:
            self.freq(freq)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)
        if duty_ns is not None:
            self.duty_ns(duty_ns)

    def deinit(self):
        """Stop the PWM output."""
        _io.put(_L.PWM_DUTY + 2 * self._slot, 2, 0)
        _io.put(_L.MODE + self._slot, 1, _L.MODE_UNUSED)

    def freq(self, value=None):
        """Get or set the frequency in hertz."""
        if value is None:
            return _io.get(_L.PWM_FREQ + 4 * self._slot, 4)
        if not 1 <= value <= 40000000:
            raise ValueError("freq out of range")
        _io.put(_L.PWM_FREQ + 4 * self._slot, 4, int(value))

    def duty_u16(self, value=None):
        """Get or set the duty cycle, 0..65535."""
        if value is None:
            return _io.get(_L.PWM_DUTY + 2 * self._slot, 2)
        if not 0 <= value <= 65535:
            raise ValueError("duty_u16 must be from 0 to 65535")
        _io.put(_L.PWM_DUTY + 2 * self._slot, 2, int(value))

    def duty_ns(self, value=None):
        """Get or set the pulse width in nanoseconds."""
        period_ns = 1000000000 // max(1, self.freq())
        if value is None:
            return self.duty_u16() * period_ns // 65535
        self.duty_u16(min(65535, int(value) * 65535 // period_ns))


class UART:
    """A UART (docs: machine.UART) over the file descriptor the host passes for it (a
    pty: `rung vboard --rtu LINK`); without one it is a line with nothing attached."""

    INV_TX = 1
    INV_RX = 2
    RTS = 1
    CTS = 2
    IRQ_RXIDLE = 1
    IRQ_TXIDLE = 2
    IRQ_BREAK = 4

    def __init__(self, id, baudrate=9600, bits=8, parity=None, stop=1, **kw):
        self._id = id
        fd = os.getenv("RUNG_VBOARD_UART" + str(id)) or os.getenv("RUNG_VBOARD_UART")
        self._f = _uart_file(int(fd)) if fd else None
        self._poll = None
        if self._f is not None:
            self._poll = select.poll()
            self._poll.register(self._f, select.POLLIN)
        self._rx = bytearray()
        self._b1 = bytearray(1)
        self.init(baudrate, bits, parity, stop, **kw)

    def init(self, baudrate=9600, bits=8, parity=None, stop=1, *, tx=None, rx=None,
             rts=None, cts=None, txbuf=None, rxbuf=None, timeout=0, timeout_char=0,
             invert=0, flow=0):
        """Set the line parameters (kept; the pty carries bytes whatever they are)."""
        if bits not in (7, 8, 9) or parity not in (None, 0, 1) or stop not in (1, 2):
            raise ValueError("invalid UART parameters")
        self.baudrate = baudrate
        self._timeout = timeout
        self._timeout_char = timeout_char
        self._char_us = (1 + bits + (parity is not None) + stop) * 1000000 // baudrate

    def deinit(self):
        """Turn the UART off."""
        self._rx = bytearray()

    def _fill(self, wait_ms):
        # Move what the pty holds into the receive buffer; wait up to wait_ms for a byte.
        if self._poll is None:
            if wait_ms > 0:
                time.sleep_ms(wait_ms)
            return
        b = self._b1
        while self._poll.poll(wait_ms):
            if self._f.readinto(b) != 1:
                return
            self._rx.extend(b)
            wait_ms = 0

    def any(self):
        """Number of bytes waiting to be read."""
        self._fill(0)
        return len(self._rx)

    def _take(self, n):
        self._fill(0)
        if not self._rx:
            self._fill(self._timeout)
        if not self._rx:
            return None
        if self._timeout_char:
            while n is None or len(self._rx) < n:
                before = len(self._rx)
                self._fill(self._timeout_char)
                if len(self._rx) == before:
                    break
        if n is None:
            n = len(self._rx)
        data = bytes(self._rx[:n])
        self._rx = self._rx[n:]
        return data

    def read(self, nbytes=None):
        """Read up to nbytes (all waiting without it); None on timeout."""
        return self._take(nbytes)

    def readinto(self, buf, nbytes=None):
        """Read into buf; the number of bytes read, or None on timeout."""
        data = self._take(len(buf) if nbytes is None else min(nbytes, len(buf)))
        if data is None:
            return None
        buf[: len(data)] = data
        return len(data)

    def readline(self):
        """Read up to and including a newline; None on timeout."""
        self._fill(0)
        i = self._rx.find(b"\n")
        return self._take(i + 1 if i >= 0 else None)

    def write(self, buf):
        """Send buf; the number of bytes written."""
        if self._f is not None:
            self._f.write(buf)
        return len(buf)

    def sendbreak(self):
        """Send a break condition."""

    def flush(self):
        """Wait until everything written has been sent."""

    def txdone(self):
        """True when everything written has been sent."""
        return True

    def irq(self, handler=None, trigger=0, hard=False):
        """Not modelled: returns None."""
        return None


_uart_files = {}


def _uart_file(fd):
    # One file object per descriptor: several UART objects may share the port.
    f = _uart_files.get(fd)
    if f is None:
        f = _uart_files[fd] = open(fd, "r+b")
    return f


class WDT:
    """The watchdog (docs: machine.WDT): once started it cannot be stopped; not fed
    within timeout ms, the host hard-resets the board (reset_cause() == WDT_RESET)."""

    def __init__(self, id=0, timeout=5000):
        limit = int(os.getenv("RUNG_VBOARD_WDT_MAX_MS") or 0)
        if id != 0:
            raise ValueError("invalid WDT id")
        if timeout < 1 or (limit and timeout > limit):
            raise ValueError("timeout out of range")
        _io.put(_L.WDT_TIMEOUT, 4, int(timeout))
        self.feed()

    def feed(self):
        """Feed the watchdog."""
        _io.put(_L.WDT_FEEDS, 4, (_io.get(_L.WDT_FEEDS, 4) + 1) & 0xFFFFFFFF)


class Timer:
    """A software timer (docs: machine.Timer). Callbacks run on a thread of their own, so
    they also run while the REPL waits for input, as soft timers do on a board."""

    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, *args, **kw):
        self._id = id
        self._cb = None
        self._due = None
        if args or kw:
            self.init(*args, **kw)

    def init(self, mode=PERIODIC, *, period=-1, freq=-1, tick_hz=1000, callback=None,
             hard=False):
        """Start the timer: callback(timer) every period ms (or freq Hz)."""
        if freq > 0:
            period = max(1, 1000 // freq)
        if period < 0:
            raise ValueError("period required")
        self._mode = mode
        self._period = int(period * 1000 // tick_hz) if tick_hz != 1000 else int(period)
        self._cb = callback
        self._due = time.ticks_add(time.ticks_ms(), self._period)
        if self not in _timers:
            _timers.append(self)
        _ticker.start()

    def deinit(self):
        """Stop the timer."""
        self._due = None
        if self in _timers:
            _timers.remove(self)

    def __repr__(self):
        return "Timer(" + repr(self._id) + ")"


_timers = []


class _Ticker:
    # One thread runs due timer callbacks and polls pins that have an irq handler. It ends
    # when there is nothing left to run: the unix port can deadlock when a Ctrl-C (SIGINT)
    # or a gc.collect() meets a second thread, so none runs while none is needed (the
    # firmware's scan loop runs with no Timer once it takes the watchdog over).
    def __init__(self):
        self.running = False
        self.lock = _thread.allocate_lock()

    def start(self):
        with self.lock:
            if not self.running:
                self.running = True
                _thread.start_new_thread(self._run, ())

    def _idle(self):
        with self.lock:
            if _timers or _irqs:
                return False
            self.running = False
            return True

    def _run(self):
        while not self._idle():
            try:
                wait = self._round()
            except MemoryError:  # the main thread is collecting: try again in a moment
                wait = 1
            try:
                time.sleep_ms(wait)
            except KeyboardInterrupt:
                # the SIGINT of a Ctrl-C reached this thread: it is for the main thread,
                # as on a board. The unix port has no pthread_sigmask: the host sends the
                # Ctrl-C again, as it sends every Ctrl-C, never into a collection (vbgc.py)
                if not _io.get(_L.REQ, 1):
                    _io.put(_L.REQ, 1, _L.REQ_CTRL_C)

    def _round(self):
        # one pass: due Timer callbacks, pin edges; the ms until the next
        now = time.ticks_ms()
        wait = 20
        i = 0
        # no allocation while only Timers run (see _FileIO.put): no list copies
        while i < len(_timers):
            try:
                t = _timers[i]
            except IndexError:  # deinit() on the main thread meanwhile
                break
            i += 1
            due = t._due
            if due is None:
                continue
            left = time.ticks_diff(due, now)
            if left <= 0:
                if t._mode == Timer.PERIODIC:
                    t._due = time.ticks_add(due, t._period)
                    if time.ticks_diff(t._due, now) < 0:
                        t._due = time.ticks_add(now, t._period)
                else:
                    t.deinit()
                _call(t._cb, t)
                left = t._period
            wait = min(wait, max(1, left))
        for e in list(_irqs.values()) if _irqs else ():
            # the host counts the edges it drives: none is missed between two polls
            s = e[0]._slot
            rises = _io.get(_L.RISES + s, 1)
            falls = _io.get(_L.FALLS + s, 1)
            n = 0
            if e[2] & Pin.IRQ_RISING:
                n += (rises - e[3]) & 255
            if e[2] & Pin.IRQ_FALLING:
                n += (falls - e[4]) & 255
            e[3] = rises
            e[4] = falls
            for _ in range(n):
                _call(e[1], e[0])
            wait = 1
        return wait


def _call(cb, arg):
    if cb is None:
        return
    try:
        cb(arg)
    except MemoryError:
        pass  # see _FileIO.put: the main thread was collecting; the next period runs
    except Exception as exc:  # a board prints the error and keeps the timer
        sys.print_exception(exc)


_ticker = _Ticker()
