"""Literal syntax shared by the parser, scenario files and the CLI: numbers and durations."""

import re

_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
_DURATION = re.compile(r"(\d+)(ms|h|m|s)")


def parse_duration(text):
    """'1m30s', '500ms', 'T#5s' -> milliseconds. Raises ValueError on anything else."""
    body = text[2:] if text[:2] in ("T#", "t#") else text
    pos = 0
    total = 0
    last = None  # the previous unit's size: IEC 61131-3 wants them largest first, once each
    for m in _DURATION.finditer(body):
        if m.start() != pos:
            break
        unit = _UNITS[m.group(2)]
        if last is not None and unit >= last:
            raise ValueError(
                f"not a duration: {text!r} (units go from the largest to the smallest, each "
                "once, e.g. 1h30m or 1m30s500ms)"
            )
        last = unit
        total += int(m.group(1)) * unit
        pos = m.end()
    if pos != len(body) or not body:
        raise ValueError(f"not a duration: {text!r} (use e.g. 500ms, 5s, 1m30s, T#2h)")
    return total


def parse_integer(text):
    """'42', '1_000', '16#FF', '2#1010' -> int. Raises ValueError."""
    if "#" in text:
        base, digits = text.split("#", 1)
        base = int(base)
        if base not in (2, 8, 16):
            raise ValueError(f"base {base} is not 2, 8 or 16")
        return int(digits.replace("_", ""), base)
    return int(text.replace("_", ""))


def parse_real(text):
    """'1.5', '1e3' -> float."""
    return float(text.replace("_", ""))
