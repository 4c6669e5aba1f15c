"""Mutation testing of the modules where a one-character slip is a wrong answer (`make mutate`).

Runs cosmic-ray over runtime/blocks.py, runtime/arith.py, runtime/modbus_pdu.py,
runtime/modbus_device.py and the range checks of compiler/checker.py, each against the
tests that cover it. The mutants are applied to a copy of the tree in build/mutate/tree-*
(never to the working files), imported through PYTHONPATH ahead of the editable install.
Results: build/mutate/report-*.txt (counts) and survivors-*.txt (what to look at).

    python tools/mutate.py [TARGET ...]     targets: blocks arith modbus_pdu modbus_device
                                            checker (default: all)
    MUTATE_RESUME=1 python tools/mutate.py ...   go on with interrupted sessions and try
                                                 their survivors again
    MUTATE_RESUME=1 MUTATE_FINISH=1 ...          only try the survivors again; mutants not
                                                 run yet are reported as not run
"""

import os
import re
import shutil
import sqlite3
import subprocess
import sys

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "mutate")
NOT_RUN = "not run: out of time (MUTATE_FINISH)"
PYTEST = sys.executable + " -m pytest -x -q -p no:cacheprovider --no-header"

# target -> (module, tests that cover it, regex a mutated line must match or None)
TARGETS = {
    "blocks": (
        "runtime/blocks.py",
        "tests/test_block_model.py tests/test_limits_blocks.py tests/test_runtime_semantics.py"
        " tests/test_limits_values.py",
        None,
    ),
    "arith": (
        "runtime/arith.py",
        # the reference-interpreter fuzz (tests/test_runtime_fuzz.py) is left out: 20 s a
        # mutant on two shared cores is more than a mutation run can afford
        "tests/test_limits_arith.py tests/test_limits_values.py tests/test_runtime_semantics.py",
        None,
    ),
    "modbus_pdu": (
        "runtime/modbus_pdu.py",
        "tests/test_modbus_frames.py tests/test_limits_modbus.py",
        None,
    ),
    "modbus_device": (
        "runtime/modbus_device.py",
        "tests/test_modbus_frames.py tests/test_limits_modbus.py",
        None,
    ),
    # only the range checks: literals against their type, the cycle, durations
    "checker": (
        "compiler/checker.py",
        "tests/test_limits_values.py tests/test_compiler.py tests/test_diagnostics.py",
        r"RANGES|32767|32768|60000|2\*\*31|lo <=|<= hi|cycle_ms = ",
    ),
}
# Kept: the slips a person makes (a bound off by one, a wrong comparison, and/or, a sign,
# a flipped condition, a wrong constant). Left out: exotic operator swaps (** for +, << for
# ==, `is` for ==) that no test suite needs to be told about one by one.
KEEP = re.compile(
    r"core/(NumberReplacer|AddNot|ReplaceAndWithOr|ReplaceOrWithAnd|ReplaceTrueWithFalse"
    r"|ReplaceFalseWithTrue|ReplaceBreakWithContinue|ReplaceContinueWithBreak"
    r"|ReplaceUnaryOperator_Delete_Not|ReplaceUnaryOperator_Delete_USub|ZeroIterationForLoop"
    r"|ReplaceComparisonOperator_(Lt_LtE|LtE_Lt|Gt_GtE|GtE_Gt|Eq_NotEq|NotEq_Eq|Lt_Gt|Gt_Lt"
    r"|LtE_GtE|GtE_LtE)"
    r"|ReplaceBinaryOperator_(Add_Sub|Sub_Add|Mul_Div|Div_Mul|FloorDiv_Mul|Mod_FloorDiv"
    r"|BitAnd_BitOr|BitOr_BitAnd|LShift_RShift|RShift_LShift|BitXor_BitOr))$"
)


def copy_tree(tree):
    """A fresh copy of the files git knows (as they are on disk) plus the package links."""
    shutil.rmtree(tree, ignore_errors=True)
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for f in files:
        src = os.path.join(ROOT, f)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(tree, f)), exist_ok=True)
            shutil.copy2(src, os.path.join(tree, f))
    # the installed package maps rung.runtime to runtime/ and so on: the same, by links
    for sub in ("runtime", "compiler", "emulator"):
        os.symlink(os.path.join("..", sub), os.path.join(tree, "rung", sub))


def _has_results(session):
    if not os.path.exists(session):
        return False
    with sqlite3.connect(session) as db:
        return bool(
            db.execute("SELECT name FROM sqlite_master WHERE name = 'work_results'").fetchall()
        )


