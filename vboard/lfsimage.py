"""LittleFS2 flash images for the virtual board, handled by the unix port itself (the same
vfs.VfsLfs2 a board runs, over the block device in doubles/vbflash.py)."""

import os
import subprocess
import tempfile

from .board import DOUBLES, micropython_command

_MOUNT = """
import os, sys, vfs, vbflash
dev = vbflash.BlockFile(%r, %d)
try:
    fs = vfs.VfsLfs2(dev)
except OSError:
    if not %r:
        print("not a LittleFS2 image (or not yet)")
        sys.exit(3)
    vfs.VfsLfs2.mkfs(dev)
    fs = vfs.VfsLfs2(dev)
vfs.mount(fs, "/flash")
os.chdir("/flash")
"""


def create_image(path, kb=1408):
    """An empty image file of kb KiB (formatted by the first mount, as on a new board)."""
    with open(path, "wb") as f:
        f.truncate(kb * 1024)


def run_on_image(image, code, cut_after=-1, timeout=60, format=False):
    """Run MicroPython code with the image mounted as the current directory; its stdout.
    cut_after >= 0 drops every block write after that many (a power cut there). An image
    that does not mount is a RuntimeError, or formatted first when format is true (never
    read a board's image with format=True while it runs: a half-written block would get
    the flash wiped)."""
    env = dict(os.environ, MICROPYPATH=DOUBLES)
    env.pop("RUNG_VBOARD_IO", None)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(_MOUNT % (os.path.abspath(image), cut_after, bool(format)) + code)
    try:
        r = subprocess.run(micropython_command() + [f.name], capture_output=True, text=True,
                           env=env, timeout=timeout)
    finally:
        os.unlink(f.name)
    if r.returncode != 0:
        raise RuntimeError(f"MicroPython on {image}: {r.stdout}{r.stderr}".strip())
    return r.stdout


def copy_tree_in(src_dir, image):
    """Copy the files under src_dir into the image (folders made as needed)."""
    lines = []
    for root, _dirs, files in os.walk(src_dir):
        rel = os.path.relpath(root, src_dir)
        if rel != ".":
            lines.append(f"_mkdir({rel!r})")
        for name in sorted(files):
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
            target = name if rel == "." else rel + "/" + name
            lines.append(f"_put({target!r}, {data!r})")
    code = (
        "def _mkdir(d):\n    try:\n        os.mkdir(d)\n    except OSError:\n        pass\n"
        "def _put(n, b):\n    with open(n, 'wb') as f:\n        f.write(b)\n"
        + "\n".join(lines) + "\n"
    )
    run_on_image(image, code, format=True)


def read_file(image, name):
    """The bytes of file name in the image, None if it has none (RuntimeError if the
    image does not mount)."""
    out = run_on_image(
        image,
        f"try:\n    print(open({name!r}, 'rb').read().hex())\n"
        "except OSError:\n    print('-')\n",
    ).strip()
    return None if out == "-" else bytes.fromhex(out)
