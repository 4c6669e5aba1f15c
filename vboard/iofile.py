"""The host's side of the virtual board's I/O file (layout: doubles/vbio_layout.py)."""

import os

from .doubles import vbio_layout as L

MODE_NAMES = {
    L.MODE_UNUSED: "-",
    L.MODE_IN: "in",
    L.MODE_OUT: "out",
    L.MODE_OPEN_DRAIN: "od",
    L.MODE_ADC: "adc",
    L.MODE_PWM: "pwm",
}


def pin_slot(pin):
    """The I/O file slot of a pin: a GPIO number, "GPn" or "LED" (as machine.Pin takes)."""
    if isinstance(pin, bool):
        raise ValueError(f"not a pin: {pin!r}")
    if isinstance(pin, int):
        if 0 <= pin < L.LED_SLOT:
            return pin
    elif isinstance(pin, str):
        if pin == "LED":
            return L.LED_SLOT
        p = pin[2:] if pin.startswith("GP") else pin
        if p.isdigit():
            return pin_slot(int(p))
    raise ValueError(f"not a pin: {pin!r} (a GPIO number 0..{L.LED_SLOT - 1}, GPn or LED)")


class IoFile:
    """Reads and writes the shared I/O file at the offsets both sides agree on."""

    def __init__(self, path):
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(fd).st_size != L.SIZE:
            init = bytearray(L.SIZE)
            init[: len(L.MAGIC)] = L.MAGIC
            init[L.AP_UP] = 1
            for i in range(L.SLOTS):
                init[L.LEVEL_IN + i] = L.NOT_DRIVEN
            init[L.CUT_AT : L.CUT_AT + 4] = L.NO_CUT.to_bytes(4, "little")
            os.pwrite(fd, bytes(init), 0)
            os.ftruncate(fd, L.SIZE)
        self.fd = fd

    def close(self):
        """Close the file (it stays on disk)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def get(self, off, n):
        """An unsigned little-endian integer of n bytes at off."""
        return int.from_bytes(os.pread(self.fd, n, off), "little")

    def put(self, off, n, value):
        """Store an unsigned little-endian integer of n bytes at off."""
        os.pwrite(self.fd, int(value).to_bytes(n, "little"), off)

    def board_reset(self):
        """What a reset does to the chip: pins back to inputs, PWM off, no watchdog; what
        the world drives (input levels, ADC values, the access point) stays."""
        ap = self.get(L.AP_UP, 1)
        zero = bytes(L.SLOTS)
        os.pwrite(self.fd, zero, L.MODE)
        os.pwrite(self.fd, zero, L.PULL)
        os.pwrite(self.fd, zero, L.LEVEL_OUT)
        os.pwrite(self.fd, bytes(6 * L.SLOTS), L.PWM_FREQ)
        os.pwrite(self.fd, bytes(12), L.REQ)
        self.put(L.GC_HOLD, 1, 0)
        self.put(L.FLASH_WRITES, 4, 0)
        self.put(L.CUT_AT, 4, L.NO_CUT)
        self.put(L.AP_UP, 1, ap)
