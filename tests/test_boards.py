"""Board files: each is valid, each rule refuses a broken copy with file, key and reason,
every example fits the boards it claims, `rung boards`, `rung check --board`, docs."""

import copy
import glob
import json
import os
import re

import pytest
from conftest import EXAMPLES, ROOT

import rung
from rung.boards import BoardError, board_names, load_board, load_board_file
from rung.boards.pin_table import all_markdown
from rung.cli import main

NAMES = ("esp32_devkitc", "esp32_s3_devkitc", "pico", "pico_w", "pico2_w")


def test_the_five_boards_exist_and_are_valid():
    assert set(NAMES) <= set(board_names())
    for name in board_names():
        board = load_board(name)
        assert board.name == name
        for section in ("digital_inputs", "digital_outputs", "analog_inputs", "analog_outputs"):
            assert board.data[section], (name, section)


def test_board_limits_are_the_chips():
    assert load_board("pico").data["watchdog_max_ms"] == 8388
    assert load_board("pico_w").data["status_led"]["pin"] == "LED"
    assert load_board("pico2_w").data["status_led"]["pin"] == "LED"
    assert not load_board("pico").wifi and load_board("esp32_devkitc").wifi


def _data(name):
    with open(os.path.join(ROOT, "boards", name + ".json")) as f:
        return json.load(f)


def _broken(tmp_path, name, change):
    data = _data(name)
    change(data)
    path = tmp_path / (name + ".json")
    path.write_text(json.dumps(data))
    with pytest.raises(BoardError) as info:
        load_board_file(str(path))
    return info.value


def _set_pin(section, addr, pin):
    def change(d):
        d[section][addr]["pin"] = pin

    return change


def _add(section, addr, entry, safe=None):
    def change(d):
        d[section][addr] = entry
        if safe is not None:
            d["safe_outputs"][addr] = safe

    return change


def _pwm(pin, freq):
    """A third PWM output on GP20 or GP21 (slice 2, like %QW0 on GP4 and %QW1 on GP5)."""

    def change(d):
        for addr in ("%QX0.6", "%QX0.7"):
            del d["digital_outputs"][addr]
            del d["safe_outputs"][addr]
        d["analog_outputs"]["%QW2"] = {"pin": pin, "freq": freq}
        d["safe_outputs"]["%QW2"] = 0

    return change


