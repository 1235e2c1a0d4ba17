"""Scheduling passes: one pass starts every waiting job the policy lets start at this instant."""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.scheduler.backfill import backfill
from kernels.scheduler.layout import (
    CNT_LEVEL,
    IV_BACKFILL,
    IV_BLOCKING,
    IV_GPN,
    IV_NLISTS,
    IV_NTENANTS,
    IV_PASS,
    IV_PASS_DEPTH,
    IV_PASSES,
    JI_GPUS,
    JI_QNEXT,
    PASS_FAIR_SHARE,
    TF_CAP,
    TF_SHARE,
    TI_ALLOC,
    TI_BLOCKED,
    TI_QHEAD,
)
from kernels.scheduler.placement import can_place, free_total
from kernels.scheduler.preemption import try_preempt
from kernels.scheduler.queues import dequeue, list_remove, queue_head
from kernels.scheduler.segments import start_job


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _in_order_pass(st, t):
    """The waiting lists in index order, each in its own order, up to ``IV_PASS_DEPTH`` jobs.

    A job that fits starts. One that does not may preempt (once per pass); if that fails, a
    blocking pass (FIFO, SJF, EASY: head-of-line blocking) ends there, a work-conserving one (LAS)
    skips the job. After a preemption the victims are back in the queues, so the scan restarts
    from the top.
    """
    iv = st.iv
    tint = st.tint
    ji = st.ji
    count = st.counts[CNT_LEVEL]
    gpn = iv[IV_GPN]
    depth = iv[IV_PASS_DEPTH]
    blocking = iv[IV_BLOCKING] != 0
    attempted = False
    examined = 0
    restart = True
    while restart:
        restart = False
        for lst in range(iv[IV_NLISTS]):
            j = queue_head(iv, tint, ji, lst)
            while j != -1 and examined < depth:
                if attempted and free_total(count, gpn) == 0:
                    return  # nothing fits and no more preemption this pass
                nxt = ji[j, JI_QNEXT]
                examined += 1
                if can_place(count, ji[j, JI_GPUS], gpn):
                    dequeue(iv, st.jf, ji, tint, lst, j)
                    start_job(st, j, t)
                elif not attempted:
                    outcome = try_preempt(st, j, t)
                    if outcome != 0:
                        attempted = True
                    if outcome == 1:
                        dequeue(iv, st.jf, ji, tint, lst, j)
                        start_job(st, j, t)
                        # victims re-entered the queues: rescan from the top
                        restart = True
                        break
                    if blocking:
                        return
                elif blocking:
                    return
                # a blocking pass only ever looks at the head (a heap has no "next")
                j = queue_head(iv, tint, ji, lst) if blocking else nxt
            if restart or examined >= depth:
                break


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _fair_share_pass(st, t):
    """The tenant with the lowest allocated/share ratio goes next; FIFO within a tenant.

    A tenant whose head does not fit, or would exceed its cap, is blocked for the rest of the pass.
    """
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
    """One scheduling pass at time ``t`` under the state's queue rules."""
    iv = st.iv
    iv[IV_PASSES] += 1
    # Fair share orders the tenants' lists by allocation/share, which changes with every start,
    # and blocks a tenant rather than a job: a different pass, not a setting of the in-order one.
    if iv[IV_PASS] == PASS_FAIR_SHARE:
        _fair_share_pass(st, t)
        return
    _in_order_pass(st, t)
    # EASY's backfill is a second, different pass: it walks the jobs behind the blocked head
    # against the head's reservation.
    if iv[IV_BACKFILL] != 0 and st.tint[TI_QHEAD, 0] != -1:
        backfill(st, st.tint[TI_QHEAD, 0], t)
