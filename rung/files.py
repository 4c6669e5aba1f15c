"""Reading a user's file: only a regular file, and never more than a stated size.

Every command reads its inputs (sources, bytecode, scenarios) through read_file: on a fifo a
plain open() waits forever for a writer, and /dev/zero would be read until memory runs out."""

import os
import stat

MAX_TEXT_BYTES = 4 * 1024 * 1024  # a .rung source or a scenario file
MAX_BYTECODE_BYTES = 16 * 1024 * 1024  # a .rbc file

_KINDS = (
    (stat.S_ISFIFO, "a fifo"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class UnreadableFile(OSError):
    """The path is not a regular file, or it is larger than the limit (str() says which)."""


def read_file(path, limit):
    """The contents of the regular file at path, refused beyond limit bytes. Raises OSError:
    the system's (missing file, no permission) or UnreadableFile."""
    # O_NONBLOCK: opening a fifo returns at once instead of waiting for a writer
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UnreadableFile("it is a directory")
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "a special file")
            raise UnreadableFile(f"it is {kind}, not a regular file")
        if os.fstat(fd).st_size > limit:
            raise UnreadableFile(f"it is larger than {_size(limit)}")
        chunks = []
        total = 0
        while True:  # the size is checked while reading: files in /proc say 0, files grow
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise UnreadableFile(f"it is larger than {_size(limit)}")
    finally:
        os.close(fd)
    return b"".join(chunks)


def _size(n):
    mb = 1024 * 1024
    return f"{n // mb} MB" if n % mb == 0 else f"{n} bytes"
