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
