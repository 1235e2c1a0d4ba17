"""Preemption: evict running jobs of lower priority classes (or higher LAS levels) so a blocked job fits.

Victims are taken lowest priority class first, then highest LAS level, then the most recently
started, then the highest index, until the blocked job fits; preempted jobs keep their progress.
"""

from __future__ import annotations

from numba import njit

from kernels.scheduler.layout import (
    CNT_LEVEL,
    CNT_TMP,
    IV_GPN,
    IV_NRUN,
    IV_PREEMPT,
    IV_PREEMPT_LEVELS,
    JF_SEG_START,
    JI_ALLOC,
    JI_GPUS,
    JI_LEVEL,
    JI_TPRIO,
    LOG_PREEMPT,
    ND_FREE,
    NV_TMP,
    PL_CNT,
    PL_NEXT,
    PL_NODE,
    PL_RUNNING,
    SC_BUF,
    SC_CAND,
    SC_ORDER,
)
from kernels.scheduler.placement import can_place, free_total
from kernels.scheduler.segments import stop_job
from kernels.scheduler.sorting import lex_argsort


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _eligible(iv, ji, victim, j):
    """Whether running job ``victim`` may be preempted for waiting job ``j``."""
    if iv[IV_PREEMPT] != 0 and ji[victim, JI_TPRIO] < ji[j, JI_TPRIO]:
        return True
    return (iv[IV_PREEMPT_LEVELS] != 0 and ji[victim, JI_TPRIO] == ji[j, JI_TPRIO]
            and ji[victim, JI_LEVEL] > ji[j, JI_LEVEL])


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def release_into(ji, pool, v, vector, count, sign):
    """Add (sign=+1) or remove (-1) job ``v``'s devices to a scratch free vector and its levels."""
    e = ji[v, JI_ALLOC]
    while e != -1:
        n = pool[PL_NODE, e]
        old = vector[n]
        new = old + sign * pool[PL_CNT, e]
        vector[n] = new
        count[old] -= 1
        count[new] += 1
        e = pool[PL_NEXT, e]


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def try_preempt(st, j, t):
    """Evict lower-priority running jobs so that ``j`` fits: 0 not applicable, 1 done, 2 failed."""
    iv = st.iv
    ji = st.ji
    pp = iv[IV_PREEMPT] != 0
    levels = iv[IV_PREEMPT_LEVELS] != 0
    if not pp and not levels:
        return 0
    gpn = iv[IV_GPN]
    g = ji[j, JI_GPUS]
    prio = ji[j, JI_TPRIO]
    available = free_total(st.counts[CNT_LEVEL], gpn)
    for p in range(st.held.shape[0]):
        for lv in range(st.held.shape[1]):
            if (pp and p < prio) or (levels and p == prio and lv > ji[j, JI_LEVEL]):
                available += st.held[p, lv]
    if available < g:
        return 0
    n_run = iv[IV_NRUN]
    cand = st.sci[SC_CAND]
    order = st.sci[SC_ORDER]
    keys = st.scf
    n_cand = 0
    for i in range(n_run):
        v = st.pool[PL_RUNNING, i]
        if _eligible(iv, ji, v, j):
            cand[n_cand] = v
            # victim order: lowest priority class, highest LAS level, latest start, highest index
            keys[n_cand, 0] = ji[v, JI_TPRIO]
            keys[n_cand, 1] = -ji[v, JI_LEVEL]
            keys[n_cand, 2] = -st.jf[v, JF_SEG_START]
            keys[n_cand, 3] = -v
            n_cand += 1
    lex_argsort(keys, n_cand, order, st.sci[SC_BUF])
    vector = st.nvec[NV_TMP]
    count = st.counts[CNT_TMP]
    for n in range(st.nodes.shape[0]):
        vector[n] = st.nodes[n, ND_FREE]
    for level in range(count.shape[0]):
        count[level] = st.counts[CNT_LEVEL, level]
    chosen = 0
    fits = False
    for i in range(n_cand):
        release_into(ji, st.pool, cand[order[i]], vector, count, 1)
        chosen = i + 1
        if can_place(count, g, gpn):
            fits = True
            break
    if not fits:
        return 2
    for i in range(chosen):
        stop_job(st, cand[order[i]], t, LOG_PREEMPT)
    return 1
