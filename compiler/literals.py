"""Literal syntax shared by the parser, scenario files and the CLI: numbers and durations."""

import re
import struct

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
        digits = m.group(1)  # beyond 18 digits the value is out of every range anyway
        total += (int(digits) if len(digits) <= 18 else 10**18) * unit
        pos = m.end()
    if pos != len(body) or not body:
        raise ValueError(f"not a duration: {text!r} (use e.g. 500ms, 5s, 1m30s, T#2h)")
    return total


MAX_INTEGER_DIGITS = 40  # more significant digits than any type holds, in every base
_DIGITS = "0123456789abcdef"
_BASE_NAMES = {2: "binary", 8: "octal", 10: "decimal", 16: "hexadecimal"}


def parse_integer(text):
    """'42', '1_000', '16#FF', '2#1010' -> int. Raises ValueError saying what is wrong, or
    OverflowError for more digits than any type holds (MAX_INTEGER_DIGITS)."""
    base, digits = 10, text
    if "#" in text:
        base_text, digits = text.split("#", 1)
        base = int(base_text) if len(base_text) <= 2 else 0
        if base not in (2, 8, 16):
            raise ValueError(f"base {_clip(base_text)} is not 2, 8 or 16")
    body = digits.replace("_", "")
    if not body:
        raise ValueError(f"`{_clip(text)}` has no digits")
    allowed = _DIGITS[:base]
    for ch in body:
        if ch.lower() not in allowed:
            name = _BASE_NAMES[base]
            raise ValueError(f"`{ch}` is not {'an' if name[0] == 'o' else 'a'} {name} digit")
    if len(body.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise OverflowError(f"{len(body)} digits")
    return int(body, base)


REAL_MAX = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]  # the largest binary32, 3.4028235e38


def real32(value):
    """value as the binary32 a board stores, or None if it does not fit (beyond +-REAL_MAX)."""
    try:
        v = struct.unpack("<f", struct.pack("<f", float(value)))[0]
    except OverflowError:  # float(huge int) or a value that rounds to infinity
        return None
    return v if -REAL_MAX <= v <= REAL_MAX else None  # inf and nan are not literals


def parse_real(text):
    """'1.5', '1e3' -> float. Raises OverflowError beyond the binary32 range (1e39, 1e999)."""
    value = float(text.replace("_", ""))
    if real32(value) is None:
        raise OverflowError(text)
    return value


_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t"}


def parse_string(token):
    r"""The text of a "..." token with its escapes (\\ \" \n \t) decoded. Raises
    ValueError(message, offset) at the first other escape; offset counts from the quote."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt not in _ESCAPES:
            raise ValueError(f"unknown escape `\\{nxt}` in a string", i + 1)
        out.append(_ESCAPES[nxt])
        i += 2
    return "".join(out)


def _clip(text, width=20):
    """text, cut to width characters for a message."""
    return text if len(text) <= width else text[:width] + "..."
