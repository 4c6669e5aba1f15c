"""Timers and counters at the edges the scan-by-scan model does not reach: the members the
verifier lets each kind have, and the counters' outputs before their first evaluation."""

import pytest
from test_verifier import image

import rung
from rung.runtime import LoadError, Runtime
from rung.runtime import opcodes as O

MEMBERS = {
    O.K_TON: {O.M_Q, O.M_ET, O.M_PT},
    O.K_TOF: {O.M_Q, O.M_ET, O.M_PT},
    O.K_TP: {O.M_Q, O.M_ET, O.M_PT},
    O.K_RTO: {O.M_Q, O.M_ET, O.M_PT},
    O.K_CTU: {O.M_Q, O.M_CV, O.M_PV},
    O.K_CTD: {O.M_Q, O.M_CV, O.M_PV},
    O.K_CTUD: {O.M_QU, O.M_QD, O.M_CV, O.M_PV},
}


@pytest.mark.parametrize("kind", sorted(MEMBERS))
def test_verifier_accepts_exactly_the_members_each_kind_has(kind):
    block = [(kind, 0, 100 if kind <= O.K_RTO else 3)]
    for member in range(len(O.MEMBER_TYPES) + 1):
        # the member compared with itself: a bool whatever its type
        ops = [("LOAD_MEMBER", 0, member), ("LOAD_MEMBER", 0, member), ("EQ",), ("POWER",)]
        if member in MEMBERS[kind]:
            Runtime(image(ops, blocks=block))
        else:
            with pytest.raises(LoadError, match="no member"):
                Runtime(image(ops, blocks=block))


def test_counter_outputs_before_the_first_scan_and_after_restart_follow_cv_0():
    src = (
        "program c\ninput u : bool at %IX0.0\ncounter up : CTU = 1\ncounter zero : CTU = 0\n"
        "counter dn : CTD = 2\ncounter ud : CTUD = 1\n"
        "rung: u -> count up, count zero, count_down dn, count ud\n"
    )
    rt = Runtime(rung.compile_source(src, "c.rung").to_bytes())

    def outputs():
        return [rt.get(n) for n in ("up.Q", "zero.Q", "dn.Q", "ud.QU", "ud.QD")]

    power_up = [False, True, True, False, True]  # CV 0 against each PV
    assert outputs() == power_up
    rt.scan(0)
    assert outputs() == power_up
    for name in ("up.CV", "zero.CV", "dn.CV", "ud.CV"):
        rt.set(name, 5)
    rt.scan(10)
    assert outputs() == [True, True, False, True, False]
    rt.restart()  # not retained: back to CV 0, and the outputs with it before any scan
    assert outputs() == power_up
