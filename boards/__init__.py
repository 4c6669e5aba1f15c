"""Board files: one JSON file per supported board (docs/boards.md), loaded and checked here.

A user adds a board by adding one file to this folder; `rung boards` lists them."""

import json
import os

from rung.runtime.addresses import A_IW, A_IX, A_QW, A_QX, format_address

from .flash import write_flash_tree  # noqa: F401
from .validate import BoardError, check_board, parse_address

BOARDS_DIR = os.path.dirname(os.path.abspath(__file__))
SECTIONS = ("digital_inputs", "digital_outputs", "analog_inputs", "analog_outputs")
AREA_SECTION = {
    A_IX: "digital_inputs",
    A_QX: "digital_outputs",
    A_IW: "analog_inputs",
    A_QW: "analog_outputs",
}
SECTION_TITLES = {
    "digital_inputs": "digital inputs",
    "digital_outputs": "digital outputs",
    "analog_inputs": "analog inputs",
    "analog_outputs": "analog outputs",
}


def board_names():
    """Names of the boards in this folder, sorted."""
    return sorted(f[:-5] for f in os.listdir(BOARDS_DIR) if f.endswith(".json"))


def board_path(name):
    """The file of board NAME (BoardError if there is none)."""
    path = os.path.join(BOARDS_DIR, name + ".json")
    if os.sep in name or "/" in name or not os.path.isfile(path):
        raise BoardError(
            name + ".json", "", f"no board {name!r} (boards: {', '.join(board_names())})"
        )
    return path


def load_board_file(path):
    """A checked Board from any board file (BoardError saying file, key and reason)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise BoardError(path, "", f"cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BoardError(path, "", "not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BoardError(
            path, "", f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    data = check_board(path, data)
    stem = os.path.basename(path)[: -len(".json")] if path.endswith(".json") else None
    if stem is not None and data["name"] != stem:
        raise BoardError(path, "name", f"{data['name']!r} differs from the file name {stem!r}")
    return Board(data, path)


def load_board(name):
    """The checked Board called NAME from this folder."""
    return load_board_file(board_path(name))


class Board:
    """A checked board file: its data and what its I/O covers."""

    def __init__(self, data, path):
        self.data = data
        self.path = path
        self.name = data["name"]
        self.description = data["description"]
        self.heap_budget = data["heap_budget"]
        self.wifi = data["wifi"]

    def addresses(self, section):
        """(area, index) of each address of a section, in address order."""
        return sorted(parse_address(a) for a in self.data[section])

    def has(self, area, index):
        """True if the board has located I/O at (area, index)."""
        section = AREA_SECTION.get(area)
        return section is not None and format_address(area, index) in self.data[section]

    def range_text(self, section):
        """The section's addresses in compact form, e.g. '%IX0.0-%IX0.7' or 'none'."""
        addrs = self.addresses(section)
        if not addrs:
            return "none"
        runs = []
        start = prev = addrs[0]
        for a in addrs[1:] + [None]:
            if a is not None and a[0] == prev[0] and a[1] == prev[1] + 1:
                prev = a
                continue
            one = format_address(*start)
            runs.append(one if start == prev else one + "-" + format_address(*prev))
            if a is not None:
                start = prev = a
        return ", ".join(runs)

    def misfits(self, image):
        """One message per located variable of a program this board cannot connect."""
        names = image.debug.var_names if image.debug is not None else None
        out = []
        for i, (_vtype, _flags, area, index, _init) in enumerate(image.vars):
            section = AREA_SECTION.get(area)
            if section is None or self.has(area, index):
                continue
            what = f"variable {names[i]!r}" if names else f"variable {i}"
            out.append(
                f"{what} at {format_address(area, index)}: board {self.name} has no such "
                f"{SECTION_TITLES[section][:-1]} ({SECTION_TITLES[section]}: "
                f"{self.range_text(section)})"
            )
        return out


__all__ = [
    "Board",
    "BoardError",
    "board_names",
    "load_board",
    "load_board_file",
    "write_flash_tree",
]
