"""The documentation does what it says: its examples run, its commands work as written,
and docs/semantics.md names the tests that check each of its rules."""

import ast
import glob
import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

import rung


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


def blocks(text, lang):
    """The fenced blocks of one language (``` + lang; "" for plain) in a markdown text."""
    found = []
    body = None
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            if body is None:
                body = [] if line.strip() == "```" + lang else False
            else:
                if body is not False:
                    found.append("".join(body))
                body = None
        elif body is not None and body is not False:
            body.append(line)
    return found


def functions_of(path):
    tree = ast.parse(read(path))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def all_test_names():
    names = set()
    for path in glob.glob(os.path.join(ROOT, "tests", "test_*.py")):
        names |= {n for n in functions_of(path) if n.startswith("test_")}
    return names


def test_semantics_doc_names_existing_tests_and_every_semantics_test():
    doc = read("docs/semantics.md")
    named = set(re.findall(r"`(test_\w+)`", doc))
    missing = named - all_test_names()
    assert not missing, "docs/semantics.md names tests that do not exist: " + str(missing)
    semantics = {
        n for n in functions_of("tests/test_runtime_semantics.py") if n.startswith("test_")
    }
    unnamed = semantics - named
    assert not unnamed, "tests of the semantics not named in docs/semantics.md: " + str(unnamed)
    # every section about behaviour ends with its tests
    sections = re.split(r"^## ", doc, flags=re.M)[1:]
    for section in sections:
        assert "\nTests: `test_" in section, "section without tests: " + section.split("\n")[0]


def test_readme_python_example_runs(monkeypatch):
    (code,) = blocks(read("README.md"), "python")
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})


def test_testing_doc_python_example_runs(monkeypatch):
    (code,) = blocks(read("docs/testing.md"), "python")
    monkeypatch.chdir(ROOT)
    namespace = {}
    exec(compile(code, "docs/testing.md", "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert tests
    for f in tests:
        f()


def test_readme_first_program_compiles():
    program = next(b for b in blocks(read("README.md"), "") if b.startswith("program "))
    compiled = rung.compile_source(program, "README.md")
    assert len(compiled.image.rungs) == 1


def readme_commands():
    commands = []
    for block in blocks(read("README.md"), "sh"):
        for line in block.splitlines():
            command = line.split("#")[0].split()
            if command and command[0] == ".venv/bin/rung":
                commands.append(command)
    return commands


def test_readme_commands_work_as_written(tmp_path):
    # run in a copy of the examples: `rung compile` writes beside its source
    shutil.copytree(os.path.join(ROOT, "examples"), tmp_path / "examples")
    exe = os.path.join(os.path.dirname(sys.executable), "rung")
    commands = readme_commands()
    assert {c[1] for c in commands} >= {"check", "compile", "dis", "draw", "test", "sim"}
    outputs = {}
    for command in commands:
        if command[1] in ("flash", "deploy", "config", "status"):
            continue  # need a board: tests/test_flash_vboard.py runs them on a virtual one
        if command[1] == "sim":  # serves until Ctrl-C: bounded, on a port the OS picks
            command = command + ["--tcp", "127.0.0.1:0", "--duration", "0.3"]
            command += ["--status-interval", "0"]
        proc = subprocess.run(
            [exe] + command[1:], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        outputs[command[1]] = proc.stdout
    assert (tmp_path / "examples" / "motor.rbc").exists()
    # the ladder shown in the README is what `rung draw` prints
    shown = next(b for b in blocks(read("README.md"), "") if b.startswith("rung 0"))
    assert outputs["draw"].startswith(shown)


@pytest.mark.parametrize("doc", ["README.md"] + sorted(glob.glob("docs/*.md", root_dir=ROOT)))
def test_links_between_docs_resolve(doc):
    base = os.path.dirname(os.path.join(ROOT, doc))
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", read(doc)):
        assert os.path.exists(os.path.join(base, target)), doc + " links to " + target


def test_runtime_doc_scan_loop_runs_under_micropython():
    from mpy import run_mpy

    (code,) = blocks(read("docs/runtime.md"), "python")
    assert "while True:" in code
    program = rung.compile_file(os.path.join(ROOT, "examples", "motor.rung"), debug=False)
    script = (
        "f = open('motor.rbc', 'wb')\nf.write("
        + repr(program.to_bytes())
        + ")\nf.close()\n"
        + code.replace("while True:", "for _ in range(30):")
        + "\nprint('scans', rt.scan_count, 'state', rt.state, 'outputs', rt.outputs)\n"
    )
    assert "scans 30 state 1 outputs [False, False, False]" in run_mpy(script)


def test_runtime_doc_install_commands_name_real_options(tmp_path):
    (install,) = [b for b in blocks(read("docs/runtime.md"), "sh") if "mpremote" in b]
    compile_line = install.splitlines()[0].split()
    exe = os.path.join(os.path.dirname(sys.executable), "rung")
    command = [exe] + compile_line[1:]
    command[2] = os.path.join(ROOT, command[2])
    proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = (tmp_path / "motor.rbc").read_bytes()
    assert rung.runtime.Runtime(data).image.debug is None
