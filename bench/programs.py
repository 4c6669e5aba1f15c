"""Benchmark programs, each as Rung source plus the same logic hand-written in Python.

The hand-written version works on the same data (a flat list of values, the input and
output images) and is what a programmer would write directly: straight-line statements,
timers and counters as small functions. It is the yardstick for the runtime's scan."""

import random


def contacts(n_rungs=200, seed=1):
    """Plain contacts and coils: series, parallel, negation, seal-in."""
    rnd = random.Random(seed)
    ni, no, nm = 64, 64, 64
    src = ["program contacts", "cycle 10ms"]
    src += [f"input i{k} : bool at %IX{k // 8}.{k % 8}" for k in range(ni)]
    src += [f"output o{k} : bool at %QX{k // 8}.{k % 8}" for k in range(no)]
    src += [f"var m{k} : bool" for k in range(nm)]
    # slots: inputs 0..63, outputs 64..127, memory 128..191 (declaration order)
    hand = []
    for r in range(n_rungs):
        a, b, c, d = (rnd.randrange(ni) for _ in range(4))
        m = r % nm
        o = r % no
        src.append(f"rung: (i{a} or m{m}) and not i{b} and i{c} or i{d} -> m{m}, o{o}")
        hand.append(f"p = (v[{a}] or v[{128 + m}]) and not v[{b}] and v[{c}] or v[{d}]")
        hand.append(f"v[{128 + m}] = p")
        hand.append(f"v[{64 + o}] = p")
    return "\n".join(src) + "\n", hand, ni, no


def mixed(n_rungs=200, seed=2):
    """Contacts with comparisons, integer arithmetic, TON timers and CTU counters."""
    rnd = random.Random(seed)
    ni, nw, no = 32, 8, 32
    src = ["program mixed", "cycle 10ms"]
    src += [f"input i{k} : bool at %IX{k // 8}.{k % 8}" for k in range(ni)]
    src += [f"input w{k} : int at %IW{k}" for k in range(nw)]
    src += [f"output o{k} : bool at %QX{k // 8}.{k % 8}" for k in range(no)]
    src += ["var acc : int"]
    hand = []
    n_vars = ni + nw + no + 1
    blocks = []
    acc = ni + nw + no
    base = n_vars
    for r in range(n_rungs):
        kind = r % 4
        a, b = rnd.randrange(ni), rnd.randrange(ni)
        w = rnd.randrange(nw)
        o = r % no
        if kind == 0:
            src.append(f"rung: i{a} and w{w} > {rnd.randrange(1000)} or not i{b} -> o{o}")
            hand.append(
                f"v[{ni + nw + o}] = v[{a}] and v[{ni + w}] > {0} or not v[{b}]".replace(
                    "> 0", "> " + src[-1].split("> ")[1].split(" ")[0]
                )
            )
        elif kind == 1:
            src.append(f"rung: i{a} -> acc := acc + w{w} / 3")
            hand.append(
                f"if v[{a}]: v[{acc}] = ((v[{acc}] + idiv(v[{ni + w}], 3) + 32768)"
                f" & 65535) - 32768"
            )
        elif kind == 2:
            t = len(blocks)
            blocks.append(f"timer t{t} : TON = {rnd.randrange(1, 50) * 100}ms")
            src.append(f"rung: i{a} and not i{b} -> t{t}")
            hand.append(f"ton(v, {base}, v[{a}] and not v[{b}], dt)")
            src.append(f"rung: t{t}.Q -> o{o}")
            hand.append(f"v[{ni + nw + o}] = v[{base}]")
            base += 5
        else:
            c = len(blocks)
            blocks.append(f"counter c{c} : CTU = {rnd.randrange(2, 20)}")
            src.append(f"rung: i{a} -> count c{c}")
            hand.append(f"ctu(v, {base}, v[{a}])")
            src.append(f"rung: c{c}.Q -> o{o}")
            hand.append(f"v[{ni + nw + o}] = v[{base} + 2]")
            base += 10
    header, rungs = src[: 2 + ni + nw + no + 1], src[2 + ni + nw + no + 1 :]
    return "\n".join(header + blocks + rungs) + "\n", hand, ni + nw, no


# The hand-written helpers: the obvious way to write a TON, a CTU and truncating division.
HAND_HELPERS = """
def idiv(a, b):
    if b == 0:
        return 0
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def ton(v, b, inp, dt):
    if inp:
        if v[b + 3]:
            et = v[b + 1] + dt
            v[b + 1] = et if et < v[b + 2] else v[b + 2]
        else:
            v[b + 1] = 0
        v[b] = v[b + 1] >= v[b + 2]
    else:
        v[b + 1] = 0
        v[b] = False
    v[b + 3] = inp


def ctu(v, b, cu):
    if cu and not v[b + 8]:
        if v[b] < 32767:
            v[b] += 1
    v[b + 8] = cu
    v[b + 2] = v[b] >= v[b + 1]
"""


def hand_source(hand, n_in, n_out, in_slots, out_slots):
    """A scan function over the same data as the runtime: copy in, logic, copy out."""
    lines = ["def hand_scan(v, inputs, outputs, dt):"]
    for k, slot in enumerate(in_slots):
        lines.append(f"    v[{slot}] = inputs[{k}]")
    lines += ["    " + h for h in hand]
    for k, slot in enumerate(out_slots):
        lines.append(f"    outputs[{k}] = v[{slot}]")
    return HAND_HELPERS + "\n" + "\n".join(lines) + "\n"
