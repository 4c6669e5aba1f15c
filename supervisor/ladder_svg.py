"""Ladder rungs as SVG from the model `rung draw` uses (compiler/ladder.py), with numbered
signals (wires, contacts, coils) and value slots that a live page colours and fills."""

from html import escape

from rung.compiler.ladder import Contact, Series
from rung.runtime import opcodes as O

ROW = 64  # height of one branch row
PAD = 14  # room for the vertical links of a parallel branch
LEFT = 12


def _contact_width(label):
    return max(80, 8 * len(label) + 28)


def _action_width(label):
    return max(110, 7 * len(label) + 60)


class _Builder:
    def __init__(self):
        self.parts = []
        self.n = 0
        self.slots = 0
        self.ids = {}

    def signal(self):
        self.n += 1
        return self.n - 1

    def slot(self):
        self.slots += 1
        return self.slots - 1

    def wire(self, sig, x1, y1, x2, y2):
        self.parts.append(
            f'<line class="w" data-s="{sig}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>'
        )

    def text(self, x, y, s, cls="lbl", slot=None):
        extra = f' data-t="{slot}"' if slot is not None else ""
        self.parts.append(
            f'<text class="{cls}"{extra} x="{x}" y="{y}" text-anchor="middle">{escape(s)}</text>'
        )


def _size(node):
    """(width, rows) of a condition node."""
    if isinstance(node, Contact):
        return _contact_width(node.label), 1
    if isinstance(node, Series):
        sizes = [_size(x) for x in node.items]
        return sum(w for w, _ in sizes), max(r for _, r in sizes)
    sizes = [_size(x) for x in node.items]
    return max(w for w, _ in sizes) + 2 * PAD, sum(r for _, r in sizes)


def _draw(b, node, x, y):
    """Draw node with its power rail at height y from x; records its signal ids."""
    w, _rows = _size(node)
    if isinstance(node, Contact):
        s_in, s_closed, s_out = b.signal(), b.signal(), b.signal()
        b.ids[id(node)] = (s_in, s_closed, s_out)
        mid = x + w // 2
        k = node.kind
        half = max(14, 4 * len(node.label) + 6) if k == "BOX" else 8
        b.wire(s_in, x, y, mid - half, y)
        b.wire(s_out, mid + half, y, x + w, y)
        if k == "BOX":
            b.parts.append(
                f'<rect class="c" data-s="{s_closed}" x="{mid - half}" y="{y - 11}" '
                f'width="{2 * half}" height="22" rx="3"/>'
            )
            b.text(mid, y + 4, node.label, "box")
        else:
            b.parts.append(
                f'<path class="c" data-s="{s_closed}" '
                f'd="M{mid - 8} {y - 13}v26M{mid + 8} {y - 13}v26"/>'
            )
            if k == "NC":
                b.parts.append(
                    f'<path class="c" data-s="{s_closed}" '
                    f'd="M{mid - 10} {y + 11}L{mid + 10} {y - 11}"/>'
                )
            elif k in ("P", "N"):
                b.text(mid, y + 4, k, "box")
        label = node.label if k != "BOX" else ""
        if label:
            b.text(mid, y - 20, label)
        if k == "CMP":
            slot = b.slot()
            b.ids[id(node)] = (s_in, s_closed, s_out, slot)
            b.text(mid, y + 28, "", "val", slot)
        return
    if isinstance(node, Series):
        b.ids[id(node)] = ()
        for item in node.items:
            iw, _ = _size(item)
            _draw(b, item, x, y)
            x += iw
        return
    # parallel: branches one under the other, joined by vertical links
    s_in, s_out = b.signal(), b.signal()
    branch_out = []
    yy = y
    bottoms = []
    for item in node.items:
        iw, rows = _size(item)
        b.wire(s_in, x, yy, x + PAD, yy)
        _draw(b, item, x + PAD, yy)
        so = b.signal()
        branch_out.append(so)
        b.wire(so, x + PAD + iw, yy, x + w - PAD, yy)
        b.wire(so, x + w - PAD, yy, x + w, yy)
        bottoms.append(yy)
        yy += rows * ROW
    b.wire(s_in, x, y, x, bottoms[-1])
    b.wire(s_out, x + w, y, x + w, bottoms[-1])
    b.ids[id(node)] = (s_in, s_out, branch_out)


