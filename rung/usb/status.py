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
    lines = [f"port        {port}"]
    lines.append(f"board       {st.get('board') or '-'} ({st.get('machine')})")
    lines.append(f"MicroPython {st.get('micropython')}")
    if not st.get("firmware"):
        lines.append("firmware    none: stock MicroPython (rung flash PROG --board NAME)")
        lines.append(f"free heap   {st.get('free_heap')} bytes")
        return "\n".join(lines)
    lines.append(f"firmware    Rung {st['firmware']}")
    state = st.get("state") or "-"
    if st.get("fault_code"):
        state += f" (fault {st['fault_code']})"
    lines.append(f"state       {state}")
    if st.get("crc"):
        lines.append(f"program     {st.get('program') or '?'} crc {st['crc']:08x}, "
                     f"cycle {st.get('cycle_ms')} ms, {st.get('scans', 0)} scans")
    if "scan_last_us" in st:
        lines.append(f"scan time   last {st['scan_last_us']} us, max {st['scan_max_us']} us, "
                     f"overruns {st['overruns']}")
    lines.append(f"free heap   {st.get('free_heap')} bytes")
    if "ip" in st:
        lines.append(f"IP address  {st['ip'] or 'not connected'}")
    faults = st.get("faults") or []
    lines.append("faults      " + ("none" if not faults else faults[-1]))
    for line in reversed(faults[:-1][-4:]):
        lines.append("            " + line)
    return "\n".join(lines)


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
