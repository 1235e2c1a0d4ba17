"""GPU workload: tenants, job classes and the generators of a :class:`~twin.compute.jobs.JobTable`.

Tables come from

* :func:`generate` - the tenant mix of ``twin/compute/data/workload_changle.toml`` for a year 2024-2028
  (Poisson arrivals per class, device counts from a discrete distribution, lognormal run times);
* :func:`synthetic` - one open stream from the CLI flags (Poisson arrivals, fixed size,
  exponential or lognormal run times), the M/M/c case that Erlang C checks;
* :mod:`twin.compute.traces` - Alibaba ``cluster-trace-gpu-v2023`` pod lists and Philly/Tiresias job CSVs.

:func:`describe` reports the statistics that the generator is calibrated on (share of
single-device jobs, share of device-time in jobs above one node, run-time percentiles).
"""

from __future__ import annotations

import math
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from twin.compute.accelerators import accelerator as accelerator_spec
from twin.compute.jobs import JobTable, table_from_parts
from twin.config import StrictModel, validate
from twin.errors import InputError

JobKind = Literal["large_training", "fine_tuning", "inference", "batch_research", "synthetic", "trace"]
MIN_DURATION_S = 60.0
"""Shortest generated run time: jobs shorter than a minute are scheduler noise, not demand."""
SECONDS_PER_DAY = 86400.0


class JobClass(StrictModel):
    """One kind of job of a tenant, with its arrival rate, size mix and run-time distribution."""

    kind: Literal["large_training", "fine_tuning", "inference", "batch_research"]
    jobs_per_day: float = Field(ge=0, description="Arrival rate in the base year (jobs/day).")
    growth_per_year: float = Field(
        default=1.0, gt=0, le=10, description="Rate factor per year after the base year."
    )
    gpus: list[int] = Field(min_length=1, description="Device counts a job may request.")
    gpus_weights: list[float] = Field(min_length=1, description="Relative frequency of each count.")
    median_duration_h: float = Field(gt=0, description="Median run time on the reference device (h).")
    duration_sigma: float = Field(ge=0, le=5, description="Lognormal shape of the run time.")
    max_duration_h: float = Field(gt=0, description="Run times are clipped here (h).")
    sla_wait_h: float = Field(gt=0, description="Longest acceptable queueing delay for the SLA (h).")
    estimate_factor: float = Field(default=1.0, ge=1.0, le=100, description="User estimate / true run time.")

    @model_validator(mode="after")
    def _consistent(self) -> JobClass:
        if len(self.gpus) != len(self.gpus_weights):
            raise ValueError("gpus and gpus_weights must have the same length")
        if any(g < 1 for g in self.gpus):
            raise ValueError("gpus must be >= 1")
        if any(w < 0 for w in self.gpus_weights) or sum(self.gpus_weights) <= 0:
            raise ValueError("gpus_weights must be >= 0 and not all 0")
        return self

    def rate_per_day(self, year: int, base_year: int) -> float:
        """Arrival rate in ``year`` (jobs/day)."""
        return self.jobs_per_day * self.growth_per_year ** (year - base_year)

    def mean_gpus(self) -> float:
        weights = np.asarray(self.gpus_weights) / sum(self.gpus_weights)
        return float(np.dot(weights, self.gpus))