def flow(ctx, node, power, sig):
    """Power out of node fed with `power` (three-valued); fills sig[] when given."""
    if isinstance(node, Contact):
        state = ctx.contact(node)
        if node.kind == "BOX" and node.label in ("NOT", "P", "N"):
            out = None if power is None or node.label != "NOT" else not power
            state = out
        elif power is False or state is False:
            out = False
        elif power is True and state is True:
            out = True
        else:
            out = None
        if sig is not None:
            ids = ctx.ids[id(node)]
            sig[ids[0]], sig[ids[1]], sig[ids[2]] = power, state, out
            if len(ids) > 3:
                ctx.texts[ids[3]] = _cmp_text(ctx, node)
        return out
    if isinstance(node, Series):
        for item in node.items:
            power = flow(ctx, item, power, sig)
        return power
    outs = [flow(ctx, item, power, sig) for item in node.items]
    if True in outs:
        out = True
    elif all(o is False for o in outs):
        out = False
    else:
        out = None
    if sig is not None:
        s_in, s_out, branch_out = ctx.ids[id(node)]
        sig[s_in], sig[s_out] = power, out
        for so, o in zip(branch_out, outs, strict=True):
            sig[so] = o
    return out


def fmt(vtype, x):
    """A value for the ladder's value slots."""
    if x is None:
        return "?"
    if vtype == O.T_BOOL or isinstance(x, bool):
        return "1" if x else "0"
    if vtype == O.T_REAL or isinstance(x, float):
        return f"{x:.6g}"
    if vtype == O.T_TIME:
        return f"{x / 1000:g}s" if abs(x) >= 1000 else f"{x}ms"
    return str(x)


def _ref_type(ctx, ref):
    kind = ref[0]
    if kind == "var":
        return ctx.program.img.vars[ref[1]][0]
    if kind == "member":
        return O.MEMBER_TYPES[ref[2]]
    if kind == "lit":
        return ref[2]
    if kind in ("op", "conv"):
        return ref[2] if kind == "op" else ref[1]
    return O.T_BOOL


def _cmp_text(ctx, node):
    _k, name, a, b = node.ref
    sym = {"EQ": "=", "NE": "<>", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}[name]
    return f"{fmt(_ref_type(ctx, a), ctx.value(a))} {sym} {fmt(_ref_type(ctx, b), ctx.value(b))}"


