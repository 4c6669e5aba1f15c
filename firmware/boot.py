# Rung PLC: boot.py at the root of the board's flash. A board runs it after every reset,
# soft resets from the raw REPL (mpremote) included, where main.py does not run. A started
# watchdog survives a soft reset; this keeps it fed until the PLC's scan loop takes over,
# so mpremote can work for as long as it needs (docs/firmware.md, "Watchdog").
# Nothing here may keep the board from its REPL or loop it through resets: every error,
# Ctrl-C and sys.exit() included, is caught and printed.
try:
    from plc.watchdog import boot_keep_alive

    boot_keep_alive()
except BaseException as exc:  # noqa: B036
    try:
        import sys

        sys.print_exception(exc)
    except BaseException:  # noqa: B036
        pass
