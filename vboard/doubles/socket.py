# Extends the unix port's built-in `socket` (an extensible built-in, like `machine`): a
# server that binds to the Wi-Fi address the network double reports (or to 0.0.0.0),
# on whatever port the firmware's settings name, is bound to the virtual board's
# `--tcp HOST:PORT` instead (RUNG_VBOARD_TCP). Everything else is the built-in module.
import os
import sys

_path = sys.path
sys.path = ()
try:
    import socket as _builtin
    from socket import *  # noqa: F401,F403
finally:
    sys.path = _path
    del _path

_TCP = os.getenv("RUNG_VBOARD_TCP")


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
    """socket.getaddrinfo, with the board's own address mapped to --tcp HOST:PORT."""
    if _TCP is not None:
        try:
            import network

            own = network.WLAN(network.STA_IF).ifconfig()[0]
        except Exception:
            own = None
        if host in ("0.0.0.0", "", own) and own not in (None, "0.0.0.0"):
            h, _, p = _TCP.rpartition(":")
            host, port = h, int(p)
    return _builtin.getaddrinfo(host, port, af, type, proto, flags)
