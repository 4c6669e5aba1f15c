"""Which TCP port a process listens on, read from /proc (Linux): how the virtual board
finds the port its firmware bound, and how tests find the one `rung sim` was given."""

import os


def listening_port(pid, want=None):
    """A TCP port process `pid` listens on (`want` if given and it listens there); None
    while it listens on none, or when the process is gone."""
    try:
        inodes = set()
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        for table in ("tcp", "tcp6"):
            with open(f"/proc/{pid}/net/{table}") as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[3] == "0A" and parts[9] in inodes:  # 0A: LISTEN
                        port = int(parts[1].rsplit(":", 1)[1], 16)
                        if want is None or port == want:
                            return port
    except OSError:
        return None
    return None
