"""The AI computing centre's GPU cluster: a SimPy model around the Numba scheduling kernels.

The model follows Blox's separation of concerns, each part swappable:

* :class:`Admission` decides which submitted jobs may enter the queue at all (a gang larger than
  the whole centre can never run and is refused up front);
* :class:`Placement` chooses the nodes of a gang (``consolidated`` best fit or ``spread`` worst
  fit, always whole nodes for multi-node gangs);
* :class:`SchedulingPolicy` orders the queue (FIFO, SJF, EASY backfilling, discretised LAS,
  per-tenant fair share with quotas) and decides preemption;
* :class:`MetricsCollector` turns the run into the job table, time series and KPIs.

Placement and scheduling decisions run in ``kernels/scheduler.py``: the queue and node state
live in NumPy arrays and the kernel processes arrivals, completions and scheduling passes itself.
SimPy drives what happens *to* the cluster on the district's clock: the operator's monitoring
epochs (each advances the kernel to ``now``), node failures (Poisson, per node MTBF) that kill
the jobs on a node back to their last checkpoint, repairs, and the commissioning of build phases.
Because the kernel can stop at any time and resume with identical results, SimPy only wakes at
those few events, and a year of a 10000P centre (over a million jobs) runs in seconds.

:func:`simulate_kernel` is the same cluster without SimPy (no failures or phases), for
validation against Erlang C and for capacity searches that run hundreds of simulations.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, model_validator

from twin.compute.workload import JobTable
from twin.config import StrictModel
from twin.errors import InputError

if TYPE_CHECKING:
    import pandas as pd
    import simpy

PolicyName = Literal["fifo", "sjf", "easy", "las", "fair"]
PlacementName = Literal["consolidated", "spread"]
BOUNDED_SLOWDOWN_THRESHOLD_S = 10.0
"""Run-time floor of the bounded slowdown (Feitelson's usual 10 s), so tiny jobs do not dominate."""
LLAMA3_NODE_MTBF_H = 54 * 24 * 2048 / 419
"""Node MTBF from Meta's Llama 3 report: 419 unexpected interruptions in 54 days on 16,384 H100s
(2,048 nodes of 8), i.e. one per ~6,300 node-hours (Dubey et al. 2024, "The Llama 3 Herd of
Models", section 3.3.4)."""


class SchedulerConfig(StrictModel):
    """How the queue is ordered and jobs are placed."""

    policy: PolicyName = Field(default="easy", description="fifo, sjf, easy, las or fair.")
    placement: PlacementName = Field(default="consolidated", description="consolidated (best fit) or spread.")
    preemption: bool = Field(default=False, description="Higher-priority tenants may preempt lower ones.")
    las_thresholds_gpu_h: list[float] = Field(
        default=[1.0, 64.0], description="LAS attained-service thresholds (GPU-hours), increasing."
    )
    backfill_depth: int = Field(
        default=256, ge=1, le=100_000, description="Jobs examined per pass behind the head (EASY, LAS)."
    )
    backfill_interval_s: float = Field(
        default=30.0, ge=0, description="Least time between reservation refreshes after early ends (s)."
    )
    restart_overhead_s: float = Field(
        default=300.0, ge=0, description="Reload time when a preempted or failed job restarts (s)."
    )
    checkpoint_interval_s: float = Field(
        default=3600.0, ge=0, description="Checkpoint period of running jobs (s; 0: none)."
    )

    @model_validator(mode="after")
    def _increasing(self) -> SchedulerConfig:
        t = self.las_thresholds_gpu_h
        if any(x <= 0 for x in t) or any(b <= a for a, b in zip(t, t[1:], strict=False)):
            raise ValueError("las_thresholds_gpu_h must be positive and increasing")
        return self


class FailureConfig(StrictModel):
    """Node failures with checkpoint-restart."""

    enabled: bool = Field(default=False, description="Whether nodes fail.")
    node_mtbf_h: float = Field(
        default=round(LLAMA3_NODE_MTBF_H), gt=0, description="Mean time between failures of one node (h)."
    )
    mean_repair_h: float = Field(
        default=24.0, gt=0, description="Mean time to repair a failed node (h, exponential)."
    )


@dataclass(frozen=True)
class ClusterSpec:
    """The hardware: nodes of ``gpus_per_node`` devices of one accelerator type.

    ``phases`` lists ``(time_s, nodes)``: how many nodes are in service from that time (the first
    entry at 0 s is the initial build; later ones commission new halls).
    """

    nodes: int
    gpus_per_node: int = 8
    accelerator: str = "h100_sxm"
    pue: float = 1.25
    idle_power_fraction: float = 0.0
    phases: tuple[tuple[float, int], ...] = ()

    def __post_init__(self) -> None:
        if self.nodes < 1:
            raise InputError(f"cluster of {self.nodes} nodes: need at least 1")
        if self.gpus_per_node < 1:
            raise InputError(f"{self.gpus_per_node} devices per node: need at least 1")
        for time_s, nodes in self.phases:
            if nodes > self.nodes or nodes < 0 or time_s < 0:
                raise InputError(
                    f"phase ({time_s} s, {nodes} nodes): must be within 0..{self.nodes} nodes, t >= 0"
                )

    @property
    def gpus(self) -> int:
        return self.nodes * self.gpus_per_node

    def nodes_at(self, time_s: float) -> int:
        """Nodes commissioned by ``time_s``."""
        if not self.phases:
            return self.nodes
        built = 0
        for start_s, nodes in self.phases:
            if start_s <= time_s:
                built = max(built, nodes)
        return built


# ---------------------------------------------------------------------------------------------
# The swappable parts.
# ---------------------------------------------------------------------------------------------


class Admission:
    """Refuses jobs that can never run: more devices than the whole (fully built) centre, or than
    their tenant's hard cap under fair share."""

    def rejected(
        self, jobs: JobTable, spec: ClusterSpec, tenant_cap_gpus: np.ndarray | None = None
    ) -> np.ndarray:
        too_big = jobs.gpus > spec.gpus
        if tenant_cap_gpus is not None and len(jobs):
            too_big |= jobs.gpus > np.asarray(tenant_cap_gpus)[jobs.tenant]
        return too_big


class Placement:
    """Node choice for a gang: ``consolidated`` (best fit) or ``spread`` (worst fit)."""

    def __init__(self, mode: PlacementName = "consolidated") -> None:
        from kernels.scheduler.layout import PLACEMENT_CODES

        if mode not in PLACEMENT_CODES:
            raise InputError(f"placement {mode!r}: expected one of {', '.join(PLACEMENT_CODES)}")
        self.mode = mode
        self.code = PLACEMENT_CODES[mode]


class SchedulingPolicy:
    """Queue order, quotas and preemption, as kernel parameters."""

    def __init__(self, config: SchedulerConfig) -> None:
        from kernels.scheduler.layout import POLICY_CODES

        self.config = config
        self.code = POLICY_CODES[config.policy]

    def kernel_parameters(self, jobs: JobTable, spec: ClusterSpec) -> dict:
        n_tenants = max(len(jobs.tenant_names), int(jobs.tenant.max()) + 1 if len(jobs) else 1)
        share = np.ones(n_tenants) if jobs.tenant_share is None else np.asarray(jobs.tenant_share, float)
        cap = (
            np.ones(n_tenants) if jobs.tenant_cap_share is None else np.asarray(jobs.tenant_cap_share, float)
        )
        if len(share) != n_tenants or len(cap) != n_tenants:
            raise InputError(
                f"tenant shares/caps given for {len(share)}/{len(cap)} tenants, jobs have {n_tenants}"
            )
        c = self.config
        return {
            "policy": self.code,
            "tenant_share": share,
            # a cap below one node's worth would starve the tenant's node-sized jobs for ever
            "tenant_cap_gpus": np.where(cap >= 1.0, np.inf, np.maximum(cap * spec.gpus, spec.gpus_per_node)),
            "las_thresholds_gpu_s": np.asarray(c.las_thresholds_gpu_h, float) * 3600.0
            if c.policy == "las"
            else None,
            "preempt_priority": c.preemption,
            "restart_overhead_s": c.restart_overhead_s,
            "checkpoint_interval_s": c.checkpoint_interval_s,
            "backfill_depth": c.backfill_depth,
            "backfill_interval_s": c.backfill_interval_s,
        }


@dataclass
class SimulationResult:
    """What a cluster run produced."""

    jobs: pd.DataFrame
    timeseries: pd.DataFrame
    tenants: pd.DataFrame
    kpis: dict[str, float]
    horizon_s: float
    warmup_s: float
    counters: dict[str, int] = field(default_factory=dict)


class MetricsCollector:
    """Job table, time series and KPIs of a finished run (jobs submitted after ``warmup_s``)."""

    def __init__(self, warmup_s: float = 0.0) -> None:
        self.warmup_s = float(warmup_s)

    def collect(
        self,
        state,
        jobs: JobTable,
        spec: ClusterSpec,
        horizon_s: float,
        bin_width_s: float,
        node_failures: int = 0,
    ) -> SimulationResult:

        from kernels.scheduler import layout as ks

        now = float(state.fv[ks.FV_NOW])
        end_of_run = max(now, horizon_s) if math.isfinite(horizon_s) else now
        first_start = state.jf[:, ks.JF_FIRST_START].copy()
        end = state.jf[:, ks.JF_END].copy()
        status = state.ji[:, ks.JI_STATUS]
        started = ~np.isnan(first_start)
        # a job still waiting at the end has waited at least until then (right-censored)
        wait = np.where(started, first_start - jobs.submit_s, end_of_run - jobs.submit_s)
        status_names = np.array(["queued", "waiting", "running", "done", "rejected"], dtype=object)
        table = jobs.to_frame()
        table["first_start_s"] = first_start
        table["end_s"] = end
        table["wait_s"] = np.where(status == ks.REJECTED, np.nan, wait)
        table["jct_s"] = end - jobs.submit_s
        # time spent queued, including after preemptions and failures (for LAS the first start
        # comes almost at once and the waiting happens later)
        running = status == ks.RUNNING
        run_total = state.jf[:, ks.JF_RUN] + np.where(running, now - state.jf[:, ks.JF_SEG_START], 0.0)
        finish = np.where(np.isnan(end), end_of_run, end)
        table["queued_s"] = np.where(status == ks.REJECTED, np.nan, finish - jobs.submit_s - run_total)
        table["n_preempt"] = state.ji[:, ks.JI_NPRE]
        table["n_fail"] = state.ji[:, ks.JI_NFAIL]
        table["lost_gpu_s"] = state.jf[:, ks.JF_LOST]
        table["status"] = status_names[status] if len(status) else []
        timeseries = self._timeseries(state, jobs, bin_width_s, end_of_run)
        in_window = (jobs.submit_s >= self.warmup_s) & (status != ks.REJECTED)
        kpis, tenants = self._kpis(table, in_window, timeseries, jobs, spec, end_of_run)
        kpis["node_failures_count"] = float(node_failures)
        kpis["jobs_rejected_jobs"] = float(np.sum(status == ks.REJECTED))
        counters = {
            "events": int(state.iv[ks.IV_EVENTS]),
            "passes": int(state.iv[ks.IV_PASSES]),
            "preemptions": int(state.iv[ks.IV_PREEMPTIONS]),
            "node_failures": node_failures,
        }
        return SimulationResult(table, timeseries, tenants, kpis, end_of_run, self.warmup_s, counters)

    @staticmethod
    def _timeseries(state, jobs: JobTable, bin_width_s: float, end_of_run: float) -> pd.DataFrame:
        import pandas as pd

        from kernels.scheduler import layout as ks

        n_bins = state.bins.shape[1]
        starts = np.arange(n_bins) * bin_width_s
        widths = np.clip(end_of_run - starts, 0.0, bin_width_s)
        keep = widths > 0
        w = np.where(widths > 0, widths, 1.0)
        b = state.bins
        frame = pd.DataFrame(
            {
                "start_s": starts,
                "width_s": widths,
                "allocated_gpus": b[ks.B_ALLOC] / w,
                "queued_jobs": b[ks.B_QJOBS] / w,
                "queued_gpus": b[ks.B_QGPUS] / w,
                "in_service_gpus": b[ks.B_UP] / w,
                "free_gpus": b[ks.B_FREE] / w,
                "fragmented_free_gpus": b[ks.B_FRAG] / w,
            }
        )
        frame["utilisation"] = np.where(
            b[ks.B_UP] > 0, b[ks.B_ALLOC] / np.where(b[ks.B_UP] > 0, b[ks.B_UP], 1), 0.0
        )
        for index, name in enumerate(jobs.tenant_names):
            if index < state.bin_tenant.shape[0]:
                frame[f"{name}_gpus"] = state.bin_tenant[index] / w
        return frame[keep].reset_index(drop=True)

    def _kpis(
        self,
        table: pd.DataFrame,
        in_window: np.ndarray,
        ts: pd.DataFrame,
        jobs: JobTable,
        spec: ClusterSpec,
        end_of_run: float,
    ) -> tuple[dict[str, float], pd.DataFrame]:
        import pandas as pd

        from twin.compute.capacity import accelerator, energy_mwh

        window = table[in_window]
        wait = window["wait_s"].to_numpy()
        queued = window["queued_s"].to_numpy()
        done = window[window["status"] == "done"]
        jct = done["jct_s"].to_numpy()
        slowdown = np.maximum(1.0, jct / np.maximum(done["work_s"].to_numpy(), BOUNDED_SLOWDOWN_THRESHOLD_S))
        ts_window = ts[ts["start_s"] + ts["width_s"] > self.warmup_s]
        overlap = np.clip(
            ts_window["start_s"] + ts_window["width_s"] - np.maximum(ts_window["start_s"], self.warmup_s),
            0.0,
            None,
        )
        alloc_s = float((ts_window["allocated_gpus"] * overlap).sum())
        up_s = float((ts_window["in_service_gpus"] * overlap).sum())
        free_s = float((ts_window["free_gpus"] * overlap).sum())
        frag_s = float((ts_window["fragmented_free_gpus"] * overlap).sum())
        span_s = float(overlap.sum())
        spec_acc = accelerator(spec.accelerator)
        energy = energy_mwh(alloc_s, up_s, spec_acc, spec.pue, spec.idle_power_fraction)

        def pct(values: np.ndarray, q: float) -> float:
            return float(np.percentile(values, q)) if len(values) else 0.0

        small = window["gpus"].to_numpy() <= spec.gpus_per_node
        large = window["job_class"].astype(str).str.endswith("large_training").to_numpy()
        kpis: dict[str, float] = {
            "jobs_submitted_jobs": float(len(window)),
            "jobs_completed": float((table["status"] == "done").sum()),
            "jobs_unfinished_jobs": float(window["status"].isin(["waiting", "running"]).sum()),
            "mean_wait_s": float(wait.mean()) if len(wait) else 0.0,
            "p50_wait_s": pct(wait, 50),
            "p95_wait_s": pct(wait, 95),
            "p99_wait_s": pct(wait, 99),
            "max_wait_s": float(wait.max()) if len(wait) else 0.0,
            # the service levels count every period spent queued (also after a preemption or a
            # failure); without those they equal the first-start delays
            "small_job_p95_queued_s": pct(queued[small], 95),
            "large_training_p95_queued_s": pct(queued[large], 95),
            "mean_queued_s": float(window["queued_s"].mean()) if len(window) else 0.0,
            "p95_queued_s": pct(window["queued_s"].to_numpy(), 95),
            "mean_jct_s": float(jct.mean()) if len(jct) else 0.0,
            "mean_bounded_slowdown_ratio": float(slowdown.mean()) if len(slowdown) else 1.0,
            "utilisation": alloc_s / up_s if up_s > 0 else 0.0,
            "fragmentation_ratio": frag_s / free_s if free_s > 0 else 0.0,
            "mean_queue_jobs": float((ts_window["queued_jobs"] * overlap).sum()) / span_s
            if span_s > 0
            else 0.0,
            "mean_allocated_gpus": alloc_s / span_s if span_s > 0 else 0.0,
            "sla_attainment_pct": 100.0 * float(np.mean(queued <= window["sla_wait_s"].to_numpy()))
            if len(wait)
            else 100.0,
            "preemptions_count": float(window["n_preempt"].sum()),
            "lost_gpu_h": float(window["lost_gpu_s"].sum()) / 3600.0,
            "energy_mwh": energy,
            "mean_power_mw": energy / (span_s / 3600.0) if span_s > 0 else 0.0,
        }
        rows = []
        for name in jobs.tenant_names:
            mine = window[window["tenant"] == name]
            w = mine["wait_s"].to_numpy()
            q = mine["queued_s"].to_numpy()
            rows.append(
                {
                    "tenant": name,
                    "jobs": len(mine),
                    "mean_wait_s": float(w.mean()) if len(w) else 0.0,
                    "p50_wait_s": pct(w, 50),
                    "p95_wait_s": pct(w, 95),
                    "p99_wait_s": pct(w, 99),
                    "mean_queued_s": float(q.mean()) if len(q) else 0.0,
                    "p95_queued_s": pct(q, 95),
                    "sla_attainment_pct": 100.0 * float(np.mean(q <= mine["sla_wait_s"].to_numpy()))
                    if len(w)
                    else 100.0,
                    "device_h": float((mine["gpus"] * mine["work_s"]).sum()) / 3600.0,
                    "preemptions": int(mine["n_preempt"].sum()),
                }
            )
            kpis[f"{name}_mean_wait_s"] = rows[-1]["mean_wait_s"]
            kpis[f"{name}_p95_wait_s"] = rows[-1]["p95_wait_s"]
            kpis[f"{name}_sla_pct"] = rows[-1]["sla_attainment_pct"]
        return kpis, pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Building the kernel state.
# ---------------------------------------------------------------------------------------------


def build_state(
    jobs: JobTable,
    spec: ClusterSpec,
    policy: SchedulingPolicy,
    placement: Placement,
    admission: Admission,
    horizon_s: float,
    bin_width_s: float,
    log_capacity: int = 0,
):
    """The kernel state of a run: jobs, nodes in service at time 0, parameters and bins."""
    from kernels.scheduler.state import new_state

    jobs.check()
    if not bin_width_s > 0:
        raise InputError(f"bin width {bin_width_s} s: must be > 0")
    span = (
        horizon_s
        if math.isfinite(horizon_s)
        else (float(jobs.submit_s[-1]) if len(jobs) else 0.0) + bin_width_s
    )
    n_bins = max(1, math.ceil(span / bin_width_s))
    up = np.zeros(spec.nodes, bool)
    up[: spec.nodes_at(0.0)] = True
    parameters = policy.kernel_parameters(jobs, spec)
    caps = parameters["tenant_cap_gpus"] if policy.config.policy == "fair" else None
    return new_state(
        jobs.submit_s,
        jobs.work_s,
        jobs.estimate_s,
        jobs.gpus,
        jobs.tenant,
        jobs.priority,
        n_nodes=spec.nodes,
        gpus_per_node=spec.gpus_per_node,
        placement=placement.code,
        bin_width_s=bin_width_s,
        n_bins=n_bins,
        nodes_up=up,
        rejected=admission.rejected(jobs, spec, caps),
        log_capacity=log_capacity,
        **parameters,
    )


class ClusterModel:
    """The centre on a SimPy clock: monitoring epochs, node failures, repairs and build phases.

    Parameters
    ----------
    env
        The SimPy environment (the district twin's clock).
    jobs
        The workload, times in seconds from ``env.now == 0``.
    spec, scheduler, failures
        Hardware, scheduling and failure configuration.
    horizon_s
        End of the run (s); jobs still queued or running then are reported as unfinished.
    rng
        Stream for failures and repair times (``engine.rng("compute.failures")``).
    epoch_s
        Operator's monitoring period: the kernel is brought up to date at least this often.
    """

    def __init__(
        self,
        env: simpy.Environment,
        jobs: JobTable,
        spec: ClusterSpec,
        scheduler: SchedulerConfig | None = None,
        failures: FailureConfig | None = None,
        *,
        horizon_s: float,
        rng: np.random.Generator | None = None,
        epoch_s: float = 3600.0,
        bin_width_s: float = 3600.0,
        warmup_s: float = 0.0,
        admission: Admission | None = None,
        placement: Placement | None = None,
        policy: SchedulingPolicy | None = None,
        metrics: MetricsCollector | None = None,
        log_capacity: int = 0,
    ) -> None:
        if not math.isfinite(horizon_s) or horizon_s <= 0:
            raise InputError(f"horizon {horizon_s} s: must be a positive, finite time")
        if not epoch_s > 0:
            raise InputError(f"epoch {epoch_s} s: must be > 0")
        self.env = env
        self.jobs = jobs
        self.spec = spec
        self.scheduler = scheduler or SchedulerConfig()
        self.failures = failures or FailureConfig()
        self.horizon_s = float(horizon_s)
        self.epoch_s = float(epoch_s)
        self.bin_width_s = float(bin_width_s)
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.admission = admission or Admission()
        self.placement = placement or Placement(self.scheduler.placement)
        self.policy = policy or SchedulingPolicy(self.scheduler)
        self.metrics = metrics or MetricsCollector(warmup_s)
        self.state = build_state(
            jobs,
            spec,
            self.policy,
            self.placement,
            self.admission,
            self.horizon_s,
            self.bin_width_s,
            log_capacity,
        )
        self.built = np.zeros(spec.nodes, bool)
        self.built[: spec.nodes_at(0.0)] = True
        self.node_failures = 0
        self.epochs = 0
        env.process(self._monitoring())
        for start_s, nodes in spec.phases:
            if start_s > 0:
                env.process(self._commission(start_s, nodes))
        if self.failures.enabled:
            env.process(self._failures())

    def sync(self) -> None:
        """Bring the kernel up to ``env.now``: every arrival, completion and pass until then."""
        from kernels.scheduler.event_loop import advance

        advance(self.state, float(self.env.now))

    def _monitoring(self) -> Iterator:
        """The operator's monitoring loop: every epoch the cluster state is brought up to date."""
        while True:
            yield self.env.timeout(self.epoch_s)
            self.sync()
            self.epochs += 1

    def _commission(self, start_s: float, nodes: int) -> Iterator:
        """A build phase goes live: its nodes enter service with all devices free."""
        from kernels.scheduler.event_loop import repair_node

        yield self.env.timeout(start_s)
        self.sync()
        for node in range(nodes):
            if not self.built[node]:
                self.built[node] = True
                repair_node(self.state, node, float(self.env.now))

    def _failures(self) -> Iterator:
        """Nodes fail as a Poisson process (rate nodes / MTBF, thinned to in-service nodes)."""
        from kernels.scheduler.event_loop import fail_node
        from kernels.scheduler.layout import ND_UP

        rate_per_s = self.spec.nodes / (self.failures.node_mtbf_h * 3600.0)
        while True:
            yield self.env.timeout(self.rng.exponential(1.0 / rate_per_s))
            node = int(self.rng.integers(self.spec.nodes))
            repair_s = self.rng.exponential(self.failures.mean_repair_h * 3600.0)
            if not self.built[node] or self.state.nodes[node, ND_UP] == 0:
                continue  # thinning: only nodes in service fail
            self.sync()
            fail_node(self.state, node, float(self.env.now))
            self.node_failures += 1
            self.env.process(self._repair(node, repair_s))

    def _repair(self, node: int, repair_s: float) -> Iterator:
        """A technician brings the node back; its devices are free again."""
        from kernels.scheduler.event_loop import repair_node

        yield self.env.timeout(repair_s)
        self.sync()
        repair_node(self.state, node, float(self.env.now))

    def run(
        self, progress: bool = True, description: str = "GPU cluster", drain: bool = False
    ) -> SimulationResult:
        """Run to the horizon and collect the results.

        With ``drain`` the jobs still queued or running at the horizon are then run to completion
        (no more failures or phases), so that every job has a wait and a completion time.
        """
        from kernels.scheduler.event_loop import advance
        from twin.progress import progress_bar

        steps = 50
        with progress_bar(self.horizon_s, description) as bar:
            for k in range(1, steps + 1):
                self.env.run(until=self.horizon_s * k / steps)
                if progress:
                    bar.update(self.env.now)
        self.sync()
        if drain:
            advance(self.state, math.inf)
        return self.metrics.collect(
            self.state, self.jobs, self.spec, self.horizon_s, self.bin_width_s, self.node_failures
        )


def simulate_kernel(
    jobs: JobTable,
    spec: ClusterSpec,
    scheduler: SchedulerConfig | None = None,
    *,
    horizon_s: float = math.inf,
    bin_width_s: float = 3600.0,
    warmup_s: float = 0.0,
    log_capacity: int = 0,
    return_state: bool = False,
):
    """The cluster without SimPy: the kernel runs to ``horizon_s`` (default: until every job ends).

    Same scheduling as :class:`ClusterModel` without failures or build phases; used by the
    validation tests and by capacity planning, which runs many simulations.
    """
    from kernels.scheduler.event_loop import advance

    scheduler = scheduler or SchedulerConfig()
    policy = SchedulingPolicy(scheduler)
    state = build_state(
        jobs, spec, policy, Placement(scheduler.placement), Admission(), horizon_s, bin_width_s, log_capacity
    )
    advance(state, horizon_s)
    result = MetricsCollector(warmup_s).collect(state, jobs, spec, horizon_s, bin_width_s)
    return (result, state) if return_state else result
