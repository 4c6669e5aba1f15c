# The PLC scan engine: load verified bytecode, run scans, expose the process image,
# forcing, status and retained memory. The caller owns the clock and the hardware.
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


import sys

from . import arith, blocks
from .image import LoadError
from .opcodes import (
    B_RETAIN,
    COUNTER_MEMBERS,
    F_CONST,
    F_INPUT,
    F_OUTPUT,
    F_RETAIN,
    K_RTO,
    MEMBER_NAMES,
    MEMBER_TYPES,
    SYS_NAMES,
    T_BOOL,
    T_INT,
    T_REAL,
    TIMER_MEMBERS,
)

STATE_STOP = const(0)
STATE_RUN = const(1)
STATE_FAULT = const(2)
STATE_NAMES = ("STOP", "RUN", "FAULT")

FAULT_NONE = const(0)
FAULT_EXCEPTION = const(1)  # an unexpected error inside a scan
FAULT_MEMORY = const(2)  # MemoryError inside a scan
FAULT_EXTERNAL = const(3)  # raised by the host (e.g. watchdog) through rt.fault()

_TICKS_MASK = const(0x3FFFFFFF)  # MicroPython's ticks_ms period is 2**30
POWER_WATCH_MS = const(5000)  # power flow recorded this long after the last watch_power()
_MICROPYTHON = sys.implementation.name == "micropython"
# Modules needed only while loading (the decoder, the verifier/translator, the opcode and
# address tables, the Modbus map's size limits): on MicroPython they are dropped after each
# load so a board keeps only the scan engine. Whatever stays resident must not hold a
# function of theirs (modbus_map.py imports the limits again for the Modbus server).
_LOADER = ("container", "translate", "instructions", "addresses", "crc", "opcodes",
           "map_limits")


class Layout:
    """Where everything lives in the slot list: variables, blocks, edges, system slots."""

    def __init__(self, img):
        n = len(img.vars)
        self.block_base = []
        for kind, _flags, _preset in img.blocks:
            self.block_base.append(n)
            n += blocks.block_slots(kind)
        self.edge_base = n
        n += img.n_edges
        self.first_scan = n  # SYS 0..3: first_scan, clock_100ms, clock_1s, math_error
        self.clock_100ms = n + 1
        self.clock_1s = n + 2
        self.math_error = n + 3
        self.size = n + 4


