"""`rung demo` (`make demo`): the emulator and the HMI start together, the page works on
the emulator, and Ctrl-C stops both processes."""

import asyncio
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time

import aiohttp
from conftest import ROOT


def test_demo_serves_a_working_hmi_and_stops_on_ctrl_c():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rung.cli",
            "demo",
            "--tcp",
            "127.0.0.1:0",
            "--listen",
            "127.0.0.1:0",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out = b""
    sim_pid = url = None
    try:
        fd = proc.stdout.fileno()
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            if sel.select(0.2):
                out += os.read(fd, 65536)
                m = re.search(rb"-> (http://\S+/)", out)
                pid = re.search(rb"emulator PID (\d+)", out)
                if m and pid:
                    url, sim_pid = m.group(1).decode(), int(pid.group(1))
        sel.close()
        assert url, out.decode(errors="replace")

        async def check():
            async with aiohttp.ClientSession() as http:
                page = await (await http.get(url)).text()
                assert "/static/hmi.js" in page
                info = await (await http.get(url + "api/program")).json()
                assert info["program"]["name"] == "tank_fill"
                async with http.ws_connect(url + "ws") as ws:
                    deadline = time.monotonic() + 10
                    while True:
                        msg = json.loads((await ws.receive()).data)
                        if msg.get("matched") and msg["state"] == "RUN":
                            break
                        assert time.monotonic() < deadline, msg

        asyncio.run(check())
        os.kill(proc.pid, signal.SIGINT)  # Ctrl-C
        assert proc.wait(15) == 0
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{sim_pid}") and _alive(sim_pid):
            assert time.monotonic() < deadline, "the emulator outlived the demo"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        if sim_pid and _alive(sim_pid):
            os.kill(sim_pid, signal.SIGKILL)
        proc.stdout.close()


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
