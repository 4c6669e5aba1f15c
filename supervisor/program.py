"""The program a supervisor watches: names, types, Modbus addresses and rung structure of
each variable and block member, from a .rung source or a .rbc file."""

import struct

from rung.compiler.ladder import program_model
from rung.errors import CommandError
from rung.runtime import opcodes as O
from rung.runtime.addresses import A_MD, A_MW, A_QW, A_QX, format_address
from rung.runtime.modbus_map import HR_MD, HR_MW, HR_QW

# Block registers of the diagnostic window (docs/modbus.md): member -> (offset, 32 bits)
TIMER_REGS = {O.M_Q: (0, False), O.M_ET: (2, True), O.M_PT: (4, True)}
COUNTER_REGS = {
    O.M_Q: (0, False),
    O.M_QU: (0, False),
    O.M_QD: (1, False),
    O.M_CV: (2, True),
    O.M_PV: (4, True),
}


class Tag:
    """One row of the tag table: a variable or a block member."""

    def __init__(self, key, name, vtype, kind, description=""):
        self.key = key  # "v3" or "b1.ET": stable across reloads of the same program
        self.name = name
        self.vtype = vtype
        self.kind = kind  # input, output, memory, const, member
        self.description = description
        self.address = ""
        self.var = None  # variable index
        self.block = None  # (block index, member code)
        self.write = None  # ("coil", n) / ("hr", n) / ("hr32", n) or None
        self.forceable = False

    @property
    def type_name(self):
        return O.TYPE_NAMES[self.vtype]


class Program:
    """A decoded image plus what the supervisor derives from it."""

    def __init__(self, img, path=""):
        self.img = img
        self.path = path
        self.crc = img.crc
        d = img.debug
        self.name = (d.program if d else "") or path
        self.var_names = d.var_names if d else ["v" + str(i) for i in range(len(img.vars))]
        self.block_names = d.block_names if d else ["b" + str(i) for i in range(len(img.blocks))]
        self.rungs = program_model(img)
        self.tags = []
        self.by_name = {}
        for i, (vtype, flags, area, index, _init) in enumerate(img.vars):
            tag = Tag("v" + str(i), self.var_names[i], vtype, _kind(flags, area))
            tag.description = d.var_descriptions[i] if d else ""
            tag.var = i
            tag.address = format_address(area, index)
            tag.forceable = bool(flags & (O.F_INPUT | O.F_OUTPUT))
            if not flags & O.F_CONST:
                tag.write = _write_path(area, index)
            self._add(tag)
        for b, (kind, _flags, _preset) in enumerate(img.blocks):
            members = O.TIMER_MEMBERS if kind <= O.K_RTO else O.COUNTER_MEMBERS[kind]
            for m in members:
                name = self.block_names[b] + "." + O.MEMBER_NAMES[m]
                tag = Tag(f"b{b}.{O.MEMBER_NAMES[m]}", name, O.MEMBER_TYPES[m], "member")
                tag.block = (b, m)
                tag.description = O.KIND_NAMES[kind]
                self._add(tag)

    def _add(self, tag):
        self.tags.append(tag)
        self.by_name[tag.name] = tag

    def tag(self, name):
        """A tag by name; CommandError when the program has none of that name."""
        tag = self.by_name.get(name)
        if tag is None:
            raise CommandError(f"no variable or member named {name!r} in {self.name}")
        return tag

    def counts(self):
        """(variables, blocks, rungs) as the device's status block reports them."""
        return len(self.img.vars), len(self.img.blocks), len(self.img.rungs)


def _kind(flags, area):
    if flags & O.F_CONST:
        return "const"
    if flags & O.F_INPUT:
        return "input"
    if flags & O.F_OUTPUT:
        return "output"
    return "memory"


