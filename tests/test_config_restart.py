"""`rung config KEY=VALUE`: the restart that applies the settings is offered on a terminal,
done with --restart, never done otherwise (docs/flashing.md). The terminal is faked
(isatty, input) and so is the board link: what is tested here is the question, the link
itself is tested on the virtual board (tests/test_flash_vboard.py)."""

import builtins
import json
import sys

import pytest

from rung.cli import main
from rung.usb import config

PORT = "/dev/ttyACM7"
BANNER = "Rung 0.1.0 on pico_w: RUN, program crc 0123abcd\r\nCtrl-C stops the PLC.\r\n"


class FakeLink:
    """The part of BoardLink `rung config` uses, on a board with a Rung firmware."""

    made = []

    def __init__(self, port):
        self.port = port
        self.files = {"settings.json": b'{"tcp": {"port": 502}}\n',
                      "board.json": b'{"watchdog_max_ms": 8388}'}
        self.restarts = 0
        self.left_in = "the PLC is running as before"
        FakeLink.made.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, path):
        return self.files.get(path)

    def write(self, path, data, progress=None):
        self.files[path] = data

    def exec(self, code, timeout=30):
        assert code == "import os\nos.rename('settings.tmp', 'settings.json')\n"
        self.files["settings.json"] = self.files.pop("settings.tmp")
        return ""

    def restart(self, timeout=30):
        self.restarts += 1
        return BANNER

    def restart_quietly(self):
        self.restarts += 1


@pytest.fixture
def board(monkeypatch):
    FakeLink.made = []
    monkeypatch.setattr(config, "BoardLink", FakeLink)

    def the_link():
        (link,) = FakeLink.made
        assert json.loads(link.files["settings.json"])["tcp"]["port"] == 1502
        return link

    return the_link


def terminal(monkeypatch, tty, answers=()):
    """stdin and stdout are (not) a terminal; input() answers from `answers` (EOFError
    after them) and records the prompts it was given."""
    monkeypatch.setattr(sys.stdin, "isatty", lambda: tty)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    prompts = []
    left = list(answers)

    def fake_input(prompt=""):
        prompts.append(prompt)
        if not left:
            raise EOFError
        return left.pop(0)

    monkeypatch.setattr(builtins, "input", fake_input)
    return prompts


def run(capsys, *extra):
    code = main(["config", "--port", PORT, "tcp.port=1502", *extra])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.mark.parametrize("answer", ["", "y", "Yes"])
def test_on_a_terminal_enter_or_yes_restarts(board, monkeypatch, capsys, answer):
    prompts = terminal(monkeypatch, True, [answer])
    code, out, err = run(capsys)
    assert code == 0, err
    assert prompts == ["Restart the board now to apply them? [Y/n] "]
    assert board().restarts == 1
    assert out.splitlines() == [f"{PORT}: tcp.port=1502 written; the PLC is stopped",
                                f"{PORT}: the PLC restarted with them: RUN"]


@pytest.mark.parametrize("answers", [["n"], ["No"], ["maybe", "n"], []])
def test_on_a_terminal_no_or_end_of_input_leaves_it_stopped(board, monkeypatch, capsys,
                                                             answers):
    prompts = terminal(monkeypatch, True, answers)
    code, out, err = run(capsys)
    assert code == 0, err
    assert len(prompts) == max(1, len(answers))  # asked again after an unclear answer
    assert board().restarts == 0
    last = out.splitlines()[-1]
    assert last == (f"{PORT}: the PLC stays stopped; apply them with `rung config --port "
                    f"{PORT} --restart` or the board's reset button")


def test_not_on_a_terminal_it_never_restarts_and_says_how_to_apply(board, monkeypatch,
                                                                   capsys):
    prompts = terminal(monkeypatch, False)
    code, out, err = run(capsys)
    assert code == 0, err
    assert prompts == [] and board().restarts == 0
    assert out.splitlines() == [
        f"{PORT}: tcp.port=1502 written; the PLC stays stopped; apply them with "
        f"`rung config --port {PORT} --restart` or the board's reset button"]


@pytest.mark.parametrize("tty", [True, False])
def test_restart_flag_restarts_without_asking(board, monkeypatch, capsys, tty):
    prompts = terminal(monkeypatch, tty)
    code, out, err = run(capsys, "--restart")
    assert code == 0, err
    assert prompts == [] and board().restarts == 1
    assert out == f"{PORT}: tcp.port=1502 written; the PLC restarted with them: RUN\n"


@pytest.mark.parametrize("tty", [True, False])
def test_no_restart_flag_never_restarts_nor_asks(board, monkeypatch, capsys, tty):
    prompts = terminal(monkeypatch, tty)
    code, out, err = run(capsys, "--no-restart")
    assert code == 0, err
    assert prompts == [] and board().restarts == 0
    assert "the PLC stays stopped" in out and "--restart" in out


def test_restart_and_no_restart_together_are_refused(board, monkeypatch, capsys):
    terminal(monkeypatch, True)
    with pytest.raises(SystemExit) as exc:
        main(["config", "--port", PORT, "tcp.port=1502", "--restart", "--no-restart"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert FakeLink.made == []
