"""Every example: compiles cleanly, deterministically, round-trips, and lists/draws as stored.

Set RUNG_UPDATE_EXPECTED=1 to rewrite the tests/golden/ files that differ (those tests then
fail: review the diff and run again without it)."""

import glob
import os
import subprocess
import sys

import pytest
from conftest import EXAMPLES, ROOT, compare_golden

import rung
from rung.compiler.disassemble import disassemble
from rung.compiler.draw import draw

FILES = sorted(glob.glob(os.path.join(EXAMPLES, "*.rung")))
GOLDEN = os.path.join(ROOT, "tests", "golden")


def test_there_are_at_least_six_examples():
    assert len(FILES) >= 6


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_example_compiles_without_warnings(path):
    program = rung.compile_file(path)
    assert program.warnings == []
    assert len(program.image.rungs) >= 5


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_compile_is_deterministic_and_round_trips(path):
    a = rung.compile_file(path).to_bytes()
    b = rung.compile_file(path).to_bytes()
    assert a == b
    again = rung.Program.from_bytes(a)
    assert (
        again.to_bytes() == a and again.name and again.cycle_ms == rung.compile_file(path).cycle_ms
    )


def golden(name, text):
    compare_golden(os.path.join(GOLDEN, name), text)


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_disassembly_matches_golden(path):
    base = os.path.basename(path)[:-5]
    golden(base + ".dis", disassemble(rung.compile_file(path).image))


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_drawing_matches_golden(path):
    base = os.path.basename(path)[:-5]
    golden(base + ".draw", draw(rung.compile_file(path).image))


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "rung.cli", *args], capture_output=True, text=True, cwd=ROOT
    )


def test_dis_and_draw_on_rbc_without_debug(tmp_path):
    out = tmp_path / "m.rbc"
    proc = cli("compile", os.path.join(EXAMPLES, "motor.rung"), "-o", str(out), "--no-debug")
    assert proc.returncode == 0, proc.stderr
    proc = cli("dis", str(out))
    assert proc.returncode == 0 and "no debug section" in proc.stdout and "COIL" in proc.stdout
    proc = cli("draw", str(out))
    assert proc.returncode == 0 and "( v4 )" in proc.stdout


@pytest.mark.parametrize("content", [b"", b"RUNG", b"RUNG\x01\x00\x00\x00" + bytes(200)])
def test_dis_and_draw_junk_give_one_line_errors(tmp_path, content):
    path = tmp_path / "junk.rbc"
    path.write_bytes(content)
    for cmd in ("dis", "draw"):
        proc = cli(cmd, str(path))
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_compactness_of_plain_contacts_and_coils():
    # 200 rungs of 3-5 contacts in series/parallel driving 1-2 coils
    lines = ["program bench"]
    lines += [f"input i{k} : bool at %IX{k // 8}.{k % 8}" for k in range(64)]
    lines += [f"output o{k} : bool at %QX{k // 8}.{k % 8}" for k in range(64)]
    lines += [f"var m{k} : bool" for k in range(64)]
    elements = 0
    for r in range(200):
        a, b, c, d = (f"i{(r * 7 + j) % 64}" for j in range(4))
        m = f"m{r % 64}"
        lines.append(f"rung: ({a} or {m}) and not {b} and {c} or {d} -> {m}, o{r % 64}")
        elements += 5 + 2
    data = rung.compile_source("\n".join(lines), "bench.rung", debug=False).to_bytes()
    per_element = len(data) / elements
    assert per_element <= 6, per_element
