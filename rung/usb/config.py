"""`rung config [--port PORT] [KEY=VALUE ...] [--restart | --no-restart]`: show a board's
settings.json (the Wi-Fi password masked) or change keys of it; they apply at the next
restart, which the command offers on a terminal (docs/flashing.md)."""

import difflib
import json
import sys

from rung.errors import CommandError

from .link import BoardLink, find_port

MASKED = ("wifi.password",)
TRUE = ("true", "on", "yes", "1")
FALSE = ("false", "off", "no", "0")


def add_arguments(parser):
    parser.add_argument("settings", nargs="*", metavar="KEY=VALUE",
                        help="settings to change, e.g. tcp.port=1502 wifi.ssid=greenhouse")
    parser.add_argument("--port", help="serial port (default: the one MicroPython board on USB)")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--restart", action="store_true",
                      help="restart the PLC after writing, without asking, so the settings "
                      "apply")
    when.add_argument("--no-restart", action="store_true",
                      help="never restart: the PLC stays stopped and the settings apply at "
                      "the next reset (the default when not on a terminal)")


def schema():
    """{key: (default, limits)} of settings.json (firmware/lib/plc/settings.py)."""
    from rung.boards.flash import settings_module

    return {key: (default, limits) for key, default, limits in settings_module().SCHEMA}


def describe(key):
    """The values a setting takes, for error messages."""
    default, limits = schema()[key]
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int) and isinstance(limits, tuple) and len(limits) == 2:
        return f"a whole number from {limits[0]} to {limits[1]}"
    if isinstance(limits, tuple):
        return "one of " + ", ".join(str(x) for x in limits)
    return f"text of at most {limits} characters"


def parse_assignments(items):
    """[(key, value)] from KEY=VALUE words, values typed as the schema says; CommandError
    for unknown keys and values out of range (with the valid range)."""
    known = schema()
    out = []
    for item in items:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq:
            raise CommandError(f"{item!r}: write KEY=VALUE, e.g. tcp.port=1502")
        if key not in known:
            close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise CommandError(f"unknown setting {key!r}: {hint}(settings: {', '.join(known)})")
        default, _limits = known[key]
        if isinstance(default, bool):
            low = text.strip().lower()
            if low not in TRUE + FALSE:
                raise CommandError(f"{key}={text}: {key} is {describe(key)}")
            value = low in TRUE
        elif isinstance(default, int):
            try:
                value = int(text.strip(), 10)
            except ValueError:
                raise CommandError(f"{key}={text}: {key} is {describe(key)}") from None
        else:
            value = text
        from rung.boards.flash import settings_module

        if settings_module()._bad(value, default, known[key][1]) is not None:
            raise CommandError(f"{key}={text}: {key} is {describe(key)}")
        out.append((key, value))
    return out


def apply(current, assignments, watchdog_max_ms=None):
    """current settings (a dict from settings.json) with the assignments made; refused
    with every problem the firmware would have with them."""
    from rung.boards.flash import settings_module

    data = json.loads(json.dumps(current)) if isinstance(current, dict) else {}
    for key, value in assignments:
        group, dot, sub = key.partition(".")
        if dot:
            if not isinstance(data.get(group), dict):
                data[group] = {}
            data[group][sub] = value
        else:
            data[key] = value
    _full, problems = settings_module().check(data, watchdog_max_ms)
    mine = [p for p in problems if p.split(":")[0] in {k for k, _ in assignments}
            or p.startswith(("wifi:", "watchdog_ms"))]
    if mine:
        raise CommandError("; ".join(_with_range(p) for p in mine) + "; nothing was changed")
    return data


def _with_range(problem):
    key = problem.split(":")[0]
    text = problem.split(" (using ")[0]
    if key in schema() and "must be" in text:
        return f"{key}: {describe(key)}"
    return text


def show(settings, watchdog_max_ms=None):
    """KEY = VALUE lines of the full settings, the password masked."""
    from rung.boards.flash import settings_module

    full, problems = settings_module().check(settings, watchdog_max_ms)
    lines = []
    for key in schema():
        group, dot, sub = key.partition(".")
        value = full[group][sub] if dot else full[key]
        if key in MASKED and value:
            value = "********"
        lines.append(f"{key} = {json.dumps(value)}")
    lines += [f"(board ignores) {p}" for p in problems]
    return "\n".join(lines)


PROMPT = "Restart the board now to apply them? [Y/n] "


def interactive():
    """Is a person at the command: stdin and stdout both terminals."""
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def ask_restart():
    """The answer to PROMPT: Enter is yes, end of input is no."""
    while True:
        try:
            answer = input(PROMPT).strip().lower()
        except EOFError:
            print()
            return False
        if answer in ("", "y", "yes"):
            return True
        if answer in ("n", "no"):
            return False


def how_to_apply(port):
    return (f"the PLC stays stopped; apply them with `rung config --port {port} --restart` "
            "or the board's reset button")


def run(args):
    assignments = parse_assignments(args.settings)
    port = find_port(args.port)
    with BoardLink(port) as link:
        raw = link.read("settings.json")
        board_raw = link.read("board.json")
        wdt_max = None
        try:
            wdt_max = json.loads(board_raw).get("watchdog_max_ms") if board_raw else None
        except (ValueError, AttributeError):
            pass
        try:
            current = json.loads(raw) if raw else {}
        except ValueError:
            current = {}
        if not assignments:
            print(show(current, wdt_max))
            link.restart_quietly()
            return 0
        try:
            new = apply(current, assignments, wdt_max)
        except CommandError:
            link.restart_quietly()
            raise
        data = (json.dumps(new, indent=2) + "\n").encode()
        link.left_in = "settings.json is the old one, the PLC stopped; press reset"
        link.write("settings.tmp", data)
        link.exec("import os\nos.rename('settings.tmp', 'settings.json')\n")
        changed = ", ".join(
            f"{k}={'********' if k in MASKED else json.dumps(v)}" for k, v in assignments
        )
        link.left_in = "the PLC is stopped; settings.json is the new one: press reset"
        lead = f"{port}: {changed} written; "
        if args.restart:
            restart = True
        elif args.no_restart or not interactive():
            restart = False  # a script or a pipe never restarts a machine unasked
        else:
            print(lead + "the PLC is stopped")
            lead = f"{port}: "
            try:
                restart = ask_restart()
            except KeyboardInterrupt:
                print(f"\n{port}: {how_to_apply(port)}", file=sys.stderr)
                raise
        if not restart:
            print(lead + how_to_apply(port))
            return 0
        banner = link.restart()
    from .link import parse_banner

    state, _crc, fault = parse_banner(banner)
    print(lead + f"the PLC restarted with them: {state or 'no banner'}"
          + (f" (fault {fault})" if fault else ""))
    return 0
