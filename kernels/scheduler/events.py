"""The event heap: job completions and LAS demotions, ordered by (time, kind, job).

Events carry the job's version at the time they were pushed; a job that stops (completion,
preemption, failure) bumps its version, so its pending events go stale and are skipped or
compacted away instead of being searched for and removed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.scheduler.layout import (
    EVI_JOB,
    EVI_KIND,
    EVI_VER,
    IV_HEAP,
    JI_VERSION,
)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _event_sift_down(evt, evi, i, size):
    # Comparisons and swaps are written out: a helper call that takes arrays costs tens of ns
    # (reference counting of its array arguments), more than the comparison itself.
    time_i = evt[i]
    kind_i = evi[EVI_KIND, i]
    job_i = evi[EVI_JOB, i]
    ver_i = evi[EVI_VER, i]
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        right = child + 1
        if right < size:
            tc = evt[child]
            tr = evt[right]
            kr = evi[EVI_KIND, right]
            kc = evi[EVI_KIND, child]
            jr = evi[EVI_JOB, right]
            if tr < tc or (tr == tc and (kr < kc or (kr == kc and jr < evi[EVI_JOB, child]))):
                child = right
        tc = evt[child]
        if tc < time_i or (tc == time_i and (evi[EVI_KIND, child] < kind_i or (
                evi[EVI_KIND, child] == kind_i and evi[EVI_JOB, child] < job_i))):
            evt[i] = tc
            evi[EVI_KIND, i] = evi[EVI_KIND, child]
            evi[EVI_JOB, i] = evi[EVI_JOB, child]
            evi[EVI_VER, i] = evi[EVI_VER, child]
            i = child
        else:
            break
    evt[i] = time_i
    evi[EVI_KIND, i] = kind_i
    evi[EVI_JOB, i] = job_i
    evi[EVI_VER, i] = ver_i


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _compact_events(iv, evt, evi, ji):
    """Drop stale events (of jobs stopped since) and re-heapify; keeps the heap bounded."""
    size = iv[IV_HEAP]
    kept = 0
    for i in range(size):
        if evi[EVI_VER, i] == ji[evi[EVI_JOB, i], JI_VERSION]:
            evt[kept] = evt[i]
            for r in range(3):
                evi[r, kept] = evi[r, i]
            kept += 1
    iv[IV_HEAP] = kept
    for i in range(kept // 2 - 1, -1, -1):
        _event_sift_down(evt, evi, i, kept)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def push_event(iv, evt, evi, ji, time_s, kind, j):
    if iv[IV_HEAP] == evt.shape[0]:
        _compact_events(iv, evt, evi, ji)
    i = iv[IV_HEAP]
    iv[IV_HEAP] = i + 1
    while i > 0:
        parent = (i - 1) // 2
        tp = evt[parent]
        if time_s < tp or (time_s == tp and (kind < evi[EVI_KIND, parent] or (
                kind == evi[EVI_KIND, parent] and j < evi[EVI_JOB, parent]))):
            evt[i] = tp
            evi[EVI_KIND, i] = evi[EVI_KIND, parent]
            evi[EVI_JOB, i] = evi[EVI_JOB, parent]
            evi[EVI_VER, i] = evi[EVI_VER, parent]
            i = parent
        else:
            break
    evt[i] = time_s
    evi[EVI_KIND, i] = kind
    evi[EVI_JOB, i] = j
    evi[EVI_VER, i] = ji[j, JI_VERSION]


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def pop_event(iv, evt, evi):
    size = iv[IV_HEAP] - 1
    iv[IV_HEAP] = size
    if size > 0:
        evt[0] = evt[size]
        for r in range(3):
            evi[r, 0] = evi[r, size]
        _event_sift_down(evt, evi, 0, size)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def next_event_time(iv, evt, evi, ji):
    """Time of the earliest live event (discarding stale ones), or +inf."""
    while iv[IV_HEAP] > 0:
        if evi[EVI_VER, 0] == ji[evi[EVI_JOB, 0], JI_VERSION]:
            return evt[0]
        pop_event(iv, evt, evi)
    return np.inf
