"""Images the compiler could never write because they exceed the Modbus map (E058 in the
compiler; docs/modbus.md, Limits): the runtime refuses them with the count and the limit,
as it refuses any other malformed image, wherever the image is loaded (Runtime, rung sim,
rung dis and draw, rung.Simulator; the firmware's E11 is in tests/test_firmware_vboard.py).

Each image is a valid compiled one with one table grown by copies of a valid row, its CRC
fixed: at the limit it loads and runs, one row more and only the limit check refuses it."""

import re

import pytest
from bytecode_gen import grow_table
from mpy import run_mpy

import rung
from rung.cli import main
from rung.compiler.bytecode_writer import encode_instruction, encode_varint
from rung.runtime import LoadError, Runtime
from rung.runtime import container as c
from rung.runtime import modbus_map as M
from rung.runtime.opcodes import K_TON, T_INT

BASE = """program lim
input a : bool at %IX0.0
output q : bool at %QX0.0
timer t : TON = 10ms
rung: a -> t
rung: t.Q -> q
"""


def _rung_row():
    code = bytearray()
    encode_instruction(code, "PUSH_TRUE")
    encode_instruction(code, "POWER")
    row = bytearray()
    encode_varint(row, len(code))
    return bytes(row + code)


# (section, row appended, limit, what the message counts, window)
TABLES = {
    "variables": (c.SEC_VARS, bytes([T_INT, 0, 0, 0, 0]), M.MAX_VARS, "variable"),
    "timers and counters": (c.SEC_BLOCKS, bytes([K_TON, 0, 0]), M.MAX_BLOCKS, "block"),
    "rungs": (c.SEC_CODE, _rung_row(), M.MAX_RUNGS, "power-flow"),
}


def base():
    return rung.compile_source(BASE, "lim.rung", debug=False).to_bytes()


def image(what, extra):
    tag, row, limit, _window = TABLES[what]
    return grow_table(base(), tag, limit + extra, row)


def message(what):
    _tag, _row, limit, window = TABLES[what]
    return (f"the program has {limit + 1} {what}; the Modbus {window} window has room for "
            f"{limit} (docs/modbus.md, Limits)")


def test_the_limits_are_the_modbus_maps():
    assert (M.MAX_VARS, M.MAX_BLOCKS, M.MAX_RUNGS) == (5000, 1250, 16000)


@pytest.mark.parametrize("what", list(TABLES))
def test_at_the_limit_the_grown_image_loads_and_runs(what):
    rt = Runtime(image(what, 0))
    tables = {"variables": rt.image.vars, "timers and counters": rt.image.blocks,
              "rungs": rt.image.rungs}
    assert len(tables[what]) == TABLES[what][2]
    rt.inputs[0] = True
    rt.scan(0)
    rt.scan(20)
    assert rt.state == 1 and rt.outputs == [True]  # the original rungs still work


@pytest.mark.parametrize("what", list(TABLES))
def test_one_row_beyond_the_limit_is_refused_with_count_and_limit(what):
    with pytest.raises(LoadError) as exc:
        Runtime(image(what, 1))
    assert str(exc.value) == message(what)
    assert "memory" not in str(exc.value)  # the firmware's E13 is for memory, this is E11


def test_far_beyond_the_limit_the_count_is_named():
    with pytest.raises(LoadError, match="the program has 6000 variables; the Modbus variable "
                       "window has room for 5000"):
        Runtime(image("variables", 1000))


@pytest.mark.parametrize("what", list(TABLES))
def test_simulator_and_commands_report_it_in_one_line(what, tmp_path, capsys):
    path = tmp_path / "forged.rbc"
    path.write_bytes(image(what, 1))
    with pytest.raises(LoadError, match=re.escape(message(what))):
        rung.Simulator(str(path))
    for command in (["sim", str(path), "--tcp", "127.0.0.1:0"], ["dis", str(path)],
                    ["draw", str(path)]):
        code = main(command)
        err = capsys.readouterr().err
        assert code == 1, (command, err)
        assert err.splitlines() == [f"rung {command[0]}: {path}: {message(what)}"]


def test_micropython_refuses_them_with_the_same_message():
    script = "from runtime import Runtime, LoadError\n"
    for what in TABLES:
        script += (f"try:\n    Runtime({image(what, 1)!r})\n    print('loaded')\n"
                   "except LoadError as exc:\n    print(exc)\n")
    script += f"rt = Runtime({image('timers and counters', 0)!r})\nprint(len(rt.image.blocks))\n"
    got = run_mpy(script, timeout=300).splitlines()
    assert got == [message(what) for what in TABLES] + [str(M.MAX_BLOCKS)]
