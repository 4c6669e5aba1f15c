# The one opcode table of Rung bytecode, imported by the compiler, the runtime's
# verifier/translator and the disassembler. See docs/bytecode.md.
#
# Operand shapes (all little-endian):
#   "v" variable index, "b" block index, "e" edge-memory index: unsigned LEB128 varint
#   "m" member code, "s" system contact, "t" type code: one byte
#   "i" signed integer: zigzag varint       "f" real: IEEE-754 binary32
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


FORMAT_MAJOR = const(1)
FORMAT_MINOR = const(0)

# Value types
T_BOOL = const(0)
T_INT = const(1)  # 16-bit signed
T_DINT = const(2)  # 32-bit signed
T_REAL = const(3)  # binary32
T_TIME = const(4)  # milliseconds, 32-bit signed
TYPE_NAMES = ("bool", "int", "dint", "real", "time")

# Variable flags
F_INPUT = const(1)
F_OUTPUT = const(2)
F_RETAIN = const(4)
F_CONST = const(8)

# Block kinds (timers and counters) and their flags
K_TON = const(1)
K_TOF = const(2)
K_TP = const(3)
K_RTO = const(4)
K_CTU = const(5)
K_CTD = const(6)
K_CTUD = const(7)
KIND_NAMES = (None, "TON", "TOF", "TP", "RTO", "CTU", "CTD", "CTUD")
B_RETAIN = const(1)

# Block members: code -> name; which kinds have which member, and its type
M_Q = const(0)
M_ET = const(1)
M_PT = const(2)
M_CV = const(3)
M_PV = const(4)
M_QU = const(5)
M_QD = const(6)
MEMBER_NAMES = ("Q", "ET", "PT", "CV", "PV", "QU", "QD")
MEMBER_TYPES = (T_BOOL, T_TIME, T_TIME, T_INT, T_INT, T_BOOL, T_BOOL)
TIMER_MEMBERS = (M_Q, M_ET, M_PT)
COUNTER_MEMBERS = {
    K_CTU: (M_Q, M_CV, M_PV),
    K_CTD: (M_Q, M_CV, M_PV),
    K_CTUD: (M_QU, M_QD, M_CV, M_PV),
}

# System contacts
S_FIRST_SCAN = const(0)
S_CLOCK_100MS = const(1)
S_CLOCK_1S = const(2)
S_MATH_ERROR = const(3)
SYS_NAMES = ("first_scan", "clock_100ms", "clock_1s", "math_error")

