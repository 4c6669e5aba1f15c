"""Every diagnostic code: a fixture under tests/diagnostics/ and its rendered text.

Set RUNG_UPDATE_EXPECTED=1 to rewrite the .expected files that differ (those tests then
fail: review the diff and run again without it)."""

import glob
import json
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT, compare_golden

import rung
from rung.compiler.api import compile_file
from rung.compiler.diagnostics import CODES, CompileError

FIXTURES = os.path.join(ROOT, "tests", "diagnostics")


def rendered(path):
    rel = os.path.relpath(path, ROOT)
    try:
        program = compile_file(rel)
    except CompileError as exc:
        return exc.render() + "\n", exc.diagnostics
    from rung.compiler.api import read_source
    from rung.compiler.diagnostics import render_all

    return render_all(program.warnings, read_source(rel)) + "\n", program.warnings


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_fixture_with_its_rendered_text(code, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = os.path.join(FIXTURES, code + ".rung")
    assert os.path.exists(path), f"no fixture for {code}"
    text, diags = rendered(path)
    assert code in [d.code for d in diags], text
    compare_golden(path[: -len(".rung")] + ".expected", text)


def test_every_code_is_documented():
    with open(os.path.join(ROOT, "docs", "errors.md")) as f:
        doc = f.read()
    for code in CODES:
        assert re.search(rf"^## {code}\b", doc, re.M), f"{code} missing from docs/errors.md"


def test_all_errors_reported_in_one_run():
    src = (
        "program p\ninput a : bool at %IX0.0\noutput q : bool at %QX0.0\n"
        "rung: nope -> q\nrung: a -> zip\nrung: a -> a\n"
    )
    with pytest.raises(CompileError) as info:
        rung.compile_source(src, "x.rung")
    assert [d.code for d in info.value.diagnostics if d.is_error] == ["E010", "E010", "E050"]


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "rung.cli", *args], capture_output=True, text=True, cwd=ROOT
    )


def test_check_cli_exit_codes_and_json():
    bad = os.path.join(FIXTURES, "E052.rung")
    proc = run_cli("check", bad)
    assert proc.returncode == 1 and "error[E052]" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("check", "--json", bad)
    data = json.loads(proc.stdout)
    assert proc.returncode == 1 and data[0]["code"] == "E052" and data[0]["line"] == 6
    assert data[0]["help"] == "did you mean `t.Q`?"
    proc = run_cli("check", os.path.join(ROOT, "examples", "motor.rung"))
    assert proc.returncode == 0 and "ok" in proc.stdout


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02junk", os.urandom(512), b"program"])
def test_no_traceback_for_junk(tmp_path, content):
    path = tmp_path / "junk.rung"
    path.write_bytes(content)
    for cmd in ("check", "compile"):
        proc = run_cli(cmd, str(path))
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("target", ["/nonexistent/x.rung", "/tmp"])
def test_no_traceback_for_missing_file_or_directory(target):
    proc = run_cli("check", target)
    assert proc.returncode == 1 and "error[E001]" in proc.stderr and "Traceback" not in proc.stderr


def test_fixture_list_matches_codes():
    names = {os.path.basename(p)[:-5] for p in glob.glob(os.path.join(FIXTURES, "*.rung"))}
    assert names == set(CODES)
