"""`rung vboard NAME --dir DIR [--usb LINK] [--tcp HOST:PORT] [--rtu LINK]
[--program PROG.rung]`: run a virtual board (docs/firmware.md, "rung vboard").

While it runs, lines typed on its standard input drive it (the control interface, `help`
lists the commands) and a status line shows its pins."""

import os
import signal
import sys
import tempfile
import threading
import time

from rung.errors import CommandError

HELP = """commands (GPIO as N, GPn or LED; addresses as in the board file):
  pin N 1|0|-        drive input pin N high, low, or not at all (its pull decides)
  set %IXa.b 1|0     the value the program sees on a digital input (board inversion applied)
  adc N|%IWn V       ADC reading: read_u16() = V for a pin, V*2 (0..32767) for %IWn
  get N|%QXa.b|%QWn  an output pin's level, an output's value, a PWM duty
  wifi up|down       whether the access point answers
  reset              press the reset button (hard reset)
  off | on           cut the power / power on again
  status             print the status line
  quit               stop the board and exit"""


def add_arguments(parser):
    parser.add_argument("name", help="board name (a file in boards/, e.g. pico_w)")
    parser.add_argument("--dir", required=True, metavar="DIR",
                        help="the board's flash: a folder, or a LittleFS2 image file (*.img)")
    parser.add_argument("--usb", metavar="LINK", help="symlink to the USB REPL pty")
    parser.add_argument("--tcp", metavar="HOST:PORT", default=None,
                        help="the Wi-Fi address; Modbus TCP is reachable here "
                             "(default 127.0.0.1:0, a free port)")
    parser.add_argument("--rtu", metavar="LINK", help="symlink to the RTU UART pty")
    parser.add_argument("--program", metavar="PROG.rung",
                        help="install the firmware and this program first")
    parser.add_argument("--quiet", action="store_true", help="no status line")


def _is_image(path):
    return path.endswith(".img") or os.path.isfile(path)


def _install(args):
    from rung.compiler.api import compile_file
    from rung.compiler.diagnostics import CompileError

    try:
        from rung.boards import write_flash_tree
    except ImportError:
        raise CommandError("this build has no firmware to install (rung.boards)") from None
    try:
        program = compile_file(args.program)
    except CompileError as exc:
        print(exc.render(), file=sys.stderr)
        raise CommandError(f"{args.program} does not compile") from None
    except OSError as exc:
        raise CommandError(f"cannot read {args.program}: {exc.strerror or exc}") from None
    data = program.to_bytes()
    if _is_image(args.dir):
        from .lfsimage import copy_tree_in, create_image

        if not os.path.exists(args.dir):
            create_image(args.dir)
        with tempfile.TemporaryDirectory() as tmp:
            write_flash_tree(tmp, args.name, data)
            copy_tree_in(tmp, args.dir)
    else:
        write_flash_tree(args.dir, args.name, data)


def _address(board, text):
    # %IX0.0 -> (section entry) from the board file
    for section in ("digital_inputs", "digital_outputs", "analog_inputs", "analog_outputs"):
        entry = (board.info.get(section) or {}).get(text.upper())
        if entry is not None:
            return section, entry
    raise ValueError(f"{board.name} has no {text}")


