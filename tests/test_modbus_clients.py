"""The emulator's Modbus served over TCP and RTU, driven by independent clients:
pymodbus's async client and Debian's mbpoll (libmodbus); RTU through a socat pty pair."""

import asyncio
import os
import shutil
import subprocess
import tempfile
import time

import pytest
from conftest import need_tool
from modbus_helpers import make_server

from rung.emulator.modbus_server import RtuSerialServer, TcpServer
from rung.runtime import modbus_map as M


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def tcp_fixture():
    rt, pdu = make_server()
    rt.scan(0)
    server = TcpServer(pdu)
    host, port = await server.start("127.0.0.1", 0)
    return rt, server, port


def test_pymodbus_tcp_read_write_and_exceptions():
    from pymodbus.client import AsyncModbusTcpClient

    async def body():
        rt, server, port = await tcp_fixture()
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0)
        try:
            assert await client.connect()
            rr = await client.read_holding_registers(1024, count=1, device_id=1)
            assert not rr.isError() and rr.registers == [500]
            rr = await client.write_register(1024, 321, device_id=1)
            assert not rr.isError() and rt.get("setp") == 321
            rr = await client.write_coil(1, True, device_id=1)
            assert not rr.isError() and rt.get("lamp") is True
            rr = await client.read_coils(0, count=2, device_id=1)
            assert rr.bits[:2] == [False, True]
            rr = await client.read_input_registers(M.IR_STATUS, count=2, device_id=1)
            assert rr.registers == [1, 0]
            rr = await client.read_holding_registers(1025, count=1, device_id=1)
            assert rr.isError() and rr.exception_code == 2
            rr = await client.read_device_information(read_code=1, object_id=0, device_id=1)
            assert rr.information[0] == b"Rung"
        finally:
            client.close()
            await server.close()

    run(body())


def test_several_tcp_clients_at_once():
    from pymodbus.client import AsyncModbusTcpClient

    async def body():
        rt, server, port = await tcp_fixture()
        clients = [
            AsyncModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0) for _ in range(4)
        ]
        try:
            for c in clients:
                assert await c.connect()
            assert server.clients == 4
            results = await asyncio.gather(
                *(c.read_holding_registers(1024, count=1, device_id=1) for c in clients)
            )
            assert [r.registers for r in results] == [[500]] * 4
        finally:
            for c in clients:
                c.close()
            await server.close()

    run(body())


def test_raw_tcp_junk_does_not_stop_other_clients():
    async def body():
        rt, server, port = await tcp_fixture()
        try:
            r1, w1 = await asyncio.open_connection("127.0.0.1", port)
            w1.write(b"\x00\x01\x00\x00\x00\x00\xff\xff")  # length 0: not Modbus
            await w1.drain()
            assert await r1.read(100) == b""  # the server hangs up on that client
            r2, w2 = await asyncio.open_connection("127.0.0.1", port)
            w2.write(bytes.fromhex("000100000006010304000001"))
            await w2.drain()
            assert await r2.readexactly(11) == bytes.fromhex("0001000000050103020" "1f4")
            w2.close()
        finally:
            await server.close()

    run(body())


async def mbpoll(*args):
    proc = await asyncio.create_subprocess_exec(
        "mbpoll", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    return proc.returncode, out.decode() + err.decode()


def test_mbpoll_over_tcp():
    need_tool("mbpoll")

    async def body():
        rt, server, port = await tcp_fixture()
        p = str(port)
        try:
            code, out = await mbpoll(
                "-m",
                "tcp",
                "-p",
                p,
                "-a",
                "1",
                "-t",
                "4",
                "-r",
                "1025",
                "-c",
                "1",
                "-1",
                "127.0.0.1",
            )
            assert code == 0 and "[1025]: \t500" in out
            code, out = await mbpoll(
                "-m", "tcp", "-p", p, "-t", "4", "-r", "1025", "-1", "127.0.0.1", "1234"
            )
            assert code == 0 and rt.get("setp") == 1234
            code, out = await mbpoll(
                "-m", "tcp", "-p", p, "-t", "4", "-r", "1026", "-1", "127.0.0.1"
            )
            assert code != 0 and "Illegal data address" in out
        finally:
            await server.close()

    run(body())


@pytest.fixture
def pty_pair():
    need_tool("socat")
    d = tempfile.mkdtemp()
    a, b = os.path.join(d, "ttyA"), os.path.join(d, "ttyB")
    proc = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not (os.path.exists(a) and os.path.exists(b)):
        assert time.monotonic() < deadline, "socat did not create the pty pair"
        time.sleep(0.02)  # waiting for socat to start, not for logic
    yield a, b
    proc.terminate()
    proc.wait()
    shutil.rmtree(d, ignore_errors=True)


def test_rtu_over_socat_with_pymodbus_and_mbpoll(pty_pair):
    need_tool("mbpoll")
    from pymodbus.client import AsyncModbusSerialClient

    dev_server, dev_client = pty_pair

    async def body():
        rt, pdu = make_server()
        rt.scan(0)
        server = RtuSerialServer(pdu, dev_server, baud=19200, parity="N", unit=5)
        server.start()
        try:
            client = AsyncModbusSerialClient(
                dev_client, baudrate=19200, parity="N", timeout=2, retries=0
            )
            assert await client.connect()
            rr = await client.read_holding_registers(1024, count=1, device_id=5)
            assert not rr.isError() and rr.registers == [500]
            rr = await client.write_register(1024, 77, device_id=5)
            assert not rr.isError() and rt.get("setp") == 77
            from pymodbus.exceptions import ModbusIOException

            with pytest.raises(ModbusIOException):  # another unit: the server stays silent
                await client.read_holding_registers(1024, count=1, device_id=6)
            client.close()
            code, out = await mbpoll(
                "-m",
                "rtu",
                "-a",
                "5",
                "-b",
                "19200",
                "-P",
                "none",
                "-t",
                "4",
                "-r",
                "1025",
                "-c",
                "1",
                "-1",
                "-o",
                "2",
                dev_client,
            )
            assert code == 0 and "[1025]: \t77" in out, out
            assert server.rtu.frames_other_unit >= 1
        finally:
            server.close()

    run(body())
