"""checked.CheckedProgram -> bytecode bytes (docs/bytecode.md). Emits only checked programs."""

from rung.runtime import container
from rung.runtime import opcodes as O

from .bytecode_writer import encode, encode_instruction
from .checked import CheckedProgram

_PUSH = {O.T_INT: "PUSH_INT", O.T_DINT: "PUSH_DINT", O.T_REAL: "PUSH_REAL", O.T_TIME: "PUSH_TIME"}


def _expr(out, t):
    op = t.op
    if op == "lit":
        if t.type == O.T_BOOL:
            encode_instruction(out, "PUSH_TRUE" if t.value else "PUSH_FALSE")
        else:
            encode_instruction(out, _PUSH[t.type], t.value)
    elif op == "load":
        encode_instruction(out, "LOAD", t.value)
    elif op == "member":
        encode_instruction(out, "LOAD_MEMBER", *t.value)
    elif op == "sys":
        encode_instruction(out, "SYS", t.value)
    elif op in ("and", "or"):
        _expr(out, t.args[0])
        for a in t.args[1:]:
            _expr(out, a)
            encode_instruction(out, op.upper())
    elif op == "not":
        _expr(out, t.args[0])
        encode_instruction(out, "NOT")
    elif op in ("rising", "falling"):
        _expr(out, t.args[0])
        encode_instruction(out, op.upper(), t.value)
    elif op in ("cmp", "arith", "arith1", "func"):
        for a in t.args:
            _expr(out, a)
        encode_instruction(out, t.value)
    elif op == "conv":
        _expr(out, t.args[0])
        encode_instruction(out, "CONV", t.value)
    else:
        raise AssertionError("unknown node " + op)


def rung_code(rung):
    """The code bytes of one checked rung."""
    out = bytearray()
    _expr(out, rung.condition)
    encode_instruction(out, "POWER")
    for a in rung.actions:
        if a.expr is not None:
            _expr(out, a.expr)
        if isinstance(a.operand, tuple):
            encode_instruction(out, a.opname, *a.operand)
        else:
            encode_instruction(out, a.opname, a.operand)
    return bytes(out)


def emit(program, debug=True):
    """Bytecode for a CheckedProgram; the same program always gives the same bytes."""
    if not isinstance(program, CheckedProgram):
        raise TypeError("emit() takes a CheckedProgram")
    img = container.Image()
    img.cycle_ms = program.cycle_ms
    img.n_edges = program.n_edges
    img.vars = [(v.type, v.flags, v.area, v.addr_index, v.init) for v in program.vars]
    img.blocks = [(b.kind, O.B_RETAIN if b.retain else 0, b.preset) for b in program.blocks]
    img.rung_bytes = [rung_code(r) for r in program.rungs]
    if debug:
        d = container.Debug()
        d.program = program.name
        d.source = program.source
        d.var_names = [v.name for v in program.vars]
        d.var_descriptions = [v.description for v in program.vars]
        d.block_names = [b.name for b in program.blocks]
        d.rung_names = [r.name for r in program.rungs]
        d.rung_comments = [r.comment for r in program.rungs]
        d.rung_lines = [r.line for r in program.rungs]
        d.rung_texts = [r.text for r in program.rungs]
        img.debug = d
    return encode(img)
