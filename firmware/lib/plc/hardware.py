# The board's I/O as board.json describes it, over machine.Pin, ADC and PWM as MicroPython
# documents them. Reading inputs and writing outputs allocate nothing: the scan loop calls
# them every cycle.
from time import ticks_diff

from machine import ADC, PWM, Pin

from runtime.addresses import A_IW, A_IX, A_QW, A_QX

_PULLS = {"up": Pin.PULL_UP, "down": Pin.PULL_DOWN}
_SWITCH_FILTER_MS = 50
_SECTIONS = (
    (A_IX, "digital_inputs"),
    (A_QX, "digital_outputs"),
    (A_IW, "analog_inputs"),
    (A_QW, "analog_outputs"),
)


def address(area, index):
    """The board file's key of an (area, index) pair, e.g. (A_IX, 10) -> '%IX1.2'."""
    for code, prefix in ((A_IX, "%IX"), (A_QX, "%QX")):
        if area == code:
            return prefix + str(index // 8) + "." + str(index % 8)
    return ("%IW" if area == A_IW else "%QW") + str(index)


def duty(value):
    """%QW 0..32767 -> PWM duty_u16 0..65535 (negative -> 0), without big integers."""
    if value <= 0:
        return 0
    return (value << 1) | (value >> 14)


def _input_pin(n, pull):
    if pull:
        return Pin(n, Pin.IN, _PULLS[pull])
    return Pin(n, Pin.IN)


class Hardware:
    """Every pin of the board set up safely; connect(rt) links a program's I/O to them."""

    def __init__(self, board):
        self.board = board
        self.esp32 = board.get("port") == "esp32"
        safe = board["safe_outputs"]
        self._safe_do = []  # (pin, level) for every digital output
        self._safe_ao = []  # (pwm, duty) for every analog output
        self.do_pins = {}
        self.ao_pins = {}
        for addr, e in board["digital_outputs"].items():
            inv = e.get("inverted", False)
            level = 1 if bool(safe.get(addr, False)) != inv else 0
            pin = Pin(e["pin"], Pin.OUT, value=level)
            self.do_pins[addr] = (pin, inv)
            self._safe_do.append((pin, level))
        for addr, e in board["analog_outputs"].items():
            pwm = PWM(Pin(e["pin"]))
            pwm.freq(e["freq"])
            d = duty(safe.get(addr, 0))
            pwm.duty_u16(d)
            self.ao_pins[addr] = pwm
            self._safe_ao.append((pwm, d))
        self.di_pins = {}
        for addr, e in board["digital_inputs"].items():
            pin = _input_pin(e["pin"], e.get("pull"))
            self.di_pins[addr] = (pin, e.get("inverted", False), e.get("filter_ms", 0))
        self.ai_pins = {}
        for addr, e in board["analog_inputs"].items():
            self.ai_pins[addr] = e["pin"]  # the ADC is made when a program uses it
        led = board["status_led"]
        self.led = Pin(led["pin"], Pin.OUT, value=1 if led.get("inverted", False) else 0)
        self.led_inv = led.get("inverted", False)
        self.switch = None
        sw = board.get("run_switch")
        if sw is not None:
            self.switch = _input_pin(sw["pin"], sw.get("pull"))
            self.switch_inv = sw.get("inverted", False)
            self._sw_state = self.switch.value() != self.switch_inv
            self._sw_since = 0
        self._di = []
        self._ai = []
        self._do = []
        self._ao = []
        self._st = []
        self._since = []
        self._ao_last = []

    def missing(self, rt):
        """Addresses a program uses that this board lacks (a 'foreign' program)."""
        out = []
        img = rt.image
        for i in rt.input_vars + rt.output_vars:
            area, index = img.vars[i][2], img.vars[i][3]
            for code, section in _SECTIONS:
                if area == code and address(area, index) not in self.board[section]:
                    out.append(address(area, index))
        return out

    def connect(self, rt):
        """Link the program's input and output images to the pins."""
        img = rt.image
        for k, i in enumerate(rt.input_vars):
            key = address(img.vars[i][2], img.vars[i][3])
            if img.vars[i][2] == A_IX:
                pin, inv, filt = self.di_pins[key]
                self._di.append((k, pin, inv, filt))
                self._st.append(pin.value() != inv)
                self._since.append(0)
            else:
                self._ai.append((k, self._adc(self.ai_pins[key])))
        for k, i in enumerate(rt.output_vars):
            key = address(img.vars[i][2], img.vars[i][3])
            if img.vars[i][2] == A_QX:
                pin, inv = self.do_pins[key]
                self._do.append((k, pin, inv))
            else:
                self._ao.append((k, self.ao_pins[key]))
                self._ao_last.append(-1)

    def _adc(self, n):
        if self.esp32:
            try:  # the full 0..3.3 V range; the default range ends near 1 V
                return ADC(Pin(n), atten=ADC.ATTN_11DB)
            except (AttributeError, TypeError):
                pass
        return ADC(Pin(n))

    def read_inputs(self, image, now):
        """Fill the input image: debounced digital inputs, ADC read_u16() / 2."""
        st = self._st
        since = self._since
        j = 0
        for k, pin, inv, filt in self._di:
            raw = pin.value() != inv
            if raw == st[j]:
                since[j] = now
            elif filt == 0 or ticks_diff(now, since[j]) >= filt:
                st[j] = raw
                since[j] = now
            image[k] = st[j]
            j += 1
        for k, adc in self._ai:
            image[k] = adc.read_u16() >> 1

    def write_outputs(self, image):
        """Drive the pins from the output image."""
        for k, pin, inv in self._do:
            pin.value(1 if bool(image[k]) != inv else 0)
        last = self._ao_last
        j = 0
        for k, pwm in self._ao:
            d = duty(image[k])
            if d != last[j]:  # a duty change restarts the PWM period on some ports
                pwm.duty_u16(d)
                last[j] = d
            j += 1

    def write_safe(self):
        """Every output of the board to its safe value (board.json safe_outputs)."""
        for pin, level in self._safe_do:
            pin.value(level)
        for pwm, d in self._safe_ao:
            pwm.duty_u16(d)
        last = self._ao_last
        for j in range(len(last)):
            last[j] = -1

    def set_led(self, on):
        self.led.value(1 if on != self.led_inv else 0)

    def switch_run(self, now):
        """The RUN/STOP switch's debounced position: True for RUN (always True if none)."""
        if self.switch is None:
            return True
        raw = self.switch.value() != self.switch_inv
        if raw == self._sw_state:
            self._sw_since = now
        elif ticks_diff(now, self._sw_since) >= _SWITCH_FILTER_MS:
            self._sw_state = raw
        return self._sw_state
