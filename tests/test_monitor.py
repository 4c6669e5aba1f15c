"""`rung monitor` driven by Textual's test pilot against the emulator."""

import asyncio
import os
import time

import pytest
from conftest import EXAMPLES
from emulator_proc import Emulator
from textual.widgets import DataTable, Footer, Static

from rung.supervisor.link import Link
from rung.supervisor.monitor_app import MonitorApp
from rung.supervisor.program import load_program
from rung.supervisor.session import Session
from rung.supervisor.target import parse_target

TANK = os.path.join(EXAMPLES, "tank.rung")


@pytest.fixture()
def emulator():
    emu = Emulator(TANK)
    yield emu
    emu.stop()


async def wait_for(pilot, pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "the monitor did not show it in time"
        await pilot.pause(0.05)


def test_monitor_shows_writes_forces_and_controls(emulator):
    target = parse_target(f"tcp:127.0.0.1:{emulator.port}")
    session = Session(target, load_program(TANK), interval=0.3, link=Link(target))
    app = MonitorApp(session)

    def cell(name, column):
        table = app.query_one("#tags", DataTable)
        key = session.program.tag(name).key
        return str(table.get_cell(key, column))

    def status():
        return str(app.query_one("#status", Static).render())

    async def main():
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: status().startswith("RUN"))
            assert "CRC match" in status()
            # keys go to the table at start, not into the filter box
            assert app.focused is app.query_one("#tags", DataTable)
            # every binding is shown on screen
            footer = app.query_one(Footer)
            assert footer is not None
            shown = {b.key for b in app.BINDINGS if b.show}
            assert {"w", "f", "u", "r", "s", "x", "q"} <= shown
            await wait_for(pilot, lambda: cell("low_sp", "value") == "3000")
            # filter, select low_sp, write 4500
            await pilot.press("slash", *"low_sp", "enter")
            assert len(app.rows) == 1
            await pilot.press("w", *"4500", "enter")
            await wait_for(pilot, lambda: cell("low_sp", "value") == "4500")
            # force the auto input
            await pilot.press("slash", "home", "ctrl+k", *"auto", "enter")
            await pilot.press("f", *"1", "enter")
            await wait_for(pilot, lambda: cell("auto", "forced") == "FORCED")
            # the forced set changes at once, the value with the next scan's inputs
            await wait_for(pilot, lambda: cell("auto", "value") == "TRUE")
            await pilot.press("u")
            await wait_for(pilot, lambda: cell("auto", "forced") == "")
            # refused input is reported, not crashed on
            await pilot.press("slash", "home", "ctrl+k", *"level_start", "enter")
            await pilot.press("w", *"5", "enter")
            await wait_for(pilot, lambda: "refused" in str(app.query_one("#message").render()))
            await pilot.press("s")
            await wait_for(pilot, lambda: status().startswith("STOP"))
            await pilot.press("r")
            await wait_for(pilot, lambda: status().startswith("RUN"))
            if os.environ.get("RUNG_DOC_SCREENSHOTS"):
                await pilot.press("slash", "home", "ctrl+k", "enter")
                await pilot.pause(0.5)
                app.save_screenshot(
                    "monitor.svg", os.path.join(os.path.dirname(EXAMPLES), "docs/img")
                )
            await pilot.press("q")

    asyncio.run(main())


def test_monitor_shows_the_link_down():
    target = parse_target("tcp:127.0.0.1:1")  # nothing listens there
    session = Session(target, load_program(TANK), interval=0.05, link=Link(target, timeout=0.2))
    app = MonitorApp(session)

    async def main():
        async with app.run_test(size=(160, 30)) as pilot:
            await wait_for(pilot, lambda: "OFFLINE" in str(app.query_one("#status").render()))
            assert "retrying" in str(app.query_one("#banner").render())

    asyncio.run(main())
