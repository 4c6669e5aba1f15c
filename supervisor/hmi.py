"""The web HMI: one aiohttp server for the page, its assets and a WebSocket that pushes
every refresh of the session and takes writes, forcing and commands back."""

import asyncio
import collections
import hmac
import ipaddress
import json
import math
import os
import secrets

from aiohttp import WSMsgType, web

from rung.errors import CommandError
from rung.runtime import opcodes as O

from .ladder_svg import RungView
from .live import Context
from .session import COMMANDS, FAULT_TEXT

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hmi_static")
ASSETS = {"hmi.js": "text/javascript", "hmi.css": "text/css"}
COOKIE = "rung_hmi"
TREND_SECONDS = 600  # trends keep the last ten minutes
TREND_STEP = 0.5  # at most two samples a second per tag
WRITE_OPS = ("write", "force", "unforce", *COMMANDS)


def is_loopback(host):
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(host):
    """The name part of a Host header: 'localhost' from 'localhost:8080', '::1' from '[::1]:80'."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _json_number(x):
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


class Hmi:
    """The HMI of one Session; read_only removes every control, password guards the page."""

    def __init__(self, session, read_only=False, password=None):
        self.session = session
        self.read_only = read_only
        self.password = password
        self.tokens = set()
        self.clients = set()
        prog = session.program
        self.views = [RungView(prog, r) for r in prog.rungs] if prog else []
        self.trend_keys = [t.key for t in prog.tags if t.vtype != O.T_BOOL] if prog else []
        self.trends = collections.deque()
        self._last_sample = 0.0
        self._sending = False
        self._pending = None
        session.listeners.append(self._on_snapshot)

    # ---- the application ---------------------------------------------------------------

    def app(self):
        """The aiohttp application."""
        app = web.Application(middlewares=[self._guard], client_max_size=64 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_get("/login", self._login_page)
        app.router.add_post("/login", self._login)
        app.router.add_get("/static/{name}", self._asset)
        app.router.add_get("/api/program", self._program)
        app.router.add_get("/api/trend", self._trend)
        app.router.add_get("/ws", self._ws)
        app.router.add_get("/favicon.ico", self._no_icon)
        app.on_shutdown.append(self._close_clients)
        return app

    def _authorised(self, request):
        if self.password is None:
            return True
        token = request.cookies.get(COOKIE, "")
        return any(hmac.compare_digest(token, t) for t in self.tokens)

    def _same_origin(self, request):
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser page: nothing cross-site to fear
        return origin in (f"http://{request.host}", f"https://{request.host}")

    @web.middleware
    async def _guard(self, request, handler):
        if self.password is None and not is_loopback(_host_name(request.host)):
            # without a password the HMI is loopback-only; a page of another site whose
            # name was re-pointed at 127.0.0.1 (DNS rebinding) names itself in Host
            raise web.HTTPForbidden(text="this HMI answers only to loopback addresses")
        if request.path not in (
            "/login",
            "/static/hmi.css",
            "/favicon.ico",
        ) and not self._authorised(request):
            if request.path == "/":
                raise web.HTTPFound("/login")
            raise web.HTTPUnauthorized(text="log in first")
        if request.method != "GET" or request.path == "/ws":
            if not self._same_origin(request):
                raise web.HTTPForbidden(text="cross-origin request refused")
        response = await handler(request)
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; connect-src 'self' ws://{request.host}; "
            "frame-ancestors 'none'; img-src 'self' data:"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def _index(self, request):
        return web.FileResponse(os.path.join(STATIC, "index.html"))

    async def _asset(self, request):
        name = request.match_info["name"]
        if name not in ASSETS:
            raise web.HTTPNotFound()
        return web.FileResponse(os.path.join(STATIC, name), headers={"Content-Type": ASSETS[name]})

    async def _no_icon(self, request):
        return web.Response(status=204)

    async def _login_page(self, request, message=""):
        if self.password is None:
            raise web.HTTPFound("/")
        note = f'<p class="err">{message}</p>' if message else ""
        html = (
            '<!doctype html><html><head><meta charset="utf-8"><title>Rung HMI: log in</title>'
            '<link rel="stylesheet" href="/static/hmi.css"></head><body class="login">'
            '<form method="post" action="/login"><h1>Rung HMI</h1>'
            f'{note}<label>Password <input type="password" name="password" autofocus></label>'
            '<button type="submit">Log in</button></form></body></html>'
        )
        return web.Response(text=html, content_type="text/html")

    async def _login(self, request):
        if self.password is None:
            raise web.HTTPFound("/")
        form = await request.post()
        given = str(form.get("password", ""))
        if not hmac.compare_digest(given.encode(), self.password.encode()):
            await asyncio.sleep(1)  # slows down guessing
            return await self._login_page(request, "Wrong password.")
        token = secrets.token_urlsafe(32)
        self.tokens.add(token)
        response = web.HTTPFound("/")
        response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
        raise response

    async def _program(self, request):
        prog = self.session.program
        body = {
            "target": str(self.session.target),
            "read_only": self.read_only,
            "program": None,
        }
        if prog is not None:
            body["program"] = {
                "name": prog.name,
                "crc": f"{prog.crc:08x}",
                "tags": [
                    {
                        "key": t.key,
                        "name": t.name,
                        "type": t.type_name,
                        "kind": t.kind,
                        "address": t.address,
                        "description": t.description,
                        "var": t.var,
                        "writable": t.write is not None and not self.read_only,
                        "forceable": t.forceable and not self.read_only,
                    }
                    for t in prog.tags
                ],
                "rungs": [
                    {
                        "index": v.rung.index,
                        "name": v.rung.name,
                        "comment": v.rung.comment,
                        "line": v.rung.line,
                        "svg": v.svg,
                    }
                    for v in self.views
                ],
                "trendable": self.trend_keys,
            }
        return web.json_response(body)

    async def _trend(self, request):
        key = request.query.get("tag", "")
        if key not in self.trend_keys:
            raise web.HTTPNotFound(text="no numeric tag " + key)
        points = [[t, _json_number(v[key])] for t, v in self.trends if key in v]
        return web.json_response({"tag": key, "points": points})

    # ---- live updates ----------------------------------------------------------------

    def message(self, snap):
        """The JSON-ready picture of one snapshot that the page draws."""
        st = snap.status
        msg = {
            "type": "snap",
            "time": snap.time,
            "connected": snap.connected,
            "state": snap.state,
            "error": snap.error,
            "matched": snap.matched,
            "status": st,
            "fault_text": FAULT_TEXT.get(st.get("fault", 0), ""),
            "refresh_ms": round(snap.refresh_ms, 1),
            "link": {
                "quality": self.session.link.quality,
                "rtt_ms": round(self.session.link.rtt_ms, 1),
                "reconnects": self.session.link.reconnects,
                "target": str(self.session.target),
            },
            "forced": sorted(snap.forced),
        }
        if st:
            msg["status"] = dict(st, crc=f"{st['crc']:08x}")
        if snap.matched:
            msg["values"] = {k: _json_number(v) for k, v in snap.values.items()}
            ctx = Context(self.session.program, snap)
            msg["rungs"] = [v.live(ctx) for v in self.views]
        else:
            msg["raw"] = snap.raw
        return msg

    def _on_snapshot(self, snap):
        if snap.matched and snap.time - self._last_sample >= TREND_STEP:
            self._last_sample = snap.time
            self.trends.append((round(snap.time, 2), {k: snap.values[k] for k in self.trend_keys}))
            while self.trends and self.trends[0][0] < snap.time - TREND_SECONDS:
                self.trends.popleft()
        if not self.clients:
            return
        self._pending = json.dumps(self.message(snap))
        if not self._sending:
            self._sending = True
            asyncio.get_running_loop().create_task(self._broadcast())

    async def _broadcast(self):
        try:
            while self._pending is not None:
                data, self._pending = self._pending, None
                for ws in list(self.clients):
                    try:
                        await asyncio.wait_for(ws.send_str(data), 2)
                    except Exception:  # a slow or gone browser only loses its own page
                        self.clients.discard(ws)
        finally:
            self._sending = False

    async def _ws(self, request):
        ws = web.WebSocketResponse(heartbeat=20, max_msg_size=16 * 1024)
        await ws.prepare(request)
        self.clients.add(ws)
        await ws.send_str(json.dumps(self.message(self.session.snapshot)))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                reply = await self._act(msg.data)
                await ws.send_str(json.dumps(reply))
        finally:
            self.clients.discard(ws)
        return ws

    async def _act(self, text):
        try:
            req = json.loads(text)
            rid = req.get("id")
            op = req.get("op")
        except (ValueError, AttributeError):
            return {"type": "result", "id": None, "ok": False, "message": "malformed request"}
        if op not in WRITE_OPS:
            return {"type": "result", "id": rid, "ok": False, "message": f"unknown op {op!r}"}
        if self.read_only:
            return {"type": "result", "id": rid, "ok": False, "message": "read-only HMI"}
        s = self.session
        try:
            name = str(req.get("tag", ""))
            value = str(req.get("value", ""))
            if op == "write":
                await s.write(name, value)
                done = f"{name} := {value}"
            elif op == "force":
                await s.force(name, value)
                done = f"{name} forced to {value}"
            elif op == "unforce":
                await s.unforce(name)
                done = f"{name} released"
            else:
                await s.command(op)
                done = op + " sent"
        except CommandError as exc:
            return {"type": "result", "id": rid, "ok": False, "message": str(exc)}
        return {"type": "result", "id": rid, "ok": True, "message": done}

    async def _close_clients(self, _app):
        for ws in list(self.clients):
            await ws.close()


async def serve(hmi, host, port):
    """Start the HTTP server; returns (runner, (host, port)) as bound."""
    runner = web.AppRunner(hmi.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, (host, port)