class Tenant(StrictModel):
    """A tenant of the centre: its classes, fair-share weight, cap and priority class."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    priority: int = Field(default=0, ge=0, le=3, description="Higher classes may preempt lower ones.")
    share: float = Field(gt=0, le=1, description="Fair-share weight (quota share of the devices).")
    cap_share: float = Field(default=1.0, gt=0, le=1, description="Hard cap as a share of the devices.")
    classes: list[JobClass] = Field(min_length=1)


class WorkloadConfig(StrictModel):
    """The whole tenant mix."""

    reference_accelerator: str = "h100_sxm"
    base_year: int = Field(default=2024, ge=2020, le=2050)
    tenants: list[Tenant] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> WorkloadConfig:
        names = [t.name for t in self.tenants]
        if len(set(names)) != len(names):
            raise ValueError(f"tenant names must be unique: {names}")
        return self


def default_workload_path() -> Path:
    return Path(str(resources.files("twin.compute") / "data" / "workload_changle.toml"))


@lru_cache(maxsize=8)
def load_workload_config(path: Path | None = None) -> WorkloadConfig:
    """Read and validate a tenant-mix file (default: the bundled Changle mix)."""
    source = Path(path) if path is not None else default_workload_path()
    if not source.exists():
        raise InputError("workload file not found", source)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"TOML syntax error: {exc}", source) from None
    return validate(WorkloadConfig, data, source)


def duration_scale(reference: str, accelerator: str, precision: str = "fp16", sparse: bool = False) -> float:
    """How much longer a job runs on ``accelerator`` than on ``reference`` (ratio of peaks)."""
    reference_tflops = accelerator_spec(reference).peak_tflops(precision, sparse)
    return reference_tflops / accelerator_spec(accelerator).peak_tflops(precision, sparse)


def generate(
    config: WorkloadConfig,
    year: int,
    duration_s: float,
    rng: np.random.Generator,
    accelerator: str | None = None,
    precision: str = "fp16",
    rate_scale: float = 1.0,
) -> JobTable:
    """Jobs of every tenant and class arriving over ``duration_s`` at ``year``'s rates.

    Arrivals are Poisson per class (constant rate within the window: a steady state of that year).
    Device counts follow the class's weights; run times are lognormal with the class's median and
    shape, clipped to ``[MIN_DURATION_S, max_duration_h]``, and stretched by the peak ratio when
    the centre's ``accelerator`` is slower than the reference device.
    """
    if not duration_s > 0:
        raise InputError(f"workload duration {duration_s} s: must be > 0")
    if rate_scale < 0:
        raise InputError(f"rate scale {rate_scale}: must be >= 0")
    scale = duration_scale(config.reference_accelerator, accelerator, precision) if accelerator else 1.0
    parts: dict[str, list[np.ndarray]] = {
        k: []
        for k in ("submit_s", "work_s", "estimate_s", "gpus", "tenant", "job_class", "priority", "sla_wait_s")
    }
    class_names: list[str] = []
    for t_index, tenant in enumerate(config.tenants):
        for job_class in tenant.classes:
            c_index = len(class_names)
            class_names.append(f"{tenant.name}/{job_class.kind}")
            rate = job_class.rate_per_day(year, config.base_year) * rate_scale
            n = int(rng.poisson(rate * duration_s / SECONDS_PER_DAY))
            weights = np.asarray(job_class.gpus_weights, float) / sum(job_class.gpus_weights)
            work = np.exp(
                np.log(job_class.median_duration_h * 3600.0)
                + job_class.duration_sigma * rng.standard_normal(n)
            )
            work = np.clip(work, MIN_DURATION_S, job_class.max_duration_h * 3600.0) * scale
            parts["submit_s"].append(rng.uniform(0.0, duration_s, n))
            parts["gpus"].append(rng.choice(np.asarray(job_class.gpus), size=n, p=weights))
            parts["work_s"].append(work)
            parts["estimate_s"].append(work * job_class.estimate_factor)
            parts["tenant"].append(np.full(n, t_index))
            parts["job_class"].append(np.full(n, c_index))
            parts["priority"].append(np.full(n, tenant.priority))
            parts["sla_wait_s"].append(np.full(n, job_class.sla_wait_h * 3600.0))
    return table_from_parts(
        parts,
        tenant_names=[t.name for t in config.tenants],
        class_names=class_names,
        tenant_share=np.array([t.share for t in config.tenants]),
        tenant_cap_share=np.array([t.cap_share for t in config.tenants]),
    )


def offered_load_gpus(config: WorkloadConfig, year: int, accelerator: str | None = None) -> float:
    """Expected devices busy at ``year``'s rates (analytic: rate x mean size x mean run time)."""
    from scipy import stats  # deferred: slow to import, and only the analytic load needs it

    scale = duration_scale(config.reference_accelerator, accelerator) if accelerator else 1.0
    total = 0.0
    for tenant in config.tenants:
        for c in tenant.classes:
            mu = math.log(c.median_duration_h * 3600.0)
            dist = stats.lognorm(s=max(c.duration_sigma, 1e-12), scale=math.exp(mu))
            lo, hi = MIN_DURATION_S, c.max_duration_h * 3600.0
            # mean of min(max(X, lo), hi) for lognormal X
            mean = (
                lo * dist.cdf(lo) + hi * dist.sf(hi) + dist.expect(lambda x: x, lb=lo, ub=hi)
                if c.duration_sigma > 0
                else min(max(math.exp(mu), lo), hi)
            )
            total += c.rate_per_day(year, config.base_year) / SECONDS_PER_DAY * c.mean_gpus() * mean * scale
    return total


