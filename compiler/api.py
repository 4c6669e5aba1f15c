"""The compiler's public API: compile_source, compile_file, Program."""

import gc
import os

from rung.files import MAX_TEXT_BYTES, read_file
from rung.runtime import container

from . import checker, emitter, parser
from .diagnostics import CompileError, Reporter

MAX_SOURCE_BYTES = MAX_TEXT_BYTES


class Program:
    """A compiled program: its bytecode and the decoded tables (`image`)."""

    def __init__(self, data, warnings=(), source_file=None):
        self._data = bytes(data)
        self.image = container.decode(self._data)
        self.warnings = list(warnings)
        self.source_file = source_file

    @property
    def name(self):
        d = self.image.debug
        return d.program if d is not None else ""

    @property
    def cycle_ms(self):
        return self.image.cycle_ms

    def to_bytes(self):
        """The bytecode file contents."""
        return self._data

    @classmethod
    def from_bytes(cls, data):
        """Load bytecode (raises rung.LoadError on a bad file)."""
        return cls(data)

    def __repr__(self):
        return (
            f"<rung.Program {self.name!r}: {len(self.image.rungs)} rungs, {len(self._data)} bytes>"
        )


def compile_source(text, filename="<string>", debug=True):
    """Compile source text; raises CompileError with every diagnostic if there are errors."""
    # A compile makes millions of objects that stay alive until it ends, and almost no
    # cycles: the cyclic collector would rescan them over and over (a third of the time
    # at 10,000 rungs) and free nothing, so it is paused for the compile.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _compile(text, filename, debug)
    finally:
        if paused:
            gc.enable()


def _compile(text, filename, debug):
    reporter = Reporter(filename)
    tree = parser.parse(text, filename, reporter)
    if tree is None:
        raise CompileError(reporter.sorted(), text)
    checked = checker.check(tree, os.path.basename(filename), reporter)
    if reporter.has_errors:
        raise CompileError(reporter.sorted(), text)
    data = emitter.emit(checked, debug=debug)
    return Program(data, reporter.sorted(), filename)


def read_source(path):
    """Read a source file as text, or raise CompileError (E001) saying why not."""
    reporter = Reporter(str(path))
    try:
        raw = read_file(path, MAX_SOURCE_BYTES)
    except OSError as exc:
        reporter.unreadable(exc.strerror or str(exc))
        raise CompileError(reporter.items) from None
    if b"\0" in raw:
        reporter.unreadable("it is a binary file, not Rung source")
        raise CompileError(reporter.items)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        reporter.unreadable(f"it is not UTF-8 text (byte {exc.start})")
        raise CompileError(reporter.items) from None


def compile_file(path, debug=True):
    """Compile a .rung file."""
    return compile_source(read_source(path), str(path), debug=debug)
