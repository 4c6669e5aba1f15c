# What a loaded program keeps of its container: the tables and names. The decoder that
# fills them (container.py) is needed only while loading, so on a board it is dropped
# afterwards; these holders stay and must not depend on it.
from .opcodes import FORMAT_MAJOR, FORMAT_MINOR


class LoadError(Exception):
    """Bytecode that cannot be loaded; the message says why."""


class Debug:
    """Names and source positions; optional, used by the disassembler and supervisor."""

    def __init__(self):
        self.program = ""
        self.source = ""
        self.var_names = []
        self.var_descriptions = []
        self.block_names = []
        self.rung_names = []
        self.rung_comments = []
        self.rung_lines = []
        self.rung_texts = []


class Image:
    """A decoded container. vars: (type, flags, area, index, init); blocks: (kind, flags,
    preset); rungs: (start, end) offsets of each rung's code in `data`."""

    def __init__(self):
        self.major = FORMAT_MAJOR
        self.minor = FORMAT_MINOR
        self.crc = 0
        self.cycle_ms = 10
        self.n_edges = 0
        self.vars = []
        self.blocks = []
        self.rungs = ()
        self.data = b""
        self.debug = None

    def rung_code(self, i):
        """The code bytes of rung i."""
        start, end = self.rungs[i]
        return self.data[start:end]