# (board, change, key, words of the reason)
BROKEN = [
    (
        "esp32_devkitc",
        _set_pin("digital_outputs", "%QX0.0", 7),
        "digital_outputs.%QX0.0.pin",
        "flash",
    ),
    (
        "esp32_devkitc",
        _set_pin("digital_outputs", "%QX0.0", 34),
        "digital_outputs.%QX0.0.pin",
        "input only",
    ),
    (
        "esp32_devkitc",
        _set_pin("digital_inputs", "%IX0.0", 36),
        "digital_inputs.%IX0.0.pin",
        "no pull",
    ),
    (
        "esp32_devkitc",
        _set_pin("digital_inputs", "%IX0.0", 12),
        "digital_inputs.%IX0.0.pin",
        "strapping",
    ),
    (
        "esp32_devkitc",
        _set_pin("digital_inputs", "%IX0.0", 0),
        "digital_inputs.%IX0.0.pin",
        "strapping",
    ),
    (
        "esp32_devkitc",
        _set_pin("digital_outputs", "%QX0.0", 2),
        "digital_outputs.%QX0.0.pin",
        "strapping",
    ),
    (
        "esp32_devkitc",
        _set_pin("digital_outputs", "%QX0.0", 15),
        "digital_outputs.%QX0.0.pin",
        "strapping",
    ),
    ("esp32_devkitc", _set_pin("analog_inputs", "%IW0", 25), "analog_inputs.%IW0.pin", "ADC2"),
    (
        "esp32_devkitc",
        _set_pin("digital_outputs", "%QX0.0", 24),
        "digital_outputs.%QX0.0.pin",
        "does not exist",
    ),
    (
        "esp32_s3_devkitc",
        _set_pin("digital_outputs", "%QX0.0", 19),
        "digital_outputs.%QX0.0.pin",
        "USB",
    ),
    ("esp32_s3_devkitc", _set_pin("analog_inputs", "%IW0", 12), "analog_inputs.%IW0.pin", "ADC2"),
    ("pico_w", _set_pin("digital_outputs", "%QX0.0", 23), "digital_outputs.%QX0.0.pin", "radio"),
    ("pico_w", _set_pin("digital_inputs", "%IX0.0", 24), "digital_inputs.%IX0.0.pin", "radio"),
    ("pico2_w", _set_pin("digital_outputs", "%QX0.0", 25), "digital_outputs.%QX0.0.pin", "radio"),
    ("pico_w", _set_pin("analog_inputs", "%IW0", 29), "analog_inputs.%IW0.pin", "radio"),
    ("pico", _set_pin("analog_inputs", "%IW0", 22), "analog_inputs.%IW0.pin", "GP26-GP28"),
    (
        "pico",
        _set_pin("digital_outputs", "%QX0.1", 14),
        "digital_outputs.%QX0.1.pin",
        "already used by digital_outputs.%QX0.0.pin",
    ),
    (
        "pico",
        _set_pin("digital_inputs", "%IX0.0", 0),
        "digital_inputs.%IX0.0.pin",
        "already used by rtu.tx",
    ),
    (
        "pico",
        _add("digital_inputs", "%IX256.0", {"pin": 3}),
        "digital_inputs.%IX256.0",
        "beyond the last %IX",
    ),
    (
        "pico",
        _add("digital_inputs", "%IX0.9", {"pin": 3}),
        "digital_inputs.%IX0.9",
        "bits are numbered 0-7",
    ),
    (
        "pico",
        _add("digital_inputs", "%QX1.0", {"pin": 3}),
        "digital_inputs.%QX1.0",
        "%IX addresses",
    ),
    (
        "pico",
        _add("analog_outputs", "%QW1024", {"pin": 3, "freq": 1000}, 0),
        "analog_outputs.%QW1024",
        "beyond the last %QW",
    ),
    ("pico", _add("digital_inputs", "%ZZ0", {"pin": 3}), "digital_inputs.%ZZ0", "not an area"),
    ("pico", _pwm(21, 500), "analog_outputs.%QW2.freq", "shared with"),
    ("pico", _pwm(20, 1000), "analog_outputs.%QW2.pin", "same PWM channel"),
    ("pico", lambda d: d["rtu"].update(tx=4), "rtu.tx", "UART0 TX"),
    ("pico", lambda d: d["rtu"].update(uart=2), "rtu.uart", "cannot serve RTU"),
    ("esp32_devkitc", lambda d: d["rtu"].update(uart=0), "rtu.uart", "cannot serve RTU"),
    ("pico", lambda d: d["status_led"].update(pin="LED"), "status_led.pin", "not a pin"),
    ("pico", lambda d: d.update(chip="esp8266"), "chip", "unknown chip"),
    ("pico", lambda d: d.update(port="esp32"), "port", "'rp2' port"),
    ("pico", lambda d: d.pop("heap_budget"), "heap_budget", "missing"),
    ("pico", lambda d: d.update(colour="red"), "colour", "unknown key"),
    ("pico", lambda d: d.update(wifi="yes"), "wifi", "true or false"),
    (
        "pico",
        lambda d: d["safe_outputs"].pop("%QX0.3"),
        "safe_outputs",
        "no safe value for %QX0.3",
    ),
    ("pico", lambda d: d["safe_outputs"].update({"%QW0": 40000}), "safe_outputs.%QW0", "0..32767"),
    (
        "pico",
        lambda d: d["digital_inputs"]["%IX0.0"].update(pull="sideways"),
        "digital_inputs.%IX0.0.pull",
        "up",
    ),
    (
        "pico",
        lambda d: d["digital_inputs"]["%IX0.0"].update(filter_ms=5000),
        "digital_inputs.%IX0.0.filter_ms",
        "between",
    ),
    ("pico", lambda d: d.update(name="other"), "name", "differs from the file name"),
]


