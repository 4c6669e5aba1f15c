# The board firmware around the runtime: boot, hardware I/O from board.json, the scan
# loop, watchdog, retained data and the Modbus RTU/TCP servers (docs/firmware.md).
VERSION = "0.1.0"
