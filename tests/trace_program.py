# Shared by CPython and MicroPython (tests/test_micropython.py): run a program through a
# fixed input sequence and print one line per scan with every output, every variable slot
# the power flow, the state, fault code and math_error, with reals as their binary32 bit
# patterns (NaN included: the runtime gives every NaN one pattern) so both sides compare
# exactly. Expects CODE (bytes) and STEPS (list of (time_ms, [(input_pos, value)])).
import struct


def _fmt(x):
    if x is True:
        return "T"
    if x is False:
        return "F"
    if isinstance(x, float):
        return "r" + str(struct.unpack("<I", struct.pack("<f", x))[0])
    return str(x)


def trace(Runtime, code, steps):
    rt = Runtime(code)
    lines = []
    for now, changes in steps:
        for pos, value in changes:
            rt.inputs[pos] = value
        rt.scan(now)
        lines.append(
            " ".join(_fmt(x) for x in rt.outputs)
            + " | "
            + " ".join(_fmt(x) for x in rt.v)
            + " | "
            + "".join(str(b) for b in rt.power)
            + " | me=%s st=%d fc=%d" % (_fmt(rt.math_error), rt.state, rt.fault_code)
        )
    return lines
