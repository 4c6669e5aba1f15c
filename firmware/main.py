# Rung PLC: main.py at the root of the board's flash starts the PLC (docs/firmware.md).
# The firmware lives in lib/plc and the runtime in lib/runtime.
from plc import boot

boot.main()
