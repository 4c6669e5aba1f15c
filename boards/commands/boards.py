"""`rung boards [NAME] [--json]`: the boards Rung knows and their I/O."""

import json

from rung.errors import CommandError

from .. import SECTION_TITLES, SECTIONS, BoardError, board_names, load_board


def add_arguments(parser):
    parser.add_argument("name", nargs="?", help="show one board's pins in full")
    parser.add_argument("--json", action="store_true", help="print the board file(s) as JSON")


def run(args):
    try:
        names = [args.name] if args.name else board_names()
        boards = [load_board(n) for n in names]
    except BoardError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        data = [b.data for b in boards]
        print(json.dumps(data[0] if args.name else data, indent=2))
        return 0
    for board in boards:
        wifi = "Wi-Fi + " if board.wifi else ""
        print(f"{board.name}: {board.description}")
        for section in SECTIONS:
            print(f"  {SECTION_TITLES[section] + ':':17} {board.range_text(section)}")
        rtu = board.data["rtu"]
        print(f"  {'Modbus:':17} {wifi}RTU on UART{rtu['uart']}")
        if args.name:
            _pins(board)
    return 0


def _pins(board):
    from ..pin_table import pin_rows

    print("  pins:")
    for row in pin_rows(board):
        print("    " + "  ".join(f"{cell:<12}" for cell in row).rstrip())
