# The Modbus view of a running program: which address maps to which runtime slot, how
# values become 16-bit registers, and what may be written (docs/modbus.md). Used by the
# protocol code in modbus_pdu.py on boards and in the emulator alike.
import struct

from .addresses import A_IW, A_IX, A_MD, A_MW, A_QW, A_QX
from .blocks import member_offset
from .engine import POWER_WATCH_MS, STATE_FAULT, STATE_RUN
from .modbus_map import (
    BLOCK_REGS,
    CMD_CLEAR_MATH_ERROR,
    CMD_FAULT_RESET,
    CMD_RELEASE_ALL,
    CMD_RUN,
    CMD_STOP,
    ES_FAULT,
    ES_FORCED,
    ES_MATH_ERROR,
    ES_OVERRUN,
    ES_RUN,
    EX_ILLEGAL_ADDRESS,
    EX_ILLEGAL_VALUE,
    HR_COMMAND,
    HR_FORCE,
    HR_MD,
    HR_MW,
    HR_RELEASE,
    IR_BLOCKS,
    IR_FORCED,
    IR_POWER,
    IR_STATUS,
    IR_VARS,
    STATUS_SIZE,
)
from .opcodes import (
    F_CONST,
    F_INPUT,
    F_OUTPUT,
    K_CTD,
    K_CTU,
    K_RTO,
    M_CV,
    M_ET,
    M_PT,
    M_PV,
    T_BOOL,
    T_REAL,
)

_buf = bytearray(4)


def _real_bits(x):
    struct.pack_into("<f", _buf, 0, x)
    return struct.unpack_from("<I", _buf, 0)[0]


def _s16(n):
    n &= 0xFFFF
    return n - 0x10000 if n & 0x8000 else n


class ScanStats:
    """Scan timing kept by whoever drives the scans (board firmware, emulator)."""

    def __init__(self):
        self.last_us = 0
        self.max_us = 0
        self.avg_us = 0
        self.overruns = 0
        self.clients = 0

    def record(self, us, cycle_ms):
        """Account one scan that took `us` microseconds."""
        self.last_us = us
        if us > self.max_us:
            self.max_us = us
        self.avg_us = us if self.avg_us == 0 else self.avg_us + (us - self.avg_us) // 16
        if us > cycle_ms * 1000:
            self.overruns += 1


