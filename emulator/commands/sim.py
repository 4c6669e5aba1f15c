"""`rung sim PROG.rung`: the program in real time on the emulator board, behind Modbus."""

import asyncio
import signal
import sys

from rung.errors import CommandError
from rung.runtime.engine import STATE_NAMES
from rung.runtime.modbus_map import HR_FORCE, IR_STATUS

from ..board import EmulatorBoard
from ..modbus_server import RtuSerialServer, TcpServer


def add_arguments(parser):
    parser.add_argument("program", help="a .rung source or a compiled .rbc file")
    parser.add_argument(
        "--tcp",
        default=None,
        metavar="HOST:PORT",
        help="serve Modbus TCP here (default 127.0.0.1:5020 unless --rtu is given)",
    )
    parser.add_argument("--rtu", metavar="DEVICE", help="serve Modbus RTU on this serial device")
    parser.add_argument("--baud", type=int, default=19200)
    parser.add_argument("--parity", choices="NEO", default="N")
    parser.add_argument("--unit", type=int, default=1, help="RTU unit id (1-247)")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="run the virtual clock N times faster than real time",
    )
    parser.add_argument("--no-forcing", action="store_true", help="refuse forcing over Modbus")
    parser.add_argument(
        "--no-run-stop",
        action="store_true",
        help="refuse run/stop/fault-reset commands over Modbus",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    parser.add_argument(
        "--status-interval",
        type=float,
        default=0.5,
        help="seconds between status line updates (0: no status line)",
    )


def _load(path):
    from rung.compiler.commands._load import load_image

    img = load_image(path)
    if img is None:
        return None
    return bytes(img.data)


def _parse_hostport(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise CommandError(f"--tcp needs HOST:PORT, not {text!r}")
    return host, int(port)


def run(args):
    if args.speed <= 0:
        raise CommandError("--speed must be positive")
    if not 1 <= args.unit <= 247:
        raise CommandError("--unit must be 1..247")
    code = _load(args.program)
    if code is None:
        return 1
    tcp = args.tcp or (None if args.rtu else "127.0.0.1:5020")
    try:
        return asyncio.run(_serve(args, code, tcp))
    except KeyboardInterrupt:
        return 0


async def _serve(args, code, tcp):
    from rung.runtime import LoadError

    try:
        board = EmulatorBoard(code, args.speed, not args.no_forcing, not args.no_run_stop)
    except LoadError as exc:
        raise CommandError(str(exc)) from None
    rt = board.runtime
    name = rt.image.debug.program if rt.image.debug else args.program
    servers = []
    lines = [
        f"rung sim: program {name} ({len(rt.image.rungs)} rungs, cycle {rt.cycle_ms} ms, "
        f"CRC {rt.crc:08x}), speed x{args.speed:g}"
    ]
    tcp_server = None
    if tcp:
        host, port = _parse_hostport(tcp)
        tcp_server = TcpServer(board.pdu, board.stats)
        try:
            host, port = await tcp_server.start(host, port)
        except OSError as exc:
            raise CommandError(f"cannot listen on {tcp}: {exc.strerror or exc}") from None
        servers.append(tcp_server)
        lines.append(f"Modbus TCP listening on {host}:{port}")
        n_coils = 0
        while n_coils in board.device.coils:
            n_coils += 1
        if n_coils:
            lines.append(
                f"  read the outputs:  mbpoll -m tcp -p {port} -t 0 -r 1 -c {n_coils} "
                f"-1 {host}"
            )
        lines.append(
            f"  read the status:   mbpoll -m tcp -p {port} -t 3 -r {IR_STATUS + 1} "
            f"-c 4 -1 {host}"
        )
        lines.append(
            f"  force variable 0:  mbpoll -m tcp -p {port} -t 4 -r {HR_FORCE + 1} " f"-1 {host} 1"
        )
        d = rt.image.debug
        if d is not None:
            forceable = [f"{i} {d.var_names[i]}" for i in rt.input_vars + rt.output_vars]
            lines.append("  forceable variables (number name): " + ", ".join(forceable))
        lines.append("  (the whole map is in docs/modbus.md)")
    rtu_server = None
    if args.rtu:
        try:
            rtu_server = RtuSerialServer(board.pdu, args.rtu, args.baud, args.parity, args.unit)
        except Exception as exc:  # pyserial raises SerialException, OSError, ValueError
            raise CommandError(f"cannot open {args.rtu}: {exc}") from None
        rtu_server.start()
        lines.append(
            f"Modbus RTU on {args.rtu} at {args.baud} baud, parity {args.parity}, "
            f"unit {args.unit}"
        )
    print("\n".join(lines), flush=True)
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, board.stop)
        loop.add_signal_handler(signal.SIGTERM, board.stop)
    except (NotImplementedError, RuntimeError):
        pass
    scanner = asyncio.create_task(board.run())
    status = asyncio.create_task(_status(board, args.status_interval))
    if args.duration is not None:
        loop.call_later(args.duration, board.stop)
    try:
        await scanner
    finally:
        status.cancel()
        if tcp_server:
            await tcp_server.close()
        if rtu_server:
            rtu_server.close()
        if args.status_interval:
            print(file=sys.stderr)
        print(f"rung sim: stopped after {rt.scan_count} scans", flush=True)
    return 0


async def _status(board, interval):
    if not interval:
        return
    tty = sys.stderr.isatty()
    rt = board.runtime
    st = board.stats
    while True:
        await asyncio.sleep(interval)
        line = (
            f"{STATE_NAMES[rt.state]:<5} scans {rt.scan_count:<9} scan {st.last_us:>6} us "
            f"(max {st.max_us} us, overruns {st.overruns})  clients {st.clients}  "
            f"forced {len(rt.forced)}"
        )
        if tty:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)
