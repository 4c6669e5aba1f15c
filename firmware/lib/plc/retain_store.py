# Retained values on flash: retain.bin holds the runtime's snapshot (magic, retained
# layout identity and CRC32 of its own). Saved atomically: written to retain.tmp, then
# renamed over retain.bin (LittleFS renames are atomic across power loss), so a power cut
# leaves the old or the new file, never a mix. Saved on change at most every
# retain_interval_s, and when the PLC stops.
import os

from runtime.image import LoadError

from . import faults

PATH = "retain.bin"
TMP = "retain.tmp"


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class RetainStore:
    """Loads and saves one program's retained values."""

    def __init__(self, log, interval_ms, path=PATH, tmp=TMP):
        self.log = log
        self.interval_ms = interval_ms
        self.path = path
        self.tmp = tmp
        self.last = None  # the snapshot on flash
        self.saves = 0
        self.failing = False
        self.data = None

    def read(self):
        """Read retain.bin before the program loads (None if there is none)."""
        if _exists(self.tmp):
            try:
                os.remove(self.tmp)  # a save cut short: retain.bin is still the old one
            except OSError:
                pass
        try:
            with open(self.path, "rb") as f:
                self.data = f.read()
        except OSError:
            self.data = None
        return self.data

    def restore(self, rt):
        """Give the values read to the loaded program; a bad file is logged and ignored."""
        data = self.data
        self.data = None
        if data is None:
            return False
        try:
            rt.retain_restore(data)
        except LoadError as exc:
            self.log.log(faults.BAD_RETAIN, "retain.bin ignored: " + str(exc))
            return False
        self.last = data
        return True

    def save(self, rt):
        """Write the current values if they changed since the last save; True if written."""
        snap = rt.retain_snapshot()
        if snap == self.last:
            return False
        try:
            with open(self.tmp, "wb") as f:
                f.write(snap)
            try:
                os.rename(self.tmp, self.path)
            except OSError:  # FAT cannot rename over a file (not power-safe; LittleFS is)
                os.remove(self.path)
                os.rename(self.tmp, self.path)
        except OSError as exc:
            if not self.failing:  # once, not at every interval of a full flash
                self.log.log(faults.RETAIN_WRITE, "saving retain.bin failed: " + str(exc))
            self.failing = True
            self.last = None
            return False
        self.failing = False
        self.last = snap
        self.saves += 1
        return True
