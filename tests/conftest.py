import os
import shutil

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

# CI sets RUNG_REQUIRE_ALL=1: a test that would skip for a missing tool fails instead.
REQUIRE_ALL = os.environ.get("RUNG_REQUIRE_ALL") == "1"


def need(condition, reason):
    """Skip (locally) or fail (in CI) when a tool a test needs is missing."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail("required in CI but missing: " + reason)
    pytest.skip(reason)


def need_tool(name):
    """The path of an executable, or skip/fail as `need` does."""
    path = shutil.which(name)
    need(path is not None, name + " not found on PATH")
    return path


def compare_golden(path, text):
    """Assert that the file at `path` holds `text`. With RUNG_UPDATE_EXPECTED=1 a file that
    differs is rewritten and the test fails saying so: a rewrite never counts as a pass."""
    try:
        with open(path, encoding="utf-8") as f:
            old = f.read()
    except FileNotFoundError:
        old = None
    if os.environ.get("RUNG_UPDATE_EXPECTED") == "1" and old != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        pytest.fail(
            f"RUNG_UPDATE_EXPECTED=1 rewrote {os.path.relpath(path, ROOT)}: review the diff, "
            "then run the tests again without RUNG_UPDATE_EXPECTED"
        )
    assert old is not None, f"{path} is missing (RUNG_UPDATE_EXPECTED=1 writes it)"
    assert text == old