def _write_path(area, index):
    """How Modbus writes this variable, or None (inputs, unlocated: force them instead)."""
    if area == A_QX:
        return ("coil", index)
    if area == A_QW:
        return ("hr", HR_QW + index)
    if area == A_MW:
        return ("hr", HR_MW + index)
    if area == A_MD:
        return ("hr32", HR_MD + 2 * index)
    return None


def load_program(path):
    """A Program from PROG.rung (compiled) or PROG.rbc (decoded); CommandError otherwise."""
    from rung.compiler.api import compile_file
    from rung.compiler.diagnostics import CompileError
    from rung.runtime import Runtime
    from rung.runtime.container import LoadError, decode

    if path.endswith(".rung"):
        try:
            img = compile_file(path).image
        except CompileError as exc:
            raise CommandError(f"{path} does not compile:\n{exc.render()}") from None
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
        return Program(img, path)
    try:
        with open(path, "rb") as f:
            data = f.read(16 * 1024 * 1024)
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        img = decode(data)
        Runtime(img.data)  # the verifier: only well-formed code is drawn
    except LoadError as exc:
        raise CommandError(f"{path}: {exc}") from None
    return Program(img, path)


# ---- values ---------------------------------------------------------------------------


def s32(n):
    """An unsigned 32-bit number as two's complement."""
    n &= 0xFFFFFFFF
    return n - 0x100000000 if n & 0x80000000 else n


def decode_value(vtype, word32):
    """A variable's value from the 32 bits the diagnostic window gives."""
    if vtype == O.T_BOOL:
        return bool(word32 & 1)
    if vtype == O.T_REAL:
        return struct.unpack(">f", struct.pack(">I", word32 & 0xFFFFFFFF))[0]
    if vtype == O.T_INT:
        n = word32 & 0xFFFF
        return n - 0x10000 if n & 0x8000 else n
    return s32(word32)


_TRUE = ("1", "true", "on", "yes")
_FALSE = ("0", "false", "off", "no")


def parse_value(vtype, text):
    """A typed value from what a user typed; ValueError with a readable message."""
    t = str(text).strip()
    if vtype == O.T_BOOL:
        if t.lower() in _TRUE:
            return True
        if t.lower() in _FALSE:
            return False
        raise ValueError(f"a bool is true/false or 1/0, not {t!r}")
    if vtype == O.T_REAL:
        try:
            x = float(t)
        except ValueError:
            raise ValueError(f"not a number: {t!r}") from None
        if x != x or x in (float("inf"), float("-inf")):
            raise ValueError(f"not a finite number: {t!r}")
        if abs(x) > 3.4028234e38:
            raise ValueError(f"{t} is out of range for a real")
        return x
    if vtype == O.T_TIME and t and not t.lstrip("-").isdigit():
        from rung.simulator import parse_time

        try:
            n = parse_time(t)
        except Exception:
            raise ValueError(f"not a duration: {t!r} (use ms or 1m30s, 2s, 500ms)") from None
    else:
        try:
            n = int(t, 10)
        except ValueError:
            raise ValueError(f"not an integer: {t!r}") from None
    lo, hi = (-32768, 32767) if vtype == O.T_INT else (-0x80000000, 0x7FFFFFFF)
    if not lo <= n <= hi:
        raise ValueError(f"{n} is out of range for {O.TYPE_NAMES[vtype]} ({lo}..{hi})")
    return n


def value_text(vtype, value):
    """A value as the tables show it."""
    if value is None:
        return "?"
    if vtype == O.T_BOOL:
        return "TRUE" if value else "FALSE"
    if vtype == O.T_REAL:
        return f"{value:.7g}"
    if vtype == O.T_TIME:
        return f"{value}ms"
    return str(value)


def registers(vtype, value):
    """The holding registers that store a value: one for int, two (high first) for 32 bits."""
    if vtype == O.T_REAL:
        n = struct.unpack(">I", struct.pack(">f", value))[0]
    else:
        n = int(value) & 0xFFFFFFFF
    return [(n >> 16) & 0xFFFF, n & 0xFFFF]