@pytest.mark.parametrize(
    "name,change,key,words", BROKEN, ids=[f"{b[0]}-{b[2]}-{b[3]}" for b in BROKEN]
)
def test_a_broken_board_file_is_refused_with_key_and_reason(tmp_path, name, change, key, words):
    err = _broken(tmp_path, name, change)
    assert err.key == key
    assert words in err.reason
    assert str(err).startswith(str(tmp_path / (name + ".json")) + ": " + key + ": ")


def test_unreadable_and_malformed_files(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{ not json")
    with pytest.raises(BoardError, match="not JSON.*line 1"):
        load_board_file(str(bad))
    with pytest.raises(BoardError, match="cannot read"):
        load_board_file(str(tmp_path / "missing.json"))
    bad.write_text("[1, 2]")
    with pytest.raises(BoardError, match="a JSON object"):
        load_board_file(str(bad))


def _claims(path):
    """The boards an example claims (`# boards: a, b` or `# boards: all`)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"#\s*boards:\s*([\w, ]+)", line)
            if m:
                names = [n.strip() for n in m.group(1).split(",") if n.strip()]
                return board_names() if names == ["all"] else names
    return []


@pytest.mark.parametrize(
    "path", sorted(glob.glob(os.path.join(EXAMPLES, "*.rung"))), ids=os.path.basename
)
def test_every_example_fits_every_board_it_claims(path):
    claims = _claims(path)
    assert claims, "an example says which boards it runs on (# boards: ...)"
    image = rung.compile_file(path).image
    for name in claims:
        assert load_board(name).misfits(image) == [], name


def test_rung_boards_lists_every_board(capsys):
    assert main(["boards"]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert name + ":" in out
    assert "digital inputs:   %IX0.0-%IX0.7" in out
    assert main(["boards", "pico_w", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "pico_w"
    assert main(["boards", "nope"]) == 1
    assert "no board 'nope'" in capsys.readouterr().err


def test_rung_check_board_rejects_missing_addresses(tmp_path, capsys):
    prog = tmp_path / "big.rung"
    prog.write_text(
        "program big\ninput a : bool at %IX0.0\ninput b : bool at %IX4.1\n"
        "output q : int at %QW7\nrung: a and b -> q := 1\n"
    )
    assert main(["check", "--board", "pico", str(prog)]) == 1
    err = capsys.readouterr().err
    assert "variable 'b' at %IX4.1: board pico has no such digital input" in err
    assert "(digital inputs: %IX0.0-%IX0.7)" in err
    assert "variable 'q' at %QW7" in err and "(analog outputs: %QW0-%QW1)" in err
    assert "variable 'a'" not in err
    assert main(["check", "--board", "esp32_devkitc", os.path.join(EXAMPLES, "tank.rung")]) == 0
    assert main(["check", "--board", "nope", str(prog)]) == 1


def test_docs_pin_tables_are_generated_from_the_board_files():
    with open(os.path.join(ROOT, "docs", "boards.md"), encoding="utf-8") as f:
        text = f.read()
    assert all_markdown() in text, "run: .venv/bin/python -m rung.boards.pin_table"


def test_docs_table_follows_a_board_change(monkeypatch, tmp_path):
    import rung.boards as boards

    data = copy.deepcopy(_data("pico"))
    data["digital_inputs"]["%IX0.0"]["filter_ms"] = 42
    (tmp_path / "pico.json").write_text(json.dumps(data))
    monkeypatch.setattr(boards, "BOARDS_DIR", str(tmp_path))
    assert "filter 42 ms" in all_markdown()
