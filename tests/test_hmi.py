"""`rung hmi`: the server's security rules and its pushed messages (aiohttp test client),
then the page in a real browser (Debian's chromium driven by Playwright)."""

import asyncio
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time

import pytest
from aiohttp.test_utils import TestClient, TestServer
from conftest import EXAMPLES, ROOT, need, need_tool
from emulator_proc import Emulator

from rung.cli import main as rung_main
from rung.supervisor.hmi import Hmi
from rung.supervisor.link import Link
from rung.supervisor.program import load_program
from rung.supervisor.session import Session
from rung.supervisor.target import parse_target

TANK = os.path.join(EXAMPLES, "tank.rung")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def emulator():
    emu = Emulator(TANK)
    yield emu
    emu.stop()


def test_refuses_other_addresses_without_password(capsys):
    assert rung_main(["hmi", "tcp:127.0.0.1:1", "--listen", "0.0.0.0:0"]) == 1
    assert "refusing to listen on 0.0.0.0 without --password" in capsys.readouterr().err
    assert rung_main(["hmi", "tcp:127.0.0.1:1", "--listen", "nowhere"]) == 1


async def _client(emu, **kw):
    target = parse_target(f"tcp:127.0.0.1:{emu.port}")
    session = Session(target, load_program(TANK), link=Link(target))
    hmi = Hmi(session, **kw)
    client = TestClient(TestServer(hmi.app(), host="127.0.0.1", port=0))
    await client.start_server()
    return session, hmi, client


async def _result(ws, op, **kw):
    await ws.send_str(json.dumps({"id": 7, "op": op, **kw}))
    while True:
        msg = json.loads((await ws.receive()).data)
        if msg["type"] == "result":
            return msg


def test_read_only_is_enforced_by_the_server(emulator):
    async def main():
        session, hmi, client = await _client(emulator, read_only=True)
        try:
            info = await (await client.get("/api/program")).json()
            assert info["read_only"] is True
            assert not any(t["writable"] or t["forceable"] for t in info["program"]["tags"])
            await session.refresh()
            ws = await client.ws_connect("/ws")
            first = json.loads((await ws.receive()).data)
            assert first["type"] == "snap" and first["matched"] is True
            for op, kw in (("force", {"tag": "auto", "value": "1"}), ("stop", {})):
                reply = await _result(ws, op, **kw)
                assert reply == {
                    "type": "result",
                    "id": 7,
                    "ok": False,
                    "message": "read-only HMI",
                }
            snap = await session.refresh()
            assert snap.forced == set() and snap.status["state"] == 1
            await ws.close()
        finally:
            await client.close()
            session.link.close()

    asyncio.run(main())


def test_rebound_host_names_are_refused(emulator):
    async def main():
        session, hmi, client = await _client(emulator)
        try:
            assert (await client.get("/api/program")).status == 200
            r = await client.get("/api/program", headers={"Host": "evil.example:8080"})
            assert r.status == 403  # DNS rebinding: another site's name on 127.0.0.1
            r = await client.get("/", headers={"Host": "localhost:8080"})
            assert r.status == 200
        finally:
            await client.close()
            session.link.close()

    asyncio.run(main())


def test_password_and_origin(emulator):
    async def main():
        session, hmi, client = await _client(emulator, password="s3cret")
        try:
            r = await client.get("/", allow_redirects=False)
            assert r.status == 302 and r.headers["Location"] == "/login"
            assert (await client.get("/api/program")).status == 401
            r = await client.post("/login", data={"password": "guess"}, allow_redirects=False)
            assert "Wrong password" in await r.text()
            r = await client.post("/login", data={"password": "s3cret"}, allow_redirects=False)
            assert r.status == 302
            assert (await client.get("/api/program")).status == 200
            page = await (await client.get("/")).text()
            assert "https://" not in page and "http://" not in page  # no CDN, nothing outside
            bad = await client.get("/ws", headers={"Origin": "http://evil.example"})
            assert bad.status == 403  # another site's page cannot drive the PLC
            ws = await client.ws_connect(
                "/ws", headers={"Origin": f"http://{client.host}:{client.port}"}
            )
            reply = await _result(ws, "write", tag="low_sp", value="oops")
            assert reply["ok"] is False and "not an integer" in reply["message"]
            await ws.close()
        finally:
            await client.close()
            session.link.close()

    asyncio.run(main())


# ---- a real browser ------------------------------------------------------------------


