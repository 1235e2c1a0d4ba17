"""Scheduling passes: one pass starts every waiting job the policy lets start at this instant."""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.scheduler.backfill import backfill
from kernels.scheduler.layout import (
    CNT_LEVEL,
    EASY,
    FIFO,
    IV_DEPTH,
    IV_GPN,
    IV_NLEVELS,
    IV_NTENANTS,
    IV_PASSES,
    IV_POLICY,
    IV_SJF,
    JI_GPUS,
    JI_HEAP,
    JI_QNEXT,
    LAS,
    SJF,
    TF_CAP,
    TF_SHARE,
    TI_ALLOC,
    TI_BLOCKED,
    TI_QHEAD,
)
from kernels.scheduler.placement import can_place, free_total
from kernels.scheduler.preemption import try_preempt
from kernels.scheduler.queues import heap_pop, heap_remove, list_remove
from kernels.scheduler.segments import start_job


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _schedule_fifo(st, t):
    """FIFO and EASY: the head goes first; EASY then backfills behind a blocked head."""
    tint = st.tint
    ji = st.ji
    count = st.counts[CNT_LEVEL]
    gpn = st.iv[IV_GPN]
    attempted = False
    while True:
        j = tint[TI_QHEAD, 0]
        if j == -1:
            return
        if can_place(count, ji[j, JI_GPUS], gpn):
            list_remove(tint, ji, 0, j)
            start_job(st, j, t)
            continue
        if not attempted:
            outcome = try_preempt(st, j, t)
            if outcome != 0:
                attempted = True
            if outcome == 1:
                list_remove(tint, ji, 0, j)
                start_job(st, j, t)
                continue
        break
    if st.iv[IV_POLICY] == EASY:
        backfill(st, tint[TI_QHEAD, 0], t)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _schedule_sjf(st, t):
    iv = st.iv
    ji = st.ji
    count = st.counts[CNT_LEVEL]
    gpn = iv[IV_GPN]
    attempted = False
    while iv[IV_SJF] > 0:
        j = ji[0, JI_HEAP]
        if can_place(count, ji[j, JI_GPUS], gpn):
            heap_pop(iv, st.jf, ji)
            start_job(st, j, t)
            continue
        if not attempted:
            outcome = try_preempt(st, j, t)
            if outcome != 0:
                attempted = True
            if outcome == 1:
                heap_remove(iv, st.jf, ji, j)
                start_job(st, j, t)
                continue
        return


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _schedule_las(st, t):
    """Levels in order, FIFO within a level, skipping jobs that do not fit (work-conserving)."""
    tint = st.tint
    ji = st.ji
    count = st.counts[CNT_LEVEL]
    gpn = st.iv[IV_GPN]
    depth = st.iv[IV_DEPTH]
    attempted = False
    examined = 0
    restart = True
    while restart:
        restart = False
        for lvl in range(st.iv[IV_NLEVELS]):
            j = tint[TI_QHEAD, lvl]
            while j != -1 and examined < depth:
                if attempted and free_total(count, gpn) == 0:
                    return
                nxt = ji[j, JI_QNEXT]
                examined += 1
                if can_place(count, ji[j, JI_GPUS], gpn):
                    list_remove(tint, ji, lvl, j)
                    start_job(st, j, t)
                elif not attempted:
                    outcome = try_preempt(st, j, t)
                    if outcome != 0:
                        attempted = True
                    if outcome == 1:
                        list_remove(tint, ji, lvl, j)
                        start_job(st, j, t)
                        # victims re-entered the queues: rescan from the top
                        restart = True
                        break
                j = nxt
            if restart or examined >= depth:
                break


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _schedule_fair(st, t):
    """The tenant with the lowest allocated/share ratio goes next; FIFO within a tenant."""
    tint = st.tint
    ji = st.ji
    count = st.counts[CNT_LEVEL]
    gpn = st.iv[IV_GPN]
    n_tenants = st.iv[IV_NTENANTS]
    blocked = tint[TI_BLOCKED]
    for tn in range(n_tenants):
        blocked[tn] = 0
    attempted = False
    while True:
        best = -1
        best_ratio = np.inf
        for tn in range(n_tenants):
            if blocked[tn] == 0 and tint[TI_QHEAD, tn] != -1:
                ratio = tint[TI_ALLOC, tn] / st.tflt[TF_SHARE, tn]
                if ratio < best_ratio:
                    best_ratio = ratio
                    best = tn
        if best == -1:
            return
        j = tint[TI_QHEAD, best]
        if tint[TI_ALLOC, best] + ji[j, JI_GPUS] > st.tflt[TF_CAP, best]:
            blocked[best] = 1
            continue
        if can_place(count, ji[j, JI_GPUS], gpn):
            list_remove(tint, ji, best, j)
            start_job(st, j, t)
            continue
        if not attempted:
            outcome = try_preempt(st, j, t)
            if outcome != 0:
                attempted = True
            if outcome == 1:
                list_remove(tint, ji, best, j)
                start_job(st, j, t)
                continue
        blocked[best] = 1
        if attempted and free_total(count, gpn) == 0:
            return


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def schedule(st, t):
    """One scheduling pass at time ``t`` under the configured policy."""
    st.iv[IV_PASSES] += 1
    policy = st.iv[IV_POLICY]
    if policy == FIFO or policy == EASY:
        _schedule_fifo(st, t)
    elif policy == SJF:
        _schedule_sjf(st, t)
    elif policy == LAS:
        _schedule_las(st, t)
    else:
        _schedule_fair(st, t)
