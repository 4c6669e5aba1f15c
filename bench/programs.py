"""Benchmark programs: Rung source plus the same logic hand-written in plain Python.

The hand-written reference is the cheapest straightforward Python for the same logic, and
the yardstick for the runtime's scan: straight-line statements over a flat list of values,
timers, counters, wrap-around and division written inline (no helper calls), the same
input and output images copied in and out. It is written with names (`{t3.ET}`) that
`hand_source` resolves to the runtime's slots, plus private slots of its own (`{@p3}`) for
edge memories; `check` proves it computes what the runtime computes, scan by scan."""

import random
import re

CYCLE_MS = 10


class Hand:
    """Hand-written statements (lines, `{name}` for a slot) and private slots' initial values."""

    def __init__(self):
        self.lines = []
        self.private = {}

    def add(self, text):
        self.lines += text.strip("\n").split("\n")

    def slot(self, name, initial):
        self.private[name] = initial
        return "{@" + name + "}"


def _ton(hand, k, inp):
    """TON k driven by `inp`, inline (Q, ET, PT are the runtime's; the last IN is private)."""
    p = hand.slot(f"in{k}", False)
    t = f"t{k}"
    hand.add(f"""
x = {inp}
if x:
    if {p}:
        e = {{{t}.ET}} + dt
        pt = {{{t}.PT}}
        {{{t}.ET}} = e if e < pt else pt
    else:
        {{{t}.ET}} = 0
    {{{t}.Q}} = {{{t}.ET}} >= {{{t}.PT}}
else:
    {{{t}.ET}} = 0
    {{{t}.Q}} = False
{p} = x""")


def _ctu(hand, k, inp):
    # the last CU starts true: no count on the first scan, as the runtime does
    p = hand.slot(f"cu{k}", True)
    c = f"c{k}"
    hand.add(f"""
x = {inp}
if x and not {p} and {{{c}.CV}} < 32767:
    {{{c}.CV}} += 1
{p} = x
{{{c}.Q}} = {{{c}.CV}} >= {{{c}.PV}}""")


def _wrap16(expr):
    return f"(({expr}) + 32768 & 65535) - 32768"


def contacts(n_rungs=200, seed=1):
    """Plain contacts and coils: series, parallel, negation, seal-in."""
    rnd = random.Random(seed)
    ni, no, nm = 64, 64, 64
    src = ["program contacts", f"cycle {CYCLE_MS}ms"]
    src += [f"input i{k} : bool at %IX{k // 8}.{k % 8}" for k in range(ni)]
    src += [f"output o{k} : bool at %QX{k // 8}.{k % 8}" for k in range(no)]
    src += [f"var m{k} : bool" for k in range(nm)]
    hand = Hand()
    for r in range(n_rungs):
        a, b, c, d = (rnd.randrange(ni) for _ in range(4))
        m, o = r % nm, r % no
        src.append(f"rung: (i{a} or m{m}) and not i{b} and i{c} or i{d} -> m{m}, o{o}")
        hand.add(f"p = ({{i{a}}} or {{m{m}}}) and not {{i{b}}} and {{i{c}}} or {{i{d}}}")
        hand.add(f"{{m{m}}} = p\n{{o{o}}} = p")
    return "\n".join(src) + "\n", hand, ni, no


def timers(n_timers=50, seed=3):
    """TON timers, each driven by two contacts, each Q driving an output."""
    rnd = random.Random(seed)
    ni, no = 32, 32
    src = ["program timers", f"cycle {CYCLE_MS}ms"]
    src += [f"input i{k} : bool at %IX{k // 8}.{k % 8}" for k in range(ni)]
    src += [f"output o{k} : bool at %QX{k // 8}.{k % 8}" for k in range(no)]
    src += [f"timer t{k} : TON = {rnd.randrange(1, 30) * 10}ms" for k in range(n_timers)]
    hand = Hand()
    for k in range(n_timers):
        a, b = rnd.randrange(ni), rnd.randrange(ni)
        src.append(f"rung: i{a} and not i{b} -> t{k}")
        _ton(hand, k, f"{{i{a}}} and not {{i{b}}}")
        src.append(f"rung: t{k}.Q -> o{k % no}")
        hand.add(f"{{o{k % no}}} = {{t{k}.Q}}")
    return "\n".join(src) + "\n", hand, ni, no


