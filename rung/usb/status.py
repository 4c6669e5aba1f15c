"""`rung status [--port PORT]`: what a board runs, read over USB (docs/flashing.md).
The raw REPL needs the PLC stopped: status stops it (Ctrl-C: outputs safe, retained
values saved), reads its state and restarts it with a soft reset."""

from .link import BoardLink, find_port


def add_arguments(parser):
    parser.add_argument("--port", help="serial port (default: the one MicroPython board on USB)")
    parser.add_argument("--no-resume", action="store_true",
                        help="leave the PLC stopped in the REPL afterwards")


def read_status(link):
    """The board's status dict (plc.host.status(), or what stock MicroPython tells)."""
    out = link.exec(
        "try:\n from plc import host\nexcept ImportError:\n host = None\n"
        "if host is None:\n import sys, json, gc\n gc.collect()\n"
        " print(json.dumps({'micropython': '.'.join(str(x) for x in"
        " sys.implementation.version[:3]), 'machine': getattr(sys.implementation, '_machine',"
        " sys.platform), 'free_heap': gc.mem_free(), 'firmware': None}))\n"
        "else:\n host.status()\n"
    )
    import json

    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def render(st, port):
    """The lines rung status prints."""
    rows = [("port", port), ("board", f"{st.get('board') or '-'} ({st.get('machine')})"),
            ("MicroPython", st.get("micropython"))]
    if not st.get("firmware"):
        rows.append(("firmware", "none: stock MicroPython (rung flash PROG --board NAME)"))
        rows.append(("free heap", f"{st.get('free_heap')} bytes"))
        return _table(rows)
    rows.append(("firmware", f"Rung {st['firmware']}"))
    state = st.get("state") or "-"
    if st.get("fault_code"):
        state += f" (fault {st['fault_code']})"
    rows.append(("state", state))
    if st.get("crc"):
        rows.append(("program", f"{st.get('program') or '?'} crc {st['crc']:08x}, cycle "
                     f"{st.get('cycle_ms')} ms, {st.get('scans', 0)} scans"))
    if "scan_last_us" in st:
        rows.append(("scan time", f"last {st['scan_last_us']} us, max {st['scan_max_us']} us, "
                     f"overruns {st['overruns']}"))
    rows.append(("free heap", f"{st.get('free_heap')} bytes"))
    if "ip" in st:
        rows.append(("IP address", st["ip"] or "not connected"))
    faults = st.get("faults") or []
    rows.append(("faults", "none" if not faults else faults[-1]))
    for line in reversed(faults[:-1][-4:]):
        rows.append(("", line))
    return _table(rows)


def _table(rows):
    return "\n".join(f"{label:<12} {value}".rstrip() for label, value in rows)


def run(args):
    port = find_port(args.port)
    with BoardLink(port) as link:
        st = read_status(link)
        if not args.no_resume and st.get("firmware"):
            link.restart()
    print(render(st, port))
    if args.no_resume and st.get("firmware"):
        print("the PLC is stopped (--no-resume): press reset or run rung status to restart it")
    return 0
