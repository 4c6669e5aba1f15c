# The diagnostic windows of the Modbus map (docs/modbus.md) and how many variables, blocks
# and rungs fit in them. They live in a module of their own so that the loader can refuse
# a program that does not fit without importing the whole map: on a board every name a
# module defines stays interned after it is dropped. modbus_map.py takes them from here.
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


IR_VARS = const(10000)  # variable i: 2 registers, 32-bit value, high word first
IR_BLOCKS = const(20000)  # block b: 8 registers (see BLOCK_REGS)
IR_POWER = const(30000)  # power flow: rung r is bit r%16 of register IR_POWER + r//16
IR_FORCED = const(31000)  # forced variables: variable i is bit i%16 of IR_FORCED + i//16
BLOCK_REGS = const(8)  # registers of one block (their meaning: modbus_map.py)

# What one program may hold so that no diagnostic window runs into the next one; the compiler
# refuses bigger programs (E058), the loader bigger images. The forced set after the power
# flow needs MAX_VARS/16.
MAX_VARS = const((IR_BLOCKS - IR_VARS) // 2)  # 5000 variables, 2 registers each
MAX_BLOCKS = const((IR_POWER - IR_BLOCKS) // BLOCK_REGS)  # 1250 timers and counters
MAX_RUNGS = const((IR_FORCED - IR_POWER) * 16)  # 16000 rungs, 16 per register
