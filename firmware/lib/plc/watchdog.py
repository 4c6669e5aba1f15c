# The hardware watchdog (machine.WDT): fed once per completed scan. A started WDT cannot
# be stopped on ESP32 or RP2040, so once the PLC loop ends (Ctrl-C from the console, or
# a firmware error) a machine.Timer keeps feeding it: the board stays in the REPL for as
# long as needed instead of resetting under mpremote.
import machine


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
            self.wdt = machine.WDT(timeout=timeout_ms)

    def feed(self):
        """One feed: called after each completed scan."""
        if self.wdt is not None:
            self.wdt.feed()

    def keep_alive(self, led=None):
        """Feed from a periodic machine.Timer from now on (the PLC loop has ended); led, a
        callable taking on/off, blinks the STOP pattern meanwhile."""
        self.led = led
        if self.timer is not None:
            return
        period = 250
        if self.wdt is not None and self.timeout_ms // 4 < period:
            period = max(20, self.timeout_ms // 4)
        self.feed()
        self.timer = machine.Timer(self.timer_id)
        self.timer.init(mode=machine.Timer.PERIODIC, period=period, callback=self._tick)

    def _tick(self, _timer):
        self.feed()
        if self.led is not None:
            self._blink = (self._blink + 1) & 3
            self.led(self._blink < 2)
