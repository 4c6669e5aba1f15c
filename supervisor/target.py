"""Supervisor targets: `tcp:HOST[:PORT]` or `rtu:DEVICE[@BAUD]`, each with an optional `/UNIT`."""

from rung.errors import CommandError

DEFAULT_TCP_PORT = 502
DEFAULT_BAUD = 19200
DEFAULT_UNIT = 1


class Target:
    """Where the device is: kind 'tcp' (host, port) or 'rtu' (device, baud), and a unit id."""

    def __init__(self, kind, host=None, port=None, device=None, baud=None, unit=DEFAULT_UNIT):
        self.kind = kind
        self.host = host
        self.port = port
        self.device = device
        self.baud = baud
        self.unit = unit

    def __str__(self):
        unit = f"/{self.unit}"
        if self.kind == "tcp":
            host = f"[{self.host}]" if ":" in self.host else self.host
            return f"tcp:{host}:{self.port}{unit}"
        return f"rtu:{self.device}@{self.baud}{unit}"

    def client(self, timeout):
        """A fresh pymodbus async client for this target (connection managed by the caller)."""
        if self.kind == "tcp":
            from pymodbus.client import AsyncModbusTcpClient

            return AsyncModbusTcpClient(
                self.host, port=self.port, timeout=timeout, retries=0, reconnect_delay=0
            )
        from pymodbus.client import AsyncModbusSerialClient

        return AsyncModbusSerialClient(
            self.device,
            baudrate=self.baud,
            parity="N",
            stopbits=1,
            bytesize=8,
            timeout=timeout,
            retries=0,
            reconnect_delay=0,
        )


def _number(text, what, lo, hi, spec):
    if not text.isdigit() or not lo <= int(text) <= hi:
        raise CommandError(f"bad target {spec!r}: {what} must be {lo}..{hi}, not {text!r}")
    return int(text)


def parse_target(spec):
    """A Target from its text; CommandError with the expected forms when malformed."""
    forms = "use tcp:HOST[:PORT][/UNIT] or rtu:DEVICE[@BAUD][/UNIT]"
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in ("tcp", "rtu") or not rest:
        raise CommandError(f"bad target {spec!r}: {forms}")
    unit = DEFAULT_UNIT
    body, slash, unit_text = rest.rpartition("/")
    if slash and (unit_text.isdigit() or kind == "tcp"):
        unit = _number(unit_text, "the unit", 0 if kind == "tcp" else 1, 247, spec)
    else:
        body = rest  # a device path such as /dev/ttyUSB0 has slashes of its own
    if kind == "tcp":
        port = DEFAULT_TCP_PORT
        if body.startswith("["):  # [::1]:5020
            host, close, tail = body[1:].partition("]")
            if not close or (tail and not tail.startswith(":")):
                raise CommandError(f"bad target {spec!r}: {forms}")
            if tail:
                port = _number(tail[1:], "the port", 1, 65535, spec)
        else:
            host, colon, port_text = body.partition(":")
            if colon:
                port = _number(port_text, "the port", 1, 65535, spec)
        if not host:
            raise CommandError(f"bad target {spec!r}: no host ({forms})")
        return Target("tcp", host=host, port=port, unit=unit)
    device, at, baud_text = body.rpartition("@")
    if not at:
        device, baud = body, DEFAULT_BAUD
    else:
        baud = _number(baud_text, "the baud rate", 300, 4000000, spec)
    if not device:
        raise CommandError(f"bad target {spec!r}: no serial device ({forms})")
    return Target("rtu", device=device, baud=baud, unit=unit)
