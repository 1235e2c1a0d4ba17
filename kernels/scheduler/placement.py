"""Gang placement on the free-device level bitsets.

A job of ``g = k·gpn + r`` devices takes ``k`` whole free nodes (the lowest-indexed ones) plus, if
``r > 0``, ``r`` devices on one more node: the fullest node that still fits them
(``CONSOLIDATED``, best fit) or the emptiest (``SPREAD``, worst fit); ties go to the lowest node
index. A job of at most ``gpn`` devices therefore never spans nodes.

The nodes in service are kept in one bitset per number of free devices (a *level*), so that "the
lowest-indexed node with exactly L free devices" is a scan over ``n_nodes / 64`` words instead of
over the nodes. :func:`select_nodes_reference` and :func:`can_place_reference` are the plain-Python
twins of :func:`select_nodes` and :func:`can_place`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.scheduler.layout import (
    CONSOLIDATED,
    ND_FREE,
    ND_UP,
)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _lowbit_index(word):
    """Index of the lowest set bit of a non-zero uint64."""
    n = 0
    if (word & np.uint64(0xFFFFFFFF)) == np.uint64(0):
        n += 32
        word = word >> np.uint64(32)
    if (word & np.uint64(0xFFFF)) == np.uint64(0):
        n += 16
        word = word >> np.uint64(16)
    if (word & np.uint64(0xFF)) == np.uint64(0):
        n += 8
        word = word >> np.uint64(8)
    if (word & np.uint64(0xF)) == np.uint64(0):
        n += 4
        word = word >> np.uint64(4)
    if (word & np.uint64(0x3)) == np.uint64(0):
        n += 2
        word = word >> np.uint64(2)
    if (word & np.uint64(0x1)) == np.uint64(0):
        n += 1
    return n


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _kth_in_level(bits, level, k):
    """The k-th (0-based) lowest-indexed node in ``level``, or -1."""
    seen = 0
    for w in range(bits.shape[1]):
        word = bits[level, w]
        while word != np.uint64(0):
            if seen == k:
                return w * 64 + _lowbit_index(word)
            seen += 1
            word = word & (word - np.uint64(1))
    return -1


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def move_level(bits, count, n, old_level, new_level):
    """Move node ``n`` from one level bitset to another (-1: not in any)."""
    mask = np.uint64(1) << np.uint64(n & 63)
    if old_level >= 0:
        bits[old_level, n >> 6] &= ~mask
        count[old_level] -= 1
    if new_level >= 0:
        bits[new_level, n >> 6] |= mask
        count[new_level] += 1


@njit(cache=True, _nrt=False)
def can_place(count, g, gpn):
    """Whether a gang of ``g`` devices fits, given the number of nodes at each free level."""
    k = g // gpn
    r = g - k * gpn
    if count[gpn] < k:
        return False
    if r == 0 or count[gpn] > k:
        return True
    for level in range(r, gpn):
        if count[level] > 0:
            return True
    return False


@njit(cache=True, _nrt=False)
def select_nodes(bits, count, gpn, mode, g, out_nodes, out_counts):
    """Choose the nodes of a gang of ``g`` devices; return how many were written (0: no fit).

    ``out_nodes[i]`` receives ``out_counts[i]`` devices: whole free nodes first (lowest index),
    then the remainder on the best-fit (``CONSOLIDATED``) or worst-fit (``SPREAD``) node.
    """
    if not can_place(count, g, gpn):
        return 0
    k = g // gpn
    r = g - k * gpn
    m = 0
    if k > 0:
        seen = 0
        for w in range(bits.shape[1]):
            word = bits[gpn, w]
            while word != np.uint64(0) and seen < k:
                out_nodes[m] = w * 64 + _lowbit_index(word)
                out_counts[m] = gpn
                m += 1
                seen += 1
                word = word & (word - np.uint64(1))
            if seen == k:
                break
    if r > 0:
        node = -1
        if mode == CONSOLIDATED:
            for level in range(r, gpn + 1):
                skip = k if level == gpn else 0
                if count[level] > skip:
                    node = _kth_in_level(bits, level, skip)
                    break
        else:
            for level in range(gpn, r - 1, -1):
                skip = k if level == gpn else 0
                if count[level] > skip:
                    node = _kth_in_level(bits, level, skip)
                    break
        out_nodes[m] = node
        out_counts[m] = r
        m += 1
    return m


@njit(cache=True)
def place_gang(free, up, gpn, mode, g, out_nodes, out_counts):
    """Kernel entry for placement on a plain free-device vector (builds the level bitsets)."""
    n_nodes = free.shape[0]
    bits = np.zeros((gpn + 1, max((n_nodes + 63) // 64, 1)), np.uint64)
    count = np.zeros(gpn + 1, np.int64)
    for n in range(n_nodes):
        if up[n]:
            move_level(bits, count, n, -1, free[n])
    return select_nodes(bits, count, gpn, mode, g, out_nodes, out_counts)


# Hot helpers take only the arrays they touch: a call that passes the whole state tuple costs
# about 200 ns (its ~150 words are copied), more than most of these helpers do.


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def set_free(nodes, bits, count, n, value):
    """Set node ``n``'s free devices, keeping the level bitsets in step (in-service nodes only)."""
    if nodes[n, ND_UP]:
        move_level(bits, count, n, nodes[n, ND_FREE], value)
    nodes[n, ND_FREE] = value


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def free_total(count, gpn):
    """Free devices on the nodes in service, from the number of nodes at each free level."""
    total = 0
    for level in range(1, gpn + 1):
        total += level * count[level]
    return total


def select_nodes_reference(free, up, gpn: int, mode: int, g: int) -> list[tuple[int, int]] | None:
    """Plain-Python twin of :func:`select_nodes`: ``[(node, devices), ...]`` or ``None``."""
    k, r = divmod(g, gpn)
    whole = [n for n in range(len(free)) if up[n] and free[n] == gpn]
    if len(whole) < k:
        return None
    chosen = whole[:k]
    allocation = [(n, gpn) for n in chosen]
    if r:
        taken = set(chosen)
        candidates = [n for n in range(len(free)) if up[n] and n not in taken and free[n] >= r]
        if not candidates:
            return None
        if mode == CONSOLIDATED:
            node = min(candidates, key=lambda n: (free[n], n))
        else:
            node = min(candidates, key=lambda n: (-free[n], n))
        allocation.append((node, r))
    return allocation


def can_place_reference(free, up, gpn: int, g: int) -> bool:
    """Plain-Python twin of :func:`can_place`, from the free-device vector itself."""
    return select_nodes_reference(free, up, gpn, CONSOLIDATED, g) is not None
