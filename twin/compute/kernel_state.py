"""The kernel state of a run: jobs, nodes in service at time 0, the policy's queue rules and bins."""

from __future__ import annotations

import math

import numpy as np

from kernels.scheduler.state import SchedState, new_state
from twin.compute.cluster_spec import ClusterSpec
from twin.compute.jobs import JobTable
from twin.compute.policies.admission import Admission
from twin.compute.policies.base import SchedulingPolicy
from twin.compute.policies.placement import Placement
from twin.compute.settings import SchedulerConfig
from twin.errors import InputError


def tenant_shares_and_caps(jobs: JobTable, spec: ClusterSpec) -> tuple[np.ndarray, np.ndarray]:
    """Fair-share weights and hard caps in devices, one per tenant.

    A cap of the whole centre is no cap (``inf``); a cap below one node's worth would starve the
    tenant's node-sized jobs for ever, so it is raised to one node.
    """
    n_tenants = max(len(jobs.tenant_names), int(jobs.tenant.max()) + 1 if len(jobs) else 1)
    share = np.ones(n_tenants) if jobs.tenant_share is None else np.asarray(jobs.tenant_share, float)
    cap = np.ones(n_tenants) if jobs.tenant_cap_share is None else np.asarray(jobs.tenant_cap_share, float)
    if len(share) != n_tenants or len(cap) != n_tenants:
        raise InputError(f"tenant shares/caps given for {len(share)}/{len(cap)} tenants, jobs have {n_tenants}")
    return share, np.where(cap >= 1.0, np.inf, np.maximum(cap * spec.gpus, spec.gpus_per_node))


def n_bins_for(jobs: JobTable, horizon_s: float, bin_width_s: float) -> int:
    """Time bins that cover the run: to the horizon, or past the last arrival when it drains."""
    if not bin_width_s > 0:
        raise InputError(f"bin width {bin_width_s} s: must be > 0")
    span = (
        horizon_s
        if math.isfinite(horizon_s)
        else (float(jobs.submit_s[-1]) if len(jobs) else 0.0) + bin_width_s
    )
    return max(1, math.ceil(span / bin_width_s))


def build_state(
    jobs: JobTable,
    spec: ClusterSpec,
    scheduler: SchedulerConfig,
    policy: SchedulingPolicy,
    placement: Placement,
    admission: Admission,
    horizon_s: float,
    bin_width_s: float,
    log_capacity: int = 0,
) -> SchedState:
    """The kernel state of a run: jobs, nodes in service at time 0, the policy's rules and bins."""
    jobs.check()
    n_bins = n_bins_for(jobs, horizon_s, bin_width_s)
    up = np.zeros(spec.nodes, bool)
    up[: spec.nodes_at(0.0)] = True
    share, cap = tenant_shares_and_caps(jobs, spec)
    return new_state(
        jobs.submit_s,
        jobs.work_s,
        jobs.estimate_s,
        jobs.gpus,
        jobs.tenant,
        jobs.priority,
        n_nodes=spec.nodes,
        gpus_per_node=spec.gpus_per_node,
        rules=policy.queue_rules(),
        placement=placement.code,
        tenant_share=share,
        tenant_cap_gpus=cap,
        preempt_priority=scheduler.preemption,
        restart_overhead_s=scheduler.restart_overhead_s,
        checkpoint_interval_s=scheduler.checkpoint_interval_s,
        backfill_depth=scheduler.backfill_depth,
        backfill_interval_s=scheduler.backfill_interval_s,
        bin_width_s=bin_width_s,
        n_bins=n_bins,
        nodes_up=up,
        rejected=admission.rejected(jobs, spec, cap if policy.caps_tenants else None),
        log_capacity=log_capacity,
    )
