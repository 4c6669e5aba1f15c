"""Every benchmark script runs on a tiny input, and the hand-written references are honest:
equal to the runtime scan by scan. No timed assertions (figures: docs/performance.md)."""

import os
import re
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "bench"))
import compile_bench  # noqa: E402
import modbus_bench  # noqa: E402
import performance  # noqa: E402
import programs  # noqa: E402
import pyrung_bench  # noqa: E402
import scan_bench  # noqa: E402
import virtual_time  # noqa: E402


@pytest.mark.parametrize("name", sorted(programs.PROGRAMS))
def test_the_hand_written_reference_computes_what_the_runtime_computes(name):
    assert programs.check(name, scans=400) == 400


def test_a_reference_that_skips_work_is_caught(monkeypatch):
    # the clamp of a TON's ET dropped: outputs stay equal, the ET member does not
    real_ton = programs._ton

    def lazy_ton(hand, k, inp):
        real_ton(hand, k, inp)
        hand.lines = [line.replace("e if e < pt else pt", "e") for line in hand.lines]

    monkeypatch.setattr(programs, "_ton", lazy_ton)
    with pytest.raises(AssertionError, match=r"timers: scan \d+: t\d+\.ET"):
        programs.check("timers", scans=400)


def test_the_reference_has_no_helper_calls():
    for name in programs.PROGRAMS:
        _code, hsrc, _names = programs.build(name)
        body = hsrc.split("def hand_scan(v, inputs, outputs, dt):", 1)[1]
        assert not re.search(r"\b\w+\(", body), name  # no call: every block is inline


def test_scan_bench_runs():
    rows = scan_bench.run(quick=True)
    assert [r[0] for r in rows] == list(programs.PROGRAMS)
    assert all(a > 0 and b > 0 for _n, _i, a, b in rows)
    assert "| contacts: 200 rungs of contacts and coils | CPython" in scan_bench.table(rows)


def test_compile_bench_runs():
    rows = compile_bench.compile_rows((20,))
    names = [name for _plain, name in compile_bench.parsers()]
    assert [r["parser"] for r in rows] == names and names[-1] == "lark"
    for r in rows:
        assert r["compile"]["outcome"] == "compiled" and r["lark"]["outcome"] == "parsed"
        assert r["loop"]["outcome"] == "parsed" and r["loop"]["parser"] == r["parser"]
        assert r["compile"]["peak"] > 0 and f"| 20 | 0.01 MB | {r['parser']} |" in (
            compile_bench.table(rows)
        )
    for plain, _name in compile_bench.parsers():
        cpu, wall = compile_bench.check_startup(1, plain)
        assert 0 < cpu and 0 < wall


def test_compile_bench_measures_lark_cython_where_it_is_installed():
    try:
        import lark_cython
    except ImportError:
        pytest.skip("lark_cython is not installed")
    parsers = compile_bench.parsers()
    assert parsers == [(False, "lark-cython " + lark_cython.__version__), (True, "lark")]


def test_modbus_bench_runs_and_stops_its_servers(monkeypatch):
    started = []
    real_init = modbus_bench.Server.__init__

    def init(self, argv):
        real_init(self, argv)
        started.append(self)

    monkeypatch.setattr(modbus_bench.Server, "__init__", init)
    rows = modbus_bench.run(16)
    assert len(rows) == 8 and all(r[3]["rps"] > 0 for r in rows)
    assert len(modbus_bench.ratios(rows)) == 4
    assert len(started) == 2 and all(s.proc.poll() is not None for s in started)


def test_pyrung_bench_runs_if_pyrung_is_installed():
    # optional (make bench installs it in its own venv): never required, not even in CI
    if not os.path.exists(pyrung_bench.PYRUNG_PYTHON):
        pytest.skip("pyrung not installed in .venv/pyrung (make bench installs it)")
    steps = pyrung_bench.run(quick=True)
    assert sorted(steps) == sorted(programs.PROGRAMS) and all(us > 0 for us in steps.values())


