"""EASY backfilling: the blocked head's reservation and the jobs that may start before it."""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.scheduler.layout import (
    CNT_LEVEL,
    CNT_SHADOW,
    FV_BF_INTERVAL,
    FV_OVERHEAD,
    FV_RESV_TIME,
    FV_SHADOW,
    IV_DEPTH,
    IV_GPN,
    IV_NRUN,
    IV_PLACEMENT,
    IV_RESV_DIRTY,
    IV_RESV_HEAD,
    IV_RESV_VALID,
    JF_DONE,
    JF_EST,
    JF_EST_END,
    JF_RESERVED,
    JI_GPUS,
    JI_NFAIL,
    JI_NPRE,
    JI_QNEXT,
    ND_FREE,
    NV_SEL_CNT,
    NV_SEL_NODE,
    NV_SHADOW,
    PL_RUNNING,
    SC_BUF,
    SC_ORDER,
)
from kernels.scheduler.placement import can_place, free_total, select_nodes
from kernels.scheduler.preemption import release_into
from kernels.scheduler.queues import list_remove
from kernels.scheduler.segments import start_on
from kernels.scheduler.sorting import lex_argsort


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _compute_reservation(st, head, t):
    """EASY: the earliest time ``head`` fits if running jobs end at their estimated ends."""
    gpn = st.iv[IV_GPN]
    g = st.ji[head, JI_GPUS]
    vector = st.nvec[NV_SHADOW]
    count = st.counts[CNT_SHADOW]
    for n in range(st.nodes.shape[0]):
        vector[n] = st.nodes[n, ND_FREE]
    for level in range(count.shape[0]):
        count[level] = st.counts[CNT_LEVEL, level]
    shadow = np.inf
    n_run = st.iv[IV_NRUN]
    if can_place(count, g, gpn):
        shadow = t
    elif n_run > 0:
        keys = st.scf
        order = st.sci[SC_ORDER]
        for i in range(n_run):
            v = st.pool[PL_RUNNING, i]
            keys[i, 0] = st.jf[v, JF_EST_END]
            keys[i, 1] = v
            keys[i, 2] = 0.0
            keys[i, 3] = 0.0
        lex_argsort(keys, n_run, order, st.sci[SC_BUF])
        i = 0
        while i < n_run:
            end = keys[order[i], 0]
            while i < n_run and keys[order[i], 0] == end:
                release_into(st.ji, st.pool, st.pool[PL_RUNNING, order[i]], vector, count, 1)
                i += 1
            if can_place(count, g, gpn):
                shadow = end if end > t else t
                break
    st.fv[FV_SHADOW] = shadow
    st.fv[FV_RESV_TIME] = t
    st.iv[IV_RESV_HEAD] = head
    st.iv[IV_RESV_VALID] = 1
    st.iv[IV_RESV_DIRTY] = 0
    st.jf[head, JF_RESERVED] = shadow


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def backfill(st, head, t):
    """EASY backfilling behind the blocked ``head``."""
    iv = st.iv
    jf = st.jf
    ji = st.ji
    gpn = iv[IV_GPN]
    if (iv[IV_RESV_HEAD] != head or iv[IV_RESV_VALID] == 0
            or (iv[IV_RESV_DIRTY] != 0 and t - st.fv[FV_RESV_TIME] >= st.fv[FV_BF_INTERVAL])):
        _compute_reservation(st, head, t)
    shadow = st.fv[FV_SHADOW]
    g_head = ji[head, JI_GPUS]
    vector = st.nvec[NV_SHADOW]
    count = st.counts[CNT_SHADOW]
    level_count = st.counts[CNT_LEVEL]
    sel_nodes = st.nvec[NV_SEL_NODE]
    sel_counts = st.nvec[NV_SEL_CNT]
    depth = iv[IV_DEPTH]
    examined = 0
    j = ji[head, JI_QNEXT]
    while j != -1 and examined < depth:
        if free_total(level_count, gpn) == 0:
            break
        nxt = ji[j, JI_QNEXT]
        examined += 1
        m = select_nodes(st.level_bits, level_count, gpn, iv[IV_PLACEMENT], ji[j, JI_GPUS],
                         sel_nodes, sel_counts)
        if m > 0:
            overhead = st.fv[FV_OVERHEAD] if ji[j, JI_NPRE] + ji[j, JI_NFAIL] > 0 else 0.0
            remaining = jf[j, JF_EST] - jf[j, JF_DONE]
            if remaining < 0.0:
                remaining = 0.0
            ok = t + overhead + remaining <= shadow
            if not ok:
                # Still running at the shadow time: allowed only if the head still fits then.
                ok = True
                for i in range(m):
                    if vector[sel_nodes[i]] < sel_counts[i]:
                        ok = False
                if ok:
                    for i in range(m):
                        n = sel_nodes[i]
                        old = vector[n]
                        vector[n] = old - sel_counts[i]
                        count[old] -= 1
                        count[old - sel_counts[i]] += 1
                    if not can_place(count, g_head, gpn):
                        ok = False
                        for i in range(m):
                            n = sel_nodes[i]
                            old = vector[n]
                            vector[n] = old + sel_counts[i]
                            count[old] -= 1
                            count[old + sel_counts[i]] += 1
            if ok:
                list_remove(st.tint, ji, 0, j)
                start_on(st, j, t, m, sel_nodes, sel_counts)
        j = nxt
