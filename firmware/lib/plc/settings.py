# settings.json: the schema (keys, types, ranges, defaults) and its checking, the one
# definition used by the firmware on the board and by the host tools (docs/firmware.md).
# A bad value never stops a board: it is reported and its default is used instead.

# (key, default, limits): limits is (lo, hi) for numbers, a tuple of allowed values, or
# the longest length of a string. Keys with a dot live in a group ("rtu": {"baud": ...}).
SCHEMA = (
    ("unit", 1, (1, 247)),
    ("allow_forcing", False, None),
    ("allow_run_stop", False, None),
    ("watchdog_ms", 5000, (0, 3600000)),
    ("retain_interval_s", 5, (1, 3600)),
    ("run_switch", True, None),
    ("rtu.enabled", True, None),
    ("rtu.baud", 19200, (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)),
    ("rtu.parity", "N", ("N", "E", "O")),
    ("rtu.stop_bits", 1, (1, 2)),
    ("tcp.enabled", True, None),
    ("tcp.port", 502, (1, 65535)),
    ("tcp.max_clients", 4, (1, 16)),
    ("tcp.idle_timeout_s", 60, (1, 3600)),
    ("wifi.ssid", "", 32),
    ("wifi.password", "", 64),
    ("wifi.ip", "", 15),
    ("wifi.netmask", "", 15),
    ("wifi.gateway", "", 15),
    ("wifi.dns", "", 15),
    ("wifi.connect_timeout_s", 30, (1, 600)),
)
GROUPS = ("rtu", "tcp", "wifi")
MIN_WATCHDOG_MS = 100


def defaults():
    """The settings of a board whose settings.json is missing or empty."""
    out = {}
    for key, default, _limits in SCHEMA:
        _put(out, key, default)
    return out


def _put(out, key, value):
    dot = key.find(".")
    if dot < 0:
        out[key] = value
    else:
        out.setdefault(key[:dot], {})[key[dot + 1 :]] = value


def _get(data, key):
    dot = key.find(".")
    if dot < 0:
        return key in data, data.get(key)
    group = data.get(key[:dot])
    if not isinstance(group, dict):
        return False, None
    return key[dot + 1 :] in group, group.get(key[dot + 1 :])


def _type_name(x):
    if isinstance(x, bool):
        return "true/false"
    if isinstance(x, int):
        return "a whole number"
    return "a string"


def _bad(value, default, limits):
    """Why value cannot stand for a setting whose default is `default`, or None."""
    if isinstance(default, bool) or isinstance(value, bool):
        if not (isinstance(default, bool) and isinstance(value, bool)):
            return "must be " + _type_name(default)
        return None
    if not isinstance(value, type(default)):
        return "must be " + _type_name(default)
    if isinstance(limits, tuple) and len(limits) == 2 and isinstance(default, int):
        if not limits[0] <= value <= limits[1]:
            return "must be between " + str(limits[0]) + " and " + str(limits[1])
    elif isinstance(limits, tuple):
        if value not in limits:
            return "must be one of " + ", ".join(str(x) for x in limits)
    elif isinstance(limits, int) and len(value) > limits:
        return "is longer than " + str(limits) + " characters"
    return None


def check(data, watchdog_max_ms=None):
    """(settings with every key, list of 'key: problem' strings) for decoded JSON data."""
    out = defaults()
    problems = []
    if not isinstance(data, dict):
        return out, ["settings: a JSON object is needed"]
    known = {}
    for key, _default, _limits in SCHEMA:
        known[key] = True
    for key in data:
        if key in GROUPS:
            if not isinstance(data[key], dict):
                problems.append(key + ": must be an object")
                continue
            for sub in data[key]:
                if key + "." + sub not in known:
                    problems.append(key + "." + sub + ": unknown setting")
        elif key not in known:
            problems.append(key + ": unknown setting")
    for key, default, limits in SCHEMA:
        present, value = _get(data, key)
        if not present:
            continue
        why = _bad(value, default, limits)
        if why is not None:
            problems.append(key + ": " + why + " (using " + repr(default) + ")")
            continue
        _put(out, key, value)
    wdt = out["watchdog_ms"]
    if 0 < wdt < MIN_WATCHDOG_MS:
        problems.append("watchdog_ms: at least " + str(MIN_WATCHDOG_MS) + " (or 0: off)")
        out["watchdog_ms"] = MIN_WATCHDOG_MS
    elif watchdog_max_ms is not None and wdt > watchdog_max_ms:
        problems.append(
            "watchdog_ms: this board's watchdog lasts at most "
            + str(watchdog_max_ms)
            + " ms (using it)"
        )
        out["watchdog_ms"] = watchdog_max_ms
    wifi = out["wifi"]
    static = [wifi["ip"], wifi["netmask"], wifi["gateway"], wifi["dns"]]
    if wifi["ip"] and "" in static:
        problems.append("wifi: a static address needs ip, netmask, gateway and dns")
        for k in ("ip", "netmask", "gateway", "dns"):
            wifi[k] = ""
    return out, problems
