"""The waiting jobs: linked lists in submission order, and the heap of shortest remaining estimate.

A policy files its waiting jobs either in linked lists (one, or one per value of a job column such
as the LAS level or the tenant), each kept in submission order, or in one binary heap ordered by
the remaining estimated run time (shortest first, ties by submission).
"""

from __future__ import annotations

from numba import njit

from kernels.scheduler.layout import (
    IV_LISTS_BY,
    IV_SHORTEST_FIRST,
    IV_SJF,
    JF_SJF_KEY,
    JI_HEAP,
    JI_QNEXT,
    JI_QPREV,
    LISTS_ONE,
    TI_QHEAD,
    TI_QTAIL,
)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def list_of(iv, ji, j):
    """The waiting list of job ``j``: 0, or its value in the column the lists are keyed by."""
    column = iv[IV_LISTS_BY]
    if column == LISTS_ONE:
        return 0
    return ji[j, column]


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def queue_head(iv, tint, ji, lst):
    """The first waiting job of list ``lst`` (or the top of the heap), -1 if there is none."""
    if iv[IV_SHORTEST_FIRST] != 0:
        return ji[0, JI_HEAP] if iv[IV_SJF] > 0 else -1
    return tint[TI_QHEAD, lst]


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def dequeue(iv, jf, ji, tint, lst, j):
    """Take waiting job ``j`` out of list ``lst`` (or out of the heap) before it starts."""
    if iv[IV_SHORTEST_FIRST] == 0:
        list_remove(tint, ji, lst, j)
    elif ji[0, JI_HEAP] == j:
        heap_pop(iv, jf, ji)
    else:
        # the top changed since j was chosen (a preemption pushed its victims): any valid heap of
        # the same jobs has the same top under the (key, index) order, so removing j is exact
        heap_remove(iv, jf, ji, j)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def list_insert(tint, ji, lst, j):
    """Insert job ``j`` into linked list ``lst`` keeping index (= submission) order."""
    tail = tint[TI_QTAIL, lst]
    if tail == -1:
        tint[TI_QHEAD, lst] = j
        tint[TI_QTAIL, lst] = j
        ji[j, JI_QPREV] = -1
        ji[j, JI_QNEXT] = -1
    elif j > tail:
        ji[tail, JI_QNEXT] = j
        ji[j, JI_QPREV] = tail
        ji[j, JI_QNEXT] = -1
        tint[TI_QTAIL, lst] = j
    else:
        cur = tint[TI_QHEAD, lst]
        while cur != -1 and cur < j:
            cur = ji[cur, JI_QNEXT]
        prev = ji[cur, JI_QPREV]
        ji[j, JI_QNEXT] = cur
        ji[j, JI_QPREV] = prev
        ji[cur, JI_QPREV] = j
        if prev == -1:
            tint[TI_QHEAD, lst] = j
        else:
            ji[prev, JI_QNEXT] = j


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def list_remove(tint, ji, lst, j):
    prev = ji[j, JI_QPREV]
    nxt = ji[j, JI_QNEXT]
    if prev == -1:
        tint[TI_QHEAD, lst] = nxt
    else:
        ji[prev, JI_QNEXT] = nxt
    if nxt == -1:
        tint[TI_QTAIL, lst] = prev
    else:
        ji[nxt, JI_QPREV] = prev
    ji[j, JI_QNEXT] = -1
    ji[j, JI_QPREV] = -1


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _heap_less(jf, a, b):
    ka = jf[a, JF_SJF_KEY]
    kb = jf[b, JF_SJF_KEY]
    return ka < kb or (ka == kb and a < b)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _heap_sift_down(jf, ji, i, size):
    # the SJF heap lives in column JI_HEAP of ji: row i holds the i-th heap entry, not job i
    while True:
        left = 2 * i + 1
        smallest = i
        if left < size and _heap_less(jf, ji[left, JI_HEAP], ji[smallest, JI_HEAP]):
            smallest = left
        if left + 1 < size and _heap_less(jf, ji[left + 1, JI_HEAP], ji[smallest, JI_HEAP]):
            smallest = left + 1
        if smallest == i:
            return
        ji[i, JI_HEAP], ji[smallest, JI_HEAP] = ji[smallest, JI_HEAP], ji[i, JI_HEAP]
        i = smallest


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def heap_push(iv, jf, ji, j):
    i = iv[IV_SJF]
    iv[IV_SJF] = i + 1
    ji[i, JI_HEAP] = j
    while i > 0:
        parent = (i - 1) // 2
        if _heap_less(jf, ji[i, JI_HEAP], ji[parent, JI_HEAP]):
            ji[i, JI_HEAP], ji[parent, JI_HEAP] = ji[parent, JI_HEAP], ji[i, JI_HEAP]
            i = parent
        else:
            break


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def heap_pop(iv, jf, ji):
    size = iv[IV_SJF] - 1
    top = ji[0, JI_HEAP]
    iv[IV_SJF] = size
    if size > 0:
        ji[0, JI_HEAP] = ji[size, JI_HEAP]
        _heap_sift_down(jf, ji, 0, size)
    return top


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def heap_remove(iv, jf, ji, j):
    """Remove job ``j`` from the heap wherever it is (after a preemption reshuffled it)."""
    size = iv[IV_SJF]
    keep = 0
    for i in range(size):
        if ji[i, JI_HEAP] != j:
            ji[keep, JI_HEAP] = ji[i, JI_HEAP]
            keep += 1
    iv[IV_SJF] = keep
    for i in range(keep // 2 - 1, -1, -1):
        _heap_sift_down(jf, ji, i, keep)
