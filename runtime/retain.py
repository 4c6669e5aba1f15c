# Retained memory: the values of `retain` variables and of retained timers/counters, packed
# with the program's CRC and a CRC32 of their own, so a snapshot is refused by another
# program and a corrupted one is detected.
import struct

from .crc import crc32
from .image import LoadError
from .opcodes import B_RETAIN, F_RETAIN, K_RTO, T_BOOL, T_INT, T_REAL

MAGIC = b"RRET"
VERSION = 1
_FMT = {T_BOOL: "B", T_INT: "h", T_REAL: "f"}  # dint and time: "i"


class RetainCodec:
    """Knows which slots of a program are retained and how to pack them."""

    def __init__(self, img, layout):
        self.program_crc = img.crc
        slots = []
        kinds = []
        for i, var in enumerate(img.vars):
            if var[1] & F_RETAIN:
                slots.append(i)
                kinds.append(var[0])
        for b, blk in enumerate(img.blocks):
            if blk[1] & B_RETAIN:
                base = layout.block_base[b]
                if blk[0] <= K_RTO:  # Q, ET, PT, state (IN memory restarts)
                    for off, t in ((0, T_BOOL), (1, 2), (2, 2), (4, 2)):
                        slots.append(base + off)
                        kinds.append(t)
                else:  # CV, PV, QU, QD
                    for off, t in ((0, T_INT), (1, T_INT), (2, T_BOOL), (3, T_BOOL)):
                        slots.append(base + off)
                        kinds.append(t)
        self.slots = slots
        self.kinds = kinds
        self.fmt = "<" + "".join(_FMT.get(t, "i") for t in kinds)
        self.size = struct.calcsize(self.fmt)

    def snapshot(self, v):
        """Pack the retained slots of v."""
        values = []
        kinds = self.kinds
        for k, slot in enumerate(self.slots):
            x = v[slot]
            values.append((1 if x else 0) if kinds[k] == T_BOOL else x)
        body = bytearray(MAGIC)
        body.append(VERSION)
        body.extend(struct.pack("<IH", self.program_crc, len(self.slots)))
        body.extend(struct.pack(self.fmt, *values))
        body.extend(struct.pack("<I", crc32(body)))
        return bytes(body)

    def restore(self, v, data):
        """Unpack a snapshot into v; LoadError if it is corrupt or of another program."""
        head = 11
        if not isinstance(data, (bytes, bytearray)) or len(data) < head + 4:
            raise LoadError("retain snapshot too short")
        if data[0:4] != MAGIC or data[4] != VERSION:
            raise LoadError("not a Rung retain snapshot")
        if struct.unpack_from("<I", data, len(data) - 4)[0] != crc32(memoryview(data)[:-4]):
            raise LoadError("retain snapshot is corrupted (CRC mismatch)")
        crc, count = struct.unpack_from("<IH", data, 5)
        if crc != self.program_crc:
            raise LoadError("retain snapshot belongs to another program")
        if count != len(self.slots) or len(data) != head + self.size + 4:
            raise LoadError("retain snapshot does not match this program's layout")
        values = struct.unpack_from(self.fmt, data, head)
        kinds = self.kinds
        for k, slot in enumerate(self.slots):
            v[slot] = bool(values[k]) if kinds[k] == T_BOOL else values[k]
