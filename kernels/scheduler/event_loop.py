"""The event loop and the external operations the SimPy model calls: advance, fail and repair a node.

Events at the same instant are applied together (completions and LAS demotions, then arrivals),
followed by one scheduling pass. Node failures and repairs happen after the job events of their
instant and are followed by their own pass. Stopping at any time and resuming gives the same
results as one call.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.scheduler.events import next_event_time, pop_event
from kernels.scheduler.layout import (
    CNT_LEVEL,
    EV_COMPLETE,
    EVI_JOB,
    EVI_KIND,
    FV_NOW,
    IV_EVENTS,
    IV_GPN,
    IV_LOGCAP,
    IV_NEXT_ARRIVAL,
    IV_RESV_VALID,
    IV_UP_GPUS,
    JF_SUBMIT,
    JI_GPUS,
    JI_LEVEL,
    JI_STATUS,
    JI_TPRIO,
    LOG_COMPLETE,
    LOG_FAIL,
    LOG_NODE_DOWN,
    LOG_NODE_UP,
    ND_FREE,
    ND_SLOT0,
    ND_UP,
    NV_AUX,
    REJECTED,
)
from kernels.scheduler.passes import schedule
from kernels.scheduler.placement import move_level
from kernels.scheduler.records import integrate, integrate_state, log_record
from kernels.scheduler.segments import enqueue, push_demotion, stop_job


@njit(cache=True, _nrt=False)
def advance(st, t_until):
    """Process every job event at or before ``t_until``; return how many instants were handled.

    Stopping at any ``t_until`` and resuming gives the same results as one call: the clock is
    set to ``t_until`` only for the time integrals, and no pass runs at a time without events.
    """
    iv = st.iv
    jf = st.jf
    ji = st.ji
    evt = st.evt
    evi = st.evi
    n_jobs = jf.shape[0]
    instants = 0
    while True:
        nxt = iv[IV_NEXT_ARRIVAL]
        while nxt < n_jobs and ji[nxt, JI_STATUS] == REJECTED:
            nxt += 1
        iv[IV_NEXT_ARRIVAL] = nxt
        t_arrival = jf[nxt, JF_SUBMIT] if nxt < n_jobs else np.inf
        t_event = next_event_time(iv, evt, evi, ji)
        t = t_arrival if t_arrival < t_event else t_event
        if t > t_until or t == np.inf:
            break
        integrate(iv, st.fv, st.counts, st.tint, st.bins, st.bin_tenant, t)
        st.fv[FV_NOW] = t
        while next_event_time(iv, evt, evi, ji) == t:
            kind = evi[EVI_KIND, 0]
            j = evi[EVI_JOB, 0]
            pop_event(iv, evt, evi)
            iv[IV_EVENTS] += 1
            if kind == EV_COMPLETE:
                stop_job(st, j, t, LOG_COMPLETE)
            else:
                g = ji[j, JI_GPUS]
                st.held[ji[j, JI_TPRIO], ji[j, JI_LEVEL]] -= g
                ji[j, JI_LEVEL] += 1
                st.held[ji[j, JI_TPRIO], ji[j, JI_LEVEL]] += g
                push_demotion(iv, st.fv, jf, ji, evt, evi, j)
        nxt = iv[IV_NEXT_ARRIVAL]
        while nxt < n_jobs and (ji[nxt, JI_STATUS] == REJECTED or jf[nxt, JF_SUBMIT] == t):
            if ji[nxt, JI_STATUS] != REJECTED:
                enqueue(iv, jf, ji, st.tint, nxt)
                iv[IV_EVENTS] += 1
            nxt += 1
        iv[IV_NEXT_ARRIVAL] = nxt
        schedule(st, t)
        instants += 1
    if t_until != np.inf and t_until > st.fv[FV_NOW]:
        integrate(iv, st.fv, st.counts, st.tint, st.bins, st.bin_tenant, t_until)
        st.fv[FV_NOW] = t_until
    return instants


@njit(cache=True, _nrt=False)
def fail_node(st, n, t):
    """Node ``n`` fails at ``t``: its jobs roll back to their last checkpoint and requeue."""
    if st.nodes[n, ND_UP] == 0:
        return 0
    integrate_state(st, t)
    st.fv[FV_NOW] = t
    gpn = st.iv[IV_GPN]
    victims = st.nvec[NV_AUX]
    killed = 0
    for s in range(ND_SLOT0, ND_SLOT0 + gpn):
        if st.nodes[n, s] != -1:
            victims[killed] = st.nodes[n, s]
            killed += 1
    for i in range(1, killed):  # insertion sort of at most gpn jobs: lowest index first
        k = i
        while k > 0 and victims[k - 1] > victims[k]:
            victims[k - 1], victims[k] = victims[k], victims[k - 1]
            k -= 1
    for i in range(killed):
        stop_job(st, victims[i], t, LOG_FAIL)
    move_level(st.level_bits, st.counts[CNT_LEVEL], n, st.nodes[n, ND_FREE], -1)
    st.nodes[n, ND_UP] = 0
    st.iv[IV_UP_GPUS] -= gpn
    st.iv[IV_RESV_VALID] = 0
    if st.iv[IV_LOGCAP] > 0:
        log_record(st.iv, st.logt, st.logi, t, -1, LOG_NODE_DOWN, n, gpn)
    schedule(st, t)
    return killed


@njit(cache=True, _nrt=False)
def repair_node(st, n, t):
    """Node ``n`` (back) in service at ``t`` with all devices free; also commissions new nodes."""
    if st.nodes[n, ND_UP] != 0:
        return 0
    integrate_state(st, t)
    st.fv[FV_NOW] = t
    gpn = st.iv[IV_GPN]
    st.nodes[n, ND_UP] = 1
    st.nodes[n, ND_FREE] = gpn
    move_level(st.level_bits, st.counts[CNT_LEVEL], n, -1, gpn)
    st.iv[IV_UP_GPUS] += gpn
    st.iv[IV_RESV_VALID] = 0
    if st.iv[IV_LOGCAP] > 0:
        log_record(st.iv, st.logt, st.logi, t, -1, LOG_NODE_UP, n, gpn)
    schedule(st, t)
    return 1
