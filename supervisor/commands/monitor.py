"""`rung monitor TARGET --program PROG`: the live terminal monitor."""

from ._common import add_target_arguments, make_session


def add_arguments(parser):
    add_target_arguments(parser)


def run(args):
    from ..monitor_app import MonitorApp

    session = make_session(args)
    MonitorApp(session).run()
    session.link.close()
    return 0