def arithmetic(n_rungs=50, seed=4):
    """16-bit integer arithmetic (+, -, *), half the rungs unconditional."""
    rnd = random.Random(seed)
    ni, nw, na, nq = 8, 8, 8, 8
    src = ["program arithmetic", f"cycle {CYCLE_MS}ms"]
    src += [f"input i{k} : bool at %IX0.{k}" for k in range(ni)]
    src += [f"input w{k} : int at %IW{k}" for k in range(nw)]
    src += [f"output q{k} : int at %QW{k}" for k in range(nq)]
    src += [f"var a{k} : int" for k in range(na)]
    hand = Hand()
    for r in range(n_rungs):
        target = f"a{r % na}" if r % 2 else f"q{r % nq}"
        x, y, j = rnd.randrange(nw), rnd.randrange(nw), rnd.randrange(na)
        c = rnd.randrange(2, 9)
        expr = f"a{j} + w{x} * {c} - w{y}"
        hand_expr = f"{{a{j}}} + {{w{x}}} * {c} - {{w{y}}}"
        if r % 2:
            src.append(f"rung: true -> {target} := {expr}")
            hand.add(f"{{{target}}} = {_wrap16(hand_expr)}")
        else:
            b = rnd.randrange(ni)
            src.append(f"rung: i{b} -> {target} := {expr}")
            hand.add(f"if {{i{b}}}:\n    {{{target}}} = {_wrap16(hand_expr)}")
    return "\n".join(src) + "\n", hand, ni + nw, nq


def mixed(n_rungs=200, seed=2):
    """Contacts with comparisons, integer arithmetic with division, TON timers, CTU counters."""
    rnd = random.Random(seed)
    ni, nw, no = 32, 8, 32
    src = ["program mixed", f"cycle {CYCLE_MS}ms"]
    src += [f"input i{k} : bool at %IX{k // 8}.{k % 8}" for k in range(ni)]
    src += [f"input w{k} : int at %IW{k}" for k in range(nw)]
    src += [f"output o{k} : bool at %QX{k // 8}.{k % 8}" for k in range(no)]
    src += ["var acc : int"]
    hand = Hand()
    blocks = []
    n_timers = n_counters = 0
    for r in range(n_rungs):
        kind = r % 4
        a, b = rnd.randrange(ni), rnd.randrange(ni)
        w = rnd.randrange(nw)
        o = r % no
        if kind == 0:
            limit = rnd.randrange(1000)
            src.append(f"rung: i{a} and w{w} > {limit} or not i{b} -> o{o}")
            hand.add(f"{{o{o}}} = {{i{a}}} and {{w{w}}} > {limit} or not {{i{b}}}")
        elif kind == 1:
            src.append(f"rung: i{a} -> acc := acc + w{w} / 3")
            # division truncates toward zero; by a non-zero constant it cannot fail
            hand.add(f"""
if {{i{a}}}:
    x = {{w{w}}}
    {{acc}} = {_wrap16("{acc} + (x // 3 if x >= 0 else -(-x // 3))")}""")
        elif kind == 2:
            t = n_timers
            n_timers += 1
            blocks.append(f"timer t{t} : TON = {rnd.randrange(1, 50) * 100}ms")
            src.append(f"rung: i{a} and not i{b} -> t{t}")
            _ton(hand, t, f"{{i{a}}} and not {{i{b}}}")
            src.append(f"rung: t{t}.Q -> o{o}")
            hand.add(f"{{o{o}}} = {{t{t}.Q}}")
        else:
            c = n_counters
            n_counters += 1
            blocks.append(f"counter c{c} : CTU = {rnd.randrange(2, 20)}")
            src.append(f"rung: i{a} -> count c{c}")
            _ctu(hand, c, f"{{i{a}}}")
            src.append(f"rung: c{c}.Q -> o{o}")
            hand.add(f"{{o{o}}} = {{c{c}.Q}}")
    header, rungs = src[: 2 + ni + nw + no + 1], src[2 + ni + nw + no + 1 :]
    return "\n".join(header + blocks + rungs) + "\n", hand, ni + nw, no


