"""Shared by `rung dis` and `rung draw`: a .rung is compiled, a .rbc decoded."""

import sys

from rung.errors import CommandError
from rung.files import MAX_BYTECODE_BYTES, read_file
from rung.runtime.container import LoadError, decode

from ..api import compile_file
from ..diagnostics import CompileError


def load_image(path):
    """The decoded image of PROG.rung or PROG.rbc, or None after printing diagnostics."""
    if path.endswith(".rung"):
        try:
            return compile_file(path).image
        except CompileError as exc:
            print(exc.render(), file=sys.stderr)
            return None
    try:
        data = read_file(path, MAX_BYTECODE_BYTES)
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return decode(data)
    except LoadError as exc:
        raise CommandError(f"{path}: {exc}") from None
