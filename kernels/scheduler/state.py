"""The scheduler's state: every array of a cluster simulation, bundled in one named tuple.

All state lives in NumPy arrays so that the SimPy model can advance the kernel to a time, hand
control back (to fail a node, record a sample or add capacity) and resume, with results
independent of where it stopped. :mod:`kernels.scheduler.layout` names the rows and columns.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from kernels.scheduler.layout import (
    CNT_LEVEL,
    CONSOLIDATED,
    FV_BF_INTERVAL,
    FV_BIN_W,
    FV_CKPT,
    FV_OVERHEAD,
    FV_SHADOW,
    FV_THRESHOLDS,
    IV_BACKFILL,
    IV_BLOCKING,
    IV_DEPTH,
    IV_GPN,
    IV_LISTS_BY,
    IV_LOGCAP,
    IV_NBINS,
    IV_NLEVELS,
    IV_NLISTS,
    IV_NNODES,
    IV_NPRIO,
    IV_NTENANTS,
    IV_PASS,
    IV_PASS_DEPTH,
    IV_PLACEMENT,
    IV_PREEMPT,
    IV_PREEMPT_LEVELS,
    IV_RESV_HEAD,
    IV_SHORTEST_FIRST,
    IV_UP_GPUS,
    JF_END,
    JF_EST,
    JF_FIRST_START,
    JF_RESERVED,
    JF_SUBMIT,
    JF_WORK,
    JI_ALLOC,
    JI_GPUS,
    JI_LEVEL,
    JI_QNEXT,
    JI_QPREV,
    JI_RUNPOS,
    JI_STATUS,
    JI_TENANT,
    JI_TPRIO,
    LISTS_ONE,
    N_B,
    N_IV,
    N_JF,
    N_JI,
    ND_FREE,
    ND_SLOT0,
    ND_UP,
    PL_NEXT,
    REJECTED,
    TF_CAP,
    TF_SHARE,
    TI_ALLOC,
    TI_BLOCKED,
)
from kernels.scheduler.rules import QueueRules

FIFO_RULES = QueueRules()
"""Strict submission order (the default of :func:`new_state`)."""

# Few, large arrays rather than many small ones: Numba passes a named tuple field by field, and
# compile time grows steeply with the number of fields.
SchedState = namedtuple(
    "SchedState",
    ["iv", "fv", "jf", "ji", "nodes", "level_bits", "counts", "nvec", "tint", "tflt", "held",
     "pool", "evt", "evi", "bins", "bin_tenant", "logt", "logi", "sci", "scf"],
)


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
    rules: QueueRules = FIFO_RULES,
    placement: int = CONSOLIDATED,
    tenant_share: np.ndarray | None = None,
    tenant_cap_gpus: np.ndarray | None = None,
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
    n_nodes, gpus_per_node, placement
        Cluster shape, and ``CONSOLIDATED`` or ``SPREAD`` placement.
    rules
        The scheduling policy as queue rules (its lists, pass, depth, backfilling, LAS levels).
    tenant_share, tenant_cap_gpus
        Fair-share weights (> 0) and hard caps in devices (read by the fair-share pass).
    preempt_priority, restart_overhead_s, checkpoint_interval_s
        Whether higher priority classes may preempt lower ones; reload time (s) of a restarted
        job; checkpoint period (s of progress; 0: none) that a node failure rolls back to.
    backfill_depth, backfill_interval_s
        Jobs examined behind the blocked head, and least time (s) between reservation refreshes.
    nodes_up
        Which nodes are in service at time 0 (others can join later through
        :func:`kernels.scheduler.event_loop.repair_node`, which is how the SimPy model
        commissions a build phase).
    rejected
        Jobs refused by admission; they never enter the queue.
    bin_width_s, n_bins
        Resolution (s) and length of the time-binned integrals.
    log_capacity
        Rows of the optional segment log (0: no log).
    """
    gpn = int(gpus_per_node)
    thresholds = (np.zeros(0) if rules.las_thresholds_gpu_s is None
                  else np.asarray(rules.las_thresholds_gpu_s, np.float64))
    n_levels = len(thresholds) + 1
    n_tenants, n_prio = _tenants_and_classes(tenant, tprio, tenant_share)
    n_lists = {LISTS_ONE: 1, JI_LEVEL: n_levels, JI_TENANT: n_tenants}[rules.lists_by]
    iv = _int_parameters(rules, n_lists, placement, gpn, n_levels, n_nodes, n_tenants, n_prio)
    iv[IV_PREEMPT], iv[IV_DEPTH] = int(preempt_priority), backfill_depth
    iv[IV_NBINS], iv[IV_LOGCAP] = n_bins, log_capacity
    fv = _float_parameters(restart_overhead_s, checkpoint_interval_s, backfill_interval_s, bin_width_s, thresholds)
    jf, ji = _job_arrays(submit_s, work_s, est_s, gpus, tenant, tprio, rejected)
    up = np.ones(n_nodes, bool) if nodes_up is None else np.asarray(nodes_up, bool)
    nodes, level_bits, counts = _node_arrays(up, gpn)
    iv[IV_UP_GPUS] = int(up.sum()) * gpn
    tint, tflt = _tenant_arrays(max(n_lists, n_tenants), n_tenants, tenant_share, tenant_cap_gpus)
    return SchedState(
        iv=iv, fv=fv, jf=jf, ji=ji, nodes=nodes, level_bits=level_bits, counts=counts, tint=tint, tflt=tflt,
        held=np.zeros((n_prio, n_levels), np.int64), bins=np.zeros((N_B, n_bins)),
        bin_tenant=np.zeros((n_tenants, n_bins)), **_buffers(n_nodes, gpn, log_capacity),
    )


