"""The supervisor session against the emulator over TCP and RTU: values, writes, forcing,
run/stop, CRC mismatch, and losing the device (killed by PID) then finding it again."""

import asyncio
import os
import subprocess
import time

import pytest
from conftest import EXAMPLES, need_tool
from emulator_proc import Emulator

import rung
from rung.errors import CommandError
from rung.supervisor.link import Link, chunks
from rung.supervisor.program import load_program, parse_value
from rung.supervisor.session import Session
from rung.supervisor.target import parse_target

TANK = os.path.join(EXAMPLES, "tank.rung")
MOTOR = os.path.join(EXAMPLES, "motor.rung")


@pytest.fixture(scope="module")
def tank_emulator():
    emu = Emulator(TANK)
    yield emu
    emu.stop()


async def until(session, pred, timeout=5.0):
    """Refresh until pred(snapshot) holds; fail with the last snapshot after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        snap = await session.refresh()
        if pred(snap):
            return snap
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met; last: {snap.error} {snap.values}")
        await asyncio.sleep(0.02)  # pacing the polls, not waiting for logic


def tcp_session(port, program=TANK, **link):
    target = parse_target(f"tcp:127.0.0.1:{port}")
    prog = load_program(program) if program else None
    return Session(target, prog, link=Link(target, **link))


def test_targets():
    t = parse_target("tcp:10.0.0.5")
    assert (t.kind, t.host, t.port, t.unit) == ("tcp", "10.0.0.5", 502, 1)
    t = parse_target("tcp:[::1]:5020/3")
    assert (t.host, t.port, t.unit) == ("::1", 5020, 3)
    t = parse_target("rtu:/dev/ttyUSB0@115200/7")
    assert (t.device, t.baud, t.unit) == ("/dev/ttyUSB0", 115200, 7)
    t = parse_target("rtu:/tmp/ttyV1")
    assert (t.device, t.baud, t.unit) == ("/tmp/ttyV1", 19200, 1)
    for bad in ("udp:x", "tcp:", "tcp:host:99999", "tcp:host/300", "rtu:@9600", "rtu:/d@fast"):
        with pytest.raises(CommandError, match="bad target"):
            parse_target(bad)


def test_batching_uses_the_fewest_reads():
    # 125 registers per FC4 read: 200 variables (400 registers) take 4 reads, not 200
    assert chunks(10000, 400) == [(10000, 125), (10125, 125), (10250, 125), (10375, 25)]
    assert chunks(30000, 13) == [(30000, 13)]


def test_value_parsing():
    assert parse_value(1, "-32768") == -32768
    assert parse_value(0, "on") is True
    assert parse_value(4, "1m30s") == 90000
    for vtype, text in ((1, "40000"), (1, "x"), (0, "maybe"), (3, "nan"), (2, "1.5")):
        with pytest.raises(ValueError):
            parse_value(vtype, text)


def test_values_writes_forcing_run_stop(tank_emulator):
    async def main():
        s = tcp_session(tank_emulator.port)
        snap = await until(s, lambda x: x.connected and x.status["scans"] > 0)
        assert snap.matched is True
        # status, variables, blocks, power flow and forcing in 1 + 1 + 1 + 1 + 1 reads
        assert snap.requests == 5
        assert snap.values["v7"] == 3000 and snap.values["b0.PT"] == 60000  # low_sp, no_rise
        await s.write("low_sp", "4000")
        await s.write("pump_hours", "2.5")
        await s.force("auto", "1")
        await s.force("level", "1000")
        snap = await until(s, lambda x: x.values.get("v4") is True)  # pump
        assert snap.values["v7"] == 4000 and snap.values["v11"] == 2.5
        assert snap.forced == {0, 3}
        assert snap.power[1] is True  # rung fill
        with pytest.raises(CommandError, match="force it instead"):
            await s.write("auto", "0")
        with pytest.raises(CommandError, match="out of range"):
            await s.write("low_sp", "70000")
        with pytest.raises(CommandError, match="only inputs and outputs"):
            await s.force("low_sp", "1")
        await s.command("stop")
        snap = await until(s, lambda x: x.status["state"] == 0)
        assert snap.state == "STOP"
        scans = snap.status["scans"]
        await s.command("run")
        snap = await until(s, lambda x: x.status["state"] == 1 and x.status["scans"] > scans)
        await s.unforce("level")
        await until(s, lambda x: x.forced == {0})
        await s.command("release-all")
        await until(s, lambda x: not x.forced and x.values["v4"] is False)
        await s.write("low_sp", "3000")
        s.link.close()

    asyncio.run(main())


def test_crc_mismatch_keeps_values_by_index(tank_emulator):
    async def main():
        s = tcp_session(tank_emulator.port, program=MOTOR)
        snap = await until(s, lambda x: x.connected)
        assert snap.matched is False
        assert snap.values == {}  # no names, no power flow from the wrong program
        assert len(snap.raw) == 12 and snap.raw[7] == 3000  # tank's low_sp, by index
        with pytest.raises(CommandError, match="CRC mismatch"):
            await s.write("motor", "1")
        s.link.close()

    asyncio.run(main())


def test_device_policy_refusal_is_reported():
    emu = Emulator(TANK, "--no-forcing")
    try:

        async def main():
            s = tcp_session(emu.port)
            await until(s, lambda x: x.connected)
            with pytest.raises(CommandError, match="refused by the device.*exception 02"):
                await s.force("auto", "1")
            s.link.close()

        asyncio.run(main())
    finally:
        emu.stop()


def test_connection_loss_and_recovery():
    emu = Emulator(TANK)
    port = emu.port
    try:

        async def main():
            s = tcp_session(port, timeout=0.5, backoff_min=0.05, backoff_max=0.2)
            await until(s, lambda x: x.connected)
            emu.kill()  # power cut
            snap = await until(s, lambda x: not x.connected)
            assert snap.state == "OFFLINE" and snap.error
            await s.refresh()  # retried with backoff, never raises
            emu.__init__(TANK, tcp=f"127.0.0.1:{port}")  # power back, same address
            snap = await until(s, lambda x: x.connected and x.matched, timeout=10)
            assert s.link.reconnects == 1
            s.link.close()

        asyncio.run(main())
    finally:
        emu.stop()


def test_rtu_over_a_socat_pair(tmp_path):
    socat = need_tool("socat")
    a, b = str(tmp_path / "ttyA"), str(tmp_path / "ttyB")
    pair = subprocess.Popen(
        [socat, "-d", "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    emu = None
    try:
        deadline = time.monotonic() + 5
        while not (os.path.exists(a) and os.path.exists(b)):
            assert time.monotonic() < deadline, "socat made no pty pair"
            time.sleep(0.02)
        emu = Emulator(TANK, tcp=None, rtu=a, baud=115200)

        async def main():
            target = parse_target(f"rtu:{b}@115200/1")
            s = Session(target, load_program(TANK), link=Link(target, timeout=0.5))
            snap = await until(s, lambda x: x.connected)
            assert snap.matched is True
            await s.force("auto", "1")
            await s.force("level", "500")
            await s.write("high_sp", "7000")
            snap = await until(s, lambda x: x.values.get("v4") is True)
            assert snap.values["v8"] == 7000
            await s.command("stop")
            await until(s, lambda x: x.status["state"] == 0)
            emu.kill()
            await until(s, lambda x: not x.connected)
            emu.__init__(TANK, tcp=None, rtu=a, baud=115200)
            snap = await until(s, lambda x: x.connected and x.status.get("state") == 1, 10)
            assert snap.forced == set()  # a restarted device forgets its forcing
            s.link.close()

        asyncio.run(main())
    finally:
        if emu is not None:
            emu.stop()
        pair.terminate()
        pair.wait(5)


def test_fault_shown_and_reset():
    # a fault can only be raised by the host, so the emulator board runs in this process
    from rung.emulator.board import EmulatorBoard
    from rung.emulator.modbus_server import TcpServer
    from rung.supervisor.monitor_app import status_line

    async def main():
        board = EmulatorBoard(rung.compile_file(TANK).to_bytes())
        server = TcpServer(board.pdu, board.stats)
        _host, port = await server.start("127.0.0.1", 0)
        scanner = asyncio.create_task(board.run())
        s = tcp_session(port)
        try:
            await until(s, lambda x: x.status.get("state") == 1)
            board.runtime.fault(3)
            snap = await until(s, lambda x: x.status["state"] == 2)
            assert snap.state == "FAULT" and snap.status["fault"] == 3
            assert "fault 3 raised by the host" in status_line(s, snap)
            await s.command("reset")
            await until(s, lambda x: x.status["state"] == 1)
        finally:
            s.link.close()
            board.stop()
            await scanner
            await server.close()

    asyncio.run(main())
