"""A readable listing of a bytecode image: tables, then each rung's instructions."""

from rung.runtime import opcodes as O
from rung.runtime.addresses import format_address
from rung.runtime.container import LoadError
from rung.runtime.instructions import read_instruction

FLAG_NAMES = (
    (O.F_INPUT, "input"),
    (O.F_OUTPUT, "output"),
    (O.F_RETAIN, "retain"),
    (O.F_CONST, "const"),
)


class Names:
    """Symbolic names from the debug section, or v3/b1 when there is none."""

    def __init__(self, img):
        d = img.debug
        self.vars = d.var_names if d else ["v" + str(i) for i in range(len(img.vars))]
        self.blocks = d.block_names if d else ["b" + str(i) for i in range(len(img.blocks))]

    def var(self, i):
        return self.vars[i] if i < len(self.vars) else f"v{i}?"

    def block(self, b):
        return self.blocks[b] if b < len(self.blocks) else f"b{b}?"


def _value(vtype, value):
    if vtype == O.T_BOOL:
        return "true" if value else "false"
    if vtype == O.T_TIME:
        return f"{value}ms"
    return repr(value)


def operand_text(entry, operands, names):
    """The operands of one instruction, shown symbolically."""
    shape = entry[2]
    parts = []
    for kind, x in zip(shape, operands, strict=False):
        if kind == "v":
            parts.append(names.var(x))
        elif kind == "b":
            parts.append(names.block(x))
        elif kind == "m":
            parts.append("." + (O.MEMBER_NAMES[x] if x < len(O.MEMBER_NAMES) else f"?{x}"))
        elif kind == "s":
            parts.append(O.SYS_NAMES[x] if x < len(O.SYS_NAMES) else f"sys?{x}")
        elif kind == "t":
            parts.append(O.TYPE_NAMES[x] if x < len(O.TYPE_NAMES) else f"type?{x}")
        elif kind == "e":
            parts.append(f"edge{x}")
        elif kind == "f":
            parts.append(repr(x))
        else:
            parts.append(str(x) + ("ms" if entry[0] == "PUSH_TIME" else ""))
    if shape == "bm" and len(parts) == 2:
        return parts[0] + parts[1]
    return " ".join(parts)


def rung_instructions(img, r):
    """Decode rung r: a list of (offset, entry, operands); raises LoadError on bad bytes."""
    start, end = img.rungs[r]
    out = []
    pos = start
    while pos < end:
        entry, operands, nxt = read_instruction(img.data, pos, end)
        out.append((pos - start, entry, operands))
        pos = nxt
    return out


def disassemble(img):
    """The full listing of a decoded container.Image."""
    names = Names(img)
    d = img.debug
    code_bytes = sum(e - s for s, e in img.rungs)
    lines = [
        f"; Rung bytecode {img.major}.{img.minor}  CRC32 {img.crc:08x}  {len(img.data)} bytes "
        f"({code_bytes} bytes of code)",
        f"; program {d.program or '?'} from {d.source or '?'}" if d else "; no debug section",
        f"; cycle {img.cycle_ms}ms, {len(img.vars)} variables, {len(img.blocks)} blocks, "
        f"{img.n_edges} edge memories, {len(img.rungs)} rungs",
        "",
        "variables:",
    ]
    for i, (vtype, flags, area, index, init) in enumerate(img.vars):
        flag_text = ",".join(n for bit, n in FLAG_NAMES if flags & bit) or "-"
        addr = format_address(area, index) or "-"
        desc = f'  "{d.var_descriptions[i]}"' if d and d.var_descriptions[i] else ""
        lines.append(
            f"  v{i:<3} {names.var(i):<16} {O.TYPE_NAMES[vtype]:<5} {addr:<8} "
            f"{flag_text:<13} = {_value(vtype, init)}{desc}"
        )
    if img.blocks:
        lines.append("blocks:")
        for b, (kind, flags, preset) in enumerate(img.blocks):
            unit = "ms" if kind <= O.K_RTO else ""
            retain = " retain" if flags & O.B_RETAIN else ""
            lines.append(
                f"  b{b:<3} {names.block(b):<16} {O.KIND_NAMES[kind]:<5} "
                f"preset {preset}{unit}{retain}"
            )
    for r in range(len(img.rungs)):
        lines.append("")
        title = f"rung {r}"
        if d:
            if d.rung_names[r]:
                title += " " + d.rung_names[r]
            title += f"  (line {d.rung_lines[r]})"
            if d.rung_comments[r]:
                title += f'  "{d.rung_comments[r]}"'
        lines.append(title + ":")
        if d and d.rung_texts[r]:
            for src_line in d.rung_texts[r].splitlines():
                lines.append("  ; " + src_line.strip())
        try:
            for off, entry, operands in rung_instructions(img, r):
                text = operand_text(entry, operands, names)
                lines.append(f"  {off:04x}  {entry[0]:<12} {text}".rstrip())
        except LoadError as exc:
            lines.append(f"  !! {exc}")
    return "\n".join(lines) + "\n"
