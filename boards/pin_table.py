"""The pin table of each board, as rows and as the Markdown of docs/boards.md."""

from . import SECTION_TITLES, SECTIONS, board_names, load_board

HEADER = ("address", "pin", "use", "notes")
BEGIN = "<!-- pin tables: generated from boards/*.json by `python -m rung.boards.pin_table` -->"
END = "<!-- end of pin tables -->"


def _gpio(board, pin):
    if isinstance(pin, str):
        return pin
    return ("GP" if board.data["port"] == "rp2" else "GPIO") + str(pin)


def pin_rows(board):
    """(address, pin, use, notes) for every pin the board file uses."""
    d = board.data
    rows = []
    for section in SECTIONS:
        for addr in sorted(d[section], key=lambda a: (len(a), a)):
            e = d[section][addr]
            notes = []
            if section == "digital_inputs":
                notes.append("pull " + (e.get("pull") or "none"))
                if e.get("inverted"):
                    notes.append("inverted")
                if e.get("filter_ms"):
                    notes.append(f"filter {e['filter_ms']} ms")
            elif section == "digital_outputs":
                if e.get("inverted"):
                    notes.append("inverted")
                notes.append("safe " + ("on" if d["safe_outputs"][addr] else "off"))
            elif section == "analog_inputs":
                notes.append("ADC read_u16() / 2")
            else:
                notes.append(f"PWM {e['freq']} Hz, safe {d['safe_outputs'][addr]}")
            rows.append(
                (addr, _gpio(board, e["pin"]), SECTION_TITLES[section][:-1], ", ".join(notes))
            )
    led = d["status_led"]
    rows.append(
        ("", _gpio(board, led["pin"]), "status LED", "inverted" if led.get("inverted") else "")
    )
    if d["run_switch"] is not None:
        sw = d["run_switch"]
        notes = "pull " + (sw.get("pull") or "none") + (", inverted" if sw.get("inverted") else "")
        rows.append(("", _gpio(board, sw["pin"]), "RUN/STOP switch", notes))
    rtu = d["rtu"]
    rows.append(("", _gpio(board, rtu["tx"]), f"RTU UART{rtu['uart']} TX", ""))
    rows.append(("", _gpio(board, rtu["rx"]), f"RTU UART{rtu['uart']} RX", ""))
    if rtu.get("de") is not None:
        rows.append(
            ("", _gpio(board, rtu["de"]), "RS-485 direction (DE/RE)", "high while answering")
        )
    return rows


def board_markdown(board):
    """The section of docs/boards.md for one board."""
    d = board.data
    lines = [f"### {board.name}: {board.description}", ""]
    lines.append(
        f"MicroPython `{d['port']}` port, {d['micropython']} or later; heap budget "
        f"{d['heap_budget']} bytes; watchdog at most {d['watchdog_max_ms']} ms; "
        + ("Wi-Fi (Modbus TCP and RTU)." if d["wifi"] else "no Wi-Fi (Modbus RTU).")
    )
    lines += ["", "| " + " | ".join(HEADER) + " |", "|---|---|---|---|"]
    for row in pin_rows(board):
        lines.append("| " + " | ".join(c if c else "" for c in row) + " |")
    return "\n".join(lines) + "\n"


def all_markdown():
    """Every board's section, between the markers of docs/boards.md."""
    parts = [BEGIN, ""]
    for name in board_names():
        parts.append(board_markdown(load_board(name)))
    parts.append(END)
    return "\n".join(parts)


def update_doc(path):
    """Rewrite the generated part of docs/boards.md; True if it changed."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start = text.index(BEGIN)
    end = text.index(END) + len(END)
    new = text[:start] + all_markdown() + text[end:]
    if new != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
    return new != text


if __name__ == "__main__":
    import os

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    print("updated" if update_doc(os.path.join(here, "docs", "boards.md")) else "up to date")
