"""The checked program: every name resolved, every expression typed. Only this is emitted."""


class CVar:
    """A variable (input, output, var or const) in the variable table."""

    def __init__(self, index, name, kind, vtype, flags, area, addr_index, init, description, span):
        self.index = index
        self.name = name
        self.kind = kind
        self.type = vtype
        self.flags = flags
        self.area = area
        self.addr_index = addr_index
        self.init = init
        self.description = description
        self.span = span


class CBlock:
    """A timer or counter."""

    def __init__(self, index, name, kind, preset, retain, span):
        self.index = index
        self.name = name
        self.kind = kind
        self.preset = preset
        self.retain = retain
        self.span = span


class TNode:
    """A typed expression node.

    op: 'load' (value = var index), 'member' (value = (block, member)), 'lit' (value),
    'sys' (value = system id), 'not', 'and', 'or', 'rising'/'falling' (value = edge index),
    'cmp' (value = opcode name), 'arith' (value = opcode name), 'conv' (value = type)."""

    __slots__ = ("op", "type", "args", "value")

    def __init__(self, op, vtype, args=(), value=None):
        self.op = op
        self.type = vtype
        self.args = list(args)
        self.value = value


class CAction:
    """One action: opcode name, operand index (var or block) and, for STORE, the value."""

    def __init__(self, opname, operand, expr=None):
        self.opname = opname
        self.operand = operand
        self.expr = expr


class CRung:
    def __init__(self, index, name, comment, line, text, condition, actions):
        self.index = index
        self.name = name
        self.comment = comment
        self.line = line
        self.text = text
        self.condition = condition
        self.actions = actions


class CheckedProgram:
    def __init__(self, name, source, cycle_ms, variables, blocks, rungs, n_edges):
        self.name = name
        self.source = source
        self.cycle_ms = cycle_ms
        self.vars = variables
        self.blocks = blocks
        self.rungs = rungs
        self.n_edges = n_edges
