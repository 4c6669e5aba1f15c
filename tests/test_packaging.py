"""The distribution installs one package, `rung`, and nothing generic at the top level."""

import os
import subprocess
import sys
import zipfile

from conftest import ROOT


def test_wheel_holds_only_the_rung_package(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), ROOT],
        check=True,
        capture_output=True,
    )
    (wheel,) = [p for p in os.listdir(tmp_path) if p.endswith(".whl")]
    names = zipfile.ZipFile(tmp_path / wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"rung"}
    for sub in ("compiler", "runtime", "emulator"):
        assert f"rung/{sub}/__init__.py" in names
    assert "rung/runtime/opcodes.py" in names
    for asset in ("index.html", "hmi.js", "hmi.css"):  # the HMI serves its own assets
        assert f"rung/supervisor/hmi_static/{asset}" in names
    licences = [n for n in names if n.split("/")[0].endswith(".dist-info") and "LICENSE" in n]
    assert licences, names  # the wheel carries the licence text, not only its name
    assert any(n.startswith("rung/compiler/") and n.endswith(".lark") for n in names) or not any(
        f.endswith(".lark") for f in os.listdir(os.path.join(ROOT, "compiler"))
    )


def test_the_mit_licence_that_pyproject_names_is_there():
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        assert '"MIT"' in f.read()
    with open(os.path.join(ROOT, "LICENSE")) as f:
        text = f.read()
    assert text.startswith("MIT License\n") and "Copyright (c) 2026 The Rung authors" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
