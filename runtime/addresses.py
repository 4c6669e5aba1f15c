# The IEC address map: which located areas exist, what they hold and how they are
# numbered. Compiler, runtime, Modbus map and board files all import this table.
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


from .opcodes import T_BOOL, T_DINT, T_INT, T_REAL, T_TIME

A_NONE = const(0)
A_IX = const(1)  # bool inputs, %IX<byte>.<bit>
A_QX = const(2)  # bool outputs, %QX<byte>.<bit>
A_IW = const(3)  # 16-bit inputs (analog), %IW<n>
A_QW = const(4)  # 16-bit outputs (PWM/analog), %QW<n>
A_MW = const(5)  # 16-bit memory, %MW<n>
A_MD = const(6)  # 32-bit memory, %MD<n>

# code -> (prefix, is_bit, is_input, is_output, types that fit, highest index)
# Bit areas number bits as byte*8+bit; the highest byte is 255 (2048 bits).
AREAS = {
    A_IX: ("IX", True, True, False, (T_BOOL,), 2047),
    A_QX: ("QX", True, False, True, (T_BOOL,), 2047),
    A_IW: ("IW", False, True, False, (T_INT,), 1023),
    A_QW: ("QW", False, False, True, (T_INT,), 1023),
    A_MW: ("MW", False, False, False, (T_INT,), 1023),
    A_MD: ("MD", False, False, False, (T_DINT, T_REAL, T_TIME), 1023),
}
PREFIXES = {}
for _code in AREAS:
    PREFIXES[AREAS[_code][0]] = _code
del _code


def format_address(area, index):
    """Render an (area, index) pair in IEC syntax, e.g. (A_IX, 10) -> '%IX1.2'."""
    if area == A_NONE:
        return ""
    prefix, is_bit = AREAS[area][0], AREAS[area][1]
    if is_bit:
        return "%" + prefix + str(index // 8) + "." + str(index % 8)
    return "%" + prefix + str(index)