PROGRAMS = {
    "contacts": (contacts, 200, "200 rungs of contacts and coils"),
    "timers": (timers, 50, "50 TON timers (100 rungs)"),
    "arithmetic": (arithmetic, 50, "50 rungs of int arithmetic, half unconditional"),
    "mixed": (mixed, 200, "200 rungs: comparisons, arithmetic with division, 25 TON, 25 CTU"),
}


def hand_source(hand, names, n_slots, in_slots, out_slots):
    """Python source of `hand_state(v0)` and `hand_scan(v, inputs, outputs, dt)` over the
    runtime's layout (names: Runtime.names(); private slots follow its n_slots)."""
    private = {name: n_slots + k for k, name in enumerate(hand.private)}

    def slot(m):
        name = m.group(1)
        if name.startswith("@"):
            return f"v[{private[name[1:]]}]"
        return f"v[{names[name][0]}]"

    lines = ["def hand_state(v0):", "    return list(v0) + " + repr(list(hand.private.values()))]
    lines += ["", "", "def hand_scan(v, inputs, outputs, dt):"]
    lines += [f"    v[{s}] = inputs[{k}]" for k, s in enumerate(in_slots)]
    lines += ["    " + re.sub(r"\{(@?[\w.]+)\}", slot, line) for line in hand.lines]
    lines += [f"    outputs[{k}] = v[{s}]" for k, s in enumerate(out_slots)]
    return "\n".join(lines) + "\n"


def build(name, size=None):
    """(bytecode, hand-written source, name table) of a benchmark program."""
    import rung
    from rung.runtime import Runtime
    from rung.runtime.opcodes import SYS_NAMES

    make, default, _what = PROGRAMS[name]
    src, hand, _ni, _no = make(size or default)
    code = rung.compile_source(src, name + ".rung", debug=False).to_bytes()
    names = dict(Runtime(rung.compile_source(src, name + ".rung").to_bytes()).names())
    for system in SYS_NAMES:  # the runtime's own bits, not the program's variables
        names.pop(system, None)
    rt = Runtime(code)
    return code, hand_source(hand, names, len(rt.v), rt.input_vars, rt.output_vars), names


def stimulus(i, inputs):
    """The input change before scan i: one input a scan, the same for both sides."""
    k = i % len(inputs)
    if isinstance(inputs[k], bool):
        inputs[k] = (i * 7919 >> 3) % 3 != 0
    else:
        inputs[k] = (i * 7919) % 2001 - 1000


def check(name, size=None, scans=2000, seed=5):
    """Run the runtime and the hand-written reference side by side on random inputs; raise
    AssertionError at the first scan where an output, variable or block member differs.
    Returns the number of scans compared."""
    from rung.runtime import Runtime

    code, hsrc, names = build(name, size)
    ns = {}
    exec(hsrc, ns)
    rt = Runtime(code)
    v = ns["hand_state"](rt.v)
    outs = list(rt.outputs)
    rnd = random.Random(seed)
    inputs = rt.inputs
    for i in range(scans):
        for k in range(len(inputs)):
            if rnd.random() < 0.2:
                inputs[k] = (
                    rnd.random() < 0.5
                    if isinstance(inputs[k], bool)
                    else rnd.randrange(-1200, 1200)
                )
        rt.scan(i * CYCLE_MS)
        ns["hand_scan"](v, inputs, outs, 0 if i == 0 else CYCLE_MS)
        assert list(rt.outputs) == outs, f"{name}: scan {i}: {list(rt.outputs)} != {outs}"
        for var, (s, *_rest) in names.items():  # every variable and member, not only outputs
            assert rt.v[s] == v[s], f"{name}: scan {i}: {var} = {rt.v[s]} != {v[s]}"
    return scans
