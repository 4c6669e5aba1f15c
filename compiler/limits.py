"""How much one program may hold: the Modbus diagnostic windows of runtime/modbus_map.py give
each variable, block and rung a fixed place, and a window must not run into the next one."""

from rung.runtime import modbus_map as M

# (what, limit, window name in docs/modbus.md)
LIMITS = (
    ("variables", M.MAX_VARS, "variable"),
    ("timers and counters", M.MAX_BLOCKS, "block"),
    ("rungs", M.MAX_RUNGS, "power-flow"),
)


ALL = f"{M.MAX_VARS} variables, {M.MAX_BLOCKS} timers and counters and {M.MAX_RUNGS} rungs"


def check(variables, blocks, rungs, reporter):
    """Report E058 at the first variable, block or rung beyond its window's room."""
    for items, (what, limit, window) in zip((variables, blocks, rungs), LIMITS, strict=True):
        if len(items) > limit:
            span = items[limit].span
            reporter.too_large_for_map(span, what, len(items), limit, window, ALL)