class RungView:
    """One rung's SVG and how to compute its live signals and value texts."""

    def __init__(self, program, rung):
        self.program = program
        self.rung = rung
        b = _Builder()
        cw, rows = _size(rung.condition)
        actions = rung.actions
        aw = max([_action_width(a.label) for a in actions] or [60])
        y0 = ROW // 2 + 6
        x0 = LEFT + 10
        s_rail = b.signal()  # the left rail is always live while the device runs
        b.wire(s_rail, x0 - 10, y0, x0, y0)
        _draw(b, rung.condition, x0, y0)
        xa = x0 + cw + 16
        s_cond = b.signal()
        b.wire(s_cond, x0 + cw, y0, xa, y0)
        self.s_power = b.signal()
        self.action_slots = []
        width = xa + aw + PAD + 12
        for k, a in enumerate(actions):
            y = y0 + k * ROW
            if k:
                b.wire(self.s_power, xa, y0, xa, y)
            b.wire(self.s_power, xa, y, xa + 20, y)
            self._action(b, a, xa + 20, y, aw - 20)
            b.wire(self.s_power, xa + aw, y, width - LEFT, y)
        rows = max(rows, len(actions) or 1)
        height = rows * ROW + 6
        b.parts.insert(0, f'<line class="rail" x1="{LEFT}" y1="4" x2="{LEFT}" y2="{height - 4}"/>')
        b.parts.append(
            f'<line class="rail" x1="{width - LEFT}" y1="4" x2="{width - LEFT}" '
            f'y2="{height - 4}"/>'
        )
        self.s_rail, self.s_cond = s_rail, s_cond
        self.n_signals = b.n
        self.n_texts = b.slots
        self.ids = b.ids
        self.svg = (
            f'<svg class="ladder" xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" data-rung="{rung.index}">'
            + "".join(b.parts)
            + "</svg>"
        )

    def _action(self, b, a, x, y, w):
        mid = x + w // 2
        if a.kind in ("coil", "coil_not", "set", "reset"):
            b.wire(self.s_power, x, y, mid - 12, y)
            b.parts.append(
                f'<path class="coil" data-s="{self.s_power}" '
                f'd="M{mid - 6} {y - 13}a14 14 0 0 0 0 26M{mid + 6} {y - 13}a14 14 0 0 1 0 26"/>'
            )
            mark = {"coil_not": "/", "set": "S", "reset": "R"}.get(a.kind, "")
            if mark:
                b.text(mid, y + 4, mark, "box")
            b.wire(self.s_power, mid + 12, y, x + w, y)
            b.text(mid, y - 20, a.label)
            slot = b.slot()
            self.action_slots.append((slot, a))
            b.text(mid, y + 28, "", "val", slot)
            return
        b.wire(self.s_power, x, y, x + 6, y)
        b.parts.append(
            f'<rect class="blk" data-s="{self.s_power}" x="{x + 6}" y="{y - 14}" '
            f'width="{w - 12}" height="28" rx="4"/>'
        )
        b.text(mid, y + 4, a.label, "blabel")
        b.wire(self.s_power, x + w - 6, y, x + w, y)
        slot = b.slot()
        self.action_slots.append((slot, a))
        b.text(mid, y + 28, "", "val", slot)

    def live(self, ctx):
        """(signals, texts) for this rung: 1 energised/closed, 0 not, null unknown."""
        sig = [None] * self.n_signals
        ctx.ids = self.ids
        ctx.texts = [""] * self.n_texts
        snap = ctx.snap
        running = snap.status.get("state") == 1
        sig[self.s_rail] = running
        out = flow(ctx, self.rung.condition, running, sig)
        sig[self.s_cond] = out
        powered = snap.power[self.rung.index] if self.rung.index < len(snap.power) else None
        sig[self.s_power] = powered
        for slot, a in self.action_slots:
            ctx.texts[slot] = self._action_text(ctx, a)
        return [None if s is None else int(bool(s)) for s in sig], ctx.texts

    def _action_text(self, ctx, a):
        ref = a.ref
        if ref is None:
            return ""
        if ref[0] == "var":
            return "= " + fmt(_ref_type(ctx, ref), ctx.value(ref))
        if ref[0] == "block":
            bi = ref[1]
            kind = ctx.program.img.blocks[bi][0]
            v = ctx.snap.values
            if kind <= O.K_RTO:
                et, pt = v.get(f"b{bi}.ET"), v.get(f"b{bi}.PT")
                q = v.get(f"b{bi}.Q")
                return f"ET {fmt(O.T_TIME, et)} / PT {fmt(O.T_TIME, pt)}  Q={fmt(0, q)}"
            cv, pv = v.get(f"b{bi}.CV"), v.get(f"b{bi}.PV")
            return f"CV {fmt(O.T_INT, cv)} / PV {fmt(O.T_INT, pv)}"
        if ref[0] == "assign":
            target = ref[1]
            return "= " + fmt(_ref_type(ctx, target), ctx.value(target))
        return ""
