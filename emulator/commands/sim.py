"""`rung sim PROG.rung`: the program in real time on the emulator board, behind Modbus."""

import asyncio
import math
import signal
import sys

from rung.compiler.literals import parse_duration
from rung.errors import CommandError
from rung.runtime.engine import STATE_NAMES
from rung.runtime.modbus_map import HR_FORCE, IR_STATUS

from ..board import EmulatorBoard
from ..modbus_server import IDLE_TIMEOUT, MAX_CLIENTS, RtuSerialServer, TcpServer

FD_RESERVE = 24  # open files besides the TCP clients: stdio, event loop, listening socket,
# serial port (pyserial adds four pipes), a connection being refused, and room to spare


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
        default=None,
        metavar="DURATION",
        help="stop after this long, wall-clock time: 2s, 1m30s, 500ms (a plain number is "
        "seconds; default: run until Ctrl-C or SIGTERM)",
    )
    parser.add_argument(
        "--max-clients",
        type=int,
        default=MAX_CLIENTS,
        metavar="N",
        help=f"Modbus TCP clients served at once (default {MAX_CLIENTS}); over the limit a "
        "client silent for a second gives way to a newcomer, else the newcomer is refused",
    )
    parser.add_argument(
        "--idle-timeout",
        default=f"{IDLE_TIMEOUT:g}s",
        metavar="DURATION",
        help=f"drop a Modbus TCP client after this long without a request (default "
        f"{IDLE_TIMEOUT:g}s; 0: never)",
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
    if int(port) > 65535:
        raise CommandError(f"--tcp port must be 0..65535, not {port}")
    return host.strip("[]"), int(port)


def _seconds(option, text):
    """Seconds from a duration ('2s', '1m30s', 'T#500ms') or a plain number of seconds."""
    text = text.strip()
    if text.startswith("-"):
        raise CommandError(f"{option} cannot be negative: {text!r}")
    try:
        value = float(text)
    except ValueError:
        try:
            return parse_duration(text) / 1000
        except ValueError as exc:
            raise CommandError(f"{option}: {exc}") from None
    if not math.isfinite(value):
        raise CommandError(f"{option} must be a finite duration, not {text!r}")
    return value


def _check_fd_limit(max_clients):
    try:
        import resource
    except ImportError:
        return
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max_clients + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < need:
        raise CommandError(
            f"--max-clients {max_clients} needs about {need} open files but this process "
            f"may open {soft} (lower --max-clients or raise the limit: ulimit -n)"
        )


def run(args):
    if args.speed <= 0 or not math.isfinite(args.speed):
        raise CommandError("--speed must be a positive number")
    if not 1 <= args.unit <= 247:
        raise CommandError("--unit must be 1..247")
    if args.max_clients < 1:
        raise CommandError("--max-clients must be at least 1")
    if not (math.isfinite(args.status_interval) and args.status_interval >= 0):
        raise CommandError("--status-interval must be 0 or a positive number of seconds")
    args.duration_s = None if args.duration is None else _seconds("--duration", args.duration)
    args.idle_s = _seconds("--idle-timeout", args.idle_timeout)
    tcp = args.tcp or (None if args.rtu else "127.0.0.1:5020")
    hostport = _parse_hostport(tcp) if tcp else None
    if hostport:
        _check_fd_limit(args.max_clients)
    code = _load(args.program)
    if code is None:
        return 1
    try:
        return asyncio.run(_serve(args, code, hostport))
    except KeyboardInterrupt:
        return 0


class _Console:
    """Messages and the status line, without mangling each other and without ever making
    the scans wait: a line the reader of a full pipe has no room for is dropped, a closed
    reader silences it (rung/lineout.py)."""

    def __init__(self):
        from rung.lineout import LineOut

        self.out = LineOut(sys.stdout)
        self.err = LineOut(sys.stderr)
        self.tty = self.err.tty
        self.status_shown = False

    def print(self, text):
        """Lines of the command's own output (stdout): what it serves, how it stopped."""
        self.out.write(text + "\n")

    def say(self, text):
        """One line about an event (a port lost, clients refused)."""
        self.err.write(("\n" if self.status_shown else "") + f"rung sim: {text}\n")
        self.status_shown = False

    def status(self, line):
        if self.tty:  # one line, redrawn in place
            self.status_shown = self.err.write("\r" + line) or self.status_shown
        else:
            self.err.write(line + "\n")

    def end(self):
        if self.status_shown:
            self.err.write("\n")
            self.status_shown = False


def _quiet_loop_errors(console):
    """asyncio reports trouble it recovers from (a failed accept) as one line, no
    traceback: the emulator goes on serving."""

    def handler(loop, context):
        exc = context.get("exception")
        detail = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
        console.say(f"{context.get('message', 'event loop error')}{detail}")

    asyncio.get_running_loop().set_exception_handler(handler)


async def _serve(args, code, hostport):
    from rung.runtime import LoadError

    try:
        board = EmulatorBoard(code, args.speed, not args.no_forcing, not args.no_run_stop)
    except LoadError as exc:
        raise CommandError(str(exc)) from None
    console = _Console()
    _quiet_loop_errors(console)
    rt = board.runtime
    name = rt.image.debug.program if rt.image.debug else args.program
    lines = [
        f"rung sim: program {name} ({len(rt.image.rungs)} rungs, cycle {rt.cycle_ms} ms, "
        f"CRC {rt.crc:08x}), speed x{args.speed:g}"
    ]
    tcp_server = None
    rtu_server = None
    try:
        if hostport:
            tcp_server = TcpServer(
                board.pdu, board.stats, board, args.max_clients, args.idle_s, console.say
            )
            try:
                host, port = await tcp_server.start(*hostport)
            except (OSError, OverflowError) as exc:
                where = f"{hostport[0]}:{hostport[1]}"
                raise CommandError(
                    f"cannot listen on {where}: {getattr(exc, 'strerror', None) or exc}"
                ) from None
            lines += _tcp_help(board, host, port, args)
        if args.rtu:
            try:
                rtu_server = RtuSerialServer(
                    board.pdu, args.rtu, args.baud, args.parity, args.unit, board, console.say
                )
            except Exception as exc:  # pyserial raises SerialException, OSError, ValueError
                raise CommandError(f"cannot open {args.rtu}: {exc}") from None
            rtu_server.start()
            lines.append(
                f"Modbus RTU on {args.rtu} at {args.baud} baud, parity {args.parity}, "
                f"unit {args.unit}"
            )
        console.print("\n".join(lines))
        return await _run_until_stopped(args, board, console, tcp_server, rtu_server)
    finally:
        if tcp_server:
            await tcp_server.close()
        if rtu_server:
            rtu_server.close()


def _tcp_help(board, host, port, args):
    rt = board.runtime
    lines = [
        f"Modbus TCP listening on {f'[{host}]' if ':' in host else host}:{port}",
        f"  up to {args.max_clients} clients at once, {_idle_text(args.idle_s)}",
    ]
    n_coils = 0
    while n_coils in board.device.coils:
        n_coils += 1
    if n_coils:
        lines.append(
            f"  read the outputs:  mbpoll -m tcp -p {port} -t 0 -r 1 -c {n_coils} -1 {host}"
        )
    lines.append(
        f"  read the status:   mbpoll -m tcp -p {port} -t 3 -r {IR_STATUS + 1} -c 4 -1 {host}"
    )
    lines.append(
        f"  force variable 0:  mbpoll -m tcp -p {port} -t 4 -r {HR_FORCE + 1} -1 {host} 1"
    )
    d = rt.image.debug
    if d is not None:
        forceable = [f"{i} {d.var_names[i]}" for i in rt.input_vars + rt.output_vars]
        lines.append("  forceable variables (number name): " + ", ".join(forceable))
    lines.append("  (the whole map is in docs/modbus.md)")
    return lines


def _idle_text(seconds):
    if not seconds:
        return "never dropped for being idle"
    return f"each dropped after {seconds:g} s without a request"


async def _run_until_stopped(args, board, console, tcp_server, rtu_server):
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, board.stop)
        except (NotImplementedError, RuntimeError):
            pass
    if args.duration_s is not None:
        loop.call_later(args.duration_s, board.stop)
    status = asyncio.create_task(_status(board, args.status_interval, console, rtu_server))
    try:
        await board.run()
    finally:
        status.cancel()
        console.end()
    rt = board.runtime
    console.print(f"rung sim: stopped after {rt.scan_count} scans")
    if rtu_server is not None and rtu_server.dropped:
        console.print(
            f"rung sim: {rtu_server.dropped} RTU answers dropped (the master did not read)"
        )
    if tcp_server is not None and tcp_server.refused:
        console.print(f"rung sim: {tcp_server.refused} TCP connections refused (client limit)")
    if console.err.dropped:
        console.print(f"rung sim: {console.err.dropped} lines of stderr dropped (nobody read "
                      "them)")
    return 0


async def _status(board, interval, console, rtu_server):
    if not interval:
        return
    rt = board.runtime
    st = board.stats
    while True:
        await asyncio.sleep(interval)
        line = (
            f"{STATE_NAMES[rt.state]:<5} scans {rt.scan_count:<9} scan {st.last_us:>6} us "
            f"(max {st.max_us} us, overruns {st.overruns})  clients {st.clients}  "
            f"forced {len(rt.forced)}"
        )
        if rtu_server is not None:
            line += "  rtu " + ("up" if rtu_server.connected else "lost")
            if rtu_server.dropped:
                line += f", dropped {rtu_server.dropped}"
        console.status(line)