def synthetic(
    n_jobs: int,
    gpus_per_job: int,
    arrival_rate_per_h: float,
    mean_duration_h: float,
    rng: np.random.Generator,
    duration_dist: Literal["exponential", "lognormal"] = "exponential",
    duration_cv: float = 1.0,
) -> JobTable:
    """An open stream of ``n_jobs`` equal jobs: Poisson arrivals, i.i.d. run times.

    With one device per job and exponential run times this is the M/M/c queue of Erlang C.
    """
    if n_jobs < 1:
        raise InputError(f"--jobs {n_jobs}: must be >= 1")
    if gpus_per_job < 1:
        raise InputError(f"--gpus-per-job {gpus_per_job}: must be >= 1")
    if not arrival_rate_per_h > 0:
        raise InputError(f"--arrival-rate-per-h {arrival_rate_per_h}: must be > 0")
    if not mean_duration_h > 0:
        raise InputError(f"--mean-duration-h {mean_duration_h}: must be > 0")
    mean_s = mean_duration_h * 3600.0
    submit = np.cumsum(rng.exponential(3600.0 / arrival_rate_per_h, n_jobs))
    if duration_dist == "exponential":
        work = rng.exponential(mean_s, n_jobs)
    elif duration_dist == "lognormal":
        if not duration_cv > 0:
            raise InputError(f"--duration-cv {duration_cv}: must be > 0")
        sigma2 = math.log1p(duration_cv**2)
        work = rng.lognormal(math.log(mean_s) - sigma2 / 2.0, math.sqrt(sigma2), n_jobs)
    else:
        raise InputError(f"--duration-dist {duration_dist!r}: expected exponential or lognormal")
    zeros = np.zeros(n_jobs, np.int64)
    return JobTable(
        submit_s=submit,
        work_s=work,
        estimate_s=work.copy(),
        gpus=np.full(n_jobs, gpus_per_job, np.int64),
        tenant=zeros,
        job_class=zeros.copy(),
        priority=zeros.copy(),
        sla_wait_s=np.full(n_jobs, 3600.0),
        tenant_share=np.ones(1),
        tenant_cap_share=np.ones(1),
    )


def describe(jobs: JobTable) -> dict[str, float]:
    """Trace statistics the generator is calibrated on (compare with Philly, Helios, PAI)."""
    if len(jobs) == 0:
        return {"jobs": 0}
    device_s = jobs.gpus * jobs.work_s
    return {
        "jobs": float(len(jobs)),
        "single_device_job_pct": 100.0 * float(np.mean(jobs.gpus == 1)),
        "multi_node_job_pct": 100.0 * float(np.mean(jobs.gpus > 8)),
        "multi_node_device_time_pct": 100.0 * float(device_s[jobs.gpus > 8].sum() / device_s.sum()),
        "median_run_h": float(np.median(jobs.work_s)) / 3600.0,
        "p90_run_h": float(np.percentile(jobs.work_s, 90)) / 3600.0,
        "p99_run_h": float(np.percentile(jobs.work_s, 99)) / 3600.0,
    }
