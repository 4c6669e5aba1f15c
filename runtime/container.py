# The bytecode container: header, CRC and tables (docs/bytecode.md). Decoding runs on
# the board, so it is MicroPython code that checks every length and count before use:
# hostile bytes give LoadError, never an exception of another kind or a huge allocation.
import struct
from array import array

from .addresses import AREAS
from .crc import crc32
from .image import Debug, Image, LoadError  # noqa: F401 - re-exported for the tools
from .map_limits import MAX_BLOCKS, MAX_RUNGS, MAX_VARS
from .opcodes import (
    F_CONST,
    F_INPUT,
    F_OUTPUT,
    F_RETAIN,
    FORMAT_MAJOR,
    K_CTUD,
    K_RTO,
    K_TON,
    T_BOOL,
    T_INT,
    T_REAL,
    T_TIME,
)

MAGIC = b"RUNG"
HEADER_SIZE = 16
SEC_META = 1
SEC_VARS = 2
SEC_BLOCKS = 3
SEC_CODE = 4
SEC_DEBUG = 5
_REQUIRED = (SEC_META, SEC_VARS, SEC_BLOCKS, SEC_CODE)


class RungTable:
    """Start and end offsets of each rung's code, packed in one array (a list of tuples
    costs a heap object per rung on a board)."""

    def __init__(self):
        self._bounds = array("I")

    def append(self, pair):
        self._bounds.append(pair[0])
        self._bounds.append(pair[1])

    def __len__(self):
        return len(self._bounds) // 2

    def __getitem__(self, i):
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("rung index out of range")
        return self._bounds[2 * i], self._bounds[2 * i + 1]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


# ---- decoding -----------------------------------------------------------------------


class _Reader:
    def __init__(self, data, pos, end):
        self.data = data
        self.pos = pos
        self.end = end

    def need(self, n, what):
        if n < 0 or self.pos + n > self.end:
            raise LoadError("truncated " + what + " at byte " + str(self.pos))

    def u8(self, what):
        self.need(1, what)
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self, what):
        result = 0
        shift = 0
        while True:
            b = self.u8(what)
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 28:
                raise LoadError("varint too long in " + what + " at byte " + str(self.pos))

    def svarint(self, what):
        n = self.varint(what)
        return (n >> 1) ^ -(n & 1)

    def f32(self, what):
        self.need(4, what)
        v = struct.unpack_from("<f", self.data, self.pos)[0]
        self.pos += 4
        return v

    def count(self, what, min_size):
        n = self.varint(what + " count")
        if n * min_size > self.end - self.pos:
            raise LoadError(what + " count " + str(n) + " exceeds the section")
        return n

    def table(self, what, min_size, limit, plural, window):
        """The row count of a table that has a Modbus diagnostic window: the compiler never
        writes more rows than the window has room for (E058), so more is a forged image."""
        n = self.count(what, min_size)
        if n > limit:
            raise LoadError(
                "the program has " + str(n) + " " + plural + "; the Modbus " + window
                + " window has room for " + str(limit) + " (docs/modbus.md, Limits)"
            )
        return n

    def string(self, what):
        n = self.varint(what)
        self.need(n, what)
        raw = self.data[self.pos : self.pos + n]
        self.pos += n
        try:
            return str(raw, "utf-8")
        except (UnicodeError, ValueError):
            raise LoadError("invalid UTF-8 in " + what) from None


def read_value(r, vtype, what):
    """Read one initial value of type vtype."""
    if vtype == T_BOOL:
        b = r.u8(what)
        if b > 1:
            raise LoadError("bool value " + str(b) + " in " + what)
        return b == 1
    if vtype == T_REAL:
        return r.f32(what)
    v = r.svarint(what)
    lo, hi = (-32768, 32767) if vtype == T_INT else (-0x80000000, 0x7FFFFFFF)
    if not lo <= v <= hi:
        raise LoadError("value " + str(v) + " out of range in " + what)
    return v


