"""FC 22, FC 17 and the serial-line FC 7, 8, 11 driven by independent clients: pymodbus's
async client over TCP and over RTU through a socat pty pair; mbpoll (libmodbus) for FC 17."""

import asyncio
import os

import pytest
from conftest import need_tool
from modbus_helpers import make_server, rtu, run_mbpoll, socat_pty_pair, u16

from rung.emulator.modbus_server import RtuSerialServer, TcpServer
from rung.runtime import VERSION
from rung.runtime import modbus_map as M


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


@pytest.fixture
def pty_pair():
    need_tool("socat")
    with socat_pty_pair() as pair:
        yield pair


def server_id_data(rt, run_byte):
    """What FC 17 returns after its byte count (docs/modbus.md)."""
    text = b"Rung " + VERSION.encode() + b" crc %08x" % rt.crc
    return bytes([M.SERVER_ID, run_byte]) + text + bytes([run_byte])


def test_pymodbus_tcp_mask_write_report_server_id_and_serial_only_codes():
    from pymodbus.client import AsyncModbusTcpClient

    async def body():
        rt, pdu = make_server()
        rt.scan(0)
        server = TcpServer(pdu)
        _host, port = await server.start("127.0.0.1", 0)
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0)
        try:
            assert await client.connect()
            await client.write_register(1024, 0x12, device_id=1)
            rr = await client.mask_write_register(
                address=1024, and_mask=0xF2, or_mask=0x25, device_id=1
            )
            assert not rr.isError()
            assert (rr.address, rr.and_mask, rr.or_mask) == (1024, 0xF2, 0x25)
            assert rt.get("setp") == 0x17
            rr = await client.mask_write_register(address=1025, and_mask=0, or_mask=1)
            assert rr.isError() and rr.exception_code == 2
            rr = await client.mask_write_register(address=M.HR_COMMAND, and_mask=0, or_mask=99)
            assert rr.isError() and rr.exception_code == 3
            # pymodbus 3.16 takes the last byte for the run indicator: Rung repeats it there
            rr = await client.report_device_id(device_id=1)
            data = server_id_data(rt, 0xFF)
            assert not rr.isError() and rr.byte_count == len(data)
            assert rr.identifier == data[:-1] and rr.status is True
            rt.stop()
            rr = await client.report_device_id(device_id=1)
            assert rr.identifier == server_id_data(rt, 0)[:-1] and rr.status is False
            # serial line only: illegal function over TCP
            for call in (
                client.read_exception_status(),
                client.diag_query_data(b"\x12\x34"),
                client.diag_read_bus_message_count(),
                client.diag_clear_counters(),
                client.diag_get_comm_event_counter(),
            ):
                rr = await call
                assert rr.isError() and rr.exception_code == 1, rr
        finally:
            client.close()
            await server.close()

    run(body())


def test_pymodbus_rtu_every_new_code(pty_pair):
    from pymodbus.client import AsyncModbusSerialClient

    dev_server, dev_client = pty_pair

    async def body():
        rt, pdu = make_server()
        rt.scan(0)
        server = RtuSerialServer(pdu, dev_server, baud=19200, parity="N", unit=4)
        server.start()
        client = AsyncModbusSerialClient(
            dev_client, baudrate=19200, parity="N", timeout=2, retries=0
        )
        try:
            assert await client.connect()
            rr = await client.mask_write_register(
                address=1024, and_mask=0, or_mask=0x1234, device_id=4
            )
            assert not rr.isError() and rt.get("setp") == 0x1234
            rr = await client.mask_write_register(address=9999, or_mask=1, device_id=4)
            assert rr.isError() and rr.exception_code == 2
            rr = await client.report_device_id(device_id=4)
            assert rr.identifier == server_id_data(rt, 0xFF)[:-1] and rr.status is True
            rr = await client.read_exception_status(device_id=4)
            assert not rr.isError() and rr.status == M.ES_RUN
            rt.force(0, True)
            rr = await client.read_exception_status(device_id=4)
            assert rr.status == M.ES_RUN | M.ES_FORCED
            rr = await client.diag_query_data(b"\xa5\x5a", device_id=4)
            assert not rr.isError() and rr.message == b"\xa5\x5a"
            rr = await client.diag_restart_communication(True, device_id=4)
            assert not rr.isError() and rr.message == 0xFF00
            rr = await client.diag_read_bus_message_count(device_id=4)
            assert rr.message == 1  # restart cleared the counters; this read is counted
            rr = await client.diag_clear_counters(device_id=4)
            assert not rr.isError()
            rr = await client.diag_read_device_message_count(device_id=4)
            assert rr.message == 1
            for call in (
                client.diag_read_bus_comm_error_count,
                client.diag_read_bus_exception_error_count,
                client.diag_read_device_no_response_count,
                client.diag_read_device_nak_count,
                client.diag_read_device_busy_count,
                client.diag_read_bus_char_overrun_count,
            ):
                rr = await call(device_id=4)
                assert not rr.isError() and rr.message == 0, call
            rr = await client.diag_get_comm_event_counter(device_id=4)
            assert not rr.isError() and rr.status is True and rr.count == 7
            rr = await client.diag_read_diagnostic_register(device_id=4)
            assert rr.isError() and rr.exception_code == 1  # not a sub-function Rung has
        finally:
            client.close()
            server.close()

    run(body())


