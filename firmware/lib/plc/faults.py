# Fault codes of the firmware and the small fault log (faults.log). A code that stops the
# board is shown in the Modbus status block (input register 8193) with state STOP; the
# others are only logged. Codes 1-3 are the runtime's own (docs/modbus.md).
try:
    from micropython import const
except ImportError:  # CPython (host tools import this table)

    def const(x):
        return x


import os

NO_PROGRAM = const(10)  # program.rbc missing
BAD_PROGRAM = const(11)  # refused by the verifier: corrupt, truncated, not Rung bytecode
FOREIGN_PROGRAM = const(12)  # uses I/O addresses this board does not have
PROGRAM_TOO_BIG = const(13)  # not enough memory to load it
BAD_BOARD = const(14)  # board.json missing or unusable: no I/O, no RTU
HARDWARE = const(15)  # reading or writing a pin failed during a scan
# logged only
BAD_SETTINGS = const(20)  # a setting was refused: its default is used
BAD_RETAIN = const(21)  # retain.bin corrupt or of another program: ignored
RETAIN_WRITE = const(22)  # saving retain.bin failed
WIFI = const(23)  # Wi-Fi not connected within the timeout (still trying)
WATCHDOG_RESET = const(24)  # the last reset was the watchdog's
TCP_SERVER = const(25)  # the Modbus TCP server could not start
RTU_PORT = const(26)  # the RTU UART could not be opened
FIRMWARE = const(30)  # an unexpected error in the firmware: outputs safe, REPL kept

LOG = "faults.log"
MAX_BYTES = const(4096)  # then the older half is dropped


class FaultLog:
    """Appends 'code message' lines to faults.log; keeps it under MAX_BYTES."""

    def __init__(self, path=LOG, echo=True):
        self.path = path
        self.echo = echo
        self.count = 0
        self.last = 0

    def log(self, code, message):
        """Record a fault (and print it on the console)."""
        self.count += 1
        self.last = code
        line = "E" + str(code) + " " + message.replace("\n", " ")[:200] + "\n"
        if self.echo:
            print("Rung fault " + line, end="")
        try:
            with open(self.path, "a") as f:
                f.write(line)
            if os.stat(self.path)[6] > MAX_BYTES:
                self._trim()
        except OSError:
            pass  # a full or read-only flash must not stop the PLC

    def _trim(self):
        with open(self.path) as f:
            text = f.read()
        text = text[len(text) // 2 :]
        text = text[text.find("\n") + 1 :]
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.path)

    def lines(self):
        """The log's lines, oldest first."""
        try:
            with open(self.path) as f:
                return f.read().splitlines()
        except OSError:
            return []
