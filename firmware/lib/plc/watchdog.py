# The hardware watchdog (machine.WDT): fed once per completed scan. A started WDT cannot
# be stopped on ESP32 or RP2040, and a soft reset leaves it running while it ends every
# machine.Timer. So boot.py, which a board runs after every reset (main.py runs only in
# the friendly REPL), starts or re-attaches to the watchdog and feeds it from a Timer
# (boot_keep_alive); the scan loop takes over before its first scan (take_over), so a hung
# loop still trips it; once the loop ends (Ctrl-C, a firmware error) a Timer feeds it
# again: the board stays in the REPL for as long as mpremote needs it.
import machine

_boot_timer = None  # the Timer boot.py started, until the scan loop takes over
_boot_wdt = None


def _period(timeout_ms):
    if timeout_ms // 4 < 250:
        return max(20, timeout_ms // 4)
    return 250


def _stop_boot_timer():
    global _boot_timer, _boot_wdt
    if _boot_timer is not None:
        _boot_timer.deinit()
        _boot_timer = None
    _boot_wdt = None


def _boot_feed(_timer):
    if _boot_wdt is not None:
        _boot_wdt.feed()


def boot_keep_alive(settings="settings.json", board="board.json"):
    """boot.py: when settings.json enables the watchdog, start it (or re-attach to it after
    a soft reset) and feed it from a machine.Timer until the scan loop takes over; returns
    the timeout in ms, 0 when the watchdog is off."""
    global _boot_timer, _boot_wdt
    import json

    from .settings import check

    info = {}
    try:
        with open(board) as f:
            info = json.load(f)
    except Exception:  # noqa: BLE001 - no or bad board.json: main.py reports it
        pass
    if not isinstance(info, dict):
        info = {}
    raw = {}
    try:
        with open(settings) as f:
            raw = json.load(f)
    except (OSError, ValueError):
        pass  # none or not JSON: the defaults, as main.py uses them
    wdt_max = info.get("watchdog_max_ms")
    s, _problems = check(raw, wdt_max if isinstance(wdt_max, int) else None)
    timeout = s["watchdog_ms"]
    if timeout <= 0:
        return 0
    timer_id = info.get("timer_id", -1)
    _stop_boot_timer()
    # the Timer first: a Ctrl-C between the two never leaves a started watchdog unfed
    timer = machine.Timer(timer_id if isinstance(timer_id, int) else -1)
    timer.init(mode=machine.Timer.PERIODIC, period=_period(timeout), callback=_boot_feed)
    _boot_timer = timer
    _boot_wdt = machine.WDT(timeout=timeout)
    _boot_wdt.feed()
    return timeout


class Watchdog:
    """machine.WDT(timeout=timeout_ms), or nothing when timeout_ms is 0."""

    def __init__(self, timeout_ms, timer_id=-1):
        self.timeout_ms = timeout_ms
        self.timer_id = timer_id
        self.wdt = None
        self.timer = None
        self.led = None
        self._blink = 0
        if timeout_ms > 0:
            # after boot.py this re-attaches: rp2 and esp32 restart the count with timeout
            self.wdt = machine.WDT(timeout=timeout_ms)

    def feed(self):
        """One feed: called after each completed scan."""
        if self.wdt is not None:
            self.wdt.feed()

    def take_over(self):
        """The scan loop feeds from now on: boot.py's Timer stops, so a loop that hangs
        is reset by the watchdog."""
        self.feed()
        _stop_boot_timer()
        if self.timer is not None:
            self.timer.deinit()
            self.timer = None

    def keep_alive(self, led=None):
        """Feed from a periodic machine.Timer from now on (the PLC loop has ended); led, a
        callable taking on/off, blinks the STOP pattern meanwhile."""
        self.led = led
        if self.timer is not None:
            return
        period = 250 if self.wdt is None else _period(self.timeout_ms)
        self.feed()
        _stop_boot_timer()  # one Timer is enough (ESP32 boards use a hardware one)
        self.timer = machine.Timer(self.timer_id)
        self.timer.init(mode=machine.Timer.PERIODIC, period=period, callback=self._tick)

    def _tick(self, _timer):
        self.feed()
        if self.led is not None:
            self._blink = (self._blink + 1) & 3
            self.led(self._blink < 2)
