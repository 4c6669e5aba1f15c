"""Writing bytecode files (docs/bytecode.md): the counterpart of runtime/container.py's
decoder and runtime/instructions.py's reader, kept out of runtime/ because only the
compiler writes bytecode and every byte of runtime/ costs heap on a board."""

import struct

from rung.runtime.container import (
    HEADER_SIZE,
    MAGIC,
    SEC_BLOCKS,
    SEC_CODE,
    SEC_DEBUG,
    SEC_META,
    SEC_VARS,
)
from rung.runtime.crc import crc32
from rung.runtime.opcodes import FORMAT_MAJOR, FORMAT_MINOR, OPCODES, T_BOOL, T_REAL

BY_NAME = {row[0]: row for row in OPCODES}


def _uvar(out, n):
    if n < 0:
        raise ValueError("negative varint")
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def encode_varint(out, n):
    """Append an unsigned LEB128 varint to bytearray out."""
    _uvar(out, n)


def encode_svarint(out, n):
    """Append a zigzag-encoded signed varint (32-bit range) to bytearray out."""
    if not -0x80000000 <= n <= 0x7FFFFFFF:
        raise ValueError(f"{n} does not fit a 32-bit signed varint")
    _uvar(out, ((n << 1) ^ (n >> 31)) & 0xFFFFFFFF)


def _string(out, text):
    raw = text.encode("utf-8")
    _uvar(out, len(raw))
    out.extend(raw)


def _value(out, vtype, value):
    if vtype == T_BOOL:
        out.append(1 if value else 0)
    elif vtype == T_REAL:
        out.extend(struct.pack("<f", value))
    else:
        encode_svarint(out, int(value))


def _section(out, tag, payload):
    out.append(tag)
    _uvar(out, len(payload))
    out.extend(payload)


def encode(img):
    """Serialise an Image (rung code given in img.rung_bytes, a list of bytes)."""
    body = bytearray()
    p = bytearray()
    _uvar(p, img.cycle_ms)
    _uvar(p, img.n_edges)
    _section(body, SEC_META, p)
    p = bytearray()
    _uvar(p, len(img.vars))
    for vtype, flags, area, index, init in img.vars:
        p.append(vtype)
        p.append(flags)
        p.append(area)
        _uvar(p, index)
        _value(p, vtype, init)
    _section(body, SEC_VARS, p)
    p = bytearray()
    _uvar(p, len(img.blocks))
    for kind, flags, preset in img.blocks:
        p.append(kind)
        p.append(flags)
        encode_svarint(p, preset)
    _section(body, SEC_BLOCKS, p)
    p = bytearray()
    _uvar(p, len(img.rung_bytes))
    for code in img.rung_bytes:
        _uvar(p, len(code))
        p.extend(code)
    _section(body, SEC_CODE, p)
    d = img.debug
    if d is not None:
        p = bytearray()
        _string(p, d.program)
        _string(p, d.source)
        for name, desc in zip(d.var_names, d.var_descriptions, strict=False):
            _string(p, name)
            _string(p, desc)
        for name in d.block_names:
            _string(p, name)
        for name, comment, line, text in zip(
            d.rung_names, d.rung_comments, d.rung_lines, d.rung_texts, strict=False
        ):
            _string(p, name)
            _string(p, comment)
            _uvar(p, line)
            _string(p, text)
        _section(body, SEC_DEBUG, p)
    header = bytearray(MAGIC)
    header.append(FORMAT_MAJOR)
    header.append(FORMAT_MINOR)
    header.extend(b"\0\0")
    header.extend(struct.pack("<II", HEADER_SIZE + len(body), crc32(body)))
    return bytes(header + body)


def encode_instruction(out, name, *operands):
    """Append instruction `name` with its operands to bytearray out."""
    entry = BY_NAME[name]
    shape = entry[2]
    if len(operands) != len(shape):
        raise ValueError(name + " takes " + str(len(shape)) + " operands")
    out.append(entry[1])
    for kind, value in zip(shape, operands, strict=False):
        if kind in "vbe":
            encode_varint(out, value)
        elif kind == "i":
            encode_svarint(out, value)
        elif kind == "f":
            out.extend(struct.pack("<f", value))
        else:
            if not 0 <= value <= 255:
                raise ValueError("byte operand out of range")
            out.append(value)
