"""Run segments: a job joins the queue, starts on its nodes, and stops (completion, preemption or failure)."""

from __future__ import annotations

import math

from numba import njit

from kernels.scheduler.events import push_event
from kernels.scheduler.layout import (
    CNT_LEVEL,
    DONE,
    EV_COMPLETE,
    EV_DEMOTE,
    FV_CKPT,
    FV_OVERHEAD,
    FV_THRESHOLDS,
    IV_ALLOC,
    IV_GPN,
    IV_LOGCAP,
    IV_NDONE,
    IV_NLEVELS,
    IV_NRUN,
    IV_NWAIT,
    IV_PLACEMENT,
    IV_POOL_FREE,
    IV_PREEMPTIONS,
    IV_RESV_DIRTY,
    IV_RESV_VALID,
    IV_SHORTEST_FIRST,
    IV_WAIT_GPUS,
    JF_ATTAINED,
    JF_DONE,
    JF_END,
    JF_EST,
    JF_EST_END,
    JF_FIRST_START,
    JF_LOST,
    JF_RUN,
    JF_SEG_OVH,
    JF_SEG_START,
    JF_SJF_KEY,
    JF_WORK,
    JI_ALLOC,
    JI_GPUS,
    JI_LEVEL,
    JI_NFAIL,
    JI_NPRE,
    JI_RUNPOS,
    JI_STATUS,
    JI_TENANT,
    JI_TPRIO,
    JI_VERSION,
    LOG_COMPLETE,
    LOG_PREEMPT,
    LOG_START,
    ND_FREE,
    ND_SLOT0,
    NV_SEL_CNT,
    NV_SEL_NODE,
    PL_CNT,
    PL_NEXT,
    PL_NODE,
    PL_RUNNING,
    RUNNING,
    TI_ALLOC,
    WAITING,
)
from kernels.scheduler.placement import select_nodes, set_free
from kernels.scheduler.queues import heap_push, list_insert, list_of
from kernels.scheduler.records import log_record


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def enqueue(iv, jf, ji, tint, j):
    ji[j, JI_STATUS] = WAITING
    iv[IV_NWAIT] += 1
    iv[IV_WAIT_GPUS] += ji[j, JI_GPUS]
    if iv[IV_SHORTEST_FIRST] != 0:
        remaining = jf[j, JF_EST] - jf[j, JF_DONE]
        jf[j, JF_SJF_KEY] = remaining if remaining > 0.0 else 0.0
        heap_push(iv, jf, ji, j)
    else:
        list_insert(tint, ji, list_of(iv, ji, j), j)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def push_demotion(iv, fv, jf, ji, evt, evi, j):
    level = ji[j, JI_LEVEL]
    if level < iv[IV_NLEVELS] - 1:
        start = jf[j, JF_SEG_START]
        cross = start + (fv[FV_THRESHOLDS + level] - jf[j, JF_ATTAINED]) / ji[j, JI_GPUS]
        if cross < start:
            cross = start
        push_event(iv, evt, evi, ji, cross, EV_DEMOTE, j)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def start_on(st, j, t, m, sel_nodes, sel_counts):
    """Start job ``j`` at ``t`` on the chosen nodes (it has already left its queue)."""
    iv = st.iv
    jf = st.jf
    ji = st.ji
    nodes = st.nodes
    pool = st.pool
    gpn = iv[IV_GPN]
    count = st.counts[CNT_LEVEL]
    logging = iv[IV_LOGCAP] > 0
    for i in range(m):
        n = sel_nodes[i]
        c = sel_counts[i]
        set_free(nodes, st.level_bits, count, n, nodes[n, ND_FREE] - c)
        e = iv[IV_POOL_FREE]
        iv[IV_POOL_FREE] = pool[PL_NEXT, e]
        pool[PL_NODE, e] = n
        pool[PL_CNT, e] = c
        pool[PL_NEXT, e] = ji[j, JI_ALLOC]
        ji[j, JI_ALLOC] = e
        for s in range(ND_SLOT0, ND_SLOT0 + gpn):
            if nodes[n, s] == -1:
                nodes[n, s] = j
                break
        if logging:
            log_record(iv, st.logt, st.logi, t, j, LOG_START, n, c)
    g = ji[j, JI_GPUS]
    ji[j, JI_STATUS] = RUNNING
    iv[IV_NWAIT] -= 1
    iv[IV_WAIT_GPUS] -= g
    iv[IV_ALLOC] += g
    st.tint[TI_ALLOC, ji[j, JI_TENANT]] += g
    st.held[ji[j, JI_TPRIO], ji[j, JI_LEVEL]] += g
    pos = iv[IV_NRUN]
    pool[PL_RUNNING, pos] = j
    ji[j, JI_RUNPOS] = pos
    iv[IV_NRUN] = pos + 1
    overhead = st.fv[FV_OVERHEAD] if ji[j, JI_NPRE] + ji[j, JI_NFAIL] > 0 else 0.0
    jf[j, JF_SEG_START] = t
    jf[j, JF_SEG_OVH] = overhead
    remaining_est = jf[j, JF_EST] - jf[j, JF_DONE]
    if remaining_est < 0.0:
        remaining_est = 0.0
    jf[j, JF_EST_END] = t + overhead + remaining_est
    if math.isnan(jf[j, JF_FIRST_START]):
        jf[j, JF_FIRST_START] = t
    push_event(iv, st.evt, st.evi, ji, t + overhead + (jf[j, JF_WORK] - jf[j, JF_DONE]), EV_COMPLETE, j)
    # only LAS has thresholds; with one level this pushes nothing
    push_demotion(iv, st.fv, jf, ji, st.evt, st.evi, j)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def start_job(st, j, t):
    sel_nodes = st.nvec[NV_SEL_NODE]
    sel_counts = st.nvec[NV_SEL_CNT]
    m = select_nodes(st.level_bits, st.counts[CNT_LEVEL], st.iv[IV_GPN], st.iv[IV_PLACEMENT],
                     st.ji[j, JI_GPUS], sel_nodes, sel_counts)
    start_on(st, j, t, m, sel_nodes, sel_counts)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def stop_job(st, j, t, kind):
    """End job ``j``'s run segment at ``t``: completion, preemption or failure."""
    iv = st.iv
    jf = st.jf
    ji = st.ji
    nodes = st.nodes
    pool = st.pool
    gpn = iv[IV_GPN]
    count = st.counts[CNT_LEVEL]
    g = ji[j, JI_GPUS]
    e = ji[j, JI_ALLOC]
    while e != -1:
        n = pool[PL_NODE, e]
        set_free(nodes, st.level_bits, count, n, nodes[n, ND_FREE] + pool[PL_CNT, e])
        for s in range(ND_SLOT0, ND_SLOT0 + gpn):
            if nodes[n, s] == j:
                nodes[n, s] = -1
                break
        nxt = pool[PL_NEXT, e]
        pool[PL_NEXT, e] = iv[IV_POOL_FREE]
        iv[IV_POOL_FREE] = e
        e = nxt
    ji[j, JI_ALLOC] = -1
    last = iv[IV_NRUN] - 1
    pos = ji[j, JI_RUNPOS]
    moved = pool[PL_RUNNING, last]
    pool[PL_RUNNING, pos] = moved
    ji[moved, JI_RUNPOS] = pos
    ji[j, JI_RUNPOS] = -1
    iv[IV_NRUN] = last
    iv[IV_ALLOC] -= g
    st.tint[TI_ALLOC, ji[j, JI_TENANT]] -= g
    st.held[ji[j, JI_TPRIO], ji[j, JI_LEVEL]] -= g
    ji[j, JI_VERSION] += 1
    dt = t - jf[j, JF_SEG_START]
    jf[j, JF_ATTAINED] += g * dt
    jf[j, JF_RUN] += dt
    overhead = jf[j, JF_SEG_OVH]
    elapsed = dt - overhead
    if elapsed < 0.0:
        elapsed = 0.0
    spent_on_overhead = dt if dt < overhead else overhead
    if iv[IV_LOGCAP] > 0:
        log_record(iv, st.logt, st.logi, t, j, kind, -1, g)
    if kind == LOG_COMPLETE:
        jf[j, JF_DONE] = jf[j, JF_WORK]
        ji[j, JI_STATUS] = DONE
        jf[j, JF_END] = t
        iv[IV_NDONE] += 1
        jf[j, JF_LOST] += g * spent_on_overhead
        if t < jf[j, JF_EST_END]:
            iv[IV_RESV_DIRTY] = 1
        return
    if kind == LOG_PREEMPT:
        jf[j, JF_DONE] += elapsed
        jf[j, JF_LOST] += g * spent_on_overhead
        ji[j, JI_NPRE] += 1
        iv[IV_PREEMPTIONS] += 1
    else:
        interval = st.fv[FV_CKPT]
        saved = math.floor(elapsed / interval) * interval if interval > 0.0 else 0.0
        jf[j, JF_DONE] += saved
        jf[j, JF_LOST] += g * (dt - saved)
        ji[j, JI_NFAIL] += 1
    iv[IV_RESV_VALID] = 0
    enqueue(iv, jf, ji, st.tint, j)