def test_virtual_time_runs():
    rows = virtual_time.rows(100)
    assert len(rows) >= 6 and all(scans >= 5 for _n, scans, _fast, _slow in rows)
    assert all(len(fast) == len(slow) == 3 for _n, _s, fast, slow in rows)


def test_performance_doc_is_generated(tmp_path, monkeypatch):
    monkeypatch.setattr(
        sys, "argv", ["performance.py", "--quick", "--out", str(tmp_path / "p.md")]
    )
    # the doc's assembly only: each benchmark runs in its own test above
    monkeypatch.setattr(
        scan_bench, "run", lambda quick: [(n, "CPython x", 2.0, 1.0) for n in programs.PROGRAMS]
    )
    fake = {"cpu": 0.5, "peak": 2**25, "bytes": 1000, "outcome": "compiled"}
    parsers = [(False, "lark-cython 9.9"), (True, "lark")]
    monkeypatch.setattr(compile_bench, "parsers", lambda: parsers)
    monkeypatch.setattr(
        compile_bench,
        "compile_rows",
        lambda sizes: [
            {"rungs": n, "parser": name, "compile": dict(fake, cpu=n / rate), "lark": fake,
             "loop": dict(fake, cpu=n / rate / 2)}  # fmt: skip
            for n in (*sizes, 10_000)
            for rate, (_plain, name) in zip((4000, 2000), parsers, strict=True)
        ],
    )
    monkeypatch.setattr(compile_bench, "check_startup", lambda repeats, plain: (0.3, 0.4))
    monkeypatch.setattr(
        virtual_time, "rows", lambda ms: [("motor.rung", 100, (0.1, 0.2, 10.0), (0.3, 0.4, 3.0))]
    )
    monkeypatch.setattr(pyrung_bench, "run", lambda quick: dict.fromkeys(programs.PROGRAMS, 500.0))
    monkeypatch.setattr(pyrung_bench, "version", lambda: "0.15.2")
    monkeypatch.setattr(
        modbus_bench,
        "run",
        lambda total: [
            (label, c, name, {"rps": 100.0, "p50": 1.0, "p99": 2.0})
            for label, _pdu in modbus_bench.REQUESTS
            for c in (1, 8)
            for name in ("rung sim", "pymodbus server")
        ],
    )
    performance.main()
    text = (tmp_path / "p.md").read_text()
    for heading in (
        "# Performance",
        "## Scan cost",
        "## Compiler",
        "## Modbus TCP",
        "## Virtual time",
    ):
        assert heading in text
    assert "- Machine: " in text and "CPython " in text and "- Date: " in text
    assert "Target 1.3×: missed by 1.54× (worst: contacts on CPython x, 2.00×)." in text
    assert "`rung check examples/motor.rung` start-up, lark-cython 9.9: 0.300 s CPU" in text
    assert "`rung check examples/motor.rung` start-up, lark: 0.300 s CPU" in text
    assert "| 10,000 | 0.00 MB | lark-cython 9.9 | 2.50 s | 4,000 |" in text
    assert "| 10,000 | 0.00 MB | lark | 5.00 s | 2,000 |" in text
    assert (
        "Target 5,000 rungs/s at 10,000 rungs: missed: 80% of it (4,000 rungs/s with "
        "lark-cython 9.9; 2,000 with lark)." in text
    )
    assert "With lark-cython 9.9, its LALR loop and lexer alone take 1.25 s of the 2.50 s" in text
    assert "Rung / pymodbus requests/s: FC3: 100 holding registers, 1 client(s): 1.00" in text
    assert "| timers | 500 | 2.0 | **250** |" in text


def test_the_committed_performance_doc_covers_every_benchmark():
    with open(os.path.join(ROOT, "docs", "performance.md"), encoding="utf-8") as f:
        text = f.read()
    for program in programs.PROGRAMS:
        assert f"| {program}: " in text
    for needle in (
        "(unix port)",
        "(webassembly, node)",
        "| 50,000 |",
        "pymodbus server",
        "## Memory",
        "motor.rung",
    ):
        assert needle in text, needle
