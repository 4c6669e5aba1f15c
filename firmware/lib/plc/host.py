# What `rung deploy` and `rung status` call on the board over USB (docs/flashing.md).
# The host has stopped the PLC with Ctrl-C and runs these in the raw REPL; each prints
# one line of JSON the host reads. The host restarts the PLC afterwards (soft reset).
import gc
import json
import os
import sys

PROGRAM = "program.rbc"
RETAIN = "retain.bin"
INFO = "program.json"
STATES = ("STOP", "RUN", "FAULT")


def _say(data):
    print(json.dumps(data))


def _free_old_program():
    # The stopped PLC's program is dropped so that the new one can load beside the
    # runtime on a small heap; the restart after the deploy loads one program again.
    try:
        from . import boot

        plc = boot.current
    except ImportError:
        return None
    if plc is not None:
        plc.rt = plc.device = plc.ctl = None
        plc.services = []
        plc.tcp = plc.rtu = None
    gc.collect()
    return plc


def verify(path):
    """Decode and verify the program in `path` without running it; prints its CRC, the
    addresses this board lacks and the free heap after loading it."""
    plc = _free_old_program()
    try:
        with open(path, "rb") as f:
            code = f.read()
    except OSError as exc:
        _say({"ok": False, "error": "cannot read " + path + ": " + str(exc)})
        return
    except MemoryError:
        _say({"ok": False, "error": "the program does not fit in memory"})
        return
    from runtime import LoadError, Runtime

    try:
        rt = Runtime(code)
    except LoadError as exc:
        _say({"ok": False, "error": str(exc)})
        return
    except MemoryError:
        _say({"ok": False, "error": "the program does not fit in memory"})
        return
    code = None
    missing = []
    if plc is not None and plc.hw is not None:
        missing = plc.hw.missing(rt)
    crc = rt.crc
    rt = None
    gc.collect()
    _say({"ok": not missing, "crc": crc, "missing": missing, "free": gc.mem_free()})


def install(path, fresh_retain):
    """Rename `path` over program.rbc (atomic on LittleFS); with fresh_retain, drop
    retain.bin afterwards (the new program retains other things)."""
    try:
        os.rename(path, PROGRAM)
    except OSError:
        # FAT cannot rename over a file; LittleFS (every supported board) can
        os.remove(PROGRAM)
        os.rename(path, PROGRAM)
    if fresh_retain:
        try:
            os.remove(RETAIN)
        except OSError:
            pass
    _say({"ok": True})


def _program_name(crc):
    # program.json is written by rung flash/deploy beside program.rbc (the board gets the
    # program without its debug section); its name counts only if its CRC is the one
    # running
    try:
        with open(INFO) as f:
            info = json.load(f)
        return info.get("name") if info.get("crc") == crc else None
    except (OSError, ValueError, AttributeError):
        return None


def status():
    """Board, MicroPython, PLC state as it was when Ctrl-C stopped it, scan times,
    recent faults, free heap and IP address."""
    impl = sys.implementation
    out = {
        "micropython": ".".join(str(x) for x in impl.version[:3]),
        "machine": getattr(impl, "_machine", sys.platform),
        "board": None,
        "state": None,
        "faults": [],
    }
    try:
        from . import VERSION, boot

        out["firmware"] = VERSION
        plc = boot.current
    except ImportError:
        plc = None
    if plc is not None:
        out["board"] = (plc.board or {}).get("name")
        rt = plc.rt
        if rt is not None:
            out["state"] = STATES[rt.state]
            out["fault_code"] = rt.fault_code
            out["crc"] = rt.crc
            out["cycle_ms"] = rt.cycle_ms
            out["scans"] = rt.scan_count
            debug = getattr(getattr(rt, "image", None), "debug", None)
            out["program"] = getattr(debug, "program", None) if debug is not None else None
            if not out["program"]:
                out["program"] = _program_name(rt.crc)
        stats = getattr(plc.device, "stats", None) if plc.device is not None else None
        if stats is not None:
            out["scan_last_us"] = stats.last_us
            out["scan_max_us"] = stats.max_us
            out["overruns"] = stats.overruns
        out["faults"] = plc.log.lines()[-8:]
        out["stopped"] = plc.stopped
        if plc.tcp is not None:
            try:
                out["ip"] = plc.tcp.link.address()
            except Exception:  # noqa: BLE001 - no address is an answer too
                out["ip"] = None
    gc.collect()
    out["free_heap"] = gc.mem_free()
    _say(out)
