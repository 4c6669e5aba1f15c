"""`rung deploy PROG.rung [--port PORT]`: replace only the program on a flashed board,
atomically (docs/flashing.md): written aside, verified on the board without running it,
renamed over program.rbc, the PLC restarted. A failure leaves the old program running."""

import json
import time

from rung.errors import CommandError

from .common import check_fits, compile_program, load_board, retained
from .flash import _confirm
from .link import BoardLink, find_port

TMP = "program.tmp"


def add_arguments(parser):
    parser.add_argument("program", help="the .rung program to run on the board")
    parser.add_argument("--port", help="serial port (default: the one MicroPython board on USB)")


def run(args):
    from rung.boards import board_names

    program, rbc = compile_program(args.program)  # errors before the PLC is touched
    port = find_port(args.port)
    started = time.monotonic()
    with BoardLink(port) as link:
        board_json = link.read("board.json")
        has_fw = link.exec("import os\ntry:\n os.stat('lib/plc/host.mpy')\n print(1)\n"
                           "except OSError:\n try:\n  os.stat('lib/plc/host.py')\n  print(1)\n"
                           " except OSError:\n  print(0)\n").strip()
        if board_json is None or has_fw != "1":
            raise CommandError(f"the board on {port} has no Rung firmware: run rung flash "
                               "PROG.rung --board NAME first")
        try:
            name = json.loads(board_json)["name"]
        except (ValueError, KeyError, TypeError):
            name = None
        board = load_board(name) if name in board_names() else None
        if board is not None:
            try:
                check_fits(args.program, program, rbc, board)
            except CommandError:
                link.restart_quietly()
                raise
        fresh = _retain_change(link.read("program.rbc"), program.program.to_bytes())
        link.left_in = "the old program is on it, the PLC stopped; press reset to restart it"
        link.write(TMP, rbc)
        answer = link.exec_json(f"from plc import host\nhost.verify({TMP!r})\n", timeout=60)
        if not answer.get("ok"):
            link.exec(f"import os\nos.remove({TMP!r})\n")
            link.restart()
            why = answer.get("error") or ("it uses " + ", ".join(answer.get("missing") or ())
                                          + ", which this board does not have")
            raise CommandError(f"the board refused {args.program}: {why}; the old program "
                               "runs")
        if answer["crc"] != program.crc:
            raise CommandError("the board read back another CRC than the compiler's: the "
                               "USB link corrupts data; the old program is still on it")
        link.left_in = "the PLC stopped; press reset: it starts the old or the new program"
        link.exec_json(f"from plc import host\nhost.install({TMP!r}, {bool(fresh)})\n")
        link.write("program.json", program.info(args.program))  # the name, for rung status
        banner = link.restart()
    _confirm(banner, program.crc, port)
    kept = "retained values kept" if fresh is None else "retained values start fresh"
    print(f"{port}: program {program.name} crc {program.crc:08x} RUN, {kept} "
          f"({time.monotonic() - started:.1f} s)")
    return 0


def _retain_change(old, new):
    """None when nothing retained is lost; else True, after saying what starts fresh (said
    before the deploy goes on)."""
    old_ret = retained(old) if old is not None else None
    if old_ret is None or not old_ret[1]:
        return None  # the old program retained nothing: nothing to lose
    new_ret = retained(new) or (None, [])
    if new_ret[0] == old_ret[0]:
        return None
    if new_ret[1]:
        print("the retained layout changed: these start fresh: " + ", ".join(new_ret[1]))
    else:
        print("the new program retains nothing: the old program's retained values ("
              + ", ".join(old_ret[1]) + ") are dropped")
    return True
