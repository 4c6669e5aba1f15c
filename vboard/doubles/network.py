# Test double of a board's `network` module for the virtual board (the unix port has
# none), following docs.micropython.org/library/network.WLAN.html. The station "joins"
# any access point after RUNG_VBOARD_WIFI_DELAY_MS (while the host says the AP is up) and
# reports RUNG_VBOARD_IP (the host of `rung vboard --tcp HOST:PORT`) as its address; the
# socket double maps a server bound to that address to HOST:PORT.
import os
import time

import machine
import vbio_layout as _L

_RP2 = machine._RP2
STA_IF = 0
AP_IF = 1
if _RP2:  # cyw43 status codes
    STAT_IDLE, STAT_CONNECTING, STAT_GOT_IP = 0, 1, 3
    STAT_CONNECT_FAIL, STAT_NO_AP_FOUND, STAT_WRONG_PASSWORD = -1, -2, -3
else:  # ESP32 status codes
    STAT_IDLE, STAT_CONNECTING, STAT_GOT_IP = 1000, 1001, 1010
    STAT_CONNECT_FAIL, STAT_NO_AP_FOUND, STAT_WRONG_PASSWORD = 203, 201, 202
    STAT_BEACON_TIMEOUT, STAT_ASSOC_FAIL, STAT_HANDSHAKE_TIMEOUT = 200, 203, 204
AUTH_OPEN, AUTH_WEP, AUTH_WPA_PSK, AUTH_WPA2_PSK, AUTH_WPA_WPA2_PSK = 0, 1, 2, 3, 4

_IP = os.getenv("RUNG_VBOARD_IP") or "127.0.0.1"
_DELAY = int(os.getenv("RUNG_VBOARD_WIFI_DELAY_MS") or 200)
_SSID = os.getenv("RUNG_VBOARD_WIFI_SSID")  # when set, the only network that answers
_KEY = os.getenv("RUNG_VBOARD_WIFI_KEY")  # when set, the only password it accepts
_hostname = os.getenv("RUNG_VBOARD_HOSTNAME") or ("PicoW" if _RP2 else "esp32")
_country = "XX"
_dns = "8.8.8.8"


def hostname(name=None):
    """Get or set the board's host name."""
    global _hostname
    if name is None:
        return _hostname
    _hostname = name


def country(code=None):
    """Get or set the Wi-Fi country code."""
    global _country
    if code is None:
        return _country
    _country = code


def ipconfig(param=None, **kw):
    """Global IP settings: ipconfig('dns'), ipconfig(dns=...), 'prefer'."""
    global _dns
    if param == "dns":
        return _dns
    if param == "prefer":
        return 4
    if param is not None:
        raise ValueError("unknown config param")
    if "dns" in kw:
        _dns = kw["dns"]


def _ap_up():
    return machine._io.get(_L.AP_UP, 1) != 0


