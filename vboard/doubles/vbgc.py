# The `gc` module of the virtual board: the built-in one, with collect() made safe from a
# Ctrl-C. The unix port is built without a GIL, so it raises KeyboardInterrupt from its
# SIGINT handler wherever the C code stands (MICROPY_ASYNC_KBD_INTR); a board only ever
# raises it between bytecodes. A Ctrl-C landing inside a collection leaves the collector's
# lock taken, and every allocation after it fails with "heap is locked" (then "FATAL:
# uncaught NLR"): the firmware calls gc.collect() every cycle, so about one Ctrl-C in ten
# met one. Here collect() says when it runs (GC_BUSY) and does not start while the host
# holds a Ctrl-C back for it (GC_HOLD); the host sends a Ctrl-C only with GC_HOLD set and
# GC_BUSY clear (rung.vboard.board), so none can land in a collection that this starts.
# `gc` is not one of the extensible built-in modules: vboot.py puts this in sys.modules.
from gc import *  # noqa: F401,F403  (enable, disable, isenabled, mem_free, threshold ...)
from gc import collect as _collect

import vbio_layout as _L
from machine import _io


def collect():
    """Run a garbage collection (docs: gc.collect)."""
    _io.put(_L.GC_BUSY, 1, 1)
    try:
        if not _io.get(_L.GC_HOLD, 1):
            _collect()
    finally:
        _io.put(_L.GC_BUSY, 1, 0)