def test_rtu_line_counters_after_good_bad_crc_and_exception_requests(pty_pair):
    """N good requests, M frames with a bad CRC and K exceptions on a real (pty) line: FC 8
    reports exactly those numbers, read with pymodbus."""
    from pymodbus.client import AsyncModbusSerialClient

    dev_server, dev_client = pty_pair
    n_good, n_bad, n_exc = 6, 4, 3

    async def body():
        rt, pdu = make_server()
        server = RtuSerialServer(pdu, dev_server, baud=19200, parity="N", unit=2)
        server.start()
        client = AsyncModbusSerialClient(
            dev_client, baudrate=19200, parity="N", timeout=2, retries=0
        )
        raw = os.open(dev_client, os.O_WRONLY | os.O_NOCTTY)
        try:
            assert await client.connect()
            for _ in range(n_good):
                rr = await client.read_holding_registers(1024, count=1, device_id=2)
                assert rr.registers == [500]
            for k in range(n_bad):
                bad = bytearray(rtu(2, bytes([3]) + u16(1024 + k, 1)))
                bad[-1] ^= 0x5A
                os.write(raw, bytes(bad))
            for _ in range(n_exc):
                rr = await client.read_holding_registers(1025, count=1, device_id=2)
                assert rr.isError() and rr.exception_code == 2
            rr = await client.diag_read_bus_message_count(device_id=2)
            assert rr.message == n_good + n_exc + 1
            rr = await client.diag_read_bus_comm_error_count(device_id=2)
            assert rr.message == n_bad
            rr = await client.diag_read_bus_exception_error_count(device_id=2)
            assert rr.message == n_exc
            rr = await client.diag_read_device_message_count(device_id=2)
            assert rr.message == n_good + n_exc + 4
            rr = await client.diag_get_comm_event_counter(device_id=2)
            assert rr.count == n_good + 4
        finally:
            os.close(raw)
            client.close()
            server.close()

    run(body())


def test_mbpoll_report_slave_id_over_rtu(pty_pair):
    need_tool("mbpoll")
    dev_server, dev_client = pty_pair

    async def body():
        rt, pdu = make_server()
        server = RtuSerialServer(pdu, dev_server, baud=19200, parity="N", unit=5)
        server.start()
        try:
            args = ["-m", "rtu", "-a", "5", "-b", "19200", "-P", "none", "-u", "-o", "2"]
            code, out = await run_mbpoll(*args, dev_client)
            assert code == 0, out
            assert ("Rung %s crc %08x" % (VERSION, rt.crc)) in out, out
        finally:
            server.close()

    run(body())


@pytest.mark.parametrize("fc", [7, 11])
def test_serial_only_codes_answer_01_to_raw_tcp(fc):
    async def body():
        _rt, pdu = make_server()
        server = TcpServer(pdu)
        _host, port = await server.start("127.0.0.1", 0)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(bytes([0, 5, 0, 0, 0, 2, 1, fc]))
            await writer.drain()
            assert await reader.readexactly(9) == bytes([0, 5, 0, 0, 0, 3, 1, fc | 0x80, 1])
            writer.close()
        finally:
            await server.close()

    run(body())
