"""ASCII ladder diagrams: left rail, contacts in series and parallel, actions on the right."""

from .ladder import Contact, Parallel, Series, program_model

_CONTACT = {
    "NO": "[ {} ]",
    "NC": "[/{} ]",
    "P": "[P {} ]",
    "N": "[N {} ]",
    "CMP": "[ {} ]",
    "BOX": "[{}]",
}
_COIL = {
    "coil": "( {} )",
    "coil_not": "(/{} )",
    "set": "(S {} )",
    "reset": "(R {} )",
    "reset_block": "(R {} )",
    "timer": "[{}]",
    "count": "[{}]",
    "count_down": "[{}]",
    "load": "[{}]",
    "assign": "[ {} ]",
}


def _block(node):
    """A list of equal-width strings; power flows along row 0."""
    if isinstance(node, Contact):
        return ["--" + _CONTACT[node.kind].format(node.label) + "--"]
    if isinstance(node, Series):
        parts = [_block(x) for x in node.items]
        height = max(len(p) for p in parts)
        rows = [""] * height
        for p in parts:
            width = len(p[0])
            for i in range(height):
                rows[i] += p[i] if i < len(p) else " " * width
        return rows
    if isinstance(node, Parallel):
        return _stack([_block(x) for x in node.items], close=True)
    raise TypeError(node)


def _stack(branches, close):
    """Branches one under the other, joined by `+` corners and `|` verticals."""
    width = max(len(b[0]) for b in branches)
    rows = []
    last = len(branches) - 1
    for k, b in enumerate(branches):
        for i, line in enumerate(b):
            fill = "-" if i == 0 else " "
            body = line + fill * (width - len(line))
            if i == 0:
                left = right = "+"
            else:
                left = right = "|" if k < last else " "
            rows.append(left + body + (right if close else ""))
    return rows


def draw_rung(rung):
    """One rung: a header line, then the diagram."""
    head = f"rung {rung.index}"
    if rung.name:
        head += " " + rung.name
    if rung.line:
        head += f" (line {rung.line})"
    if rung.comment:
        head += f': "{rung.comment}"'
    cond = _block(rung.condition)
    coils = [["--" + _COIL[a.kind].format(a.label)] for a in rung.actions] or [["--"]]
    outs = _stack(coils, close=False) if len(coils) > 1 else coils[0]
    width = max(len(x) for x in outs)
    height = max(len(cond), len(outs))
    lines = [head]
    cw = len(cond[0])
    for i in range(height):
        c = cond[i] if i < len(cond) else " " * cw
        o = outs[i] if i < len(outs) else ""
        wired = i == 0 or o.startswith("+")  # every coil reaches the right rail
        o += ("-" if wired else " ") * (width - len(o))
        lines.append("|" + c + o + ("--|" if wired else "  |"))
    return "\n".join(lines)


def draw(img):
    """Every rung of a decoded image, as ASCII ladder diagrams."""
    return "\n\n".join(draw_rung(r) for r in program_model(img)) + "\n"