def run_target(name):
    module, tests, line_filter = TARGETS[name]
    tree = os.path.join(OUT, "tree-" + name)  # one per target: targets can run side by side
    copy_tree(tree)
    config = os.path.join(OUT, name + ".toml")
    session = os.path.join(OUT, name + ".sqlite")
    command = f"nice -n 19 {PYTEST} {tests}"
    with open(config, "w") as f:
        f.write(
            "[cosmic-ray]\n"
            f'module-path = "{module}"\n'
            "timeout = 120.0\nexcluded-modules = []\n"
            f'test-command = "{command}"\n'
            '[cosmic-ray.distributor]\nname = "local"\n'
        )
    env = dict(os.environ, PYTHONPATH=tree)
    env.pop("RUNG_FUZZ_SCALE", None)
    baseline = subprocess.run(command, shell=True, cwd=tree, env=env, capture_output=True)
    if baseline.returncode != 0:
        sys.exit(f"{name}: the tests fail without any mutant:\n{baseline.stdout.decode()}")
    cr = os.path.join(os.path.dirname(sys.executable), "cosmic-ray")
    with open(os.path.join(tree, module), encoding="utf-8") as f:
        lines = f.read().splitlines()
    if os.environ.get("MUTATE_RESUME") == "1" and _has_results(session):
        # go on with an interrupted session: the mutants already killed keep their results,
        # the survivors are tried again (against tests added since)
        if os.environ.get("MUTATE_FINISH") == "1":
            # out of time: the mutants not run yet are left out (counted as not run)
            with use_db(session, WorkDB.Mode.open) as db:
                for item in list(db.pending_work_items):
                    db.set_result(
                        item.job_id,
                        WorkResult(output=NOT_RUN, worker_outcome=WorkerOutcome.SKIPPED),
                    )
        before, _ = summarise(name, session, lines)
        print(f"{name} before the retry: " + ", ".join(f"{k} {v}" for k, v in before.items()))
        with sqlite3.connect(session) as db:
            db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'")
        subprocess.run([cr, "exec", config, session], cwd=tree, env=env, check=True)
        return summarise(name, session, lines)
    if os.path.exists(session):
        os.remove(session)
    subprocess.run([cr, "init", config, session], cwd=tree, env=env, check=True)
    with use_db(session, WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            m = item.mutations[0]
            text = lines[m.start_pos[0] - 1]
            kept = KEEP.search(m.operator_name) and (
                line_filter is None or re.search(line_filter, text)
            )
            if not kept:
                db.set_result(
                    item.job_id,
                    WorkResult(output="not selected", worker_outcome=WorkerOutcome.SKIPPED),
                )
        pending = db.num_work_items - db.num_results
    print(f"{name}: {pending} mutants of {module}", flush=True)
    subprocess.run([cr, "exec", config, session], cwd=tree, env=env, check=True)
    return summarise(name, session, lines)


def summarise(name, session, lines):
    counts = {"killed": 0, "survived": 0, "incompetent": 0, "timeout": 0, "not run": 0}
    survivors = []
    with use_db(session, WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                counts["not run"] += result.output == NOT_RUN
                continue
            if result.worker_outcome != WorkerOutcome.NORMAL:
                counts["incompetent"] += 1
            elif result.test_outcome.name == "KILLED":
                counts["killed"] += 1
            elif result.test_outcome.name == "INCOMPETENT":
                counts["incompetent"] += 1
            else:
                counts["survived"] += 1
                m = item.mutations[0]
                row = m.start_pos[0]
                survivors.append(
                    f"{m.module_path}:{row}: {m.operator_name.split('/')[-1]}"
                    f" #{m.occurrence}: {lines[row - 1].strip()}"
                )
    return counts, survivors


def main(argv):
    names = argv or list(TARGETS)
    for n in names:
        if n not in TARGETS:
            sys.exit(f"unknown target {n!r} (targets: {', '.join(TARGETS)})")
    os.makedirs(OUT, exist_ok=True)
    report, all_survivors = [], []
    for n in names:
        counts, survivors = run_target(n)
        line = f"{n}: " + ", ".join(f"{k} {v}" for k, v in counts.items())
        print(line, flush=True)
        report.append(line)
        all_survivors += survivors
    tag = "-".join(names) if argv else "all"
    with open(os.path.join(OUT, f"report-{tag}.txt"), "w") as f:
        f.write("\n".join(report) + "\n")
    with open(os.path.join(OUT, f"survivors-{tag}.txt"), "w") as f:
        f.write("\n".join(all_survivors) + "\n")
    print(f"{len(all_survivors)} survivors: build/mutate/survivors-{tag}.txt")


if __name__ == "__main__":
    main(sys.argv[1:])
