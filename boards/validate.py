"""Checking a board file: every refusal names the file, the key and the reason."""

import re

from rung.runtime.addresses import A_IW, A_IX, A_QW, A_QX, AREAS, PREFIXES

from .chips import CHIPS, board_forbidden, pwm_channel


class BoardError(Exception):
    """A board file that cannot be used; str() is 'file: key: reason'."""

    def __init__(self, file, key, reason):
        super().__init__(f"{file}: {key}: {reason}" if key else f"{file}: {reason}")
        self.file = file
        self.key = key
        self.reason = reason


PORTS = {"esp32": "esp32", "esp32s3": "esp32", "rp2040": "rp2", "rp2350": "rp2"}
TOP_KEYS = {
    "name": str,
    "description": str,
    "chip": str,
    "port": str,
    "micropython": str,
    "heap_budget": int,
    "wifi": bool,
    "watchdog_max_ms": int,
    "timer_id": int,
    "status_led": dict,
    "run_switch": (dict, type(None)),
    "rtu": dict,
    "digital_inputs": dict,
    "digital_outputs": dict,
    "analog_inputs": dict,
    "analog_outputs": dict,
    "safe_outputs": dict,
}
# section -> (IEC area it must use, keys of each entry: key -> (types, required))
SECTIONS = {
    "digital_inputs": (
        A_IX,
        {
            "pin": (int, True),
            "pull": ((str, type(None)), False),
            "inverted": (bool, False),
            "filter_ms": (int, False),
        },
    ),
    "digital_outputs": (A_QX, {"pin": (int, True), "inverted": (bool, False)}),
    "analog_inputs": (A_IW, {"pin": (int, True)}),
    "analog_outputs": (A_QW, {"pin": (int, True), "freq": (int, True)}),
}
PULLS = ("up", "down", None)
MAX_FILTER_MS = 1000
PWM_FREQ = (10, 40000)
_ADDRESS = re.compile(r"^%([A-Z]{2})(\d+)(?:\.(\d+))?$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def parse_address(text):
    """'%IX1.2' -> (area, index) per runtime/addresses.py, or a reason string."""
    m = _ADDRESS.match(text) if isinstance(text, str) else None
    if m is None:
        return "not an IEC address such as %IX0.0 or %QW1"
    area = PREFIXES.get(m.group(1))
    if area is None:
        return f"%{m.group(1)} is not an area of the address map"
    _prefix, is_bit, _i, _o, _types, highest = AREAS[area]
    if is_bit:
        if m.group(3) is None:
            return f"%{m.group(1)} needs a bit number, e.g. %{m.group(1)}0.3"
        if int(m.group(3)) > 7:
            return "bits are numbered 0-7"
        index = int(m.group(2)) * 8 + int(m.group(3))
    else:
        if m.group(3) is not None:
            return f"%{m.group(1)} addresses a whole word: no bit number"
        index = int(m.group(2))
    if index > highest:
        return f"beyond the last %{m.group(1)} address of the map"
    return area, index


class _Checker:
    def __init__(self, file, data):
        self.file = file
        self.d = data
        self.used = {}  # pin -> key that uses it

    def fail(self, key, reason):
        raise BoardError(self.file, key, reason)

    def typed(self, key, value, types):
        if isinstance(value, bool) and types in (int, (int, type(None))):
            self.fail(key, "must be a whole number, not true/false")
        if not isinstance(value, types):
            names = types if isinstance(types, tuple) else (types,)
            want = " or ".join(_TYPE_NAMES[t] for t in names)
            self.fail(key, f"must be {want}, not {_json_name(value)}")

    def keys(self, key, obj, spec):
        for k in obj:
            if k not in spec:
                self.fail(f"{key}.{k}" if key else k, "unknown key")
        for k, (types, required) in spec.items():
            if k not in obj:
                if required:
                    self.fail(f"{key}.{k}" if key else k, "missing")
                continue
            self.typed(f"{key}.{k}" if key else k, obj[k], types)

    def pin(self, key, pin, output=False, pulled=False, analog=False, led=False):
        chip = self.chip
        if isinstance(pin, str):
            if led and pin in chip.led_names and self.d["wifi"]:
                return  # the Pico W's LED hangs on the radio chip
            self.fail(key, f"{pin!r} is not a pin of this board (GPIO numbers are integers)")
        if pin not in chip.gpios:
            self.fail(key, f"GPIO {pin} does not exist on the {chip.title}")
        reason = self.forbidden.get(pin)
        if reason and not (led and pin == 25 and chip.led_names and not self.d["wifi"]):
            self.fail(key, f"GPIO {pin} is {reason}")
        if pin in chip.input_only:
            if output:
                self.fail(key, f"GPIO {pin} is input only on the {chip.title} (no output)")
            if pulled:
                self.fail(key, f"GPIO {pin} has no pull resistors on the {chip.title}")
        if analog and pin not in chip.adc:
            self.fail(key, f"GPIO {pin} cannot be an analog input: {chip.adc_reason}")
        if pin in self.used:
            self.fail(key, f"GPIO {pin} is already used by {self.used[pin]}")
        self.used[pin] = key

    def check(self):
        d = self.d
        if not isinstance(d, dict):
            self.fail("", "a board file is a JSON object")
        for k in d:
            if k not in TOP_KEYS:
                self.fail(k, "unknown key")
        for k, types in TOP_KEYS.items():
            if k not in d:
                self.fail(k, "missing")
            self.typed(k, d[k], types)
        if d["chip"] not in CHIPS:
            self.fail("chip", f"unknown chip {d['chip']!r} (known: {', '.join(sorted(CHIPS))})")
        self.chip = CHIPS[d["chip"]]
        self.forbidden = board_forbidden(self.chip, d["wifi"])
        if d["port"] != PORTS[d["chip"]]:
            self.fail(
                "port", f"the {self.chip.title} runs MicroPython's {PORTS[d['chip']]!r} port"
            )
        if not _VERSION.match(d["micropython"]):
            self.fail("micropython", "a version such as 1.23.0")
        if d["heap_budget"] < 8192:
            self.fail("heap_budget", "at least 8192 bytes")
        if not 100 <= d["watchdog_max_ms"] <= 3600000:
            self.fail("watchdog_max_ms", "between 100 and 3600000 ms")
        self.check_special()
        self.check_sections()
        self.check_safe()
        return d

    def check_special(self):
        d = self.d
        self.keys(
            "status_led", d["status_led"], {"pin": ((int, str), True), "inverted": (bool, False)}
        )
        self.pin("status_led.pin", d["status_led"]["pin"], output=True, led=True)
        if d["run_switch"] is not None:
            spec = {
                "pin": (int, True),
                "pull": ((str, type(None)), False),
                "inverted": (bool, False),
            }
            self.keys("run_switch", d["run_switch"], spec)
            self.pull("run_switch.pull", d["run_switch"].get("pull"))
            self.pin(
                "run_switch.pin", d["run_switch"]["pin"], pulled=bool(d["run_switch"].get("pull"))
            )
        spec = {
            "uart": (int, True),
            "tx": (int, True),
            "rx": (int, True),
            "de": ((int, type(None)), False),
        }
        rtu = d["rtu"]
        self.keys("rtu", rtu, spec)
        if rtu["uart"] not in self.chip.uarts:
            ids = ", ".join(str(u) for u in self.chip.uarts)
            self.fail(
                "rtu.uart",
                f"UART {rtu['uart']} cannot serve RTU on the {self.chip.title} (use {ids})",
            )
        self.pin("rtu.tx", rtu["tx"], output=True)
        self.pin("rtu.rx", rtu["rx"])
        if self.chip.uart_pins is not None:
            tx_pins, rx_pins = self.chip.uart_pins[rtu["uart"]]
            if rtu["tx"] not in tx_pins:
                self.fail(
                    "rtu.tx", f"UART{rtu['uart']} TX is on GP{', GP'.join(map(str, tx_pins))}"
                )
            if rtu["rx"] not in rx_pins:
                self.fail(
                    "rtu.rx", f"UART{rtu['uart']} RX is on GP{', GP'.join(map(str, rx_pins))}"
                )
        if rtu.get("de") is not None:
            self.pin("rtu.de", rtu["de"], output=True)

    def pull(self, key, value):
        if value not in PULLS:
            self.fail(key, 'must be "up", "down" or null')

    def check_sections(self):
        self.addresses = {}
        pwm = {}
        for section, (area, spec) in SECTIONS.items():
            for addr, entry in self.d[section].items():
                key = f"{section}.{addr}"
                got = parse_address(addr)
                if isinstance(got, str):
                    self.fail(key, got)
                if got[0] != area:
                    want = "%" + AREAS[area][0]
                    self.fail(key, f"{section} are {want} addresses")
                if not isinstance(entry, dict):
                    self.fail(
                        key, f'must be an object such as {{"pin": 4}}, not {_json_name(entry)}'
                    )
                self.keys(key, entry, spec)
                pin = entry["pin"]
                if section == "digital_inputs":
                    self.pull(key + ".pull", entry.get("pull"))
                    if not 0 <= entry.get("filter_ms", 0) <= MAX_FILTER_MS:
                        self.fail(key + ".filter_ms", f"between 0 and {MAX_FILTER_MS} ms")
                    self.pin(key + ".pin", pin, pulled=bool(entry.get("pull")))
                elif section == "analog_inputs":
                    self.pin(key + ".pin", pin, analog=True)
                else:
                    self.pin(key + ".pin", pin, output=True)
                if section == "analog_outputs":
                    lo, hi = PWM_FREQ
                    if not lo <= entry["freq"] <= hi:
                        self.fail(key + ".freq", f"between {lo} and {hi} Hz")
                    if self.chip.pwm_slices:
                        self.pwm_slice(key, pin, entry["freq"], pwm)
                self.addresses[addr] = section

    def pwm_slice(self, key, pin, freq, seen):
        slc, channel = pwm_channel(pin)
        for other_key, (other_slice, other_channel, other_freq) in seen.items():
            if other_slice == slc and other_channel == channel:
                self.fail(key + ".pin", f"GP{pin} is on the same PWM channel as {other_key}")
            if other_slice == slc and other_freq != freq:
                self.fail(
                    key + ".freq", f"PWM slice {slc} is shared with {other_key} at {other_freq} Hz"
                )
        seen[key] = (slc, channel, freq)

    def check_safe(self):
        safe = self.d["safe_outputs"]
        outputs = [
            a for a, s in self.addresses.items() if s in ("digital_outputs", "analog_outputs")
        ]
        for addr, value in safe.items():
            key = f"safe_outputs.{addr}"
            if addr not in outputs:
                self.fail(key, "not an output of this board")
            if self.addresses[addr] == "digital_outputs":
                if not isinstance(value, bool):
                    self.fail(key, "a digital output's safe value is true or false")
            elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 32767:
                self.fail(key, "an analog output's safe value is a whole number 0..32767")
        for addr in outputs:
            if addr not in safe:
                self.fail("safe_outputs", f"no safe value for {addr}")


_TYPE_NAMES = {
    str: "a string",
    int: "a whole number",
    bool: "true or false",
    dict: "an object",
    type(None): "null",
}


def _json_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {
        str: "a string",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def check_board(file, data):
    """The board data if it follows every rule, else BoardError."""
    return _Checker(file, data).check()
