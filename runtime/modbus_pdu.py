# Modbus PDU processing (function codes 1-6, 15, 16, 17, 22, 23, 43/14), shared by the RTU
# and TCP framings; the serial-line-only codes 7, 8 and 11 are answered by modbus_rtu.py and
# are illegal functions here. Checks follow the specification and libmodbus: a malformed
# request or a count out of range is exception 03 before any address check; then every
# address is checked (02) before any value (03); an unknown function is 01. Responses are
# written into a caller's buffer; nothing is written to the device unless the whole
# request is valid.
from . import VERSION
from .engine import STATE_RUN
from .modbus_map import (
    EX_DEVICE_FAILURE,
    EX_ILLEGAL_ADDRESS,
    EX_ILLEGAL_FUNCTION,
    EX_ILLEGAL_VALUE,
    ID_CONFORMITY,
    MAX_READ_BITS,
    MAX_READ_REGISTERS,
    MAX_RW_WRITE_REGISTERS,
    MAX_WRITE_BITS,
    MAX_WRITE_REGISTERS,
    RUN_OFF,
    RUN_ON,
    SERVER_ID,
    VENDOR,
)

PDU_MAX = 253


def _u16(b, i):
    return (b[i] << 8) | b[i + 1]


def _put16(out, i, v):
    out[i] = (v >> 8) & 0xFF
    out[i + 1] = v & 0xFF


def exception(out, fc, code):
    """Write an exception response; returns its length (2)."""
    out[0] = (fc | 0x80) & 0xFF
    out[1] = code
    return 2


