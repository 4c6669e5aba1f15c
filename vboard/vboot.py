# What a board's frozen _boot.py and main.c do, for the virtual board: run by the unix port
# as `micropython -i vboot.py`, it imports the doubles (machine, network, socket), mounts
# the flash at / (a directory, or a LittleFS2 image formatted if it holds none), runs
# boot.py and, in the friendly REPL, main.py, then leaves the unix port's REPL running.
# The \x1b_vb:...\x1b\\ markers tell the host (rung.vboard) where the boot stands.
import os
import socket  # noqa: F401
import sys

import machine  # noqa: F401  (the double, imported while its folder is on sys.path)
import network  # noqa: F401
import vbflash
import vbgc
import vfs

sys.modules["gc"] = vbgc  # import gc gives the Ctrl-C-safe collect() (see vbgc.py)


def _vb_mount():
    kind = os.getenv("RUNG_VBOARD_FLASH_KIND")
    where = os.getenv("RUNG_VBOARD_FLASH")
    if kind == "image":
        dev = vbflash.BlockFile(where, int(os.getenv("RUNG_VBOARD_CUT_AFTER") or -1))
        try:
            fs = vfs.VfsLfs2(dev)
        except OSError:
            vfs.VfsLfs2.mkfs(dev)  # a new board: _boot.py formats its flash
            fs = vfs.VfsLfs2(dev)
    else:
        fs = vfs.VfsPosix(where)
    vfs.umount("/")
    vfs.mount(fs, "/")
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/lib"]


def _vb_exists(name):
    try:
        return os.stat(name)[0] & 0x8000 != 0
    except OSError:
        return False


def _vb_run(name):
    # pyexec_file: errors are printed, SystemExit asks for a soft reset (process exit).
    try:
        with open(name) as f:
            src = f.read()
        exec(compile(src, name, "exec"), globals())
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: B036  (KeyboardInterrupt too, as on a board)
        sys.print_exception(exc)
        return False
    return True


_vb_mount()
sys.stdout.write("\x1b_vb:ready\x1b\\")
if (not _vb_exists("boot.py") or _vb_run("boot.py")) and os.getenv("RUNG_VBOARD_MODE") != "raw":
    if _vb_exists("main.py"):
        _vb_run("main.py")
sys.stdout.write("\x1b_vb:repl\x1b\\")
del _vb_mount, _vb_exists, _vb_run
