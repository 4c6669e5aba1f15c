# The virtual board's flash as a LittleFS2 image: a block device (MicroPython's
# "extended" block device protocol, docs library/vfs.rst) over an image file on the host.
# cut_after >= 0 models a power cut: every block write after the first cut_after is
# dropped, as if the chip had lost power there (the host then ends the process).
import machine
import vbio_layout as _L

BLOCK_SIZE = 4096


class BlockFile:
    """Block device over an image file; counts block writes, drops those after a cut."""

    def __init__(self, path, cut_after=-1, block_size=BLOCK_SIZE):
        self.f = open(path, "r+b")
        self.bs = block_size
        self.n = self.f.seek(0, 2) // block_size
        self.cut_after = cut_after
        self.writes = 0

    def readblocks(self, block, buf, offset=0):
        self.f.seek(block * self.bs + offset)
        self.f.readinto(buf)

    def writeblocks(self, block, buf, offset=None):
        io = machine._io
        if (0 <= self.cut_after <= self.writes) or io.get(_L.CUT_AT, 4) <= self.writes:
            io.put(_L.REQ, 1, _L.REQ_POWER_CUT)
            return
        self.writes += 1
        io.put(_L.FLASH_WRITES, 4, self.writes)
        self.f.seek(block * self.bs + (offset or 0))
        self.f.write(buf)

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.n
        if op == 5:  # block size
            return self.bs
        if op == 6:  # erase: the bytes are rewritten by the next write
            return 0
        return None