class PduServer:
    """Answers request PDUs for one ModbusDevice."""

    def __init__(self, device, version=None):
        self.device = device
        if version is None:
            version = VERSION
        self.failures = 0
        rev = version + " crc " + "%08x" % device.rt.crc
        # object id -> bytes: 0 VendorName, 1 ProductCode, 2 MajorMinorRevision,
        # 3 VendorUrl, 4 ProductName, 5 ModelName
        self.identity = (
            VENDOR.encode(),
            ("rung-" + device.product).encode(),
            rev.encode(),
            b"https://github.com/rung-plc/rung",
            ("Rung PLC (" + device.product + ")").encode(),
            device.product.encode(),
        )
        # FC 17: server id, run indicator, "Rung <version> crc <crc>", run indicator again
        # (pymodbus 3.16 reads the run indicator from the last byte)
        self.server_id = bytes([SERVER_ID, RUN_OFF]) + (VENDOR + " " + rev).encode() + b"\0"

    def process(self, req, n, out):
        """Answer the request PDU req[0:n] into out; returns the response length."""
        if n < 1:
            return 0
        try:
            return self._dispatch(req, n, out)
        except Exception:  # noqa: BLE001 - a failure inside the device must not kill the server
            self.failures += 1
            return exception(out, req[0], EX_DEVICE_FAILURE)

    def _dispatch(self, req, n, out):
        fc = req[0]
        if fc in (1, 2, 3, 4):
            if n != 5:
                return exception(out, fc, EX_ILLEGAL_VALUE)
            return self.read(fc, _u16(req, 1), _u16(req, 3), out)
        if fc == 5:
            return self.write_coil(req, n, out)
        if fc == 6:
            return self.write_register(req, n, out)
        if fc == 15:
            return self.write_coils(req, n, out)
        if fc == 16:
            return self.write_registers(req, n, out)
        if fc == 22:
            return self.mask_write_register(req, n, out)
        if fc == 23:
            return self.read_write(req, n, out)
        if fc == 17:
            return self.report_server_id(n, out)
        if fc == 43:
            return self.identify(req, n, out)
        return exception(out, fc, EX_ILLEGAL_FUNCTION)

    # reads
    def read(self, fc, start, count, out):
        dev = self.device
        if fc <= 2:
            if not 1 <= count <= MAX_READ_BITS:
                return exception(out, fc, EX_ILLEGAL_VALUE)
            for k in range(count):
                if dev.read_bit(fc, start + k) < 0:
                    return exception(out, fc, EX_ILLEGAL_ADDRESS)
            nbytes = (count + 7) >> 3
            out[0] = fc
            out[1] = nbytes
            for k in range(nbytes):
                out[2 + k] = 0
            for k in range(count):
                if dev.read_bit(fc, start + k):
                    out[2 + (k >> 3)] |= 1 << (k & 7)
            return 2 + nbytes
        if not 1 <= count <= MAX_READ_REGISTERS:
            return exception(out, fc, EX_ILLEGAL_VALUE)
        return self._registers(fc, start, count, out, 0)

    def _registers(self, fc, start, count, out, head):
        # no bound-method variable here: creating one allocates on MicroPython
        dev = self.device
        holding = fc != 4
        for k in range(count):
            a = start + k
            if a > 0xFFFF:
                return exception(out, fc, EX_ILLEGAL_ADDRESS)
            x = dev.read_holding_register(a) if holding else dev.read_input_register(a)
            if x < 0:
                return exception(out, fc, EX_ILLEGAL_ADDRESS)
        out[0] = fc
        out[1] = 2 * count
        for k in range(count):
            a = start + k
            x = dev.read_holding_register(a) if holding else dev.read_input_register(a)
            _put16(out, 2 + 2 * k, x)
        return 2 + 2 * count

    # writes
    def write_coil(self, req, n, out):
        if n != 5:
            return exception(out, 5, EX_ILLEGAL_VALUE)
        addr = _u16(req, 1)
        value = _u16(req, 3)
        if value not in (0xFF00, 0x0000):
            return exception(out, 5, EX_ILLEGAL_VALUE)
        if not self.device.coil_writable(addr):
            return exception(out, 5, EX_ILLEGAL_ADDRESS)
        self.device.write_coil(addr, value == 0xFF00)
        for k in range(5):
            out[k] = req[k]
        return 5

    def write_register(self, req, n, out):
        if n != 5:
            return exception(out, 6, EX_ILLEGAL_VALUE)
        addr = _u16(req, 1)
        value = _u16(req, 3)
        code = self.device.check_register_write(addr, value)
        if code:
            return exception(out, 6, code)
        self.device.write_register(addr, value)
        for k in range(5):
            out[k] = req[k]
        return 5

    def write_coils(self, req, n, out):
        if n < 6:
            return exception(out, 15, EX_ILLEGAL_VALUE)
        start = _u16(req, 1)
        count = _u16(req, 3)
        nbytes = req[5]
        if not 1 <= count <= MAX_WRITE_BITS or nbytes != (count + 7) >> 3 or n != 6 + nbytes:
            return exception(out, 15, EX_ILLEGAL_VALUE)
        dev = self.device
        for k in range(count):
            if not dev.coil_writable(start + k):
                return exception(out, 15, EX_ILLEGAL_ADDRESS)
        for k in range(count):
            dev.write_coil(start + k, req[6 + (k >> 3)] & (1 << (k & 7)))
        for k in range(5):
            out[k] = req[k]
        return 5

    def _check_writes(self, req, start, count, at):
        # every address before any value: 02 wins over a 03 found earlier in the range
        worst = 0
        for k in range(count):
            code = self.device.check_register_write(start + k, _u16(req, at + 2 * k))
            if code == EX_ILLEGAL_ADDRESS:
                return code
            if code:
                worst = code
        return worst

    def write_registers(self, req, n, out):
        if n < 6:
            return exception(out, 16, EX_ILLEGAL_VALUE)
        start = _u16(req, 1)
        count = _u16(req, 3)
        nbytes = req[5]
        if not 1 <= count <= MAX_WRITE_REGISTERS or nbytes != 2 * count or n != 6 + nbytes:
            return exception(out, 16, EX_ILLEGAL_VALUE)
        code = self._check_writes(req, start, count, 6)
        if code:
            return exception(out, 16, code)
        for k in range(count):
            self.device.write_register(start + k, _u16(req, 6 + 2 * k))
        for k in range(5):
            out[k] = req[k]
        return 5

    def read_write(self, req, n, out):
        if n < 10:
            return exception(out, 23, EX_ILLEGAL_VALUE)
        rstart, rcount = _u16(req, 1), _u16(req, 3)
        wstart, wcount = _u16(req, 5), _u16(req, 7)
        nbytes = req[9]
        if (
            not 1 <= rcount <= MAX_READ_REGISTERS
            or not 1 <= wcount <= MAX_RW_WRITE_REGISTERS
            or nbytes != 2 * wcount
            or n != 10 + nbytes
        ):
            return exception(out, 23, EX_ILLEGAL_VALUE)
        code = self._check_writes(req, wstart, wcount, 10)
        if code == EX_ILLEGAL_ADDRESS:
            return exception(out, 23, code)
        dev = self.device
        for k in range(rcount):
            if dev.read_holding_register(rstart + k) < 0:
                return exception(out, 23, EX_ILLEGAL_ADDRESS)
        if code:
            return exception(out, 23, code)
        for k in range(wcount):
            dev.write_register(wstart + k, _u16(req, 10 + 2 * k))
        return self._registers(23, rstart, rcount, out, 0)

    def mask_write_register(self, req, n, out):
        """FC 22: (current AND and_mask) OR (or_mask AND NOT and_mask), as FC 6 would write."""
        if n != 7:
            return exception(out, 22, EX_ILLEGAL_VALUE)
        addr = _u16(req, 1)
        and_mask = _u16(req, 3)
        dev = self.device
        current = dev.read_holding_register(addr)
        if current < 0:
            return exception(out, 22, EX_ILLEGAL_ADDRESS)
        value = (current & and_mask) | (_u16(req, 5) & ~and_mask)
        code = dev.check_register_write(addr, value)
        if code:
            return exception(out, 22, code)
        dev.write_register(addr, value)
        for k in range(7):
            out[k] = req[k]
        return 7

    def report_server_id(self, n, out):
        """FC 17: byte count, server id, run indicator, additional data (docs/modbus.md)."""
        if n != 1:
            return exception(out, 17, EX_ILLEGAL_VALUE)
        data = self.server_id
        size = len(data)
        out[0] = 17
        out[1] = size
        for k in range(size):
            out[2 + k] = data[k]
        run = RUN_ON if self.device.rt.state == STATE_RUN else RUN_OFF
        out[3] = run
        out[1 + size] = run
        return 2 + size

    def identify(self, req, n, out):
        if n < 2:
            return exception(out, 43, EX_ILLEGAL_VALUE)
        if req[1] != 0x0E:
            return exception(out, 43, EX_ILLEGAL_FUNCTION)  # an MEI type Rung does not have
        if n != 4:
            return exception(out, 43, EX_ILLEGAL_VALUE)
        code = req[2]
        obj = req[3]
        if not 1 <= code <= 4:
            return exception(out, 43, EX_ILLEGAL_VALUE)
        ids = self.identity
        if code == 4:
            if obj >= len(ids):
                return exception(out, 43, EX_ILLEGAL_ADDRESS)
            objects = (obj,)
        else:
            # extended (3) is answered as regular: the device has no extended objects and
            # the specification says to answer at the device's own conformity level
            last = 2 if code == 1 else len(ids) - 1
            if obj > last:
                obj = 0  # the specification restarts at 0 for an out-of-range start
            objects = range(obj, last + 1)
        out[0] = 43
        out[1] = 0x0E
        out[2] = code
        out[3] = ID_CONFORMITY
        out[4] = 0  # no more follows
        out[5] = 0
        count = 0
        pos = 7
        for o in objects:
            data = ids[o]
            out[pos] = o
            out[pos + 1] = len(data)
            out[pos + 2 : pos + 2 + len(data)] = data
            pos += 2 + len(data)
            count += 1
        out[6] = count
        return pos
