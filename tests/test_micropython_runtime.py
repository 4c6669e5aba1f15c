"""The runtime's whole public surface under real MicroPython, compared with CPython.

Each scenario is one piece of Python that runs unchanged on both interpreters and prints
what it sees (values, states, error messages); the two transcripts must be identical."""

import pytest
from bytecode_gen import fix_header
from mpy import run_mpy
from test_verifier import SMALL

import rung
from rung.runtime import LoadError, Runtime

PLANT = """program plant
cycle 10ms
input start : bool at %IX0.0
input level : int at %IW0
output pump : bool at %QX0.0
output speed : int at %QW0
var runs : dint retain
var total : real retain
var uptime : time retain
var latched : bool retain
var quotient : int
var divisor : int
timer dwell : TON = 30ms
timer hours : RTO = 50ms retain
counter fills : CTUD = 3 retain
rung: start and not fills.QU -> pump, dwell, hours
rung: rising start -> count fills, runs := runs + 1, total := total + real(level) * 0.1
rung: falling start -> count_down fills
rung: dwell.Q -> set latched, uptime := uptime + dwell.ET
rung: true -> speed := level / 3, quotient := level / divisor
rung: level > 900 -> reset fills, load fills
"""

# Runs on both interpreters: exercises run state, forcing, faults, retain and restart.
SCENARIO = r"""
import struct

NAMES = ("pump", "speed", "runs", "total", "uptime", "latched", "quotient", "dwell.ET",
         "dwell.Q", "hours.ET", "fills.CV", "fills.QU", "fills.QD")


def fmt(x):
    if x is True or x is False:
        return "T" if x else "F"
    if isinstance(x, float):
        return "r%08x" % struct.unpack("<I", struct.pack("<f", x))[0]
    return str(x)


def scenario(Runtime, LoadError, code, other):
    out = []
    rt = Runtime(code)

    def show(tag, r=rt):
        out.append(tag + " " + " ".join(fmt(r.get(n)) for n in NAMES) + " | "
                   + " ".join(fmt(x) for x in r.outputs) + " | st=%d fc=%d fs=%s me=%s n=%d pw=%s"
                   % (r.state, r.fault_code, fmt(r.first_scan), fmt(r.math_error),
                      r.scan_count, "".join(str(b) for b in r.power)))

    def attempt(tag, f, *args):
        try:
            f(*args)
            out.append(tag + " ok")
        except (LoadError, ValueError, KeyError, IndexError) as exc:
            # args[0], not str(): CPython quotes a KeyError's message, MicroPython does not
            out.append(tag + " " + type(exc).__name__ + ": " + str(exc.args[0]))

    now = 0
    for i in range(40):
        rt.inputs[0] = (i // 4) % 2 == 1
        rt.inputs[1] = (i * 97) % 1000 - 50
        rt.scan(now)
        show("scan%d" % i)
        now += 7 + i % 5
    rt.clear_math_error()
    show("cleared")
    # forcing: an output and an input, held at the start and end of each scan
    attempt("force pump", rt.force, rt.output_vars[0], False)
    attempt("force level", rt.force, rt.input_vars[1], 950)
    attempt("force var", rt.force, 6, 1)
    attempt("force bad", rt.force, rt.input_vars[0], 5)
    rt.inputs[0] = True
    rt.scan(now)
    show("forced")
    out.append("forced " + str(sorted(rt.forced.items())))
    rt.release(rt.output_vars[0])
    rt.scan(now + 10)
    show("released-one")
    rt.release_all()
    rt.scan(now + 20)
    show("released-all")
    now += 30
    # STOP: rungs do not run, outputs safe; RUN resumes
    rt.stop()
    rt.scan(now)
    show("stopped")
    rt.run()
    rt.scan(now + 10)
    show("running")
    # FAULT from the host, then reset (a warm restart)
    rt.fault()
    rt.scan(now + 20)
    show("fault")
    rt.reset_fault()
    show("reset")
    rt.scan(now + 30)
    show("after-reset")
    # retain: snapshot, power cycle, restore into a fresh runtime
    snap = rt.retain_snapshot()
    out.append("snap " + "".join("%02x" % b for b in snap))
    rt.restart()
    rt.scan(0)
    show("restarted")
    fresh = Runtime(code)
    attempt("restore", fresh.retain_restore, snap)
    show("fresh", fresh)
    attempt("other program", Runtime(other).retain_restore, snap)
    bad = bytearray(snap)
    bad[12] ^= 1
    attempt("corrupt", fresh.retain_restore, bytes(bad))
    attempt("short", fresh.retain_restore, snap[:9])
    attempt("not bytes", fresh.retain_restore, "RRET")
    # access by name, with type checks and wrapping
    attempt("set level", rt.set, "level", 70000)
    attempt("set runs", rt.set, "runs", 2**31 + 5)
    attempt("set total", rt.set, "total", 0.1)
    attempt("set uptime", rt.set, "uptime", 1.0)
    attempt("set latched", rt.set, "latched", 2)
    attempt("set unknown", rt.set, "nothing", 1)
    attempt("set PT", rt.set, "dwell.PT", 5)
    rt.scan(10)
    show("after-set")
    out.append("inputs " + " ".join(fmt(x) for x in rt.inputs))
    out.append("slot " + str(rt.slot("fills.CV")) + " " + fmt(rt.read_slot(rt.slot("fills.CV"))))
    return out
"""

