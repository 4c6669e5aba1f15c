"""Declaration addresses (%IX0.0, %QW2, %MD4...): the form, the area that fits the type and the
kind of declaration, and no address taken twice (runtime/addresses.py defines the areas)."""

import re

from rung.runtime import addresses as A

from . import syntax as s

_ADDRESS = re.compile(r"%([A-Za-z]+)(\d*)(?:\.(\d*))?$")


def check(d, vtype, type_name, owners, reporter):
    """(area, index) of declaration d's address for type vtype, or None after reporting
    why not; owners maps (area, index) to the declaration that took it."""
    tok = d.address
    text = str(tok)
    span = s.Span.of(tok)
    m = _ADDRESS.match(text)
    prefix = m.group(1).upper() if m else ""
    area = A.PREFIXES.get(prefix)
    if m is None or area is None:
        reporter.bad_address(span, text, "unknown area (IX, QX, IW, QW, MW or MD)")
        return None
    _, is_bit, is_in, is_out, types, highest = A.AREAS[area]
    if not m.group(2):
        reporter.bad_address(span, text, "the number is missing")
        return None
    number = _number(m.group(2))
    if is_bit:
        if m.group(3) is None or m.group(3) == "":
            reporter.bad_address(span, text, f"%{prefix} needs a bit number, e.g. %{prefix}0.3")
            return None
        bit = _number(m.group(3))
        if bit > 7:
            reporter.bad_address(span, text, f"bit {bit} does not exist (bits are 0-7)")
            return None
        index = number * 8 + bit
    else:
        if m.group(3) is not None:
            reporter.bad_address(span, text, f"%{prefix} addresses a whole word: no bit number")
            return None
        index = number
    if index > highest:
        reporter.bad_address(span, text, f"beyond the last %{prefix} address")
        return None
    want = {
        "input": "an input (%IX, %IW)",
        "output": "an output (%QX, %QW)",
        "var": "memory (%MW, %MD)",
    }[d.kind]
    fits_kind = (
        is_in if d.kind == "input" else is_out if d.kind == "output" else not (is_in or is_out)
    )
    if not fits_kind:
        reporter.address_misfit(span, text, f"is not {want}", f"{_a(d.kind)} needs {want}")
        return None
    if vtype not in types:
        fitting = [
            A.AREAS[a][0]
            for a in A.AREAS
            if vtype in A.AREAS[a][4] and (A.AREAS[a][2], A.AREAS[a][3]) == (is_in, is_out)
        ]
        help = (
            ("use %" + " or %".join(fitting))
            if fitting
            else (f"a {type_name[vtype]} {d.kind} cannot have an address")
        )
        reporter.address_misfit(span, text, f"cannot hold {_a(type_name[vtype])}", help)
        return None
    key = (area, index)
    if key in owners:
        other = owners[key]
        reporter.duplicate_address(span, text, other.name, other.span.line)
        return None
    owners[key] = _Owner(d.name.text, d.name.span)
    return area, index


def _number(digits):
    """The value of a run of digits; beyond any address (and int()'s digit limit) as 10**9."""
    return int(digits) if len(digits.lstrip("0")) <= 9 else 10**9


def _a(type_name):
    """The type name with its article: 'an int', 'a bool'."""
    return ("an " if type_name[0] in "aeiou" else "a ") + type_name


class _Owner:
    def __init__(self, name, span):
        self.name = name
        self.span = span