class WLAN:
    """A Wi-Fi interface (docs: network.WLAN); WLAN(STA_IF) is always the same object."""

    IF_STA = STA_IF
    IF_AP = AP_IF
    PM_NONE = 0
    PM_PERFORMANCE = 1
    PM_POWERSAVE = 2
    SEC_OPEN = AUTH_OPEN
    SEC_WPA2 = AUTH_WPA2_PSK
    _all = {}

    def __new__(cls, interface_id=STA_IF):
        if interface_id not in (STA_IF, AP_IF):
            raise ValueError("invalid WLAN interface identifier")
        self = cls._all.get(interface_id)
        if self is None:
            self = object.__new__(cls)
            self._if = interface_id
            self._active = False
            self._ssid = None
            self._key = None
            self._since = 0
            self._static = None
            self._cfg = {"pm": WLAN.PM_PERFORMANCE, "txpower": 20, "channel": 1}
            cls._all[interface_id] = self
        return self

    def __init__(self, interface_id=STA_IF):
        pass

    def active(self, is_active=None):
        """Get or set whether the interface is up."""
        if is_active is None:
            return self._active
        self._active = bool(is_active)
        if not self._active:
            self._ssid = None
        self._report()

    def connect(self, ssid=None, key=None, *, bssid=None):
        """Start joining ssid; returns at once, isconnected() tells when it has joined."""
        if not self._active:
            raise OSError("Wifi Not Started" if not _RP2 else "WLAN not active")
        if self._if != STA_IF:
            raise OSError("AP interface cannot connect")
        self._ssid = ssid
        self._key = key
        self._since = time.ticks_ms()
        self._report()

    def disconnect(self):
        """Leave the network."""
        self._ssid = None
        self._report()

    def status(self, param=None):
        """The link status (STAT_*), or status('rssi')."""
        if param == "rssi":
            return -50
        if param is not None:
            raise ValueError("unknown status param")
        if self._if == AP_IF:
            return STAT_GOT_IP if self._active else STAT_IDLE
        if not self._active or self._ssid is None:
            return STAT_IDLE
        if time.ticks_diff(time.ticks_ms(), self._since) < _DELAY:
            return STAT_CONNECTING
        if (_SSID is not None and self._ssid != _SSID) or not self._ssid or not _ap_up():
            return STAT_CONNECTING  # a board keeps trying "forever"
        if _KEY is not None and self._key != _KEY:
            return STAT_WRONG_PASSWORD
        return STAT_GOT_IP

    def isconnected(self):
        """True once joined with an IP address."""
        up = self.status() == STAT_GOT_IP
        self._report(up)
        return up

    def _report(self, up=None):
        if self._if == STA_IF:
            if up is None:
                up = self._active and self.status() == STAT_GOT_IP
            machine._io.put(_L.WIFI, 1, 2 if up else (1 if self._active else 0))

    def _addr(self):
        if not self.isconnected() and self._if == STA_IF:
            return ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")
        if self._static is not None:
            return self._static
        return (_IP, "255.255.255.0", _IP, _dns)

    def ifconfig(self, config=None):
        """(ip, subnet, gateway, dns), or set them from such a tuple."""
        if config is None:
            return self._addr()
        if len(config) != 4:
            raise ValueError("need 4 values")
        self._static = tuple(config)

    def ipconfig(self, param=None, **kw):
        """Per-interface settings: 'addr4' (ip, netmask), 'gw4', 'dhcp4'."""
        if param is not None:
            ip, mask, gw, _ = self._addr()
            if param == "addr4":
                return (ip, mask)
            if param == "gw4":
                return gw
            if param == "dhcp4":
                return self._static is None
            if param in ("addr6", "has_dhcp4", "has_autoconf6", "autoconf6"):
                return [] if param == "addr6" else False
            raise ValueError("unexpected key")
        ip, mask, gw, dns = self._static or (_IP, "255.255.255.0", _IP, _dns)
        if "addr4" in kw:
            a = kw["addr4"]
            if isinstance(a, str):
                a, _, bits = a.partition("/")
                mask = _mask(int(bits)) if bits else mask
            else:
                a, mask = a
            ip = a
        if "gw4" in kw:
            gw = kw["gw4"]
        if kw.get("dhcp4"):
            self._static = None
            return
        self._static = (ip, mask, gw, dns)

    def config(self, *args, **kw):
        """config('mac'|'ssid'|'hostname'|...) or config(param=value, ...)."""
        if args:
            p = args[0]
            if p == "mac":
                return bytes(b"\x24\x0a\xc4") + machine.unique_id()[-3:]
            if p in ("ssid", "essid"):
                return self._ssid or ""
            if p == "hostname":
                return _hostname
            if p in self._cfg:
                return self._cfg[p]
            raise ValueError("unknown config param")
        self._cfg.update(kw)

    def scan(self):
        """Visible networks: (ssid, bssid, channel, RSSI, security, hidden)."""
        if not self._active:
            raise OSError("Wifi Not Started")
        if not _ap_up():
            return []
        return [((_SSID or "vboard").encode(), b"\x02\x00\x00\x00\x00\x01", 1, -50, 3, False)]


def _mask(bits):
    m = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
    return ".".join(str((m >> s) & 255) for s in (24, 16, 8, 0))