def _command(board, line):
    words = line.split()
    if not words:
        return ""
    cmd, rest = words[0], words[1:]
    if cmd == "help":
        return HELP
    if cmd == "status":
        return board.status_line()
    if cmd == "reset":
        board.reset()
        return "reset"
    if cmd == "off":
        board.power_off()
        return "power off"
    if cmd == "on":
        board.power_on()
        return "power on"
    if cmd == "wifi" and rest in (["up"], ["down"]):
        board.set_access_point(rest[0] == "up")
        return "access point " + rest[0]
    if cmd == "pin" and len(rest) == 2:
        level = {"1": 1, "0": 0, "-": None}.get(rest[1], "bad")
        if level == "bad":
            raise ValueError("pin N 1|0|-")
        board.set_pin(_pin(rest[0]), level)
        return board.status_line()
    if cmd == "set" and len(rest) == 2 and rest[1] in ("0", "1"):
        section, e = _address(board, rest[0])
        if section != "digital_inputs":
            raise ValueError(f"{rest[0]} is not a digital input")
        board.set_pin(e["pin"], int(rest[1]) ^ bool(e.get("inverted")))
        return board.status_line()
    if cmd == "adc" and len(rest) == 2:
        v = int(rest[1])
        if rest[0].startswith("%"):
            section, e = _address(board, rest[0])
            if section != "analog_inputs" or not 0 <= v <= 32767:
                raise ValueError("adc %IWn 0..32767")
            board.set_adc(e["pin"], v * 2)
        else:
            board.set_adc(_pin(rest[0]), v)
        return board.status_line()
    if cmd == "get" and len(rest) == 1:
        if rest[0].startswith("%"):
            section, e = _address(board, rest[0])
            if section == "analog_outputs":
                return str(board.pwm(e["pin"]))
            lv = board.pin(e["pin"])
            return "-" if lv is None else str(lv ^ bool(e.get("inverted")))
        lv = board.pin(_pin(rest[0]))
        return "-" if lv is None else str(lv)
    raise ValueError(f"unknown command {line.strip()!r} (help lists them)")


def _pin(text):
    return int(text) if text.isdigit() else text


def run(args):
    from .board import VboardError, VirtualBoard, micropython_command

    try:
        micropython_command()
    except VboardError as exc:
        raise CommandError(str(exc)) from None
    if args.program:
        _install(args)
    image = _is_image(args.dir)
    try:
        board = VirtualBoard(args.name, None if image else args.dir,
                             flash_image=args.dir if image else None, usb=args.usb,
                             tcp=args.tcp, rtu=args.rtu)
        board.start()
    except VboardError as exc:
        raise CommandError(str(exc)) from None
    from rung.lineout import LineOut

    # every line goes out without waiting for its reader: a full pipe nobody reads drops
    # lines, a closed one silences them, neither stops the control interface or the board
    err = LineOut(sys.stderr)
    tty = err.tty
    err.write(f"virtual board {args.name}: USB {board.usb_path}, RTU {board.rtu_path}, "
              f"Wi-Fi address {board.tcp_host}; flash {args.dir}. Type help for commands.\n")
    done = threading.Event()

    def status():
        last = None
        port_shown = False
        while not done.wait(0.5):
            if board.info.get("wifi") and not port_shown:
                port = board._listening_port(board.tcp_port_wanted or None)
                if port:
                    err.write(f"Modbus TCP at {board.tcp_host}:{port}\n")
                    port_shown = True
            line = board.status_line()
            if line != last and not args.quiet:
                err.write(("\r\x1b[K" + line) if tty else line + "\n")
                last = line

    t = threading.Thread(target=status, daemon=True)
    t.start()
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # run() called off the main thread: SIGTERM stays as it was
        previous = None
    try:
        for line in sys.stdin:
            if line.strip() in ("quit", "exit"):
                break
            try:
                out = _command(board, line)
            except (ValueError, KeyError) as exc:
                out = f"error: {exc}"
            except Exception as exc:  # VboardError: e.g. "on" while on
                out = f"error: {exc}"
            if out:
                err.write(("\r\x1b[K" if tty else "") + out + "\n")
        else:
            # stdin closed (a service, or < /dev/null): run until interrupted
            while True:
                time.sleep(3600)
    except (KeyboardInterrupt, _Terminated):
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        done.set()
        board.stop()
        if tty:
            err.write("\n")
    return 0


class _Terminated(Exception):
    """SIGTERM: stop the board as Ctrl-C does (links and run files removed)."""


def _terminate(signum, frame):
    raise _Terminated