OTHER = "program other\nvar x : int retain\nrung: true -> x := x + 1\n"


def transcripts():
    code = rung.compile_source(PLANT, "plant.rung").to_bytes()
    other = rung.compile_source(OTHER, "other.rung").to_bytes()
    namespace = {}
    exec(SCENARIO, namespace)
    expected = namespace["scenario"](Runtime, LoadError, code, other)
    script = (
        SCENARIO
        + "\nfrom runtime import Runtime, LoadError\n"
        + f"for line in scenario(Runtime, LoadError, {code!r}, {other!r}):\n    print(line)\n"
    )
    return expected, run_mpy(script).splitlines()


def test_state_forcing_fault_retain_and_access_identical_on_micropython():
    expected, got = transcripts()
    # the scenario really exercises what it claims (checked on the CPython transcript)
    text = "\n".join(expected)
    assert "force var ValueError: only inputs and outputs can be forced" in text
    assert "other program LoadError: retain snapshot belongs to another program" in text
    assert "corrupt LoadError: retain snapshot is corrupted (CRC mismatch)" in text
    assert "restore ok" in text and "set latched ValueError" in text
    assert any(" me=T " in line for line in expected)
    assert [line for line in expected if line.startswith("stopped")][0].split(" | ")[1] == "F 0"
    assert len(got) == len(expected)
    for a, b in zip(expected, got, strict=True):
        assert a == b, f"\nCPython     {a}\nMicroPython {b}"


# Runs on both interpreters: load each mutated program, scan it if it loads.
OUTCOMES = r"""
def outcome(Runtime, LoadError, data):
    try:
        rt = Runtime(data)
    except LoadError as exc:
        return "LoadError: " + str(exc)
    except Exception as exc:
        return "CRASH " + type(exc).__name__ + ": " + str(exc)
    for i in range(12):
        for k in range(len(rt.inputs)):
            rt.inputs[k] = (i % 3 == 0) if rt.inputs[k] is True or rt.inputs[k] is False else i * 7
        rt.scan(i * 10)
    return "ran st=%d fc=%d %s" % (rt.state, rt.fault_code, rt.outputs)
"""


def test_verifier_gives_identical_verdicts_on_micropython():
    """Every byte of a small program flipped (CRC recomputed): the same LoadError message or
    the same run on both interpreters, and never another exception."""
    base = rung.compile_source(SMALL, "small.rung", debug=False).to_bytes()
    mutants = []
    for pos in range(16, len(base)):
        for mask in (0x01, 0xFF):
            data = bytearray(base)
            data[pos] ^= mask
            mutants.append(fix_header(data))
    namespace = {}
    exec(OUTCOMES, namespace)
    expected = [namespace["outcome"](Runtime, LoadError, m) for m in mutants]
    assert not [e for e in expected if e.startswith("CRASH")]
    assert any(e.startswith("LoadError") for e in expected)
    assert any(e.startswith("ran") for e in expected)
    # one top-level run per batch: the pyscript build collects garbage only between runs
    batches = []
    for k in range(0, len(mutants), 25):
        batches.append(
            f"for m in {mutants[k : k + 25]!r}:\n    print(outcome(Runtime, LoadError, m))\n"
        )
    script = (
        OUTCOMES + "\nfrom runtime import Runtime, LoadError\n#--- top level ---\n"
    ) + "\n#--- top level ---\n".join(batches)
    got = run_mpy(script, timeout=300).splitlines()
    assert len(got) == len(expected)
    for m, a, b in zip(mutants, expected, got, strict=True):
        assert a == b, f"{m.hex()}\nCPython     {a}\nMicroPython {b}"


def test_loader_is_dropped_after_loading_and_comes_back():
    code = rung.compile_source(SMALL, "small.rung").to_bytes()
    bad = bytearray(code)
    bad[-1] ^= 1
    script = f"""
import sys
import runtime
rt = runtime.Runtime({code!r})
print(sorted(m for m in sys.modules if m.startswith("runtime.")))
print(hasattr(runtime, "translate"), rt.image.data, len(rt.image.rungs))
try:
    runtime.Runtime({bytes(bad)!r})
except runtime.LoadError as exc:
    print("LoadError", exc)
rt2 = runtime.Runtime({code!r})
rt2.inputs[0] = True
rt2.scan(0)
rt2.scan(10)
print(rt2.outputs, rt2.state, "runtime.translate" in sys.modules)
"""
    lines = run_mpy(script).splitlines()
    # the scan engine and what it runs with (retain: SMALL retains a variable): no
    # decoder, verifier, tables or CRC module
    assert lines[0] == (
        "['runtime.arith', 'runtime.blocks', 'runtime.engine', 'runtime.image', 'runtime.retain']"
    )
    assert lines[1] == "False None 4"
    assert lines[2] == "LoadError CRC mismatch: bytecode is corrupted"
    assert lines[3] == "[True] 1 False"


@pytest.mark.parametrize("name", ["plant", "small"])
def test_cpython_keeps_its_modules_and_drops_the_code(name):
    src = PLANT if name == "plant" else SMALL
    rt = Runtime(rung.compile_source(src, name + ".rung").to_bytes())
    import sys

    assert "rung.runtime.translate" in sys.modules  # dropped on MicroPython only
    assert rt.image.data is None and len(rt.image.rungs) == len(rt.power) > 0