def decode(data):
    """Check header, length and CRC, then decode the tables. Raises LoadError."""
    if not isinstance(data, (bytes, bytearray)):
        raise LoadError("bytecode must be bytes")
    if len(data) < HEADER_SIZE:
        raise LoadError("file too short for a Rung header (" + str(len(data)) + " bytes)")
    if data[0:4] != MAGIC:
        raise LoadError("not Rung bytecode (bad magic)")
    img = Image()
    img.rungs = RungTable()
    img.major = data[4]
    img.minor = data[5]
    if img.major != FORMAT_MAJOR:
        raise LoadError(
            "bytecode format "
            + str(img.major)
            + "."
            + str(img.minor)
            + " is not supported (this runtime reads "
            + str(FORMAT_MAJOR)
            + ".x)"
        )
    length, crc = struct.unpack_from("<II", data, 8)
    if length != len(data):
        raise LoadError("length field says " + str(length) + " bytes, file has " + str(len(data)))
    actual = crc32(memoryview(data)[HEADER_SIZE:])
    if actual != crc:
        raise LoadError("CRC mismatch: bytecode is corrupted")
    img.crc = crc
    img.data = data
    r = _Reader(data, HEADER_SIZE, len(data))
    seen = []
    while r.pos < r.end:
        tag = r.u8("section tag")
        size = r.varint("section length")
        r.need(size, "section " + str(tag))
        end = r.pos + size
        s = _Reader(data, r.pos, end)
        if tag in _REQUIRED or tag == SEC_DEBUG:
            expected = len(seen)
            if tag == SEC_DEBUG:
                if len(seen) != 4:
                    raise LoadError("debug section before the code section")
            elif expected >= 4 or _REQUIRED[expected] != tag:
                raise LoadError("section " + str(tag) + " out of order")
            seen.append(tag)
            if tag == SEC_META:
                _meta(s, img)
            elif tag == SEC_VARS:
                _vars(s, img)
            elif tag == SEC_BLOCKS:
                _blocks(s, img)
            elif tag == SEC_CODE:
                _code(s, img)
            else:
                img.debug = _debug(s, img)
            if s.pos != end:
                raise LoadError(
                    "section " + str(tag) + " has " + str(end - s.pos) + " extra bytes"
                )
        elif tag < 0x80:
            raise LoadError("unknown required section " + str(tag))
        r.pos = end  # optional sections (tag >= 0x80) from newer minor versions are skipped
    if len(seen) < 4:
        raise LoadError("missing section " + str(_REQUIRED[len(seen)]))
    return img


def _meta(s, img):
    img.cycle_ms = s.varint("cycle time")
    if not 1 <= img.cycle_ms <= 60000:
        raise LoadError("cycle time " + str(img.cycle_ms) + " ms out of range 1..60000")
    img.n_edges = s.count("edge memory", 0)
    if img.n_edges > 65535:
        raise LoadError("too many edge memories")


def _vars(s, img):
    n = s.table("variable", 4, MAX_VARS, "variables", "variable")
    for i in range(n):
        what = "variable " + str(i)
        vtype = s.u8(what)
        if vtype > T_TIME:
            raise LoadError(what + " has unknown type " + str(vtype))
        flags = s.u8(what)
        if flags > 15:
            raise LoadError(what + " has unknown flags " + str(flags))
        if (
            flags & F_CONST
            and flags != F_CONST
            or (flags & F_INPUT and flags & (F_OUTPUT | F_RETAIN))
        ):
            raise LoadError(what + " has conflicting flags " + str(flags))
        area = s.u8(what)
        index = s.varint(what)
        if area:
            info = AREAS.get(area)
            if info is None:
                raise LoadError(what + " has unknown address area " + str(area))
            if vtype not in info[4] or index > info[5]:
                raise LoadError(what + " has an address that does not fit it")
            # an input lives in an input area, an output in an output area, others in memory
            if info[2] != bool(flags & F_INPUT) or info[3] != bool(flags & F_OUTPUT):
                raise LoadError(what + " has an address of the wrong direction")
            if flags & F_CONST:
                raise LoadError(what + " is a constant with an address")
        elif flags & (F_INPUT | F_OUTPUT):
            raise LoadError(what + " is an input or output without an address")
        img.vars.append((vtype, flags, area, index, read_value(s, vtype, what)))


def _blocks(s, img):
    n = s.table("block", 3, MAX_BLOCKS, "timers and counters", "block")
    for i in range(n):
        what = "block " + str(i)
        kind = s.u8(what)
        if not K_TON <= kind <= K_CTUD:
            raise LoadError(what + " has unknown kind " + str(kind))
        flags = s.u8(what)
        if flags > 1:
            raise LoadError(what + " has unknown flags " + str(flags))
        preset = s.svarint(what)
        lo, hi = (0, 0x7FFFFFFF) if kind <= K_RTO else (-32768, 32767)
        if not lo <= preset <= hi:
            raise LoadError(what + " has preset " + str(preset) + " out of range")
        img.blocks.append((kind, flags, preset))


def _code(s, img):
    # every edge memory is used by one RISING/FALLING of two bytes or more: a larger count
    # would only make the runtime allocate slots for nothing
    if img.n_edges * 2 > s.end - s.pos:
        raise LoadError(str(img.n_edges) + " edge memories declared, more than the code can use")
    n = s.table("rung", 1, MAX_RUNGS, "rungs", "power-flow")
    for i in range(n):
        size = s.varint("rung " + str(i) + " length")
        s.need(size, "rung " + str(i))
        img.rungs.append((s.pos, s.pos + size))
        s.pos += size


def _debug(s, img):
    d = Debug()
    d.program = s.string("program name")
    d.source = s.string("source file name")
    for _ in range(len(img.vars)):
        d.var_names.append(s.string("variable name"))
        d.var_descriptions.append(s.string("variable description"))
    for _ in range(len(img.blocks)):
        d.block_names.append(s.string("block name"))
    for _ in range(len(img.rungs)):
        d.rung_names.append(s.string("rung name"))
        d.rung_comments.append(s.string("rung comment"))
        d.rung_lines.append(s.varint("rung line"))
        d.rung_texts.append(s.string("rung text"))
    return d