class _RungCount:
    """Stands in for image.rungs once the code is translated: only the count is kept."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


def _share_rows(rows):
    """Let equal table rows share one tuple (most internal variables look alike)."""
    seen = {}
    for i in range(len(rows)):
        row = rows[i]
        # repr in the key: 0.0 == -0.0 (and 1 == 1.0) yet they are different initial values
        rows[i] = seen.setdefault((row, repr(row[-1])), row)


def _drop_loader():
    if _MICROPYTHON:
        package = __name__[: __name__.rfind(".")]
        for name in _LOADER:
            sys.modules.pop(package + "." + name, None)
            try:
                delattr(sys.modules[package], name)
            except (AttributeError, KeyError):  # MicroPython: KeyError if never imported
                pass


class _PowerFlow:
    """Each rung's power flow in the last scan. `parts[a:b]` gives the generated code of
    rungs a..b-1 the container it writes: on MicroPython a view of one bytearray (a byte a
    rung, read without copying), on CPython a list of its own (a list store is about three
    times faster there than a bytearray store)."""

    def __init__(self, n):
        if _MICROPYTHON:
            self.flags = bytearray(n)
            self.parts = memoryview(self.flags)
        else:
            self.flags = []
            self.parts = self

    def __getitem__(self, chunk):  # CPython: a new list for one chunk of rungs
        part = [0] * (chunk.stop - chunk.start)
        self.flags.append(part)
        return part

    def read(self):
        if _MICROPYTHON:
            return self.flags
        return bytearray(1 if x else 0 for part in self.flags for x in part)

    def clear(self):
        flags = self.flags
        if _MICROPYTHON:
            for r in range(len(flags)):
                flags[r] = 0
        else:
            for part in flags:
                for r in range(len(part)):
                    part[r] = 0


def _initial(vtype, init):
    if vtype == T_REAL:
        return arith.f32(init)
    return init


class Runtime:
    """A loaded program. Runtime(code) verifies the bytecode and raises LoadError."""

    def __init__(self, code):
        try:
            self._load(code)
        except MemoryError:
            self.v = self._ns = self._scan_fn = self.image = None  # let it all go
            raise LoadError("not enough memory to load this program") from None
        finally:
            _drop_loader()
        self.state = STATE_RUN
        self.fault_code = FAULT_NONE
        self._init_memory(True)

    def _load(self, code):
        from .container import decode

        img = decode(code)
        _share_rows(img.vars)
        _share_rows(img.blocks)
        self.image = img
        self.crc = img.crc
        self.cycle_ms = img.cycle_ms
        lay = Layout(img)
        self.layout = lay
        self.v = [False] * lay.size
        # power flow of each rung in the last scan; each chunk of generated code writes its
        # own part through `w`, where a small index is a short opcode
        self._power = _PowerFlow(len(img.rungs))
        # -1: power flow recorded in every scan (see watch_power)
        self._watch_ms = -1
        ns = {
            "_ton": blocks.ton,
            "_tof": blocks.tof,
            "_tp": blocks.tp,
            "_rto": blocks.rto,
            "_treset": blocks.reset_timer,
            "_ctud": blocks.update_counter,
            "_ctu": blocks.update_ctu,
            "_ctd": blocks.update_ctd,
            "_f32": arith.f32,
            "_w32": arith.w32,
            "_idiv": arith.idiv,
            "_imod": arith.imod,
            "_rdiv": arith.rdiv,
            "_rmod": arith.rmod,
            "_r2i": arith.r2i,
        }
        self.input_vars = []
        self.output_vars = []
        for i, var in enumerate(img.vars):
            if var[1] & F_INPUT:
                self.input_vars.append(i)
            elif var[1] & F_OUTPUT:
                self.output_vars.append(i)
        self.inputs = [_safe(img.vars[i][0]) for i in self.input_vars]
        self.outputs = [_safe(img.vars[i][0]) for i in self.output_vars]
        # forcing: parallel lists rebuilt when the forced set changes, so applying them
        # in the scan allocates nothing
        self._force_slot = []
        self._force_value = []
        self._n_forced = 0
        self.forced = {}
        self._names = None
        self._retain = None
        retains = False
        for row in img.vars:
            retains = retains or row[1] & F_RETAIN
        for row in img.blocks:
            retains = retains or row[1] & B_RETAIN
        if retains:
            # made now, while the tables it imports are loaded anyway; a program that
            # retains nothing never imports it
            self._retain = self._make_codec()
        ns["_force"] = self._apply_forcing
        ns["_pw"] = self._power.parts
        self._ns = ns  # the generated code's globals
        from .translate import build_scan_function

        self._scan_fn = build_scan_function(img, lay, self.input_vars, self.output_vars, ns)
        # The code now lives in the generated functions: drop the bytecode buffer and the
        # rung offsets so the caller can free them (12 KB for a 500-rung program).
        img.data = None
        img.rungs = _RungCount(len(img.rungs))

    # ---- power-up and restart ---------------------------------------------------------

    def _init_memory(self, cold):
        img = self.image
        v = self.v
        for i, var in enumerate(img.vars):
            if cold or not var[1] & F_RETAIN:
                v[i] = _initial(var[0], var[4])
        for b, blk in enumerate(img.blocks):
            if cold or not blk[1] & B_RETAIN:
                blocks.init_block(v, self.layout.block_base[b], blk[0], blk[2])
        for i in range(self.layout.edge_base, self.layout.size):
            v[i] = False
        self._power.clear()
        for k, i in enumerate(self.output_vars):
            self.outputs[k] = _safe(img.vars[i][0])
        self.scan_count = 0
        self.first_scan = True
        self.math_error = False
        self._last = 0
        self._phase = 0

    def restart(self):
        """A power cycle: retained values kept, everything else re-initialised."""
        # Retained timers and counters keep all their slots: their input and edge memories
        # are harmless because nothing fires on the first scan and dt is 0 then.
        self._init_memory(False)
        self.state = STATE_RUN
        self.fault_code = FAULT_NONE

    # ---- the scan ---------------------------------------------------------------------

    def scan(self, now_ms):
        """Run one scan at timestamp now_ms (ms; only differences matter, modulo 2**30)."""
        if self.first_scan:
            dt = 0
        else:
            dt = (now_ms - self._last) & _TICKS_MASK
        self._last = now_ms
        if self.state != STATE_RUN:
            self._safe_outputs()
            return
        phase = (self._phase + dt) % 1000
        self._phase = phase
        watch = self._watch_ms
        if watch > 0:
            watch -= dt
            if watch <= 0:  # nobody has looked for a while: stop recording, forget it
                watch = 0
                self._power.clear()
            self._watch_ms = watch
        try:
            me = self._scan_fn(
                self.v,
                self.inputs,
                self.outputs,
                dt,
                self._n_forced,
                watch != 0,
                self.first_scan,
                phase,
            )
        except MemoryError:
            self._fault(FAULT_MEMORY)
            return
        except Exception:  # noqa: BLE001 - any failure must stop the machine safely
            self._fault(FAULT_EXCEPTION)
            return
        self.math_error = me
        self.first_scan = False
        self.scan_count = (self.scan_count + 1) & _TICKS_MASK

    @property
    def power(self):
        """Power flow of each rung in the last scan (1 powered, 0 not), as a bytearray: on
        MicroPython the live one that every scan updates in place (copy it to keep a
        picture), on CPython a fresh copy."""
        return self._power.read()

    def watch_power(self, ms=-1):
        """Record each rung's power flow (`power`) in the scans of the next ms milliseconds of
        scan time, or in every scan from now on (ms=-1, the default of a new Runtime), or
        no longer (ms=0: the window is cleared). A Modbus read of the power-flow window
        calls watch_power(POWER_WATCH_MS), so an unwatched board pays nothing for it."""
        if ms == 0 and self._watch_ms != 0:
            self._power.clear()
        self._watch_ms = ms

    @property
    def power_watched(self):
        """Whether the scans record power flow now."""
        return self._watch_ms != 0

    def _apply_forcing(self, v):
        slots = self._force_slot
        values = self._force_value
        for k in range(self._n_forced):
            v[slots[k]] = values[k]

    def _safe_outputs(self):
        outputs = self.outputs
        for k in range(len(outputs)):
            outputs[k] = 0 if self.image.vars[self.output_vars[k]][0] != T_BOOL else False

    def _fault(self, code):
        self.state = STATE_FAULT
        self.fault_code = code
        self._safe_outputs()

    # ---- run state --------------------------------------------------------------------

    def run(self):
        """STOP -> RUN (a fault must be reset first)."""
        if self.state == STATE_STOP:
            self.state = STATE_RUN

    def stop(self):
        """RUN -> STOP: rungs no longer run and outputs go to their safe values."""
        if self.state == STATE_RUN:
            self.state = STATE_STOP
            self._safe_outputs()

    def fault(self, code=FAULT_EXTERNAL):
        """Put the runtime in FAULT from outside (e.g. a watchdog); outputs go safe."""
        self._fault(code)

    def reset_fault(self):
        """Leave FAULT with a warm restart (retained values kept) and run again."""
        if self.state == STATE_FAULT:
            self.restart()

    def clear_math_error(self):
        """Clear the sticky math_error flag."""
        self.v[self.layout.math_error] = False
        self.math_error = False

    # ---- forcing ----------------------------------------------------------------------

    def force(self, var_index, value):
        """Hold an input or output at value at the start and end of every scan."""
        var = self._var(var_index)
        if not var[1] & (F_INPUT | F_OUTPUT):
            raise ValueError("only inputs and outputs can be forced")
        value = _coerce(var[0], value)
        self.forced[var_index] = value
        self._rebuild_forcing()

    def release(self, var_index):
        """Stop forcing one variable."""
        if var_index in self.forced:
            del self.forced[var_index]
            self._rebuild_forcing()

    def release_all(self):
        """Stop all forcing."""
        self.forced = {}
        self._n_forced = 0

    def _rebuild_forcing(self):
        slots = sorted(self.forced)
        self._force_value = [self.forced[i] for i in slots]
        self._force_slot = slots
        self._n_forced = len(slots)

    # ---- access by index and by name --------------------------------------------------

    def _var(self, i):
        if not 0 <= i < len(self.image.vars):
            raise IndexError("no variable " + str(i))
        return self.image.vars[i]

    def read_slot(self, i):
        """The value in slot i (see slot())."""
        return self.v[i]

    def write_slot(self, i, value):
        """Write slot i directly (no checks; for fast hardware layers)."""
        self.v[i] = value

    def names(self):
        """name -> (slot, type, writable, input position or -1); needs the debug section.
        The system contacts (first_scan, clock_100ms, clock_1s, math_error) are included,
        read-only."""
        if self._names is None:
            d = self.image.debug
            if d is None:
                raise KeyError("this bytecode has no debug section: names are unknown")
            table = {}
            inputs = {}
            for k, i in enumerate(self.input_vars):
                inputs[i] = k
            for i, name in enumerate(d.var_names):
                vtype, flags = self.image.vars[i][0], self.image.vars[i][1]
                table[name] = (i, vtype, not flags & F_CONST, inputs.get(i, -1))
            for b, name in enumerate(d.block_names):
                kind = self.image.blocks[b][0]
                members = TIMER_MEMBERS if kind <= K_RTO else COUNTER_MEMBERS[kind]
                for m in members:
                    slot = self.layout.block_base[b] + blocks.member_offset(kind, m)
                    table[name + "." + MEMBER_NAMES[m]] = (slot, MEMBER_TYPES[m], True, -1)
            for k in range(len(SYS_NAMES)):
                table[SYS_NAMES[k]] = self._system_entry(k)
            self._names = table
        return self._names

    def _system_entry(self, k):
        # SYS 0..3 sit in this order from layout.first_scan (see Layout)
        return (self.layout.first_scan + k, T_BOOL, False, -1)

    def _entry(self, name):
        if not isinstance(name, str):
            raise TypeError("a variable or member name is a string, not " + repr(name))
        if name in SYS_NAMES:  # known without the debug section: they are in every program
            return self._system_entry(SYS_NAMES.index(name))
        entry = self.names().get(name)
        if entry is None:
            raise KeyError("unknown variable or member: " + name)
        return entry

    def slot(self, name):
        """The slot index of a variable or member name."""
        return self._entry(name)[0]

    def get(self, name):
        """A variable's or member's current value (time in ms)."""
        return self.v[self.slot(name)]

    def set(self, name, value):
        """Write a variable or member; an input is written to the input image."""
        slot, vtype, writable, input_pos = self._entry(name)
        if name in SYS_NAMES:
            raise ValueError(name + " is a system contact: it can be read, not set")
        if not writable:
            raise ValueError(name + " is a constant")
        value = _coerce(vtype, value)
        if input_pos >= 0:
            self.inputs[input_pos] = value
        else:
            self.v[slot] = value

    # ---- retained memory --------------------------------------------------------------

    def _make_codec(self):
        from .retain import RetainCodec

        return RetainCodec(self.image, self.layout)

    def _codec(self):
        if self._retain is None:
            self._retain = self._make_codec()
        return self._retain

    def retain_snapshot(self):
        """The retained values as CRC-protected bytes."""
        return self._codec().snapshot(self.v)

    def retain_restore(self, data):
        """Load a snapshot of this same program (LoadError otherwise)."""
        self._codec().restore(self.v, data)


def _safe(vtype):
    return False if vtype == T_BOOL else (0.0 if vtype == T_REAL else 0)


def _coerce(vtype, value):
    """A value written from outside, made to fit the variable's type."""
    if vtype == T_BOOL:
        if value in (0, 1, True, False):
            return bool(value)
        raise ValueError("a bool needs true/false or 0/1, not " + repr(value))
    if vtype == T_REAL:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("a real needs a number, not " + repr(value))
        return arith.f32(float(value))
    # a float with an integer value is fine (value - value is nan for inf and nan)
    if isinstance(value, float) and value - value == 0 and value == int(value):
        value = int(value)
    elif isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("an integer value is needed, not " + repr(value))
    return arith.w16(value) if vtype == T_INT else arith.w32(value)


__all__ = ["Runtime", "LoadError", "STATE_STOP", "STATE_RUN", "STATE_FAULT"]
