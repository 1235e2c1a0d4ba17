"""GPU-cluster scheduling kernels: gang placement, scheduling passes and the event loop.

The cluster is ``n_nodes`` nodes of ``gpn`` devices (8 by default). Jobs are gangs: a job of ``g``
devices starts only when all ``g`` are free at once (all-or-nothing). All state lives in NumPy
arrays bundled in a :class:`SchedState` named tuple, so that the SimPy model in
``twin/cluster.py`` can advance the kernel to a time, hand control back (to fail a node, record a
sample or add capacity) and resume, with results independent of where it stopped.

Placement rule (both modes)
    A job of ``g = k·gpn + r`` devices takes ``k`` whole free nodes (the lowest-indexed ones) plus,
    if ``r > 0``, ``r`` devices on one more node: the fullest node that still fits them
    (``consolidated``, best fit) or the emptiest (``spread``, worst fit); ties go to the lowest node
    index. A job of at most ``gpn`` devices therefore never spans nodes.

Policies (``policy``)
    ``FIFO``   strict submission order; the first job that does not fit blocks the queue.
    ``SJF``    strict order of the remaining estimated run time (shortest first).
    ``EASY``   FIFO plus EASY backfilling: the blocked head gets a reservation (the earliest time
               it fits, from the running jobs' estimated ends); later jobs may start now if they
               end (by estimate) before it, or do not touch the devices it needs.
    ``LAS``    discretised least-attained-service (Tiresias 2D-LAS): a job's level is the number of
               GPU-second thresholds its attained service has passed; lower levels first, FIFO
               within a level, work-conserving (a job that does not fit is skipped), and a blocked
               job may preempt running jobs of higher levels.
    ``FAIR``   per-tenant fair share with quotas: the tenant with the lowest allocated/share ratio
               goes next (FIFO within a tenant); a tenant whose head does not fit or would exceed
               its cap is skipped for the rest of the pass.

Preemption (``preempt_priority``)
    A blocked job of a tenant with a higher priority class may evict running jobs of lower
    classes (lowest class, then highest LAS level, then the most recently started first). At most
    one victim search per scheduling pass. Preempted jobs checkpoint (keep their progress) and
    pay ``restart_overhead_s`` when they restart; jobs killed by a node failure roll back to their
    last periodic checkpoint (every ``checkpoint_interval_s`` of progress).

Semantics shared with :func:`simulate_reference`
    Events at the same instant are applied together (completions and LAS demotions, then
    arrivals), followed by one scheduling pass. Node failures and repairs happen after the job
    events of their instant and are followed by their own pass.

Every kernel has a plain-Python reference in this module (:func:`select_nodes_reference`,
:func:`simulate_reference`), and the property tests check that they agree.
"""

from __future__ import annotations

import heapq
import math
from collections import namedtuple

import numpy as np
from numba import njit

# Policies and placement modes.
FIFO, SJF, EASY, LAS, FAIR = 0, 1, 2, 3, 4
CONSOLIDATED, SPREAD = 0, 1
POLICY_CODES = {"fifo": FIFO, "sjf": SJF, "easy": EASY, "las": LAS, "fair": FAIR}
PLACEMENT_CODES = {"consolidated": CONSOLIDATED, "spread": SPREAD}

# Job status.
FUTURE, WAITING, RUNNING, DONE, REJECTED = 0, 1, 2, 3, 4
# Event kinds (order matters for ties: completions before demotions).
EV_COMPLETE, EV_DEMOTE = 0, 1
# How a run segment ends; also the kinds of log records (plus nodes leaving and joining service).
LOG_START, LOG_COMPLETE, LOG_PREEMPT, LOG_FAIL, LOG_NODE_DOWN, LOG_NODE_UP = 0, 1, 2, 3, 4, 5

# Scalars: SchedState.iv (integers) and SchedState.fv (floats) hold parameters then counters.
IV_POLICY, IV_PLACEMENT, IV_GPN, IV_NLEVELS, IV_PREEMPT, IV_DEPTH = 0, 1, 2, 3, 4, 5
IV_NTENANTS, IV_NNODES, IV_NPRIO, IV_NBINS, IV_LOGCAP = 6, 7, 8, 9, 10
IV_NEXT_ARRIVAL, IV_HEAP, IV_NRUN, IV_POOL_FREE, IV_LOG = 11, 12, 13, 14, 15
IV_RESV_HEAD, IV_RESV_VALID = 16, 17
IV_RESV_DIRTY, IV_NWAIT, IV_WAIT_GPUS, IV_ALLOC, IV_UP_GPUS, IV_SJF, IV_NDONE = 18, 19, 20, 21, 22, 23, 24
IV_LOG_OVERFLOW, IV_EVENTS, IV_PASSES, IV_PREEMPTIONS = 25, 26, 27, 28
N_IV = 29
FV_OVERHEAD, FV_CKPT, FV_BF_INTERVAL, FV_BIN_W = 0, 1, 2, 3
FV_NOW, FV_LAST, FV_SHADOW, FV_RESV_TIME = 4, 5, 6, 7
FV_THRESHOLDS = 8  # LAS thresholds (GPU-seconds) from here on
# Per-job float columns (SchedState.jf) and integer columns (SchedState.ji).
JF_SUBMIT, JF_WORK, JF_EST, JF_DONE, JF_ATTAINED, JF_SEG_START, JF_SEG_OVH = 0, 1, 2, 3, 4, 5, 6
JF_EST_END, JF_FIRST_START, JF_END, JF_LOST, JF_RUN, JF_RESERVED, JF_SJF_KEY = 7, 8, 9, 10, 11, 12, 13
N_JF = 14
JI_GPUS, JI_TENANT, JI_TPRIO, JI_STATUS, JI_NPRE, JI_NFAIL, JI_VERSION = 0, 1, 2, 3, 4, 5, 6
JI_LEVEL, JI_ALLOC, JI_QNEXT, JI_QPREV, JI_RUNPOS, JI_HEAP = 7, 8, 9, 10, 11, 12
N_JI = 13
# Per-node columns (SchedState.nodes): free devices, in service, then the jobs on its devices.
ND_FREE, ND_UP, ND_SLOT0 = 0, 1, 2
# Rows of SchedState.counts (nodes per free level) and SchedState.nvec (per-node scratch).
CNT_LEVEL, CNT_SHADOW, CNT_TMP = 0, 1, 2
NV_SHADOW, NV_TMP, NV_SEL_NODE, NV_SEL_CNT, NV_AUX = 0, 1, 2, 3, 4
# Rows of SchedState.tint (queue heads/tails, tenant allocations) and SchedState.tflt.
TI_QHEAD, TI_QTAIL, TI_ALLOC, TI_BLOCKED = 0, 1, 2, 3
TF_SHARE, TF_CAP = 0, 1
# Rows of SchedState.pool: allocation entries (node, devices, next) and the running set.
PL_NODE, PL_CNT, PL_NEXT, PL_RUNNING = 0, 1, 2, 3
# Rows of SchedState.evi (event heap, with times in SchedState.evt).
EVI_KIND, EVI_JOB, EVI_VER = 0, 1, 2
# Rows of SchedState.bins: time integrals (value x seconds) per bin.
B_ALLOC, B_QJOBS, B_QGPUS, B_UP, B_FREE, B_FRAG = 0, 1, 2, 3, 4, 5
N_B = 6
# Rows of SchedState.logi (segment log, with times in SchedState.logt).
LG_JOB, LG_KIND, LG_NODE, LG_CNT = 0, 1, 2, 3
# Rows of SchedState.sci (integer scratch over running jobs); SchedState.scf holds sort keys.
SC_CAND, SC_ORDER, SC_BUF = 0, 1, 2

