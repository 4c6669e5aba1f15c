# Timer and counter semantics (docs/semantics.md), called by the generated scan code.
# State lives in the runtime's slot list `v` from a block's base slot b:
#   timers:   b+0 Q, b+1 ET, b+2 PT, b+3 IN of the previous evaluation, b+4 state
#   counters: b+0 CV, b+1 PV, b+2 QU (CTU's Q), b+3 QD (CTD's Q), b+4..b+7 the CU, CD, R, LD
#             inputs latched during this scan, b+8/b+9 CU/CD edge memories
# Nothing here allocates: small ints and bools only.
try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


from .opcodes import (
    K_CTD,
    K_CTU,
    K_CTUD,
    K_RTO,
    K_TOF,
    K_TON,
    K_TP,
    M_CV,
    M_ET,
    M_PT,
    M_PV,
    M_Q,
    M_QD,
    M_QU,
)

TIMER_SLOTS = const(5)
COUNTER_SLOTS = const(10)
_IDLE = const(0)
_TIMING = const(1)
_DONE = const(2)
_CV_MAX = const(32767)
_CV_MIN = const(-32768)


def block_slots(kind):
    """How many slots a block of this kind occupies."""
    return TIMER_SLOTS if kind <= K_RTO else COUNTER_SLOTS


def member_offset(kind, member):
    """Slot offset of a member from the block's base, or -1 if the kind lacks it."""
    if kind <= K_RTO:
        if member == M_Q:
            return 0
        if member == M_ET:
            return 1
        if member == M_PT:
            return 2
        return -1
    if member == M_CV:
        return 0
    if member == M_PV:
        return 1
    if member == M_Q:
        return 2 if kind == K_CTU else (3 if kind == K_CTD else -1)
    if member == M_QU:
        return 2 if kind == K_CTUD else -1
    if member == M_QD:
        return 3 if kind == K_CTUD else -1
    return -1


def init_block(v, b, kind, preset):
    """Power-up state of a block."""
    if kind <= K_RTO:
        v[b] = False
        v[b + 1] = 0
        v[b + 2] = preset
        v[b + 3] = False
        v[b + 4] = _IDLE
    else:
        v[b] = 0
        v[b + 1] = preset
        v[b + 2] = 0 >= preset
        v[b + 3] = True
        for i in range(4, 10):
            v[b + i] = False


def ton(v, b, inp, dt):
    """On-delay: Q once IN has been true for PT; Q and ET then hold until IN falls."""
    if not inp:
        v[b] = False
        v[b + 1] = 0
        v[b + 4] = _IDLE
    elif v[b + 4] != _DONE:  # done: a later PT change does not undo it (IEC, MatIEC)
        pt = v[b + 2]
        if pt < 0:
            pt = 0
        et = v[b + 1] + dt if v[b + 3] else 0
        if et >= pt:
            v[b + 1] = pt
            v[b + 4] = _DONE
            v[b] = True
        else:
            v[b + 1] = et
            v[b + 4] = _TIMING
            v[b] = False
    v[b + 3] = inp


def tof(v, b, inp, dt):
    """Off-delay: Q follows IN up and stays true for PT after IN falls; no power-up pulse."""
    if inp:
        v[b + 1] = 0
        v[b + 4] = _IDLE
        v[b] = True
    else:
        pt = v[b + 2]
        if pt < 0:
            pt = 0
        if v[b + 3]:
            v[b + 1] = 0
            v[b + 4] = _TIMING if pt > 0 else _DONE
        elif v[b + 4] == _TIMING:
            et = v[b + 1] + dt
            if et >= pt:
                et = pt
                v[b + 4] = _DONE
            v[b + 1] = et
        v[b] = v[b + 4] == _TIMING
    v[b + 3] = inp


def tp(v, b, inp, dt, first):
    """Pulse: a rising IN gives Q for PT; not re-triggerable; ET holds at PT until IN falls."""
    st = v[b + 4]
    pt = v[b + 2]
    if pt < 0:
        pt = 0
    if st == _IDLE:
        if inp and not v[b + 3] and not first:
            v[b + 1] = 0
            st = _TIMING if pt > 0 else _DONE
    elif st == _TIMING:
        et = v[b + 1] + dt
        if et >= pt:
            et = pt
            st = _DONE
        v[b + 1] = et
    # not an elif: a pulse that ends while IN is already false re-arms in the same scan,
    # so a rising IN on the next scan starts a new pulse (MatIEC's TP does the same)
    if st == _DONE and not inp:
        st = _IDLE
        v[b + 1] = 0
    v[b + 4] = st
    v[b] = st == _TIMING
    v[b + 3] = inp


def rto(v, b, inp, dt):
    """Retentive on-delay: ET accumulates while IN is true and holds while false; once ET
    reaches PT, Q and ET hold until `reset`."""
    if v[b + 4] != _DONE:
        pt = v[b + 2]
        if pt < 0:
            pt = 0
        et = v[b + 1]
        if inp and v[b + 3]:
            et += dt
        if et >= pt:
            v[b + 1] = pt
            v[b + 4] = _DONE
            v[b] = True
        else:
            v[b + 1] = et
            v[b] = False
    v[b + 3] = inp


def reset_timer(v, b):
    """`reset T`: Q false, ET 0, idle (the IN memory stays, so no false edge follows)."""
    v[b] = False
    v[b + 1] = 0
    v[b + 4] = _IDLE


def update_counter(v, b, first):
    """Evaluate a counter from the inputs latched this scan, then clear them."""
    cu = v[b + 4]
    cd = v[b + 5]
    up = cu and not v[b + 8] and not first
    down = cd and not v[b + 9] and not first
    v[b + 8] = cu
    v[b + 9] = cd
    cv = v[b]
    if v[b + 6]:
        cv = 0
    elif v[b + 7]:
        cv = v[b + 1]
    elif up and not down:
        if cv < _CV_MAX:
            cv += 1
    elif down and not up:
        if cv > _CV_MIN:
            cv -= 1
    v[b] = cv
    v[b + 2] = cv >= v[b + 1]
    v[b + 3] = cv <= 0
    v[b + 4] = False
    v[b + 5] = False
    v[b + 6] = False
    v[b + 7] = False


TIMER_FUNCS = {K_TON: "_ton", K_TOF: "_tof", K_TP: "_tp", K_RTO: "_rto"}


def update_ctu(v, b, first):
    """CTU: count up on CU edges, R clears (LD is never driven on a CTU)."""
    cu = v[b + 4]
    if v[b + 6]:
        v[b] = 0
        v[b + 6] = False
    elif cu and not v[b + 8] and not first and v[b] < _CV_MAX:
        v[b] += 1
    v[b + 8] = cu
    v[b + 4] = False
    v[b + 2] = v[b] >= v[b + 1]


def update_ctd(v, b, first):
    """CTD: count down on CD edges; R clears, LD loads PV."""
    cd = v[b + 5]
    if v[b + 6]:
        v[b] = 0
    elif v[b + 7]:
        v[b] = v[b + 1]
    elif cd and not v[b + 9] and not first and v[b] > _CV_MIN:
        v[b] -= 1
    v[b + 9] = cd
    v[b + 5] = False
    v[b + 6] = False
    v[b + 7] = False
    v[b + 3] = v[b] <= 0
