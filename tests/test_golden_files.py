"""Golden files: RUNG_UPDATE_EXPECTED=1 rewrites them, never in CI and never as a pass."""

import os
import shutil
import subprocess

import pytest
from conftest import ROOT, compare_golden


def test_ci_refuses_to_run_with_update_expected_set(tmp_path):
    # only bash and dirname on PATH: whatever .ci/run would go on to do cannot run
    for tool in ("bash", "dirname"):
        os.symlink(shutil.which(tool), tmp_path / tool)
    for value in ("1", ""):
        proc = subprocess.run(
            ["bash", os.path.join(ROOT, ".ci", "run")],
            env={"PATH": str(tmp_path), "RUNG_UPDATE_EXPECTED": value},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 2, proc.stderr
        assert f".ci/run: RUNG_UPDATE_EXPECTED is set (to '{value}')" in proc.stderr
        assert "env -u RUNG_UPDATE_EXPECTED .ci/run" in proc.stderr
        assert "apt-get" not in proc.stderr and "command -v" not in proc.stderr


def test_a_rewritten_golden_file_fails_the_test(tmp_path, monkeypatch):
    path = tmp_path / "x.dis"
    path.write_text("old\n")
    monkeypatch.setenv("RUNG_UPDATE_EXPECTED", "1")
    with pytest.raises(pytest.fail.Exception, match="RUNG_UPDATE_EXPECTED=1 rewrote .*x.dis"):
        compare_golden(str(path), "new\n")
    assert path.read_text() == "new\n"
    compare_golden(str(path), "new\n")  # up to date: a real comparison, which passes
    with pytest.raises(pytest.fail.Exception, match="rewrote"):
        compare_golden(str(tmp_path / "missing.dis"), "new\n")
    assert (tmp_path / "missing.dis").read_text() == "new\n"


def test_without_update_a_difference_is_a_failure_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv("RUNG_UPDATE_EXPECTED", raising=False)
    path = tmp_path / "x.dis"
    path.write_text("old\n")
    with pytest.raises(AssertionError):
        compare_golden(str(path), "new\n")
    assert path.read_text() == "old\n"
    with pytest.raises(AssertionError, match="is missing"):
        compare_golden(str(tmp_path / "missing.dis"), "new\n")
    assert not (tmp_path / "missing.dis").exists()