class ModbusDevice:
    """Maps Modbus tables onto a Runtime. allow_forcing / allow_run_stop are the access
    policy; product is reported by device identification (FC43/14)."""

    def __init__(
        self, rt, product="emulator", allow_forcing=True, allow_run_stop=True, stats=None
    ):
        self.rt = rt
        # power flow is recorded while a client reads its window, and for a first while so
        # that a client connecting to a fresh board sees it at once (docs/modbus.md)
        rt.watch_power(POWER_WATCH_MS)
        self.product = product
        self.allow_forcing = allow_forcing
        self.allow_run_stop = allow_run_stop
        self.stats = stats if stats is not None else ScanStats()
        self.last_command = 0
        self.coils = {}
        self.discrete = {}
        self.inputs = {}
        self.holding = {}  # register -> slot*4 + part (0 word, 1 high half, 2 low half)
        img = rt.image
        for i, (_vtype, _flags, area, index, _init) in enumerate(img.vars):
            if area == A_QX:
                self.coils[index] = i
            elif area == A_IX:
                self.discrete[index] = i
            elif area == A_IW:
                self.inputs[index] = i
            elif area == A_QW:
                self.holding[index] = i * 4
            elif area == A_MW:
                self.holding[HR_MW + index] = i * 4
            elif area == A_MD:
                self.holding[HR_MD + 2 * index] = i * 4 + 1
                self.holding[HR_MD + 2 * index + 1] = i * 4 + 2
        self.n_vars = len(img.vars)
        self.n_blocks = len(img.blocks)
        self.n_rungs = len(img.rungs)

    # ---- bits ----------------------------------------------------------------------

    def read_bit(self, fc, addr):
        """0/1 for a mapped coil (fc 1) or discrete input (fc 2), -1 if unmapped."""
        i = (self.coils if fc == 1 else self.discrete).get(addr, -1)
        if i < 0:
            return -1
        return 1 if self.rt.v[i] else 0

    def coil_writable(self, addr):
        return addr in self.coils

    def write_coil(self, addr, on):
        self.rt.v[self.coils[addr]] = bool(on)

    # ---- registers -----------------------------------------------------------------

    def var_word32(self, i):
        """Variable i as an unsigned 32-bit number (reals as their binary32 bits)."""
        vtype = self.rt.image.vars[i][0]
        x = self.rt.v[i]
        if vtype == T_BOOL:
            return 1 if x else 0
        if vtype == T_REAL:
            return _real_bits(x)
        return x & 0xFFFFFFFF

    def var_half(self, i, high):
        """The high or low 16 bits of var_word32(i), computed without a 32-bit intermediate
        (a board allocates a big integer for one past 2**30)."""
        vtype = self.rt.image.vars[i][0]
        x = self.rt.v[i]
        if vtype == T_REAL:
            struct.pack_into(">f", _buf, 0, x)
            return (_buf[0] << 8) | _buf[1] if high else (_buf[2] << 8) | _buf[3]
        if vtype == T_BOOL:
            return 1 if x and not high else 0
        return (x >> 16) & 0xFFFF if high else x & 0xFFFF

    def _write_half(self, i, high, value):
        rt = self.rt
        x = rt.v[i]
        if rt.image.vars[i][0] == T_REAL:
            struct.pack_into(">f", _buf, 0, x)
            k = 0 if high else 2
            _buf[k] = value >> 8
            _buf[k + 1] = value & 0xFF
            rt.v[i] = struct.unpack_from(">f", _buf, 0)[0]
        elif high:
            rt.v[i] = (_s16(value) << 16) | (x & 0xFFFF)  # dint and time: two's complement
        else:
            rt.v[i] = (x & -0x10000) | value

    def read_input_register(self, addr):
        """FC4: %IW, then the diagnostic window; -1 if unmapped."""
        i = self.inputs.get(addr, -1)
        if i >= 0:
            return self.rt.v[i] & 0xFFFF
        if IR_STATUS <= addr < IR_STATUS + STATUS_SIZE:
            return self.status(addr - IR_STATUS)
        if IR_VARS <= addr < IR_VARS + 2 * self.n_vars:
            return self.var_half((addr - IR_VARS) >> 1, (addr - IR_VARS) & 1 == 0)
        if IR_BLOCKS <= addr < IR_BLOCKS + BLOCK_REGS * self.n_blocks:
            return self.block_register(
                (addr - IR_BLOCKS) // BLOCK_REGS, (addr - IR_BLOCKS) % BLOCK_REGS
            )
        if IR_POWER <= addr < IR_POWER + (self.n_rungs + 15) // 16:
            self.rt.watch_power(POWER_WATCH_MS)  # someone is looking: keep recording
            power = self.rt.power
            r0 = (addr - IR_POWER) * 16
            word = 0
            for k in range(16):
                if r0 + k < self.n_rungs and power[r0 + k]:
                    word |= 1 << k
            return word
        if IR_FORCED <= addr < IR_FORCED + (self.n_vars + 15) // 16:
            i0 = (addr - IR_FORCED) * 16
            word = 0
            for k in range(16):
                if i0 + k in self.rt.forced:
                    word |= 1 << k
            return word
        return -1

    def status(self, off):
        rt = self.rt
        st = self.stats
        values = (
            rt.state,
            rt.fault_code,
            rt.scan_count >> 16,
            rt.scan_count,
            st.last_us >> 16,
            st.last_us,
            st.max_us >> 16,
            st.max_us,
            st.avg_us >> 16,
            st.avg_us,
            st.overruns >> 16,
            st.overruns,
            rt.crc >> 16,
            rt.crc,
            self.n_vars,
            self.n_blocks,
            self.n_rungs,
            len(rt.forced),
            1 if rt.math_error else 0,
            rt.cycle_ms,
            st.clients,
            1 if rt.first_scan else 0,
        )
        return values[off] & 0xFFFF

    def exception_status(self):
        """FC 7's status byte: the ES_* bits of modbus_map.py."""
        rt = self.rt
        bits = 0
        if rt.state == STATE_RUN:
            bits |= ES_RUN
        elif rt.state == STATE_FAULT:
            bits |= ES_FAULT
        if rt.forced:
            bits |= ES_FORCED
        if rt.math_error:
            bits |= ES_MATH_ERROR
        if self.stats.overruns:
            bits |= ES_OVERRUN
        return bits

    def block_register(self, b, off):
        rt = self.rt
        kind, flags, _preset = rt.image.blocks[b]
        base = rt.layout.block_base[b]
        v = rt.v
        if off == 6:
            return kind
        if off == 7:
            return flags & 1
        timer = kind <= K_RTO
        if off == 0:  # Q, or QU for a CTUD (a CTD's Q is its CV <= 0 flag)
            return 1 if v[base + (0 if timer else (3 if kind == K_CTD else 2))] else 0
        if off == 1:  # a timer's state; QD (a CTD's Q again; a CTU has none: 0)
            return v[base + 4] if timer else (1 if kind != K_CTU and v[base + 3] else 0)
        member = (M_ET if off < 4 else M_PT) if timer else (M_CV if off < 4 else M_PV)
        n = v[base + member_offset(kind, member)] & 0xFFFFFFFF
        return (n >> 16) & 0xFFFF if off in (2, 4) else n & 0xFFFF

    def read_holding_register(self, addr):
        """FC3: %QW, %MW, %MD halves, commands, forced values; -1 if unmapped."""
        code = self.holding.get(addr, -1)
        if code >= 0:
            i = code >> 2
            part = code & 3
            if part == 0:
                return self.rt.v[i] & 0xFFFF
            return self.var_half(i, part == 1)
        if addr == HR_COMMAND:
            return self.last_command
        if addr == HR_RELEASE:
            return 0
        if HR_FORCE <= addr < HR_FORCE + self.n_vars:
            i = addr - HR_FORCE
            if not self.rt.image.vars[i][1] & (F_INPUT | F_OUTPUT):
                return -1
            x = self.rt.forced.get(i, 0)
            return (1 if x else 0) if x is True or x is False else x & 0xFFFF
        return -1

    def check_register_write(self, addr, value):
        """0 if `value` may be written at addr, else the Modbus exception code."""
        code = self.holding.get(addr, -1)
        if code >= 0:
            return EX_ILLEGAL_ADDRESS if self.rt.image.vars[code >> 2][1] & F_CONST else 0
        if addr == HR_COMMAND:
            # no tuple of imported names here: building it would allocate on a board
            if value == CMD_RUN or value == CMD_STOP or value == CMD_FAULT_RESET:
                return 0 if self.allow_run_stop else EX_ILLEGAL_ADDRESS
            if value == CMD_RELEASE_ALL:
                return 0 if self.allow_forcing else EX_ILLEGAL_ADDRESS
            return 0 if value == CMD_CLEAR_MATH_ERROR else EX_ILLEGAL_VALUE
        if addr == HR_RELEASE:
            if not self.allow_forcing:
                return EX_ILLEGAL_ADDRESS
            return 0 if value < self.n_vars else EX_ILLEGAL_VALUE
        if HR_FORCE <= addr < HR_FORCE + self.n_vars:
            if not self.allow_forcing:
                return EX_ILLEGAL_ADDRESS
            flags = self.rt.image.vars[addr - HR_FORCE][1]
            return 0 if flags & (F_INPUT | F_OUTPUT) else EX_ILLEGAL_ADDRESS
        return EX_ILLEGAL_ADDRESS

    def write_register(self, addr, value):
        """Write a checked register (see check_register_write)."""
        rt = self.rt
        code = self.holding.get(addr, -1)
        if code >= 0:
            i = code >> 2
            part = code & 3
            if part == 0:
                rt.v[i] = _s16(value)
            else:
                self._write_half(i, part == 1, value)
            return
        if addr == HR_COMMAND:
            self.last_command = value
            if value == CMD_RUN:
                rt.run()
            elif value == CMD_STOP:
                rt.stop()
            elif value == CMD_FAULT_RESET:
                if rt.state == STATE_FAULT:
                    rt.reset_fault()
                    rt.state = STATE_RUN
            elif value == CMD_RELEASE_ALL:
                rt.release_all()
            else:
                rt.clear_math_error()
        elif addr == HR_RELEASE:
            rt.release(value)
        else:
            i = addr - HR_FORCE
            vtype = rt.image.vars[i][0]
            rt.force(i, (value != 0) if vtype == T_BOOL else _s16(value))