def _tenants_and_classes(
    tenant: np.ndarray, tprio: np.ndarray, tenant_share: np.ndarray | None
) -> tuple[int, int]:
    """How many tenants (the jobs' or the shares', whichever is more) and priority classes."""
    n_jobs = len(tenant)
    n_tenants = max(int(np.max(tenant)) + 1 if n_jobs else 1,
                    len(tenant_share) if tenant_share is not None else 1)
    n_prio = int(np.max(tprio)) + 1 if n_jobs else 1
    return n_tenants, n_prio


def _buffers(n_nodes: int, gpn: int, log_capacity: int) -> dict[str, np.ndarray]:
    """The arrays sized by the cluster: allocation pool, event heap, log and scratch space."""
    slots = n_nodes * gpn + 1
    # live events are at most two per running job (completion, LAS demotion); stale ones are
    # compacted away when the heap is full, so twice that bound is room enough
    heap_cap = 4 * slots + 64
    logcap = max(int(log_capacity), 1)
    return {
        # per-node scratch; also holds the (at most gpn) victims of a node failure
        "nvec": np.zeros((5, max(n_nodes + 1, gpn)), np.int64),
        "pool": _allocation_pool(slots),
        "evt": np.zeros(heap_cap),
        "evi": np.zeros((3, heap_cap), np.int64),
        "logt": np.zeros(logcap),
        "logi": np.zeros((4, logcap), np.int64),
        "sci": np.zeros((3, slots), np.int64),
        "scf": np.zeros((slots, 4)),
    }


def _int_parameters(
    rules: QueueRules,
    n_lists: int,
    placement: int,
    gpn: int,
    n_levels: int,
    n_nodes: int,
    n_tenants: int,
    n_prio: int,
) -> np.ndarray:
    """The integer scalars: the queue rules and the cluster's shape; counters at zero."""
    iv = np.zeros(N_IV, np.int64)
    iv[IV_PASS], iv[IV_LISTS_BY], iv[IV_NLISTS] = rules.scheduling_pass, rules.lists_by, n_lists
    iv[IV_SHORTEST_FIRST], iv[IV_BLOCKING] = int(rules.shortest_first), int(rules.blocking)
    iv[IV_PASS_DEPTH], iv[IV_BACKFILL] = rules.pass_depth, int(rules.backfill)
    iv[IV_PREEMPT_LEVELS] = int(rules.preempt_levels)
    iv[IV_PLACEMENT], iv[IV_GPN], iv[IV_NLEVELS] = placement, gpn, n_levels
    iv[IV_NTENANTS], iv[IV_NNODES], iv[IV_NPRIO] = n_tenants, n_nodes, n_prio
    iv[IV_RESV_HEAD] = -1
    return iv


def _float_parameters(
    restart_overhead_s: float,
    checkpoint_interval_s: float,
    backfill_interval_s: float,
    bin_width_s: float,
    thresholds_gpu_s: np.ndarray,
) -> np.ndarray:
    """The float scalars: times (s) first, then the LAS thresholds (GPU-s); no reservation yet."""
    fv = np.zeros(FV_THRESHOLDS + len(thresholds_gpu_s))
    fv[FV_OVERHEAD], fv[FV_CKPT], fv[FV_BF_INTERVAL], fv[FV_BIN_W] = (
        restart_overhead_s, checkpoint_interval_s, backfill_interval_s, bin_width_s)
    fv[FV_SHADOW] = np.inf
    fv[FV_THRESHOLDS:] = thresholds_gpu_s
    return fv


def _job_arrays(
    submit_s: np.ndarray,
    work_s: np.ndarray,
    est_s: np.ndarray,
    gpus: np.ndarray,
    tenant: np.ndarray,
    tprio: np.ndarray,
    rejected: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-job float and integer columns: inputs set, times unknown (NaN), links empty (-1)."""
    n_jobs = len(submit_s)
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
    return jf, ji


def _node_arrays(up: np.ndarray, gpn: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-node columns, the free-level bitsets and the level counts, with the nodes in service empty."""
    n_nodes = len(up)
    nodes = np.full((n_nodes, ND_SLOT0 + gpn), -1, np.int64)
    nodes[:, ND_FREE] = 0
    nodes[:, ND_UP] = up
    level_bits = np.zeros((gpn + 1, max((n_nodes + 63) // 64, 1)), np.uint64)
    counts = np.zeros((3, gpn + 1), np.int64)
    for n in np.flatnonzero(up):
        nodes[n, ND_FREE] = gpn
        level_bits[gpn, n >> 6] |= np.uint64(1) << np.uint64(n & 63)
        counts[CNT_LEVEL, gpn] += 1
    return nodes, level_bits, counts


def _allocation_pool(slots: int) -> np.ndarray:
    """Allocation entries (node, devices, next) chained into one free list, and the running set."""
    pool = np.zeros((4, slots), np.int64)
    pool[PL_NEXT] = np.arange(1, slots + 1)
    pool[PL_NEXT, -1] = -1
    return pool


def _tenant_arrays(
    width: int, n_tenants: int, tenant_share: np.ndarray | None, tenant_cap_gpus: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Queue heads and tails (``width`` lists), tenant allocations, shares and caps (devices)."""
    tint = np.full((4, width), -1, np.int64)
    tint[TI_ALLOC] = 0
    tint[TI_BLOCKED] = 0
    tflt = np.ones((2, n_tenants))
    if tenant_share is not None:
        tflt[TF_SHARE] = tenant_share
    tflt[TF_CAP] = np.inf if tenant_cap_gpus is None else tenant_cap_gpus
    return tint, tflt