# name, code, operand shape, stack effect (pops, pushes): the table everything imports.
# A rung's code is: a condition (pushes one bool), POWER, then actions.
OPCODES = (
    # push
    ("LOAD", 0x01, "v", 0, 1),
    ("LOAD_MEMBER", 0x02, "bm", 0, 1),
    ("PUSH_TRUE", 0x03, "", 0, 1),
    ("PUSH_FALSE", 0x04, "", 0, 1),
    ("PUSH_INT", 0x05, "i", 0, 1),
    ("PUSH_DINT", 0x06, "i", 0, 1),
    ("PUSH_REAL", 0x07, "f", 0, 1),
    ("PUSH_TIME", 0x08, "i", 0, 1),
    ("SYS", 0x09, "s", 0, 1),
    # boolean power flow
    ("NOT", 0x10, "", 1, 1),
    ("AND", 0x11, "", 2, 1),
    ("OR", 0x12, "", 2, 1),
    ("RISING", 0x13, "e", 1, 1),
    ("FALLING", 0x14, "e", 1, 1),
    # comparisons: two operands of one type -> bool
    ("EQ", 0x18, "", 2, 1),
    ("NE", 0x19, "", 2, 1),
    ("LT", 0x1A, "", 2, 1),
    ("LE", 0x1B, "", 2, 1),
    ("GT", 0x1C, "", 2, 1),
    ("GE", 0x1D, "", 2, 1),
    # arithmetic: operands of one numeric type -> that type
    ("ADD", 0x20, "", 2, 1),
    ("SUB", 0x21, "", 2, 1),
    ("MUL", 0x22, "", 2, 1),
    ("DIV", 0x23, "", 2, 1),
    ("MOD", 0x24, "", 2, 1),
    ("NEG", 0x25, "", 1, 1),
    ("ABS", 0x26, "", 1, 1),
    ("MIN", 0x27, "", 2, 1),
    ("MAX", 0x28, "", 2, 1),
    ("LIMIT", 0x29, "", 3, 1),  # lo, x, hi -> x clamped
    ("CONV", 0x2A, "t", 1, 1),
    # rung structure and actions
    ("POWER", 0x30, "", 1, 0),  # pops the condition: the rung's power
    ("COIL", 0x31, "v", 0, 0),  # v := power
    ("COIL_NOT", 0x32, "v", 0, 0),  # v := not power
    ("SET", 0x33, "v", 0, 0),  # if power: v := true
    ("RESET", 0x34, "v", 0, 0),  # if power: v := false
    ("TIMER", 0x35, "b", 0, 0),  # timer IN := power, evaluate the timer
    ("RESET_BLOCK", 0x36, "b", 0, 0),  # if power: clear the timer or counter
    ("COUNT_UP", 0x37, "b", 0, 0),  # counter CU input |= power
    ("COUNT_DOWN", 0x38, "b", 0, 0),  # counter CD input |= power
    ("LOAD_PRESET", 0x39, "b", 0, 0),  # counter LD input |= power
    ("STORE", 0x3A, "v", 1, 0),  # pops a value; if power: v := value
    ("CTR_UPDATE", 0x3B, "b", 0, 0),  # evaluate the counter from this scan's inputs
    ("STORE_MEMBER", 0x3C, "bm", 1, 0),  # pops a value; if power: PT or PV := value
)

BY_CODE = {}
for _op in OPCODES:
    BY_CODE[_op[1]] = _op
del _op

# Opcode constants for fast comparisons in the verifier/translator (kept in step with
# OPCODES by tests/test_opcodes.py).
OP_LOAD = const(0x01)
OP_LOAD_MEMBER = const(0x02)
OP_PUSH_TRUE = const(0x03)
OP_PUSH_FALSE = const(0x04)
OP_PUSH_INT = const(0x05)
OP_PUSH_DINT = const(0x06)
OP_PUSH_REAL = const(0x07)
OP_PUSH_TIME = const(0x08)
OP_SYS = const(0x09)
OP_NOT = const(0x10)
OP_AND = const(0x11)
OP_OR = const(0x12)
OP_RISING = const(0x13)
OP_FALLING = const(0x14)
OP_EQ = const(0x18)
OP_NE = const(0x19)
OP_LT = const(0x1A)
OP_LE = const(0x1B)
OP_GT = const(0x1C)
OP_GE = const(0x1D)
OP_ADD = const(0x20)
OP_SUB = const(0x21)
OP_MUL = const(0x22)
OP_DIV = const(0x23)
OP_MOD = const(0x24)
OP_NEG = const(0x25)
OP_ABS = const(0x26)
OP_MIN = const(0x27)
OP_MAX = const(0x28)
OP_LIMIT = const(0x29)
OP_CONV = const(0x2A)
OP_POWER = const(0x30)
OP_COIL = const(0x31)
OP_COIL_NOT = const(0x32)
OP_SET = const(0x33)
OP_RESET = const(0x34)
OP_TIMER = const(0x35)
OP_RESET_BLOCK = const(0x36)
OP_COUNT_UP = const(0x37)
OP_COUNT_DOWN = const(0x38)
OP_LOAD_PRESET = const(0x39)
OP_STORE = const(0x3A)
OP_CTR_UPDATE = const(0x3B)
OP_STORE_MEMBER = const(0x3C)

MAX_STACK = const(32)  # deepest expression stack a verified rung may use
