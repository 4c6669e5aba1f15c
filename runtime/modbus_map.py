# The Modbus map of a Rung device (docs/modbus.md): the one definition imported by the
# server, the emulator, the supervisor and the tests.
# The diagnostic windows and the limits they set live in map_limits.py, for the loader.
from .map_limits import (  # noqa: F401 - part of the map
    BLOCK_REGS,
    IR_BLOCKS,
    IR_FORCED,
    IR_POWER,
    IR_VARS,
    MAX_BLOCKS,
    MAX_RUNGS,
    MAX_VARS,
)

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


# Process image, compatible with OpenPLC
#   coils             n = byte*8+bit of %QX      (FC1 read, FC5/FC15 write)
#   discrete inputs   n = byte*8+bit of %IX      (FC2)
#   input registers   n of %IW                   (FC4)
#   holding registers 0..1023 %QW, 1024..2047 %MW, 2048.. %MD (two registers, high first)
HR_QW = const(0)
HR_MW = const(1024)
HR_MD = const(2048)
HR_MD_END = const(4096)

# Diagnostic window (input registers, read-only): the status block, then the windows of
# the variables (IR_VARS), blocks (IR_BLOCKS), power flow (IR_POWER) and forced set
# (IR_FORCED), imported above with the program size they leave room for
IR_STATUS = const(8192)  # the status block below

# Status block, offsets from IR_STATUS
ST_STATE = const(0)  # 0 STOP, 1 RUN, 2 FAULT
ST_FAULT = const(1)  # fault code
ST_SCANS = const(2)  # scan count, 32 bits
ST_LAST_US = const(4)  # last scan time in microseconds, 32 bits
ST_MAX_US = const(6)  # longest scan, 32 bits
ST_AVG_US = const(8)  # average scan (exponential, 1/16), 32 bits
ST_OVERRUNS = const(10)  # scans longer than the cycle or started a cycle late, 32 bits
ST_CRC = const(12)  # program CRC32, 32 bits
ST_VARS = const(14)  # number of variables
ST_BLOCKS = const(15)  # number of timers and counters
ST_RUNGS = const(16)  # number of rungs
ST_FORCED = const(17)  # number of forced variables
ST_MATH_ERROR = const(18)  # 1 after a division by zero
ST_CYCLE = const(19)  # target cycle in ms
ST_CLIENTS = const(20)  # Modbus TCP clients connected (emulator; 0 if unknown)
ST_FIRST_SCAN = const(21)
STATUS_SIZE = const(22)

# Block registers (BLOCK_REGS of them), offsets from IR_BLOCKS + 8*b
#   timers:   0 Q, 1 state, 2-3 ET (ms), 4-5 PT (ms), 6 kind, 7 retain
#   counters: 0 Q/QU, 1 QD, 2-3 CV, 4-5 PV, 6 kind, 7 retain

# Commands and forcing (holding registers)
HR_COMMAND = const(8192)  # write: 1 run, 2 stop, 3 fault reset, 4 release all forces,
#                           5 clear math_error; reads the last accepted command
HR_RELEASE = const(8193)  # write i: release the forcing of variable i
HR_FORCE = const(12288)  # write HR_FORCE + i: force variable i (input or output) to the value

CMD_RUN = const(1)
CMD_STOP = const(2)
CMD_FAULT_RESET = const(3)
CMD_RELEASE_ALL = const(4)
CMD_CLEAR_MATH_ERROR = const(5)

# Protocol limits (Modbus Application Protocol 1.1b, as libmodbus)
MAX_READ_BITS = const(2000)
MAX_WRITE_BITS = const(1968)
MAX_READ_REGISTERS = const(125)
MAX_WRITE_REGISTERS = const(123)
MAX_RW_WRITE_REGISTERS = const(121)

# Exception codes
EX_ILLEGAL_FUNCTION = const(1)
EX_ILLEGAL_ADDRESS = const(2)
EX_ILLEGAL_VALUE = const(3)
EX_DEVICE_FAILURE = const(4)
EX_BUSY = const(6)
EX_NAK = const(7)

VENDOR = "Rung"

# Device identification (FC 43/14) and Report Server ID (FC 17)
ID_CONFORMITY = const(0x82)  # regular identification (objects 0-5), stream + individual access
SERVER_ID = const(0x52)  # FC 17's server id byte: "R"
RUN_ON = const(0xFF)  # FC 17's run indicator
RUN_OFF = const(0x00)

# Read Exception Status (FC 7, serial line): the bits of its status byte
ES_RUN = const(0x01)  # the program runs
ES_FAULT = const(0x02)  # the runtime is in FAULT
ES_FORCED = const(0x04)  # at least one variable is forced
ES_MATH_ERROR = const(0x08)  # math_error is set
ES_OVERRUN = const(0x10)  # a scan has overrun its cycle since start-up

# Diagnostics (FC 8, serial line) sub-functions, Modbus over Serial Line 1.02 counters
DIAG_QUERY_DATA = const(0x00)
DIAG_RESTART = const(0x01)
DIAG_CLEAR = const(0x0A)
DIAG_BUS_MESSAGES = const(0x0B)  # CPT1: frames on the line with a good CRC, any unit
DIAG_BUS_ERRORS = const(0x0C)  # CPT2: bad CRC, frames too short or overrun
DIAG_EXCEPTIONS = const(0x0D)  # CPT3: exceptions, broadcast ones included
DIAG_SERVER_MESSAGES = const(0x0E)  # CPT4: frames for this unit or broadcast
DIAG_NO_RESPONSE = const(0x0F)  # CPT5: frames for this unit left unanswered (broadcast)
DIAG_NAK = const(0x10)  # CPT6: exception 07 answered (Rung never answers it)
DIAG_BUSY = const(0x11)  # CPT7: exception 06 answered (Rung never answers it)
DIAG_OVERRUNS = const(0x12)  # CPT8: frames for this unit lost to a character overrun
