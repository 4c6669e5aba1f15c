# Reading single instructions by the operand shapes of runtime/opcodes.py: shared by the
# verifier (runtime) and the disassembler (compiler). The writer is compiler/bytecode_writer.py.
import struct

from .image import LoadError
from .opcodes import BY_CODE


def read_instruction(code, pos, end):
    """Decode the instruction at code[pos] (before end): (entry, operands, next_pos).

    entry is the OPCODES row (name, code, shape, pops, pushes); operands a tuple of ints
    (floats for "f"). Raises LoadError on an unknown opcode or a truncated operand."""
    if pos >= end:
        raise LoadError("truncated instruction at byte " + str(pos))
    entry = BY_CODE.get(code[pos])
    if entry is None:
        raise LoadError("unknown opcode 0x" + "%02x" % code[pos] + " at byte " + str(pos))
    pos += 1
    shape = entry[2]
    if not shape:
        return entry, (), pos
    operands = []
    for kind in shape:
        if kind in "vbei":
            n = 0
            shift = 0
            while True:
                if pos >= end:
                    raise LoadError("truncated operand of " + entry[0] + " at byte " + str(pos))
                b = code[pos]
                pos += 1
                n |= (b & 0x7F) << shift
                if not b & 0x80:
                    break
                shift += 7
                if shift > 28:
                    raise LoadError("operand too long in " + entry[0] + " at byte " + str(pos))
            if kind == "i":
                n = (n >> 1) ^ -(n & 1)
            operands.append(n)
        elif kind == "f":
            if pos + 4 > end:
                raise LoadError("truncated operand of " + entry[0] + " at byte " + str(pos))
            operands.append(struct.unpack_from("<f", code, pos)[0])
            pos += 4
        else:  # "m", "s", "t": one byte
            if pos >= end:
                raise LoadError("truncated operand of " + entry[0] + " at byte " + str(pos))
            operands.append(code[pos])
            pos += 1
    return entry, tuple(operands), pos
