# Retained memory: the values of `retain` variables and the whole state of retained
# timers/counters, packed with an identity of the program's retained layout and a CRC32 of
# their own, so a snapshot is refused by a program that retains other things and a
# corrupted one is detected. Restoring a snapshot into a freshly loaded program gives
# exactly the state rt.restart() gives: a board's power cycle and the emulator's agree.
import struct

from .blocks import block_slots
from .crc import crc32
from .image import LoadError
from .opcodes import B_RETAIN, F_RETAIN, K_RTO, T_BOOL, T_INT, T_REAL

MAGIC = b"RRET"
VERSION = 2
_FMT = {T_BOOL: "B", T_INT: "h", T_REAL: "f"}  # dint and time: "i"
# slot types of a timer (Q, ET, PT, IN memory, state) and of a counter (CV, PV, QU, QD,
# the CU/CD/R/LD inputs latched this scan, the CU/CD edge memories)
_TIMER = (T_BOOL, 2, 2, T_BOOL, T_INT)
_COUNTER = (T_INT, T_INT) + (T_BOOL,) * 8


class RetainCodec:
    """Knows which slots of a program are retained and how to pack them."""

    def __init__(self, img, layout):
        slots = []
        kinds = []
        identity = bytearray()
        for i, var in enumerate(img.vars):
            if var[1] & F_RETAIN:
                slots.append(i)
                kinds.append(var[0])
                identity.extend(struct.pack("<HB", i, var[0]))
        for b, blk in enumerate(img.blocks):
            if blk[1] & B_RETAIN:
                base = layout.block_base[b]
                types = _TIMER if blk[0] <= K_RTO else _COUNTER
                for off in range(block_slots(blk[0])):
                    slots.append(base + off)
                    kinds.append(types[off])
                identity.extend(struct.pack("<HB", 0x8000 | b, blk[0]))
        # the snapshot fits any program that retains the same variables and blocks at the
        # same places in its tables: rungs, comments and names may change
        self.layout_id = crc32(identity)
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
        body.extend(struct.pack("<IH", self.layout_id, len(self.slots)))
        body.extend(struct.pack(self.fmt, *values))
        body.extend(struct.pack("<I", crc32(body)))
        return bytes(body)

    def restore(self, v, data):
        """Unpack a snapshot into v; LoadError if it is corrupt or of another program."""
        head = 11
        if isinstance(data, memoryview):
            data = bytes(data)
        if not isinstance(data, (bytes, bytearray)):
            raise LoadError("a retain snapshot is bytes")
        if len(data) < head + 4:
            raise LoadError("retain snapshot too short (" + str(len(data)) + " bytes)")
        if data[0:4] != MAGIC:
            raise LoadError("not a Rung retain snapshot")
        if data[4] != VERSION:
            raise LoadError("retain snapshot format " + str(data[4]) + " is not supported")
        if struct.unpack_from("<I", data, len(data) - 4)[0] != crc32(memoryview(data)[:-4]):
            raise LoadError("retain snapshot is corrupted (CRC mismatch)")
        layout_id, count = struct.unpack_from("<IH", data, 5)
        if layout_id != self.layout_id:
            raise LoadError(
                "retain snapshot belongs to another program (its retained variables differ)"
            )
        if count != len(self.slots) or len(data) != head + self.size + 4:
            raise LoadError("retain snapshot does not match this program's layout")
        values = struct.unpack_from(self.fmt, data, head)
        kinds = self.kinds
        for k, slot in enumerate(self.slots):
            v[slot] = bool(values[k]) if kinds[k] == T_BOOL else values[k]
