"""`rung hmi TARGET --program PROG [--listen 127.0.0.1:8080]`: the web HMI."""

import asyncio
import signal

from rung.errors import CommandError

from ..hmi import Hmi, is_loopback, serve
from ._common import add_target_arguments, make_session


def add_arguments(parser):
    add_target_arguments(parser)
    parser.add_argument(
        "--listen",
        default="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="where the page is served (default 127.0.0.1:8080; any address other than "
        "loopback needs --password)",
    )
    parser.add_argument(
        "--password", help="password asked by the page (required off loopback; none by default)"
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="no write, force or run/stop controls (refused by the server too)",
    )


def parse_listen(text):
    """(host, port) from HOST:PORT or [V6]:PORT."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise CommandError(f"--listen needs HOST:PORT, not {text!r}")
    return host, int(port)


def run(args):
    host, port = parse_listen(args.listen)
    if args.password is not None and not args.password:
        raise CommandError("--password cannot be empty")
    if not is_loopback(host) and not args.password:
        raise CommandError(
            f"refusing to listen on {host} without --password: anyone on the network "
            "could drive the PLC (listen on 127.0.0.1, or give --password)"
        )
    session = make_session(args)
    try:
        return asyncio.run(_main(args, session, host, port))
    except KeyboardInterrupt:
        return 0


async def _main(args, session, host, port):
    hmi = Hmi(session, read_only=args.read_only, password=args.password)
    try:
        runner, (bound_host, bound_port) = await serve(hmi, host, port)
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    mode = " (read-only)" if args.read_only else ""
    print(f"rung hmi: {session.target} -> http://{shown}:{bound_port}/{mode}")
    print("  open that address in a web browser; Ctrl-C stops", flush=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, session.stop)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        await session.run()
    finally:
        await runner.cleanup()
        print("rung hmi: stopped", flush=True)
    return 0
