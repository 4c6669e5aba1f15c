"""`rung check` start-up (issue 12): only the command being run is imported, and lark's
parser comes from a per-user cache that a bad, foreign or unwritable cache never breaks."""

import os
import subprocess
import sys

import pytest
from conftest import EXAMPLES

from rung.cli import COMMANDS

MOTOR = os.path.join(EXAMPLES, "motor.rung")


def run_py(code, env=None):
    full = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=60
    )


def test_check_imports_no_other_command():
    out = run_py(
        "import sys\nfrom rung.cli import main\n"
        f"assert main(['check', {MOTOR!r}]) == 0\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'aiohttp', 'pymodbus', 'textual', 'serial', 'yaml', 'mpremote'}))"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_subcommand_help_still_works(name):
    out = run_py(f"from rung.cli import main\nmain([{name!r}, '--help'])")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"usage: rung {name}")


def test_top_level_help_lists_every_command():
    out = run_py("from rung.cli import main\nmain(['--help'])")
    assert out.returncode == 0, out.stderr
    assert all(name in out.stdout for name in COMMANDS)


def check(cache_home):
    """Parse motor.rung in a fresh process with this cache home: (its output, stderr)."""
    out = run_py(
        "from rung.compiler import parser\nfrom rung.compiler.api import compile_file\n"
        f"print(parser.cache_file(open(parser._GRAMMAR).read()))\n"
        f"print(compile_file({MOTOR!r}).to_bytes().hex())",
        {"XDG_CACHE_HOME": str(cache_home)},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split(), out.stderr


def test_parser_cache_is_made_reused_and_survives_garbage(tmp_path):
    (path, code), err = check(tmp_path)
    assert path.startswith(str(tmp_path / "rung")) and os.path.getsize(path) > 1000
    assert err == ""
    mtime = os.stat(path).st_mtime_ns
    assert check(tmp_path)[0] == [path, code]
    assert os.stat(path).st_mtime_ns == mtime  # loaded, not rebuilt
    for garbage in (b"", b"nonsense\n", b"x" * 100, open(path, "rb").read()[:500]):
        with open(path, "wb") as f:
            f.write(garbage)
        assert check(tmp_path) == ([path, code], "")
        assert os.path.getsize(path) > 1000  # rebuilt and rewritten


def test_parser_cache_of_another_grammar_is_not_used(tmp_path):
    (path, code), _ = check(tmp_path)
    # a cache file written for another grammar under this name: lark's own check refuses it
    out = run_py(
        "from lark import Lark\n" f"Lark('start: \"a\"', parser='lalr', cache={path!r}).parse('a')"
    )
    assert out.returncode == 0, out.stderr
    assert check(tmp_path) == ([path, code], "")


def test_no_usable_cache_dir_still_checks(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    (path, code), err = check(blocker)
    assert path == "None" and err == ""
    assert check(tmp_path)[0][1] == code
