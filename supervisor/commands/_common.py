"""Arguments and set-up shared by `rung monitor` and `rung hmi`."""

from rung.errors import CommandError

from ..program import load_program
from ..session import Session
from ..target import parse_target


def add_target_arguments(parser):
    parser.add_argument(
        "target",
        help="tcp:HOST[:PORT][/UNIT] or rtu:DEVICE[@BAUD][/UNIT], e.g. tcp:127.0.0.1:5020",
    )
    parser.add_argument(
        "--program",
        metavar="PROG",
        help="the .rung or .rbc the device runs: names, types and rung structure "
        "(without it, values are shown by variable number)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=0.1,
        help="seconds between refreshes of the whole state (default 0.1)",
    )
    parser.add_argument(
        "--timeout", type=float, default=1.0, help="seconds to wait for an answer (default 1)"
    )


def make_session(args):
    """A Session from the parsed arguments (the link is opened by its first refresh)."""
    from ..link import Link

    if not 0.01 <= args.interval <= 60:
        raise CommandError("--interval must be 0.01..60 seconds")
    if not 0.05 <= args.timeout <= 30:
        raise CommandError("--timeout must be 0.05..30 seconds")
    target = parse_target(args.target)
    program = load_program(args.program) if args.program else None
    return Session(target, program, args.interval, Link(target, timeout=args.timeout))
