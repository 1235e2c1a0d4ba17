"""Cluster metrics as functions over a finished run: the job table, time series, KPIs and tenants.

Like WNTR's metrics, these read a run's results and change nothing. :class:`MetricsCollector`
(the swappable metrics part of the model) strings them together into a :class:`SimulationResult`.
KPIs cover the jobs submitted after the warm-up; time averages cover the window after it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kernels.scheduler import layout as ks
from kernels.scheduler.state import SchedState
from twin.compute.accelerators import accelerator
from twin.compute.cluster_spec import ClusterSpec
from twin.compute.jobs import JobTable
from twin.compute.power import energy_mwh

if TYPE_CHECKING:
    import pandas as pd

BOUNDED_SLOWDOWN_THRESHOLD_S = 10.0
"""Run-time floor of the bounded slowdown (Feitelson's usual 10 s), so tiny jobs do not dominate."""
STATUS_NAMES = np.array(["queued", "waiting", "running", "done", "rejected"], dtype=object)
"""Job status names by the kernel's status code (``queued``: not yet submitted)."""


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


@dataclass(frozen=True)
class WindowIntegrals:
    """Time integrals over the KPI window (device-s, job-s) and its length (s)."""

    alloc_gpu_s: float
    up_gpu_s: float
    free_gpu_s: float
    fragmented_gpu_s: float
    queue_job_s: float
    span_s: float


def end_of_run_s(state: SchedState, horizon_s: float) -> float:
    """When the run ended: the horizon, or the kernel's clock if it ran past it (drained)."""
    now = float(state.fv[ks.FV_NOW])
    return max(now, horizon_s) if math.isfinite(horizon_s) else now


def job_table(state: SchedState, jobs: JobTable, end_of_run: float) -> pd.DataFrame:
    """One row per job: its inputs, first start, end, wait, time queued, JCT, preemptions, failures.

    A job still waiting at the end has waited at least until then (right-censored). ``queued_s``
    counts every period spent queued, also after preemptions and failures (for LAS the first start
    comes almost at once and the waiting happens later).
    """
    now = float(state.fv[ks.FV_NOW])
    first_start = state.jf[:, ks.JF_FIRST_START].copy()
    end = state.jf[:, ks.JF_END].copy()
    status = state.ji[:, ks.JI_STATUS]
    started = ~np.isnan(first_start)
    wait = np.where(started, first_start - jobs.submit_s, end_of_run - jobs.submit_s)
    table = jobs.to_frame()
    table["first_start_s"] = first_start
    table["end_s"] = end
    table["wait_s"] = np.where(status == ks.REJECTED, np.nan, wait)
    table["jct_s"] = end - jobs.submit_s
    running = status == ks.RUNNING
    run_total = state.jf[:, ks.JF_RUN] + np.where(running, now - state.jf[:, ks.JF_SEG_START], 0.0)
    finish = np.where(np.isnan(end), end_of_run, end)
    table["queued_s"] = np.where(status == ks.REJECTED, np.nan, finish - jobs.submit_s - run_total)
    table["n_preempt"] = state.ji[:, ks.JI_NPRE]
    table["n_fail"] = state.ji[:, ks.JI_NFAIL]
    table["lost_gpu_s"] = state.jf[:, ks.JF_LOST]
    table["status"] = STATUS_NAMES[status] if len(status) else []
    return table


def timeseries(state: SchedState, jobs: JobTable, bin_width_s: float, end_of_run: float) -> pd.DataFrame:
    """Per time bin: mean allocated, queued, in-service, free and fragmented devices, utilisation, tenants."""
    import pandas as pd  # deferred: heavy, and only needed once a run has finished

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


def window_integrals(ts: pd.DataFrame, warmup_s: float) -> WindowIntegrals:
    """The time series integrated over the part of each bin after ``warmup_s``."""
    ts_window = ts[ts["start_s"] + ts["width_s"] > warmup_s]
    overlap = np.clip(
        ts_window["start_s"] + ts_window["width_s"] - np.maximum(ts_window["start_s"], warmup_s),
        0.0,
        None,
    )
    return WindowIntegrals(
        alloc_gpu_s=float((ts_window["allocated_gpus"] * overlap).sum()),
        up_gpu_s=float((ts_window["in_service_gpus"] * overlap).sum()),
        free_gpu_s=float((ts_window["free_gpus"] * overlap).sum()),
        fragmented_gpu_s=float((ts_window["fragmented_free_gpus"] * overlap).sum()),
        queue_job_s=float((ts_window["queued_jobs"] * overlap).sum()),
        span_s=float(overlap.sum()),
    )


def _percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else 0.0


def wait_kpis(table: pd.DataFrame, window: pd.DataFrame, gpus_per_node: int) -> dict[str, float]:
    """Jobs, waits to the first start, time queued (the SLA's measure), JCT and bounded slowdown."""
    wait = window["wait_s"].to_numpy()
    queued = window["queued_s"].to_numpy()
    done = window[window["status"] == "done"]
    jct = done["jct_s"].to_numpy()
    slowdown = np.maximum(1.0, jct / np.maximum(done["work_s"].to_numpy(), BOUNDED_SLOWDOWN_THRESHOLD_S))
    small = window["gpus"].to_numpy() <= gpus_per_node
    large = window["job_class"].astype(str).str.endswith("large_training").to_numpy()
    return {
        "jobs_submitted_jobs": float(len(window)),
        "jobs_completed": float((table["status"] == "done").sum()),
        "jobs_unfinished_jobs": float(window["status"].isin(["waiting", "running"]).sum()),
        "mean_wait_s": float(wait.mean()) if len(wait) else 0.0,
        "p50_wait_s": _percentile(wait, 50),
        "p95_wait_s": _percentile(wait, 95),
        "p99_wait_s": _percentile(wait, 99),
        "max_wait_s": float(wait.max()) if len(wait) else 0.0,
        # the service levels count every period spent queued (also after a preemption or a
        # failure); without those they equal the first-start delays
        "small_job_p95_queued_s": _percentile(queued[small], 95),
        "large_training_p95_queued_s": _percentile(queued[large], 95),
        "mean_queued_s": float(window["queued_s"].mean()) if len(window) else 0.0,
        "p95_queued_s": _percentile(window["queued_s"].to_numpy(), 95),
        "mean_jct_s": float(jct.mean()) if len(jct) else 0.0,
        "mean_bounded_slowdown_ratio": float(slowdown.mean()) if len(slowdown) else 1.0,
    }


def use_kpis(integrals: WindowIntegrals) -> dict[str, float]:
    """Utilisation (allocated / in service), fragmentation, mean queue and mean allocation."""
    i = integrals
    return {
        "utilisation": i.alloc_gpu_s / i.up_gpu_s if i.up_gpu_s > 0 else 0.0,
        "fragmentation_ratio": i.fragmented_gpu_s / i.free_gpu_s if i.free_gpu_s > 0 else 0.0,
        "mean_queue_jobs": i.queue_job_s / i.span_s if i.span_s > 0 else 0.0,
        "mean_allocated_gpus": i.alloc_gpu_s / i.span_s if i.span_s > 0 else 0.0,
    }


def service_kpis(window: pd.DataFrame) -> dict[str, float]:
    """SLA attainment (share queued no longer than the class's SLA wait), preemptions, lost device-time."""
    queued = window["queued_s"].to_numpy()
    return {
        "sla_attainment_pct": 100.0 * float(np.mean(queued <= window["sla_wait_s"].to_numpy()))
        if len(window)
        else 100.0,
        "preemptions_count": float(window["n_preempt"].sum()),
        "lost_gpu_h": float(window["lost_gpu_s"].sum()) / 3600.0,
    }


def energy_kpis(integrals: WindowIntegrals, spec: ClusterSpec) -> dict[str, float]:
    """Facility energy (MWh) and mean power (MW) of the window at the cluster's PUE."""
    energy = energy_mwh(
        integrals.alloc_gpu_s, integrals.up_gpu_s, accelerator(spec.accelerator), spec.pue, spec.idle_power_fraction
    )
    span_s = integrals.span_s
    return {"energy_mwh": energy, "mean_power_mw": energy / (span_s / 3600.0) if span_s > 0 else 0.0}


def tenant_table(window: pd.DataFrame, tenant_names: list[str]) -> pd.DataFrame:
    """Per tenant: jobs, waits, time queued, SLA attainment, device-hours and preemptions."""
    import pandas as pd  # deferred: heavy, and only needed once a run has finished

    rows = []
    for name in tenant_names:
        mine = window[window["tenant"] == name]
        w = mine["wait_s"].to_numpy()
        q = mine["queued_s"].to_numpy()
        rows.append(
            {
                "tenant": name,
                "jobs": len(mine),
                "mean_wait_s": float(w.mean()) if len(w) else 0.0,
                "p50_wait_s": _percentile(w, 50),
                "p95_wait_s": _percentile(w, 95),
                "p99_wait_s": _percentile(w, 99),
                "mean_queued_s": float(q.mean()) if len(q) else 0.0,
                "p95_queued_s": _percentile(q, 95),
                "sla_attainment_pct": 100.0 * float(np.mean(q <= mine["sla_wait_s"].to_numpy()))
                if len(w)
                else 100.0,
                "device_h": float((mine["gpus"] * mine["work_s"]).sum()) / 3600.0,
                "preemptions": int(mine["n_preempt"].sum()),
            }
        )
    return pd.DataFrame(rows)


def kpi_token(name: str) -> str:
    """A tenant name as a KPI-name token: trace labels (``LS``, ``vcA``, ``Pretrain``) in
    lower snake case, starting with a letter; the Changle mix's names are already tokens."""
    token = re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")
    return token if token[:1].isalpha() else f"tenant_{token}"


def tenant_kpis(tenants: pd.DataFrame) -> dict[str, float]:
    """``<tenant>_mean_wait_s``, ``<tenant>_p95_wait_s`` and ``<tenant>_sla_pct`` of every tenant."""
    kpis: dict[str, float] = {}
    for row in tenants.to_dict("records"):
        token = kpi_token(row["tenant"])
        kpis[f"{token}_mean_wait_s"] = row["mean_wait_s"]
        kpis[f"{token}_p95_wait_s"] = row["p95_wait_s"]
        kpis[f"{token}_sla_pct"] = row["sla_attainment_pct"]
    return kpis


class MetricsCollector:
    """Job table, time series and KPIs of a finished run (jobs submitted after ``warmup_s``)."""

    def __init__(self, warmup_s: float = 0.0) -> None:
        self.warmup_s = float(warmup_s)

    def collect(
        self,
        state: SchedState,
        jobs: JobTable,
        spec: ClusterSpec,
        horizon_s: float,
        bin_width_s: float,
        node_failures: int = 0,
    ) -> SimulationResult:
        """The results of the run in ``state``."""
        end_of_run = end_of_run_s(state, horizon_s)
        table = job_table(state, jobs, end_of_run)
        series = timeseries(state, jobs, bin_width_s, end_of_run)
        status = state.ji[:, ks.JI_STATUS]
        window = table[(jobs.submit_s >= self.warmup_s) & (status != ks.REJECTED)]
        integrals = window_integrals(series, self.warmup_s)
        tenants = tenant_table(window, jobs.tenant_names)
        kpis = {
            **wait_kpis(table, window, spec.gpus_per_node),
            **use_kpis(integrals),
            **service_kpis(window),
            **energy_kpis(integrals, spec),
            **tenant_kpis(tenants),
            "node_failures_count": float(node_failures),
            "jobs_rejected_jobs": float(np.sum(status == ks.REJECTED)),
        }
        counters = {
            "events": int(state.iv[ks.IV_EVENTS]),
            "passes": int(state.iv[ks.IV_PASSES]),
            "preemptions": int(state.iv[ks.IV_PREEMPTIONS]),
            "node_failures": node_failures,
        }
        return SimulationResult(table, series, tenants, kpis, end_of_run, self.warmup_s, counters)
