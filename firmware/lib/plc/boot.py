# Boot: board file and settings -> retained data -> load and verify the program -> RUN.
# Whatever goes wrong, the board ends up in STOP with a fault code readable over Modbus,
# or in the REPL with outputs safe: never in a reboot loop. Ctrl-C from the console stops
# the PLC at any moment with outputs safe and leaves the REPL usable (docs/firmware.md).
import asyncio
import gc
import json
import sys

from . import VERSION, faults
from .settings import check as check_settings

BOARD = "board.json"
SETTINGS = "settings.json"
PROGRAM = "program.rbc"


class Plc:
    """What the boot built; `boot.current` in the REPL after the PLC stopped."""

    def __init__(self, log):
        self.log = log
        self.board = None
        self.settings = None
        self.hw = None
        self.rt = None
        self.device = None
        self.ctl = None
        self.wdt = None
        self.services = []
        self.tcp = None
        self.rtu = None
        self.stopped = None


current = None


def _read_json(path):
    with open(path) as f:
        return json.load(f)


def _boot_board(plc):
    log = plc.log
    try:
        board = _read_json(BOARD)
        if not isinstance(board, dict):
            raise ValueError("not a JSON object")
    except OSError:
        log.log(faults.BAD_BOARD, "board.json missing: no I/O (rung flash installs it)")
        return
    except ValueError as exc:
        log.log(faults.BAD_BOARD, "board.json unusable: " + str(exc))
        return
    try:
        from .hardware import Hardware

        plc.hw = Hardware(board)  # every output to its safe value first
        plc.board = board
    except Exception as exc:  # noqa: BLE001 - a bad board file must not stop the boot
        log.log(faults.BAD_BOARD, "board.json: " + repr(exc))


def _boot_settings(plc):
    raw = {}
    try:
        raw = _read_json(SETTINGS)
    except OSError:
        pass  # no settings.json: the defaults
    except ValueError as exc:
        plc.log.log(faults.BAD_SETTINGS, "settings.json is not JSON (" + str(exc) + "): defaults")
    wdt_max = plc.board.get("watchdog_max_ms") if plc.board else None
    plc.settings, problems = check_settings(raw, wdt_max)
    for problem in problems:
        plc.log.log(faults.BAD_SETTINGS, "settings.json: " + problem)


def _reset_cause(log):
    try:
        import machine

        if machine.reset_cause() == machine.WDT_RESET:
            # rp2 also reports machine.reset() this way (MicroPython issue 19409)
            log.log(
                faults.WATCHDOG_RESET,
                "the last reset was the watchdog's (on rp2 also machine.reset())",
            )
    except (ImportError, AttributeError):
        pass


def _load_program(plc, store):
    """The Runtime, or a NoProgram carrying the fault code that keeps the board in STOP."""
    from .controller import NoProgram

    log = plc.log
    if plc.hw is None:
        return NoProgram(faults.BAD_BOARD)
    try:
        with open(PROGRAM, "rb") as f:
            code = f.read()
    except OSError:
        log.log(faults.NO_PROGRAM, "no program.rbc: STOP, waiting for a deploy")
        return NoProgram(faults.NO_PROGRAM)
    except MemoryError:
        log.log(faults.PROGRAM_TOO_BIG, "program.rbc does not fit in memory")
        return NoProgram(faults.PROGRAM_TOO_BIG)
    gc.collect()
    from runtime import LoadError, Runtime

    try:
        rt = Runtime(code)
    except LoadError as exc:
        code = None
        fault = faults.PROGRAM_TOO_BIG if "memory" in str(exc) else faults.BAD_PROGRAM
        log.log(fault, "program.rbc refused: " + str(exc))
        return NoProgram(fault)
    code = None
    gc.collect()
    missing = plc.hw.missing(rt)
    if missing:
        log.log(
            faults.FOREIGN_PROGRAM,
            "program.rbc uses " + ", ".join(missing) + ", which this board does not have",
        )
        return NoProgram(faults.FOREIGN_PROGRAM)
    plc.hw.connect(rt)
    store.restore(rt)
    return rt


