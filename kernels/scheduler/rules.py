"""Queue rules: a scheduling policy in the kernel's terms.

The kernels do not know policies by name. A policy (one class per policy in
``twin/compute/policies/``) describes itself as :class:`QueueRules`: how waiting jobs are filed
(one list, one list per LAS level or per tenant, or one heap of shortest remaining estimate),
which pass starts them, whether a job that does not fit blocks the pass, how deep the pass looks,
whether EASY backfilling follows, whether a blocked job may preempt jobs of higher LAS levels,
and its arrays (the LAS thresholds).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kernels.scheduler.layout import LISTS_ONE, PASS_IN_ORDER, UNLIMITED_DEPTH


class QueueRules(NamedTuple):
    """How waiting jobs are filed, ordered and started; the defaults are strict FIFO.

    Attributes
    ----------
    lists_by
        ``LISTS_ONE`` (one waiting list) or the job column whose value names a job's list
        (``JI_LEVEL``: one list per LAS level; ``JI_TENANT``: one per tenant). Lists keep
        submission order and are served in index order by the in-order pass.
    shortest_first
        File waiting jobs in one heap ordered by remaining estimated run time instead (SJF).
    scheduling_pass
        ``PASS_IN_ORDER`` or ``PASS_FAIR_SHARE`` (the tenant with the lowest allocation/share
        first, a tenant that cannot start blocked for the rest of the pass).
    blocking
        In the in-order pass, a job that does not fit (and cannot preempt) ends the pass
        (head-of-line blocking); otherwise it is skipped (work-conserving).
    pass_depth
        Jobs the in-order pass examines at most (``UNLIMITED_DEPTH``: all).
    backfill
        Follow the in-order pass with EASY backfilling behind the blocked head.
    preempt_levels
        A blocked job may preempt running jobs of its own priority class at higher LAS levels.
    las_thresholds_gpu_s
        Increasing attained-service thresholds (GPU-s) between LAS levels; ``None``: one level.
    """

    lists_by: int = LISTS_ONE
    shortest_first: bool = False
    scheduling_pass: int = PASS_IN_ORDER
    blocking: bool = True
    pass_depth: int = UNLIMITED_DEPTH
    backfill: bool = False
    preempt_levels: bool = False
    las_thresholds_gpu_s: np.ndarray | None = None
