"""The virtual board: Rung's firmware, unmodified, on MicroPython's unix port (docs/firmware.md).

`doubles/` holds the MicroPython modules a board has and the unix port lacks (machine,
network, socket extensions); the host side starts the port behind a USB-like pty.
"""