def boot():
    """Build the PLC from the files in the current directory; returns a Plc."""
    global current
    plc = Plc(faults.FaultLog())
    current = plc
    _boot_board(plc)
    _boot_settings(plc)
    _reset_cause(plc.log)
    s = plc.settings
    # everything that reads the runtime's tables is imported before a program loads
    from runtime.modbus_device import ModbusDevice, ScanStats
    from runtime.modbus_pdu import PduServer

    from .controller import Controller
    from .retain_store import RetainStore
    from .watchdog import Watchdog

    store = RetainStore(plc.log, s["retain_interval_s"] * 1000)
    store.read()
    plc.rt = rt = _load_program(plc, store)
    stats = ScanStats()
    board = plc.board or {}
    name = board.get("name", "board")
    plc.device = ModbusDevice(rt, name, s["allow_forcing"], s["allow_run_stop"], stats)
    pdu = PduServer(plc.device, VERSION)
    wdt = Watchdog(s["watchdog_ms"], board.get("timer_id", -1))
    plc.wdt = wdt
    plc.ctl = ctl = Controller(rt, plc.hw, wdt, stats, store, s["run_switch"], plc.log)
    if plc.board is not None and s["rtu"]["enabled"]:
        try:
            from .rtu import RtuService

            plc.rtu = RtuService(ctl, pdu, board["rtu"], s["rtu"], s["unit"])
            plc.services.append(plc.rtu)
        except Exception as exc:  # noqa: BLE001 - the PLC runs without RTU
            plc.log.log(
                faults.RTU_PORT, "RTU on UART" + str(board["rtu"]["uart"]) + ": " + repr(exc)
            )
    if board.get("wifi") and s["tcp"]["enabled"] and s["wifi"]["ssid"]:
        from .tcp import TcpService, WifiLink

        link = WifiLink(s["wifi"], plc.log)
        try:
            link.start()
            plc.tcp = TcpService(ctl, pdu, stats, s["tcp"], link, plc.log)
            plc.services.append(plc.tcp)
        except Exception as exc:  # noqa: BLE001 - the PLC runs without Wi-Fi
            plc.log.log(faults.WIFI, "Wi-Fi: " + repr(exc))
    gc.collect()
    return plc


async def _guard(plc, service):
    """Run a server; if it fails, log it and start it again a little later."""
    while not plc.ctl.halted:
        try:
            await service.run()
        except Exception as exc:  # noqa: BLE001 - a server error must not stop the scans
            plc.log.log(faults.FIRMWARE, type(service).__name__ + ": " + repr(exc))
            await asyncio.sleep_ms(1000)


async def _run(plc):
    for service in plc.services:
        asyncio.create_task(_guard(plc, service))
    await plc.ctl.run()


def _banner(plc):
    rt = plc.rt
    state = ("STOP", "RUN", "FAULT")[rt.state]
    text = "Rung " + VERSION + " on " + (plc.board or {}).get("name", "?") + ": " + state
    if rt.fault_code:
        text += " (fault " + str(rt.fault_code) + ")"
    else:
        text += ", program crc %08x, cycle %d ms" % (rt.crc, rt.cycle_ms)
    print(text + ". Ctrl-C stops the PLC.")


def _halt(plc):
    """Outputs safe, retained values saved, servers closed, the watchdog kept fed."""
    if plc.hw is not None:
        plc.hw.write_safe()
    if plc.ctl is not None and not plc.ctl.halted:
        plc.ctl.halt()
    if plc.tcp is not None:
        plc.tcp.close()
    try:  # let the cancelled server tasks close their sockets
        asyncio.run(asyncio.sleep_ms(20))
    except Exception:  # noqa: BLE001
        pass
    asyncio.new_event_loop()
    if plc.hw is not None:
        plc.hw.write_safe()
    if plc.wdt is not None:
        led = plc.hw.set_led if plc.hw is not None else None
        plc.wdt.keep_alive(led)


def stop(plc, why):
    """Bring the PLC to rest; a second Ctrl-C meanwhile cannot leave it half-stopped."""
    if plc is None:
        return
    for _attempt in range(10):
        try:
            _halt(plc)
            break
        except KeyboardInterrupt:
            continue
    plc.stopped = why
    print("Rung: stopped (" + why + "); outputs safe. machine.reset() restarts the PLC.")


def main():
    """main.py: boot and run the PLC until Ctrl-C."""
    plc = None
    why = "Ctrl-C"
    try:
        plc = boot()
        _banner(plc)
        asyncio.run(_run(plc))
        why = "loop ended"
    except KeyboardInterrupt:
        plc = plc or current
    except Exception as exc:  # noqa: BLE001 - never a reboot loop: stay in the REPL
        plc = plc or current
        sys.print_exception(exc)
        if plc is not None:
            plc.log.log(faults.FIRMWARE, repr(exc))
        why = "firmware error"
    stop(plc, why)