class HmiProcess:
    """`rung hmi` as a child process on port 0; stopped by its PID."""

    def __init__(self, target, *extra):
        args = [
            sys.executable,
            "-m",
            "rung.cli",
            "hmi",
            target,
            "--program",
            TANK,
            "--listen",
            "127.0.0.1:0",
            "--interval",
            "0.05",
            *extra,
        ]
        self.proc = subprocess.Popen(
            args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        out = b""
        fd = self.proc.stdout.fileno()
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.proc.poll() is None:
            if sel.select(0.2):
                out += os.read(fd, 4096)
                m = re.search(rb"-> (http://\S+/)", out)
                if m:
                    self.url = m.group(1).decode()
                    sel.close()
                    return
        sel.close()
        self.stop()
        raise RuntimeError("rung hmi did not start: " + out.decode(errors="replace"))

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        self.proc.stdout.close()


@pytest.mark.browser
@pytest.mark.mbpoll
def test_browser_toggles_an_input_and_sees_outside_writes(emulator, tmp_path):
    need(os.path.exists(CHROMIUM), "Debian's chromium is not installed")
    mbpoll = need_tool("mbpoll")
    sync_api = pytest.importorskip("playwright.sync_api")
    artefacts = tmp_path / "artefacts"
    artefacts.mkdir()
    hmi = HmiProcess(f"tcp:127.0.0.1:{emulator.port}")
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1500, "height": 1000})
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(hmi.url)
                expect = sync_api.expect
                expect(page.locator("#state")).to_have_text("RUN")
                fill = page.locator("#rung-1")  # rung fill: auto and ... -> pump
                pump = page.locator('tr[data-name="pump"] .value')
                expect(pump).to_contain_text("FALSE")
                expect(fill.locator(".coil")).not_to_have_class(re.compile(r"\bon\b"))
                page.screenshot(path=str(artefacts / "hmi-before.png"), full_page=True)
                # toggle the auto input from the page: it is forced on, the pump starts
                page.locator('tr[data-name="auto"] button[data-op="toggle"]').click()
                expect(page.locator('tr[data-name="auto"] .forcemark')).to_be_visible()
                expect(pump).to_contain_text("TRUE")
                expect(fill.locator(".coil")).to_have_class(re.compile(r"\bon\b"))
                expect(fill.locator(".c.on").first).to_be_visible()
                page.screenshot(path=str(artefacts / "hmi-running.png"), full_page=True)
                # a value written from outside (mbpoll: %MW0 low_sp is register 1025)
                low = page.locator('tr[data-name="low_sp"] .value')
                subprocess.run(
                    [
                        mbpoll,
                        "-m",
                        "tcp",
                        "-p",
                        str(emulator.port),
                        "-t",
                        "4",
                        "-r",
                        "1025",
                        "-1",
                        "127.0.0.1",
                        "4321",
                    ],
                    check=True,
                    stdout=subprocess.DEVNULL,
                    timeout=10,
                )
                written = time.monotonic()
                expect(low).to_have_text("4321", timeout=1000)
                assert time.monotonic() - written < 1.0
                # a trend of a numeric tag, seeded from the server's history
                page.locator('tr[data-name="no_rise.ET"] input[type="checkbox"]').check()
                expect(page.locator("#legend")).to_contain_text("no_rise.ET")
                page.locator('tr[data-name="auto"] button[data-op="unforce"]').click()
                expect(pump).to_contain_text("FALSE")
                assert errors == []
                # --read-only: the same page without a single control
                ro = HmiProcess(f"tcp:127.0.0.1:{emulator.port}", "--read-only")
                try:
                    page.goto(ro.url)
                    expect(page.locator("#readonly")).to_be_visible()
                    expect(page.locator('tr[data-name="pump"] .value')).to_contain_text("FALSE")
                    assert page.locator("button").count() == 0
                    assert page.locator('td input[type="text"]').count() == 0
                finally:
                    ro.stop()
                page.goto(hmi.url)
                expect(page.locator("#state")).to_have_text("RUN")
                if os.environ.get("RUNG_DOC_SCREENSHOTS"):
                    page.locator('tr[data-name="auto"] button[data-op="toggle"]').click()
                    expect(pump).to_contain_text("TRUE")
                    page.locator('tr[data-name="no_rise.ET"] input[type="checkbox"]').check()
                    page.wait_for_timeout(3000)  # a few seconds of trend for the picture
                    page.evaluate("window.scrollTo(0, 0)")
                    page.screenshot(path=os.path.join(ROOT, "docs/img/hmi.png"), full_page=True)
            finally:
                browser.close()
    finally:
        hmi.stop()
        subprocess.run(
            [
                mbpoll,
                "-m",
                "tcp",
                "-p",
                str(emulator.port),
                "-t",
                "4",
                "-r",
                "1025",
                "-1",
                "127.0.0.1",
                "3000",
            ],
            stdout=subprocess.DEVNULL,
            timeout=10,
        )
    print("screenshots in", artefacts)


def test_crc_mismatch_draws_no_power_flow(emulator):
    async def main():
        target = parse_target(f"tcp:127.0.0.1:{emulator.port}")
        motor = os.path.join(EXAMPLES, "motor.rung")
        session = Session(target, load_program(motor), link=Link(target))
        hmi = Hmi(session)
        try:
            msg = hmi.message(await session.refresh())
            assert msg["matched"] is False
            assert "rungs" not in msg and "values" not in msg  # nothing stale drawn
            assert msg["raw"][7] == 3000  # tank's low_sp, by variable number
        finally:
            session.link.close()

    asyncio.run(main())
