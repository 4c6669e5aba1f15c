"""What each chip's pins can and cannot do: the rules a board file is checked against.

Sources: Espressif's ESP32 and ESP32-S3 datasheets (strapping pins, flash/PSRAM pins, ADC
units), MicroPython's esp32 and rp2 quick references, the RP2040/RP2350 datasheets' GPIO
function tables (UART pins) and docs/boards.md."""


class Chip:
    """One chip family: valid GPIOs, pins refused with a reason, and per-use limits."""

    def __init__(
        self,
        name,
        title,
        gpios,
        forbidden,
        input_only=(),
        adc=(),
        adc_reason="",
        uarts=(),
        uart_pins=None,
        led_names=(),
        pwm_slices=False,
    ):
        self.name = name
        self.title = title
        self.gpios = frozenset(gpios)
        self.forbidden = dict(forbidden)  # pin -> reason (any use)
        self.input_only = frozenset(input_only)  # no output driver and no pulls
        self.adc = frozenset(adc)  # pins usable as analog inputs
        self.adc_reason = adc_reason
        self.uarts = tuple(uarts)  # UART ids the RTU port may use
        self.uart_pins = uart_pins  # uart id -> (tx pins, rx pins), or None: any GPIO
        self.led_names = tuple(led_names)  # named pins allowed as the status LED
        self.pwm_slices = pwm_slices  # rp2: pins share a PWM slice (frequency) by number


def _reasons(pins, reason):
    return {p: reason for p in pins}


_ESP32_FORBIDDEN = {}
_ESP32_FORBIDDEN.update(_reasons((1, 3), "UART0 of the USB console (the REPL)"))
_ESP32_FORBIDDEN.update(_reasons(range(6, 12), "connected to the SPI flash"))
_ESP32_FORBIDDEN.update(
    _reasons((0, 2, 5, 12, 15), "a strapping pin: its level at reset selects the boot mode")
)

_S3_FORBIDDEN = {}
_S3_FORBIDDEN.update(_reasons((0, 3, 45, 46), "a strapping pin: its level at reset matters"))
_S3_FORBIDDEN.update(_reasons((19, 20), "the native USB (D-/D+)"))
_S3_FORBIDDEN.update(_reasons(range(26, 33), "connected to the SPI flash"))
_S3_FORBIDDEN.update(_reasons(range(33, 38), "the octal flash/PSRAM of R8 and N16R8 modules"))
_S3_FORBIDDEN.update(_reasons((43, 44), "UART0 of the USB-UART console (the REPL)"))
_S3_FORBIDDEN.update(_reasons((38, 48), "the DevKitC-1's RGB LED (WS2812 data line)"))

# Pico boards: GP23, 24, 25 and 29 are not on the header. On a Pico they are the SMPS
# mode pin, VBUS sense, the LED and VSYS/3; on a Pico W / Pico 2 W they drive the
# CYW43 radio (GP29 is its clock), so using them kills Wi-Fi.
_PICO_FORBIDDEN = {
    23: "internal (SMPS power-save pin), not on the header",
    24: "internal (VBUS sense), not on the header",
    25: "the on-board LED (status LED only)",
    29: "internal (VSYS/3 sense), not on the header",
}
_PICO_W_FORBIDDEN = _reasons((23, 24, 25, 29), "drives the CYW43 radio (Wi-Fi)")

_RP_UARTS = {0: ((0, 12, 16, 28), (1, 13, 17)), 1: ((4, 8, 20), (5, 9, 21))}


def _raspberry_pi(name, title):
    """RP2040 and RP2350 (QFN-60): GP0-GP29, ADC on GP26-28, the same UART pin pairs."""
    return Chip(
        name,
        title,
        range(0, 30),
        {},
        adc=(26, 27, 28),
        adc_reason="the ADC inputs are GP26-GP28",
        uarts=(0, 1),
        uart_pins=_RP_UARTS,
        led_names=("LED",),
        pwm_slices=True,
    )


CHIPS = {
    "esp32": Chip(
        "esp32",
        "ESP32",
        list(range(0, 20)) + [21, 22, 23, 25, 26, 27] + list(range(32, 40)),
        _ESP32_FORBIDDEN,
        input_only=range(34, 40),
        adc=range(32, 40),
        adc_reason="ADC1 is GPIO 32-39; ADC2 pins stop working while Wi-Fi is on",
        uarts=(1, 2),
    ),
    "esp32s3": Chip(
        "esp32s3",
        "ESP32-S3",
        list(range(0, 22)) + list(range(26, 49)),
        _S3_FORBIDDEN,
        adc=range(1, 11),
        adc_reason="ADC1 is GPIO 1-10; ADC2 pins stop working while Wi-Fi is on",
        uarts=(1, 2),
    ),
    "rp2040": _raspberry_pi("rp2040", "RP2040"),
    "rp2350": _raspberry_pi("rp2350", "RP2350"),  # the Pico 2's pins follow the Pico's
}


def board_forbidden(chip, wifi):
    """Pins refused on a board with this chip (Pico boards add their own)."""
    pins = dict(chip.forbidden)
    if chip.name in ("rp2040", "rp2350"):
        pins.update(_PICO_W_FORBIDDEN if wifi else _PICO_FORBIDDEN)
    return pins


def pwm_channel(pin):
    """rp2: (slice, channel) of a GPIO; pins on one slice share a frequency."""
    return (pin >> 1) & 7, pin & 1