# Few, large arrays rather than many small ones: Numba passes a named tuple field by field, and
# compile time grows steeply with the number of fields.
SchedState = namedtuple(
    "SchedState",
    ["iv", "fv", "jf", "ji", "nodes", "level_bits", "counts", "nvec", "tint", "tflt", "held",
     "pool", "evt", "evi", "bins", "bin_tenant", "logt", "logi", "sci", "scf"],
)
# ---------------------------------------------------------------------------------------------
# Node levels: one bitset per number of free devices, so that "lowest-indexed node with exactly
# L free devices" is a scan over n_nodes/64 words instead of over the nodes.
# ---------------------------------------------------------------------------------------------


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
def _bits_move(bits, count, n, old_level, new_level):
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
            _bits_move(bits, count, n, -1, free[n])
    return select_nodes(bits, count, gpn, mode, g, out_nodes, out_counts)


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


# ---------------------------------------------------------------------------------------------
# State allocation (plain NumPy).
# ---------------------------------------------------------------------------------------------


def new_state(
    submit_s: np.ndarray,
    work_s: np.ndarray,
    est_s: np.ndarray,
    gpus: np.ndarray,
    tenant: np.ndarray,
    tprio: np.ndarray,
    *,
    n_nodes: int,
    gpus_per_node: int = 8,
    policy: int = FIFO,
    placement: int = CONSOLIDATED,
    tenant_share: np.ndarray | None = None,
    tenant_cap_gpus: np.ndarray | None = None,
    las_thresholds_gpu_s: np.ndarray | None = None,
    preempt_priority: bool = False,
    restart_overhead_s: float = 0.0,
    checkpoint_interval_s: float = 0.0,
    backfill_depth: int = 256,
    backfill_interval_s: float = 0.0,
    bin_width_s: float = 3600.0,
    n_bins: int = 1,
    nodes_up: np.ndarray | None = None,
    rejected: np.ndarray | None = None,
    log_capacity: int = 0,
) -> SchedState:
    """Allocate the arrays of a cluster simulation.

    Parameters
    ----------
    submit_s, work_s, est_s
        Per job, sorted by ``submit_s``: submission time (s), work (s of run time on a full
        allocation) and the user's estimate (s; must be ``>= work_s``, as a time limit is; used
        by SJF and EASY).
    gpus, tenant, tprio
        Devices requested, tenant index and the tenant's priority class (0 lowest).
    n_nodes, gpus_per_node
        Cluster shape.
    tenant_share, tenant_cap_gpus
        Fair-share weights (> 0) and hard caps in devices (FAIR only).
    las_thresholds_gpu_s
        Increasing attained-service thresholds in GPU-seconds; ``len + 1`` LAS levels.
    nodes_up
        Which nodes are in service at time 0 (others can join later through
        :func:`repair_node`, which is how the SimPy model commissions a build phase).
    rejected
        Jobs refused by admission; they never enter the queue.
    bin_width_s, n_bins
        Resolution (s) and length of the time-binned integrals.
    log_capacity
        Rows of the optional segment log (0: no log).
    """
    n_jobs = len(submit_s)
    gpn = int(gpus_per_node)
    n_tenants = max(int(np.max(tenant)) + 1 if n_jobs else 1,
                    len(tenant_share) if tenant_share is not None else 1)
    thresholds = np.zeros(0) if las_thresholds_gpu_s is None else np.asarray(las_thresholds_gpu_s, np.float64)
    n_levels = len(thresholds) + 1
    n_prio = int(np.max(tprio)) + 1 if n_jobs else 1
    n_lists = {FIFO: 1, SJF: 1, EASY: 1, LAS: n_levels, FAIR: n_tenants}[policy]
    slots = n_nodes * gpn + 1
    # live events are at most two per running job (completion, LAS demotion); stale ones are
    # compacted away when the heap is full, so twice that bound is room enough
    heap_cap = 4 * slots + 64

    iv = np.zeros(N_IV, np.int64)
    iv[IV_POLICY], iv[IV_PLACEMENT], iv[IV_GPN], iv[IV_NLEVELS] = policy, placement, gpn, n_levels
    iv[IV_PREEMPT], iv[IV_DEPTH] = int(preempt_priority), backfill_depth
    iv[IV_NTENANTS], iv[IV_NNODES] = n_tenants, n_nodes
    iv[IV_NPRIO], iv[IV_NBINS], iv[IV_LOGCAP] = n_prio, n_bins, log_capacity
    iv[IV_RESV_HEAD] = -1
    fv = np.zeros(FV_THRESHOLDS + len(thresholds))
    fv[FV_OVERHEAD], fv[FV_CKPT], fv[FV_BF_INTERVAL], fv[FV_BIN_W] = (
        restart_overhead_s, checkpoint_interval_s, backfill_interval_s, bin_width_s)
    fv[FV_SHADOW] = np.inf
    fv[FV_THRESHOLDS:] = thresholds

    jf = np.zeros((n_jobs, N_JF))
    jf[:, JF_SUBMIT] = submit_s
    jf[:, JF_WORK] = work_s
    jf[:, JF_EST] = est_s
    jf[:, JF_FIRST_START] = np.nan
    jf[:, JF_END] = np.nan
    jf[:, JF_RESERVED] = np.nan
    ji = np.zeros((n_jobs, N_JI), np.int64)
    ji[:, JI_GPUS] = gpus
    ji[:, JI_TENANT] = tenant
    ji[:, JI_TPRIO] = tprio
    ji[:, JI_ALLOC] = -1
    ji[:, JI_QNEXT] = -1
    ji[:, JI_QPREV] = -1
    ji[:, JI_RUNPOS] = -1
    if rejected is not None:
        ji[np.asarray(rejected, bool), JI_STATUS] = REJECTED

    up = np.ones(n_nodes, bool) if nodes_up is None else np.asarray(nodes_up, bool)
    nodes = np.full((n_nodes, ND_SLOT0 + gpn), -1, np.int64)
    nodes[:, ND_FREE] = 0
    nodes[:, ND_UP] = up
    level_bits = np.zeros((gpn + 1, max((n_nodes + 63) // 64, 1)), np.uint64)
    counts = np.zeros((3, gpn + 1), np.int64)
    for n in np.flatnonzero(up):
        nodes[n, ND_FREE] = gpn
        level_bits[gpn, n >> 6] |= np.uint64(1) << np.uint64(n & 63)
        counts[CNT_LEVEL, gpn] += 1
    iv[IV_UP_GPUS] = int(up.sum()) * gpn

    tint = np.full((4, max(n_lists, n_tenants)), -1, np.int64)
    tint[TI_ALLOC] = 0
    tint[TI_BLOCKED] = 0
    tflt = np.ones((2, n_tenants))
    if tenant_share is not None:
        tflt[TF_SHARE] = tenant_share
    tflt[TF_CAP] = np.inf if tenant_cap_gpus is None else tenant_cap_gpus
    pool = np.zeros((4, slots), np.int64)
    pool[PL_NEXT] = np.arange(1, slots + 1)
    pool[PL_NEXT, -1] = -1
    logcap = max(int(log_capacity), 1)
    return SchedState(
        iv=iv, fv=fv, jf=jf, ji=ji, nodes=nodes, level_bits=level_bits, counts=counts,
        # per-node scratch; also holds the (at most gpn) victims of a node failure
        nvec=np.zeros((5, max(n_nodes + 1, gpn)), np.int64), tint=tint, tflt=tflt,
        held=np.zeros((n_prio, n_levels), np.int64), pool=pool,
        evt=np.zeros(heap_cap), evi=np.zeros((3, heap_cap), np.int64),
        bins=np.zeros((N_B, n_bins)), bin_tenant=np.zeros((n_tenants, n_bins)),
        logt=np.zeros(logcap), logi=np.zeros((4, logcap), np.int64),
        sci=np.zeros((3, slots), np.int64), scf=np.zeros((slots, 4)),
    )


# ---------------------------------------------------------------------------------------------
# Small data structures: free-device levels, queues, heaps, running set, log.
# ---------------------------------------------------------------------------------------------


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _lex_less(keys, a, b):
    for c in range(keys.shape[1]):
        if keys[a, c] != keys[b, c]:
            return keys[a, c] < keys[b, c]
    return False


@njit(cache=True, _nrt=False)
def lex_argsort(keys, n, order, buffer):
    """Stable order of the first ``n`` rows of ``keys`` (lexicographic), written to ``order``.

    A bottom-up merge sort into caller-provided buffers: no allocation (so it runs without
    Numba's reference counting), and one routine for every composite key instead of a chain of
    ``np.argsort`` calls, each of which costs seconds of compile time.
    """
    for i in range(n):
        order[i] = i
    src = order
    dst = buffer
    in_order = True
    width = 1
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i = lo
            k = mid
            out = lo
            while i < mid and k < hi:
                if _lex_less(keys, src[k], src[i]):
                    dst[out] = src[k]
                    k += 1
                else:
                    dst[out] = src[i]
                    i += 1
                out += 1
            while i < mid:
                dst[out] = src[i]
                i += 1
                out += 1
            while k < hi:
                dst[out] = src[k]
                k += 1
                out += 1
        src, dst = dst, src
        in_order = not in_order
        width *= 2
    if not in_order:
        for i in range(n):
            order[i] = src[i]


def lex_argsort_reference(keys, n: int) -> list[int]:
    """Plain-Python twin of :func:`lex_argsort`: the stable lexicographic order of the rows."""
    return sorted(range(n), key=lambda i: (tuple(float(v) for v in keys[i]), i))


def can_place_reference(free, up, gpn: int, g: int) -> bool:
    """Plain-Python twin of :func:`can_place`, from the free-device vector itself."""
    return select_nodes_reference(free, up, gpn, CONSOLIDATED, g) is not None


# Hot helpers take only the arrays they touch: a call that passes the whole state tuple costs
# about 200 ns (its ~150 words are copied), more than most of these helpers do.


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _set_free(nodes, bits, count, n, value):
    """Set node ``n``'s free devices, keeping the level bitsets in step (in-service nodes only)."""
    if nodes[n, ND_UP]:
        _bits_move(bits, count, n, nodes[n, ND_FREE], value)
    nodes[n, ND_FREE] = value


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _free_total(count, gpn):
    total = 0
    for level in range(1, gpn + 1):
        total += level * count[level]
    return total


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _list_of(iv, ji, j):
    policy = iv[IV_POLICY]
    if policy == LAS:
        return ji[j, JI_LEVEL]
    if policy == FAIR:
        return ji[j, JI_TENANT]
    return 0


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _q_insert(tint, ji, lst, j):
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
def _q_remove(tint, ji, lst, j):
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
def _sjf_less(jf, a, b):
    ka = jf[a, JF_SJF_KEY]
    kb = jf[b, JF_SJF_KEY]
    return ka < kb or (ka == kb and a < b)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _sjf_sift_down(jf, ji, i, size):
    # the SJF heap lives in column JI_HEAP of ji: row i holds the i-th heap entry, not job i
    while True:
        left = 2 * i + 1
        smallest = i
        if left < size and _sjf_less(jf, ji[left, JI_HEAP], ji[smallest, JI_HEAP]):
            smallest = left
        if left + 1 < size and _sjf_less(jf, ji[left + 1, JI_HEAP], ji[smallest, JI_HEAP]):
            smallest = left + 1
        if smallest == i:
            return
        ji[i, JI_HEAP], ji[smallest, JI_HEAP] = ji[smallest, JI_HEAP], ji[i, JI_HEAP]
        i = smallest


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _sjf_push(iv, jf, ji, j):
    i = iv[IV_SJF]
    iv[IV_SJF] = i + 1
    ji[i, JI_HEAP] = j
    while i > 0:
        parent = (i - 1) // 2
        if _sjf_less(jf, ji[i, JI_HEAP], ji[parent, JI_HEAP]):
            ji[i, JI_HEAP], ji[parent, JI_HEAP] = ji[parent, JI_HEAP], ji[i, JI_HEAP]
            i = parent
        else:
            break


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _sjf_pop(iv, jf, ji):
    size = iv[IV_SJF] - 1
    top = ji[0, JI_HEAP]
    iv[IV_SJF] = size
    if size > 0:
        ji[0, JI_HEAP] = ji[size, JI_HEAP]
        _sjf_sift_down(jf, ji, 0, size)
    return top


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _sjf_remove_job(iv, jf, ji, j):
    """Remove job ``j`` from the SJF heap wherever it is (after a preemption reshuffled it)."""
    size = iv[IV_SJF]
    keep = 0
    for i in range(size):
        if ji[i, JI_HEAP] != j:
            ji[keep, JI_HEAP] = ji[i, JI_HEAP]
            keep += 1
    iv[IV_SJF] = keep
    for i in range(keep // 2 - 1, -1, -1):
        _sjf_sift_down(jf, ji, i, keep)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _ev_sift_down(evt, evi, i, size):
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
def _ev_compact(iv, evt, evi, ji):
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
        _ev_sift_down(evt, evi, i, kept)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _ev_push(iv, evt, evi, ji, time_s, kind, j):
    if iv[IV_HEAP] == evt.shape[0]:
        _ev_compact(iv, evt, evi, ji)
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
def _ev_pop(iv, evt, evi):
    size = iv[IV_HEAP] - 1
    iv[IV_HEAP] = size
    if size > 0:
        evt[0] = evt[size]
        for r in range(3):
            evi[r, 0] = evi[r, size]
        _ev_sift_down(evt, evi, 0, size)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _ev_peek_valid(iv, evt, evi, ji):
    """Time of the earliest live event (discarding stale ones), or +inf."""
    while iv[IV_HEAP] > 0:
        if evi[EVI_VER, 0] == ji[evi[EVI_JOB, 0], JI_VERSION]:
            return evt[0]
        _ev_pop(iv, evt, evi)
    return np.inf


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _log(iv, logt, logi, time_s, j, kind, node, cnt):
    i = iv[IV_LOG]
    if i >= iv[IV_LOGCAP]:
        iv[IV_LOG_OVERFLOW] = 1
        return
    logt[i] = time_s
    logi[LG_JOB, i] = j
    logi[LG_KIND, i] = kind
    logi[LG_NODE, i] = node
    logi[LG_CNT, i] = cnt
    iv[IV_LOG] = i + 1


# ---------------------------------------------------------------------------------------------
# Time integrals.
# ---------------------------------------------------------------------------------------------


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _integrate(iv, fv, counts, tint, bins, bin_tenant, t):
    """Add the piecewise-constant state over [last, t] to the time bins."""
    last = fv[FV_LAST]
    if t <= last:
        return
    width = fv[FV_BIN_W]
    n_bins = iv[IV_NBINS]
    end = min(t, width * n_bins)
    a = last
    b = int(a // width)
    if a < end and b < n_bins:
        gpn = iv[IV_GPN]
        alloc = float(iv[IV_ALLOC])
        queue_jobs = float(iv[IV_NWAIT])
        queue_gpus = float(iv[IV_WAIT_GPUS])
        up = float(iv[IV_UP_GPUS])
        free_total = float(_free_total(counts[CNT_LEVEL], gpn))
        frag = free_total - gpn * counts[CNT_LEVEL, gpn]
        while a < end and b < n_bins:
            edge = (b + 1) * width
            if edge <= a:  # rounding put ``a`` on the bin's upper edge
                b += 1
                continue
            stop = end if end < edge else edge
            dt = stop - a
            bins[B_ALLOC, b] += alloc * dt
            bins[B_QJOBS, b] += queue_jobs * dt
            bins[B_QGPUS, b] += queue_gpus * dt
            bins[B_UP, b] += up * dt
            bins[B_FREE, b] += free_total * dt
            bins[B_FRAG, b] += frag * dt
            for tn in range(bin_tenant.shape[0]):
                if tint[TI_ALLOC, tn] != 0:
                    bin_tenant[tn, b] += tint[TI_ALLOC, tn] * dt
            a = stop
            b += 1
    fv[FV_LAST] = t


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _integrate_state(st, t):
    _integrate(st.iv, st.fv, st.counts, st.tint, st.bins, st.bin_tenant, t)


# ---------------------------------------------------------------------------------------------
# Starting and stopping run segments.
# ---------------------------------------------------------------------------------------------


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _enqueue(iv, jf, ji, tint, j):
    ji[j, JI_STATUS] = WAITING
    iv[IV_NWAIT] += 1
    iv[IV_WAIT_GPUS] += ji[j, JI_GPUS]
    if iv[IV_POLICY] == SJF:
        remaining = jf[j, JF_EST] - jf[j, JF_DONE]
        jf[j, JF_SJF_KEY] = remaining if remaining > 0.0 else 0.0
        _sjf_push(iv, jf, ji, j)
    else:
        _q_insert(tint, ji, _list_of(iv, ji, j), j)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _push_demotion(iv, fv, jf, ji, evt, evi, j):
    level = ji[j, JI_LEVEL]
    if level < iv[IV_NLEVELS] - 1:
        start = jf[j, JF_SEG_START]
        cross = start + (fv[FV_THRESHOLDS + level] - jf[j, JF_ATTAINED]) / ji[j, JI_GPUS]
        if cross < start:
            cross = start
        _ev_push(iv, evt, evi, ji, cross, EV_DEMOTE, j)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _start_with(st, j, t, m, sel_nodes, sel_counts):
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
        _set_free(nodes, st.level_bits, count, n, nodes[n, ND_FREE] - c)
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
            _log(iv, st.logt, st.logi, t, j, LOG_START, n, c)
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
    _ev_push(iv, st.evt, st.evi, ji, t + overhead + (jf[j, JF_WORK] - jf[j, JF_DONE]), EV_COMPLETE, j)
    if iv[IV_POLICY] == LAS:
        _push_demotion(iv, st.fv, jf, ji, st.evt, st.evi, j)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _start(st, j, t):
    sel_nodes = st.nvec[NV_SEL_NODE]
    sel_counts = st.nvec[NV_SEL_CNT]
    m = select_nodes(st.level_bits, st.counts[CNT_LEVEL], st.iv[IV_GPN], st.iv[IV_PLACEMENT],
                     st.ji[j, JI_GPUS], sel_nodes, sel_counts)
    _start_with(st, j, t, m, sel_nodes, sel_counts)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _stop(st, j, t, kind):
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
        _set_free(nodes, st.level_bits, count, n, nodes[n, ND_FREE] + pool[PL_CNT, e])
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
        _log(iv, st.logt, st.logi, t, j, kind, -1, g)
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
    _enqueue(iv, jf, ji, st.tint, j)


# ---------------------------------------------------------------------------------------------
# Preemption and EASY reservations.
# ---------------------------------------------------------------------------------------------


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _eligible(iv, ji, victim, j):
    """Whether running job ``victim`` may be preempted for waiting job ``j``."""
    if iv[IV_PREEMPT] != 0 and ji[victim, JI_TPRIO] < ji[j, JI_TPRIO]:
        return True
    return (iv[IV_POLICY] == LAS and ji[victim, JI_TPRIO] == ji[j, JI_TPRIO]
            and ji[victim, JI_LEVEL] > ji[j, JI_LEVEL])


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _release_into(ji, pool, v, vector, count, sign):
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
def _try_preempt(st, j, t):
    """Evict lower-priority running jobs so that ``j`` fits: 0 not applicable, 1 done, 2 failed."""
    iv = st.iv
    ji = st.ji
    policy = iv[IV_POLICY]
    pp = iv[IV_PREEMPT] != 0
    if not pp and policy != LAS:
        return 0
    gpn = iv[IV_GPN]
    g = ji[j, JI_GPUS]
    prio = ji[j, JI_TPRIO]
    available = _free_total(st.counts[CNT_LEVEL], gpn)
    for p in range(st.held.shape[0]):
        for lv in range(st.held.shape[1]):
            if (pp and p < prio) or (policy == LAS and p == prio and lv > ji[j, JI_LEVEL]):
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
        _release_into(ji, st.pool, cand[order[i]], vector, count, 1)
        chosen = i + 1
        if can_place(count, g, gpn):
            fits = True
            break
    if not fits:
        return 2
    for i in range(chosen):
        _stop(st, cand[order[i]], t, LOG_PREEMPT)
    return 1


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
                _release_into(st.ji, st.pool, st.pool[PL_RUNNING, order[i]], vector, count, 1)
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
def _backfill(st, head, t):
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
        if _free_total(level_count, gpn) == 0:
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
                _q_remove(st.tint, ji, 0, j)
                _start_with(st, j, t, m, sel_nodes, sel_counts)
        j = nxt


# ---------------------------------------------------------------------------------------------
# Scheduling passes.
# ---------------------------------------------------------------------------------------------


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
            _q_remove(tint, ji, 0, j)
            _start(st, j, t)
            continue
        if not attempted:
            outcome = _try_preempt(st, j, t)
            if outcome != 0:
                attempted = True
            if outcome == 1:
                _q_remove(tint, ji, 0, j)
                _start(st, j, t)
                continue
        break
    if st.iv[IV_POLICY] == EASY:
        _backfill(st, tint[TI_QHEAD, 0], t)


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
            _sjf_pop(iv, st.jf, ji)
            _start(st, j, t)
            continue
        if not attempted:
            outcome = _try_preempt(st, j, t)
            if outcome != 0:
                attempted = True
            if outcome == 1:
                _sjf_remove_job(iv, st.jf, ji, j)
                _start(st, j, t)
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
                if attempted and _free_total(count, gpn) == 0:
                    return
                nxt = ji[j, JI_QNEXT]
                examined += 1
                if can_place(count, ji[j, JI_GPUS], gpn):
                    _q_remove(tint, ji, lvl, j)
                    _start(st, j, t)
                elif not attempted:
                    outcome = _try_preempt(st, j, t)
                    if outcome != 0:
                        attempted = True
                    if outcome == 1:
                        _q_remove(tint, ji, lvl, j)
                        _start(st, j, t)
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
            _q_remove(tint, ji, best, j)
            _start(st, j, t)
            continue
        if not attempted:
            outcome = _try_preempt(st, j, t)
            if outcome != 0:
                attempted = True
            if outcome == 1:
                _q_remove(tint, ji, best, j)
                _start(st, j, t)
                continue
        blocked[best] = 1
        if attempted and _free_total(count, gpn) == 0:
            return


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _schedule(st, t):
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


# ---------------------------------------------------------------------------------------------
# The event loop and the external operations the SimPy model calls.
# ---------------------------------------------------------------------------------------------


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
        t_event = _ev_peek_valid(iv, evt, evi, ji)
        t = t_arrival if t_arrival < t_event else t_event
        if t > t_until or t == np.inf:
            break
        _integrate(iv, st.fv, st.counts, st.tint, st.bins, st.bin_tenant, t)
        st.fv[FV_NOW] = t
        while _ev_peek_valid(iv, evt, evi, ji) == t:
            kind = evi[EVI_KIND, 0]
            j = evi[EVI_JOB, 0]
            _ev_pop(iv, evt, evi)
            iv[IV_EVENTS] += 1
            if kind == EV_COMPLETE:
                _stop(st, j, t, LOG_COMPLETE)
            else:
                g = ji[j, JI_GPUS]
                st.held[ji[j, JI_TPRIO], ji[j, JI_LEVEL]] -= g
                ji[j, JI_LEVEL] += 1
                st.held[ji[j, JI_TPRIO], ji[j, JI_LEVEL]] += g
                _push_demotion(iv, st.fv, jf, ji, evt, evi, j)
        nxt = iv[IV_NEXT_ARRIVAL]
        while nxt < n_jobs and (ji[nxt, JI_STATUS] == REJECTED or jf[nxt, JF_SUBMIT] == t):
            if ji[nxt, JI_STATUS] != REJECTED:
                _enqueue(iv, jf, ji, st.tint, nxt)
                iv[IV_EVENTS] += 1
            nxt += 1
        iv[IV_NEXT_ARRIVAL] = nxt
        _schedule(st, t)
        instants += 1
    if t_until != np.inf and t_until > st.fv[FV_NOW]:
        _integrate(iv, st.fv, st.counts, st.tint, st.bins, st.bin_tenant, t_until)
        st.fv[FV_NOW] = t_until
    return instants


@njit(cache=True, _nrt=False)
def fail_node(st, n, t):
    """Node ``n`` fails at ``t``: its jobs roll back to their last checkpoint and requeue."""
    if st.nodes[n, ND_UP] == 0:
        return 0
    _integrate_state(st, t)
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
        _stop(st, victims[i], t, LOG_FAIL)
    _bits_move(st.level_bits, st.counts[CNT_LEVEL], n, st.nodes[n, ND_FREE], -1)
    st.nodes[n, ND_UP] = 0
    st.iv[IV_UP_GPUS] -= gpn
    st.iv[IV_RESV_VALID] = 0
    if st.iv[IV_LOGCAP] > 0:
        _log(st.iv, st.logt, st.logi, t, -1, LOG_NODE_DOWN, n, gpn)
    _schedule(st, t)
    return killed


@njit(cache=True, _nrt=False)
def repair_node(st, n, t):
    """Node ``n`` (back) in service at ``t`` with all devices free; also commissions new nodes."""
    if st.nodes[n, ND_UP] != 0:
        return 0
    _integrate_state(st, t)
    st.fv[FV_NOW] = t
    gpn = st.iv[IV_GPN]
    st.nodes[n, ND_UP] = 1
    st.nodes[n, ND_FREE] = gpn
    _bits_move(st.level_bits, st.counts[CNT_LEVEL], n, -1, gpn)
    st.iv[IV_UP_GPUS] += gpn
    st.iv[IV_RESV_VALID] = 0
    if st.iv[IV_LOGCAP] > 0:
        _log(st.iv, st.logt, st.logi, t, -1, LOG_NODE_UP, n, gpn)
    _schedule(st, t)
    return 1


# ---------------------------------------------------------------------------------------------
# The plain-Python reference.
# ---------------------------------------------------------------------------------------------


def simulate_reference(
    submit_s, work_s, est_s, gpus, tenant, tprio, *,
    n_nodes: int, gpus_per_node: int = 8, policy: int = FIFO, placement: int = CONSOLIDATED,
    tenant_share=None, tenant_cap_gpus=None, las_thresholds_gpu_s=None, preempt_priority: bool = False,
    restart_overhead_s: float = 0.0, checkpoint_interval_s: float = 0.0, backfill_depth: int = 256,
    backfill_interval_s: float = 0.0, nodes_up=None, rejected=None, node_events=(),
    until_s: float = math.inf,
) -> dict:
    """Plain-Python twin of :func:`advance`, :func:`fail_node` and :func:`repair_node`.

    Written independently and straightforwardly (lists, sorting every pass, ``heapq``) with the
    same rules and tie-breaks, so that the property tests can compare every job's timeline.
    ``node_events`` is a sequence of ``(time_s, node, "fail" | "repair")``, each applied after the
    job events of its instant. Returns per-job arrays and the segment log.
    """
    gpn = gpus_per_node
    n_jobs = len(submit_s)
    submit = [float(x) for x in submit_s]
    work = [float(x) for x in work_s]
    est = [float(x) for x in est_s]
    g_of = [int(x) for x in gpus]
    ten = [int(x) for x in tenant]
    pri = [int(x) for x in tprio]
    thresholds = [] if las_thresholds_gpu_s is None else [float(x) for x in las_thresholds_gpu_s]
    n_levels = len(thresholds) + 1
    n_tenants = max(max(ten) + 1 if ten else 1, len(tenant_share) if tenant_share is not None else 1)
    share = [1.0] * n_tenants if tenant_share is None else [float(x) for x in tenant_share]
    caps = [math.inf] * n_tenants if tenant_cap_gpus is None else [float(x) for x in tenant_cap_gpus]
    up = [True] * n_nodes if nodes_up is None else [bool(x) for x in nodes_up]
    free = [gpn if u else 0 for u in up]
    status = ["future"] * n_jobs
    if rejected is not None:
        for j in range(n_jobs):
            if rejected[j]:
                status[j] = "rejected"
    done = [0.0] * n_jobs
    attained = [0.0] * n_jobs
    seg_start = [0.0] * n_jobs
    seg_overhead = [0.0] * n_jobs
    est_end = [0.0] * n_jobs
    first_start = [math.nan] * n_jobs
    end = [math.nan] * n_jobs
    n_pre = [0] * n_jobs
    n_fail = [0] * n_jobs
    version = [0] * n_jobs
    level = [0] * n_jobs
    lost = [0.0] * n_jobs
    reserved = [math.nan] * n_jobs
    sjf_key = [0.0] * n_jobs
    alloc: dict[int, list[tuple[int, int]]] = {}
    waiting: set[int] = set()
    running: set[int] = set()
    events: list[tuple[float, int, int, int]] = []
    log: list[tuple[float, int, int, int, int]] = []
    resv = {"head": -1, "valid": False, "dirty": False, "time": 0.0, "shadow": math.inf, "free": []}
    pass_state = {"attempted": False}

    def placeable(vector: list[int], g: int) -> bool:
        return select_nodes_reference(vector, up, gpn, placement, g) is not None

    def free_total() -> int:
        return sum(free[n] for n in range(n_nodes) if up[n])

    def enqueue(j: int) -> None:
        status[j] = "waiting"
        waiting.add(j)
        sjf_key[j] = max(est[j] - done[j], 0.0)

    def push_demotion(j: int) -> None:
        if level[j] < n_levels - 1:
            cross = seg_start[j] + (thresholds[level[j]] - attained[j]) / g_of[j]
            heapq.heappush(events, (max(cross, seg_start[j]), EV_DEMOTE, j, version[j]))

    def start(j: int, t: float, allocation: list[tuple[int, int]]) -> None:
        waiting.discard(j)
        for n, c in allocation:
            free[n] -= c
        for n, c in allocation:
            log.append((t, j, LOG_START, n, c))
        alloc[j] = list(allocation)
        running.add(j)
        status[j] = "running"
        overhead = restart_overhead_s if n_pre[j] + n_fail[j] > 0 else 0.0
        seg_start[j] = t
        seg_overhead[j] = overhead
        est_end[j] = t + overhead + max(est[j] - done[j], 0.0)
        if math.isnan(first_start[j]):
            first_start[j] = t
        heapq.heappush(events, (t + overhead + (work[j] - done[j]), EV_COMPLETE, j, version[j]))
        if policy == LAS:
            push_demotion(j)

    def stop(j: int, t: float, kind: int) -> None:
        g = g_of[j]
        for n, c in alloc.pop(j):
            free[n] += c
        running.discard(j)
        version[j] += 1
        dt = t - seg_start[j]
        attained[j] += g * dt
        elapsed = max(dt - seg_overhead[j], 0.0)
        spent = dt if dt < seg_overhead[j] else seg_overhead[j]
        log.append((t, j, kind, -1, g))
        if kind == LOG_COMPLETE:
            done[j] = work[j]
            status[j] = "done"
            end[j] = t
            lost[j] += g * spent
            if t < est_end[j]:
                resv["dirty"] = True
            return
        if kind == LOG_PREEMPT:
            done[j] += elapsed
            lost[j] += g * spent
            n_pre[j] += 1
        else:
            interval = checkpoint_interval_s
            saved = math.floor(elapsed / interval) * interval if interval > 0 else 0.0
            done[j] += saved
            lost[j] += g * (dt - saved)
            n_fail[j] += 1
        resv["valid"] = False
        enqueue(j)

    def eligible(v: int, j: int) -> bool:
        if preempt_priority and pri[v] < pri[j]:
            return True
        return policy == LAS and pri[v] == pri[j] and level[v] > level[j]

    def try_preempt(j: int, t: float) -> int:
        if not preempt_priority and policy != LAS:
            return 0
        victims = [v for v in running if eligible(v, j)]
        if free_total() + sum(g_of[v] for v in victims) < g_of[j]:
            return 0
        victims.sort(key=lambda v: (pri[v], -level[v], -seg_start[v], -v))
        trial = list(free)
        chosen = []
        for v in victims:
            for n, c in alloc[v]:
                trial[n] += c
            chosen.append(v)
            if placeable(trial, g_of[j]):
                for w in chosen:
                    stop(w, t, LOG_PREEMPT)
                return 1
        return 2

    def attempt(j: int, t: float) -> bool:
        """One preemption attempt per pass (not counting ones with nothing to evict)."""
        if pass_state["attempted"]:
            return False
        outcome = try_preempt(j, t)
        if outcome != 0:
            pass_state["attempted"] = True
        return outcome == 1

    def compute_reservation(head: int, t: float) -> None:
        vector = list(free)
        shadow = math.inf
        if placeable(vector, g_of[head]):
            shadow = t
        else:
            order = sorted(running, key=lambda v: (est_end[v], v))
            i = 0
            while i < len(order):
                time_group = est_end[order[i]]
                while i < len(order) and est_end[order[i]] == time_group:
                    for n, c in alloc[order[i]]:
                        vector[n] += c
                    i += 1
                if placeable(vector, g_of[head]):
                    shadow = max(time_group, t)
                    break
        resv.update(head=head, valid=True, dirty=False, time=t, shadow=shadow, free=vector)
        reserved[head] = shadow

    def backfill(head: int, t: float) -> None:
        if (resv["head"] != head or not resv["valid"]
                or (resv["dirty"] and t - resv["time"] >= backfill_interval_s)):
            compute_reservation(head, t)
        shadow_free = resv["free"]
        examined = 0
        for j in sorted(waiting):
            if j <= head:
                continue
            if examined >= backfill_depth or free_total() == 0:
                break
            examined += 1
            allocation = select_nodes_reference(free, up, gpn, placement, g_of[j])
            if allocation is None:
                continue
            overhead = restart_overhead_s if n_pre[j] + n_fail[j] > 0 else 0.0
            if t + overhead + max(est[j] - done[j], 0.0) <= resv["shadow"]:
                start(j, t, allocation)
                continue
            if any(shadow_free[n] < c for n, c in allocation):
                continue
            trial = list(shadow_free)
            for n, c in allocation:
                trial[n] -= c
            if placeable(trial, g_of[head]):
                resv["free"] = shadow_free = trial
                start(j, t, allocation)

    def schedule(t: float) -> None:
        pass_state["attempted"] = False
        if policy in (FIFO, EASY, SJF):
            while waiting:
                if policy == SJF:
                    j = min(waiting, key=lambda k: (sjf_key[k], k))
                else:
                    j = min(waiting)
                allocation = select_nodes_reference(free, up, gpn, placement, g_of[j])
                if allocation is not None:
                    start(j, t, allocation)
                    continue
                if attempt(j, t):
                    start(j, t, select_nodes_reference(free, up, gpn, placement, g_of[j]))
                    continue
                break
            if policy == EASY and waiting:
                backfill(min(waiting), t)
            return
        if policy == LAS:
            examined = 0
            restart = True
            while restart:
                restart = False
                for j in sorted(waiting, key=lambda k: (level[k], k)):
                    if examined >= backfill_depth:
                        break
                    if pass_state["attempted"] and free_total() == 0:
                        return
                    if j not in waiting:
                        continue
                    examined += 1
                    allocation = select_nodes_reference(free, up, gpn, placement, g_of[j])
                    if allocation is not None:
                        start(j, t, allocation)
                    elif attempt(j, t):
                        start(j, t, select_nodes_reference(free, up, gpn, placement, g_of[j]))
                        restart = True
                        break
            return
        blocked = [False] * n_tenants
        tenant_alloc = [0] * n_tenants
        for v in running:
            tenant_alloc[ten[v]] += g_of[v]
        while True:
            heads = {}
            for j in waiting:
                if not blocked[ten[j]] and (ten[j] not in heads or j < heads[ten[j]]):
                    heads[ten[j]] = j
            if not heads:
                return
            best = min(heads, key=lambda tn: (tenant_alloc[tn] / share[tn], tn))
            j = heads[best]
            if tenant_alloc[best] + g_of[j] > caps[best]:
                blocked[best] = True
                continue
            allocation = select_nodes_reference(free, up, gpn, placement, g_of[j])
            if allocation is None and attempt(j, t):
                allocation = select_nodes_reference(free, up, gpn, placement, g_of[j])
                tenant_alloc = [0] * n_tenants
                for v in running:
                    tenant_alloc[ten[v]] += g_of[v]
            if allocation is not None:
                start(j, t, allocation)
                tenant_alloc[best] += g_of[j]
                continue
            blocked[best] = True
            if pass_state["attempted"] and free_total() == 0:
                return

    def next_event_time() -> float:
        while events and events[0][3] != version[events[0][2]]:
            heapq.heappop(events)
        return events[0][0] if events else math.inf

    pending_nodes = sorted(((float(t), i, int(n), kind) for i, (t, n, kind) in enumerate(node_events)))
    arrival = 0
    while True:
        while arrival < n_jobs and status[arrival] == "rejected":
            arrival += 1
        t_job = min(submit[arrival] if arrival < n_jobs else math.inf, next_event_time())
        t_node = pending_nodes[0][0] if pending_nodes else math.inf
        if t_job <= t_node and t_job <= until_s and t_job < math.inf:
            t = t_job
            while next_event_time() == t:
                _, kind, j, _ = heapq.heappop(events)
                if kind == EV_COMPLETE:
                    stop(j, t, LOG_COMPLETE)
                else:
                    level[j] += 1
                    push_demotion(j)
            while arrival < n_jobs and (status[arrival] == "rejected" or submit[arrival] == t):
                if status[arrival] != "rejected":
                    enqueue(arrival)
                arrival += 1
            schedule(t)
        elif t_node <= until_s and t_node < math.inf:
            t, _, n, kind = pending_nodes.pop(0)
            if kind == "fail" and up[n]:
                for j in sorted(j for j in running if any(node == n for node, _ in alloc[j])):
                    stop(j, t, LOG_FAIL)
                up[n] = False
                free[n] = 0
                resv["valid"] = False
                log.append((t, -1, LOG_NODE_DOWN, n, gpn))
                schedule(t)
            elif kind == "repair" and not up[n]:
                up[n] = True
                free[n] = gpn
                resv["valid"] = False
                log.append((t, -1, LOG_NODE_UP, n, gpn))
                schedule(t)
        else:
            break
    return {
        "first_start_s": np.array(first_start), "end_s": np.array(end), "done_s": np.array(done),
        "attained_gpu_s": np.array(attained), "n_preempt": np.array(n_pre), "n_fail": np.array(n_fail),
        "lost_gpu_s": np.array(lost), "reserved_s": np.array(reserved), "level": np.array(level),
        "log": log,
    }
