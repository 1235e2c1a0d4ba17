"""The capacity plan: for each year, the least capacity whose simulated queue meets the SLA.

Each year's workload is drawn once (the same jobs for every capacity tried: common random numbers,
so the SLA metrics fall with capacity up to the few jobs whose order changes) and simulated with
the kernel. The search brackets the answer between the offered load and a multiple of it and
bisects on whole nodes; fixed capacities (the plan's 2000P and 10000P) are checked on the way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydantic import Field

from twin.compute.accelerators import TFLOPS_PER_PFLOPS, accelerator, size_for_pflops
from twin.compute.cluster import simulate_kernel
from twin.compute.cluster_spec import ClusterSpec
from twin.compute.jobs import JobTable
from twin.compute.settings import SchedulerConfig
from twin.compute.workload import WorkloadConfig, generate, load_workload_config
from twin.config import StrictModel
from twin.errors import InputError

StepHook = Callable[[int], object]
"""Called with the node count after each new simulation (the CLI advances its progress bar)."""


class SlaTargets(StrictModel):
    """Service levels a capacity must meet: p95 of the time jobs spend queued.

    Queued time counts every period a job waits, also after a preemption or a node failure; for a
    job that runs uninterrupted it is its first-start delay. (Counting only the first start would
    flatter preemptive policies such as LAS, which start jobs at once and make them wait later.)
    """

    small_job_p95_wait_h: float = Field(default=1.0, gt=0, description="Jobs of at most one node (h).")
    large_training_p95_wait_h: float = Field(default=24.0, gt=0, description="Large training starts (h).")

    def met(self, kpis: dict[str, float]) -> bool:
        """Whether a run's KPIs meet both targets."""
        return (
            kpis["small_job_p95_queued_s"] <= self.small_job_p95_wait_h * 3600.0
            and kpis["large_training_p95_queued_s"] <= self.large_training_p95_wait_h * 3600.0
        )


@dataclass(frozen=True)
class YearPlan:
    """The answer for one year."""

    year: int
    offered_pflops: float
    required_nodes: int
    required_devices: int
    required_pflops: float
    utilisation_at_required: float
    small_job_p95_wait_h: float
    large_training_p95_wait_h: float
    checked: dict[float, bool]
    """For each fixed capacity checked (P): whether it meets the SLA that year."""
    checked_p95_wait_h: dict[float, float]
    simulations: int


class SlaProbe:
    """Simulations of one year's workload at different node counts (memoised)."""

    def __init__(
        self,
        jobs: JobTable,
        key: str,
        scheduler: SchedulerConfig,
        horizon_s: float,
        warmup_s: float,
        on_step: StepHook | None = None,
    ) -> None:
        self.jobs = jobs
        self.key = key
        self.scheduler = scheduler
        self.horizon_s = horizon_s
        self.warmup_s = warmup_s
        self.on_step = on_step
        self.runs: dict[int, dict[str, float]] = {}

    def __call__(self, nodes: int) -> dict[str, float]:
        """The KPIs of the year's workload on ``nodes`` nodes."""
        if nodes not in self.runs:
            spec = ClusterSpec(
                nodes=nodes, gpus_per_node=accelerator(self.key).devices_per_node, accelerator=self.key
            )
            result = simulate_kernel(
                self.jobs,
                spec,
                self.scheduler,
                horizon_s=self.horizon_s,
                warmup_s=self.warmup_s,
                bin_width_s=86400.0,
            )
            self.runs[nodes] = result.kpis
            if self.on_step is not None:
                self.on_step(nodes)
        return self.runs[nodes]


def least_nodes(probe: SlaProbe, sla: SlaTargets, lo: int, offered_nodes: float, max_factor: float, year: int) -> int:
    """Fewest nodes meeting ``sla``, above ``lo`` (which fails): bracket by 1.5x steps, then bisect.

    The bisection stops within half a percent (at least one node), answering the upper end.
    """
    hi = max(lo + 1, math.ceil(lo * 1.25))
    while not sla.met(probe(hi)):
        lo, hi = hi, math.ceil(hi * 1.5)
        if hi > max_factor * max(offered_nodes, 1.0):
            raise InputError(f"year {year}: no capacity up to {max_factor:g}x the offered load meets the SLA")
    while hi - lo > max(1, int(0.005 * hi)):
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if sla.met(probe(mid)) else (mid, hi)
    return hi


def plan_year(
    year: int,
    jobs: JobTable,
    probe: SlaProbe,
    sla: SlaTargets,
    precision: str,
    sparse: bool,
    check_pflops: tuple[float, ...],
    max_factor: float,
) -> YearPlan:
    """The least capacity of ``probe.key`` meeting ``sla`` for one year, and the fixed checks."""
    spec = accelerator(probe.key)
    peak = spec.peak_tflops(precision, sparse)
    gpn = spec.devices_per_node
    offered = jobs.offered_gpus(probe.horizon_s)
    biggest = int(jobs.gpus.max()) if len(jobs) else 1
    lo = max(math.ceil(offered / gpn), math.ceil(biggest / gpn), 1) - 1  # below the load: fails
    hi = least_nodes(probe, sla, lo, offered / gpn, max_factor, year)
    best = probe(hi)
    checked, checked_wait = {}, {}
    for pflops in check_pflops:
        kpis = probe(size_for_pflops(pflops, probe.key, precision, sparse).nodes)
        checked[pflops] = sla.met(kpis)
        worst_s = max(kpis["small_job_p95_queued_s"], kpis["large_training_p95_queued_s"])
        checked_wait[pflops] = worst_s / 3600.0
    return YearPlan(
        year=year,
        offered_pflops=offered * peak / TFLOPS_PER_PFLOPS,
        required_nodes=hi,
        required_devices=hi * gpn,
        required_pflops=hi * gpn * peak / TFLOPS_PER_PFLOPS,
        utilisation_at_required=best["utilisation"],
        small_job_p95_wait_h=best["small_job_p95_queued_s"] / 3600.0,
        large_training_p95_wait_h=best["large_training_p95_queued_s"] / 3600.0,
        checked=checked,
        checked_p95_wait_h=checked_wait,
        simulations=len(probe.runs),
    )


def plan_capacity(
    years: list[int],
    key: str = "h100_sxm",
    precision: str = "fp16",
    sparse: bool = False,
    scheduler: SchedulerConfig | None = None,
    sla: SlaTargets | None = None,
    workload: WorkloadConfig | None = None,
    days: float = 90.0,
    warmup_days: float = 14.0,
    seed: int = 2024,
    check_pflops: tuple[float, ...] = (2000.0, 10000.0),
    max_factor: float = 16.0,
    on_step: StepHook | None = None,
) -> list[YearPlan]:
    """For each year, the fewest nodes of ``key`` whose simulated queue meets ``sla``.

    Each year's workload (``seed`` and the year seed its stream) is simulated for ``days`` after
    discarding ``warmup_days``; see :func:`least_nodes` for the search.
    """
    sla = sla or SlaTargets()
    scheduler = scheduler or SchedulerConfig()
    config = workload or load_workload_config()
    accelerator(key).peak_tflops(precision, sparse)  # an unknown device or precision fails first
    horizon_s = (days + warmup_days) * 86400.0
    plans = []
    for year in years:
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, year])))
        jobs = generate(config, year, horizon_s, rng, accelerator=key, precision=precision)
        probe = SlaProbe(jobs, key, scheduler, horizon_s, warmup_days * 86400.0, on_step)
        plans.append(plan_year(year, jobs, probe, sla, precision, sparse, check_pflops, max_factor))
    return plans
