"""The plan answered year by year: does each build stage carry the tenants' mix from 2024 to 2028?

For every year and build stage (the 2000P first phase, the 10000P target) the centre runs four
workload classes at once, each from its own model, and the stage *runs short* in the first year
any of them misses its target:

- **training**: the year's flagship pre-training run (:class:`TrainingPlan`: model size and token
  budget growing by year) as a gang of up to ``max_share`` of the devices, with failures and
  checkpoint-restart (:mod:`twin.compute.training`); it must finish within ``deadline_days``.
  Its goodput is the simulated one (one draw of the failures per replication) beside Daly's
  closed form.
- **inference**: a shared LLM service (:class:`InferencePlan`: peak requests/s growing by year,
  a daily profile) autoscaled hour by hour to the TTFT target (:mod:`twin.compute.inference`,
  M/D/c with Cosmetatos' approximation above 64 batch slots). Inference has priority: it takes
  what it needs from the devices the gang leaves; if that is not enough the peak hour's TTFT is
  computed on the replicas that fit (infinite if they cannot keep up).
- **batch**: the tenant mix of that year (fine-tuning, batch research, the mix's large training
  and dedicated inference jobs; :mod:`twin.compute.workload`, growth per tenant overridable)
  simulated under the chosen policy on the devices left after the gang and the *mean* inference
  replicas of the day (inference preempts batch at its peaks and gives the devices back
  off-peak: the batch queue sees the daily mean, a fluid approximation). Its p95 time queued is
  checked against the plan's SLA (1 h for jobs of at most one node, 24 h for large training).
- **power**: IT load hour by hour (devices of the gang, inference by hour, batch at its simulated
  utilisation, every node's overhead) times PUE from Fuzhou's typical year and the stage's cooling
  design (:mod:`twin.compute.climate`); the facility must stay under the grid cap (no hour
  capped) and the annual PUE at or below 1.3 (and, reported beside it, 1.25).

Every stage of a year faces the same draw of jobs and gang failures (common random numbers), so
stages differ by their capacity alone. The **next stage** is sized, not searched, for the last
year's demand: the devices of that year's gang as requested, the peak inference replicas and the
batch offered load at ``target_utilisation`` (80 %: where the capacity search of
:mod:`twin.compute.plan` meets the SLA at 10000P), in whole nodes; its MW at the worst hour's PUE;
its cooling the least liquid share (in tenths) whose annual PUE meets 1.25.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from pydantic import Field, model_validator

from twin.compute.accelerators import TFLOPS_PER_PFLOPS, accelerator, size_for_pflops
from twin.compute.climate import CoolingDesign, WeatherYear, energy_year, fuzhou_typical_year, pue_by_hour
from twin.compute.cluster import simulate_kernel
from twin.compute.cluster_spec import ClusterSpec
from twin.compute.inference import InferenceService, autoscale
from twin.compute.plan import SlaTargets
from twin.compute.power import PUE_REQUIRED_MAX, PUE_TARGET
from twin.compute.settings import PolicyName, SchedulerConfig
from twin.compute.training import LLAMA3_DEVICE_MTBF_H, TrainingGang, expected_goodput, simulate_goodput
from twin.compute.workload import WorkloadConfig, generate
from twin.config import StrictModel
from twin.errors import InputError

WORKLOAD_CLASSES = ("training", "inference", "batch", "power", "pue")
"""What can run short, in the order the answer names them when several fail in the same year."""
DEFAULT_PROFILE = (0.35, 0.3, 0.27, 0.25, 0.25, 0.3, 0.4, 0.55, 0.75, 0.9, 0.95, 1.0,
                   0.9, 0.9, 0.95, 1.0, 0.95, 0.9, 0.85, 0.85, 0.8, 0.7, 0.55, 0.45)
"""Requests by hour of day as a share of the peak (an assumption: office-hours chat and API use)."""


class StagePlan(StrictModel):
    """One build stage: its capacity, grid connection and cooling."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Short name, used in KPI names.")
    capacity_pflops: float = Field(gt=0, le=1e6, description="Capacity (P, on the centre's basis).")
    grid_cap_mw: float = Field(gt=0, description="Grid connection: the facility's MW may not exceed it.")
    liquid_share: float = Field(default=0.5, ge=0, le=1, description="Share of IT heat removed by liquid.")


class TrainingPlan(StrictModel):
    """The flagship pre-training run of each year (dense transformer, 6 FLOPs per parameter-token)."""

    params_2024: float = Field(default=70e9, gt=0, description="Parameters in 2024.")
    params_growth_per_year: float = Field(default=1.25, gt=0, le=10, description="Parameter factor per year.")
    tokens_2024: float = Field(default=2e12, gt=0, description="Training tokens in 2024.")
    tokens_growth_per_year: float = Field(default=1.25, gt=0, le=10, description="Token factor per year.")
    devices_2024: int = Field(default=512, ge=8, description="Gang size requested in 2024 (devices).")
    devices_growth_per_year: float = Field(default=1.5, gt=0, le=10, description="Gang factor per year.")
    max_share: float = Field(default=0.4, gt=0, le=1, description="Largest share of the devices a gang may hold.")
    deadline_days: float = Field(default=90.0, gt=0, description="The run must finish within this (days).")
    mfu: float = Field(default=0.4, gt=0, le=1, description="Model-FLOPS utilisation (0-1).")
    mtbf_device_h: float = Field(default=LLAMA3_DEVICE_MTBF_H, gt=0, description="Device MTBF (h).")
    checkpoint_s: float = Field(default=120.0, ge=0, description="Time to write a checkpoint (s).")
    restart_s: float = Field(default=1800.0, ge=0, description="Time to recover from a failure (s).")


class InferencePlan(StrictModel):
    """The shared LLM inference service: demand by year and hour, and its latency target."""

    peak_requests_per_s_2024: float = Field(default=200.0, ge=0, description="Peak-hour requests/s in 2024.")
    growth_per_year: float = Field(default=2.0, gt=0, le=10, description="Demand factor per year.")
    hourly_profile: list[float] = Field(default=list(DEFAULT_PROFILE), min_length=24, max_length=24,
                                        description="Requests by hour of day / peak (0-1).")
    ttft_target_s: float = Field(default=2.0, gt=0, description="Mean time-to-first-token target (s).")
    params: float = Field(default=70e9, gt=0, description="Parameters of the served model.")
    prompt_tokens: int = Field(default=1000, ge=1, description="Prompt tokens per request.")
    output_tokens: int = Field(default=300, ge=1, description="Output tokens per request.")
    devices_per_replica: int = Field(default=4, ge=1, le=64, description="Devices per replica.")
    max_batch: int = Field(default=64, ge=1, description="Batch cap per replica.")
    hbm_tb_per_s: float = Field(default=3.35, gt=0, description="HBM bandwidth per device (TB/s; H100 SXM).")

    @model_validator(mode="after")
    def _profile(self) -> InferencePlan:
        if min(self.hourly_profile) < 0 or max(self.hourly_profile) > 1:
            raise ValueError("hourly_profile values must lie in 0-1 (a share of the peak hour)")
        return self


class YearPlanTable(StrictModel):
    """The ``[yearplan]`` table of a ``gpu_queueing`` scenario."""

    years: list[int] = Field(default=[2024, 2025, 2026, 2027, 2028], min_length=1)
    stages: list[StagePlan] = Field(default=[
        StagePlan(name="phase1", capacity_pflops=2000.0, grid_cap_mw=3.5, liquid_share=0.0),
        StagePlan(name="target", capacity_pflops=10000.0, grid_cap_mw=16.0, liquid_share=0.5),
    ], min_length=1)
    tenant_growth_per_year: dict[str, float] = Field(
        default_factory=dict, description="Per tenant: rate factor per year replacing the mix's classes'.")
    batch_days: float = Field(default=21.0, gt=0, le=366, description="Days of batch arrivals simulated.")
    warmup_days: float = Field(default=7.0, ge=0, description="Days left out of the batch KPIs.")
    policy: PolicyName = Field(default="easy", description="Batch scheduling policy.")
    target_utilisation: float = Field(default=0.8, gt=0, le=1, description="Batch load share when sizing.")
    training: TrainingPlan = TrainingPlan()
    inference: InferencePlan = InferencePlan()

    @model_validator(mode="after")
    def _unique(self) -> YearPlanTable:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique: {names}")
        if len(set(self.years)) != len(self.years) or any(not 2020 <= y <= 2050 for y in self.years):
            raise ValueError(f"years must be unique and within 2020-2050: {self.years}")
        if any(not 0 < g <= 10 for g in self.tenant_growth_per_year.values()):
            raise ValueError("tenant_growth_per_year values must lie in (0, 10]")
        return self


@dataclass(frozen=True)
class Basis:
    """The centre's device type and the basis its P is counted on."""

    accelerator: str = "h100_sxm"
    precision: str = "fp16"
    sparse: bool = False


@dataclass
class YearStage:
    """One stage in one year: every class's figure against its target, and the power."""

    stage: str
    year: int
    devices: int
    nodes: int
    gang_devices: int
    training_goodput: float
    training_goodput_daly: float
    training_days: float
    inference_peak_devices: int
    inference_mean_devices: float
    inference_ttft_s: float
    batch_nodes: int
    batch_jobs: int
    batch_offered_gpus: float
    batch_small_p95_s: float
    batch_large_p95_s: float
    batch_utilisation: float
    facility_peak_mw: float
    grid_cap_mw: float
    capped_hours: int
    annual_pue: float
    facility_mwh: float
    pue_by_month: np.ndarray
    short: list[str] = field(default_factory=list)


def with_growth(mix: WorkloadConfig, growth: dict[str, float]) -> WorkloadConfig:
    """The mix with every class of the named tenants growing by the given factor per year."""
    unknown = sorted(set(growth) - {t.name for t in mix.tenants})
    if unknown:
        raise InputError(f"[yearplan] tenant_growth_per_year: unknown tenants {unknown}; expected "
                         f"{[t.name for t in mix.tenants]}")
    tenants = [t.model_copy(update={"classes": [c.model_copy(update={"growth_per_year": growth[t.name]})
                                                for c in t.classes]}) if t.name in growth else t
               for t in mix.tenants]
    return mix.model_copy(update={"tenants": tenants})


def gang_for(plan: TrainingPlan, year: int, devices: int, peak_tflops: float) -> TrainingGang:
    """The year's flagship run on at most ``max_share`` of ``devices`` (whole nodes of 8)."""
    grow = year - 2024
    requested = plan.devices_2024 * plan.devices_growth_per_year ** grow
    granted = min(8 * math.ceil(requested / 8), 8 * math.floor(plan.max_share * devices / 8))
    return TrainingGang(params=plan.params_2024 * plan.params_growth_per_year ** grow,
                        tokens=plan.tokens_2024 * plan.tokens_growth_per_year ** grow,
                        devices=max(granted, 8), peak_tflops=peak_tflops, mfu=plan.mfu,
                        mtbf_device_h=plan.mtbf_device_h, checkpoint_s=plan.checkpoint_s,
                        restart_s=plan.restart_s)


def service_of(plan: InferencePlan, basis: Basis) -> InferenceService:
    """The inference service on the centre's device type."""
    spec = accelerator(basis.accelerator)
    service = InferenceService(params=plan.params, prompt_tokens=plan.prompt_tokens,
                               output_tokens=plan.output_tokens, devices_per_replica=plan.devices_per_replica,
                               memory_gb=spec.memory_gb, hbm_tb_per_s=plan.hbm_tb_per_s,
                               peak_tflops=spec.peak_tflops(basis.precision, basis.sparse),
                               max_batch=plan.max_batch, ttft_target_s=plan.ttft_target_s)
    service.check("[yearplan.inference]")
    return service


def inference_day(plan: InferencePlan, service: InferenceService, year: int,
                  available_devices: int) -> tuple[np.ndarray, float]:
    """Devices by hour of a typical day (capped by ``available_devices``) and the peak hour's TTFT (s)."""
    rates = plan.peak_requests_per_s_2024 * plan.growth_per_year ** (year - 2024) * np.asarray(plan.hourly_profile)
    wanted = autoscale(service, rates)
    most = available_devices // service.devices_per_replica
    replicas = np.minimum(wanted.replicas, most)
    peak = int(np.argmax(rates))
    ttft = service.mean_ttft_s(int(replicas[peak]), float(rates[peak])) if replicas[peak] > 0 else math.inf
    return replicas * service.devices_per_replica, ttft


def it_load_mw(basis: Basis, nodes: int, busy_devices: np.ndarray) -> np.ndarray:
    """IT power (MW) of ``nodes`` nodes with ``busy_devices`` at full draw (idle devices draw nothing,
    the plan's accounting; every node's overhead is counted)."""
    spec = accelerator(basis.accelerator)
    return (busy_devices * spec.tdp_w + nodes * spec.node_overhead_w) / 1e6


def run_stage_year(stage: StagePlan, year: int, table: YearPlanTable, mix: WorkloadConfig, basis: Basis,
                   weather: WeatherYear, rng: np.random.Generator) -> YearStage:  # long: one story, four classes
    """One stage against one year's demand: training, inference, the batch queue and the power."""
    spec = accelerator(basis.accelerator)
    peak = spec.peak_tflops(basis.precision, basis.sparse)
    size = size_for_pflops(stage.capacity_pflops, basis.accelerator, basis.precision, basis.sparse)
    devices = size.nodes * spec.devices_per_node
    gang = gang_for(table.training, year, devices, peak)
    gang.check("[yearplan.training]")
    run = simulate_goodput(gang, seed=int(rng.integers(2**31)))
    service = service_of(table.inference, basis)
    inference, ttft = inference_day(table.inference, service, year, devices - gang.devices)
    batch_devices = devices - gang.devices - float(inference.mean())
    batch_nodes = int(batch_devices // spec.devices_per_node)
    horizon_s = (table.batch_days + table.warmup_days) * 86400.0
    jobs = generate(mix, year, horizon_s, rng, basis.accelerator, basis.precision)
    offered = jobs.offered_gpus(horizon_s)
    small_s = large_s = math.inf
    utilisation = 1.0
    if batch_nodes >= 1 and int(jobs.gpus.max()) <= batch_nodes * spec.devices_per_node:
        cluster = ClusterSpec(nodes=batch_nodes, gpus_per_node=spec.devices_per_node, accelerator=basis.accelerator)
        kpis = simulate_kernel(jobs, cluster, SchedulerConfig(policy=table.policy), horizon_s=horizon_s,
                               warmup_s=table.warmup_days * 86400.0, bin_width_s=86400.0).kpis
        small_s, large_s, utilisation = (kpis["small_job_p95_queued_s"], kpis["large_training_p95_queued_s"],
                                         kpis["utilisation"])
    hourly_inference = np.tile(inference, 365).astype(float)
    busy = gang.devices + hourly_inference + utilisation * max(batch_nodes, 0) * spec.devices_per_node
    pue = pue_by_hour(CoolingDesign(liquid_share=stage.liquid_share), weather)
    energy = energy_year(it_load_mw(basis, size.nodes, busy), pue, stage.grid_cap_mw)
    outcome = YearStage(
        stage=stage.name, year=year, devices=devices, nodes=size.nodes, gang_devices=gang.devices,
        training_goodput=run.goodput, training_goodput_daly=expected_goodput(gang),
        training_days=run.wall_s / 86400.0, inference_peak_devices=int(inference.max()),
        inference_mean_devices=float(inference.mean()), inference_ttft_s=ttft, batch_nodes=batch_nodes,
        batch_jobs=len(jobs),
        batch_offered_gpus=offered, batch_small_p95_s=small_s, batch_large_p95_s=large_s,
        batch_utilisation=utilisation,
        facility_peak_mw=float(np.max(it_load_mw(basis, size.nodes, busy) * pue)),
        grid_cap_mw=stage.grid_cap_mw, capped_hours=energy.capped_hours, annual_pue=energy.annual_pue,
        facility_mwh=energy.facility_mwh, pue_by_month=energy.pue_by_month,
    )
    outcome.short = shortfalls(outcome, table)
    return outcome


def shortfalls(outcome: YearStage, table: YearPlanTable) -> list[str]:
    """The classes that miss their targets, worst first (by how far over its target each is)."""
    sla = SlaTargets()
    over = {
        "training": outcome.training_days / table.training.deadline_days,
        "inference": outcome.inference_ttft_s / table.inference.ttft_target_s,
        "batch": max(outcome.batch_small_p95_s / (sla.small_job_p95_wait_h * 3600.0),
                     outcome.batch_large_p95_s / (sla.large_training_p95_wait_h * 3600.0)),
        "power": outcome.facility_peak_mw / outcome.grid_cap_mw if outcome.capped_hours else 0.0,
        "pue": outcome.annual_pue / PUE_REQUIRED_MAX,
    }
    failing = [name for name in WORKLOAD_CLASSES if over[name] > 1.0]
    return sorted(failing, key=lambda name: -over[name])


@dataclass(frozen=True)
class NextStage:
    """What the next build should be: devices (whole nodes), P, facility MW and cooling."""

    devices: int
    pflops: float
    facility_mw: float
    liquid_share: float
    annual_pue: float


def next_stage(last: YearStage, table: YearPlanTable, basis: Basis, weather: WeatherYear) -> NextStage:
    """Size the build that carries ``last`` (the final year's demand) with every class on target."""
    spec = accelerator(basis.accelerator)
    peak = spec.peak_tflops(basis.precision, basis.sparse)
    gang = gang_for(table.training, last.year, 10**9, peak)  # the gang as requested, not as it fit
    service = service_of(table.inference, basis)
    inference, _ = inference_day(table.inference, service, last.year, 10**9)
    batch = last.batch_offered_gpus / table.target_utilisation
    nodes = math.ceil((gang.devices + float(inference.max()) + batch) / spec.devices_per_node)
    busy = gang.devices + np.tile(inference, 365).astype(float) + table.target_utilisation * batch
    for tenths in range(11):
        pue = pue_by_hour(CoolingDesign(liquid_share=tenths / 10.0), weather)
        energy = energy_year(it_load_mw(basis, nodes, busy), pue)
        if energy.annual_pue <= PUE_TARGET or tenths == 10:
            break
    return NextStage(devices=nodes * spec.devices_per_node,
                     pflops=nodes * spec.devices_per_node * peak / TFLOPS_PER_PFLOPS,
                     facility_mw=float(np.max(it_load_mw(basis, nodes, busy) * pue)),
                     liquid_share=tenths / 10.0, annual_pue=energy.annual_pue)


@dataclass
class YearPlanOutcome:
    """Every stage in every year, the first short year of each stage, and the next stage (sized for
    the last year's demand)."""

    rows: list[YearStage]
    first_short: dict[str, YearStage | None]
    next_stage: NextStage


def run_yearplan(table: YearPlanTable, mix: WorkloadConfig, basis: Basis, rng: np.random.Generator,
                 weather: WeatherYear | None = None) -> YearPlanOutcome:
    """The year-by-year plan: each stage against each year's demand (see the module docstring)."""
    weather = weather or fuzhou_typical_year()
    mix = with_growth(mix, table.tenant_growth_per_year)
    years = sorted(table.years)
    # common random numbers: every stage faces the same jobs and gang failures in a year, so the
    # stages differ by their capacity, not by their draws
    seeds = dict(zip(years, rng.integers(2**63 - 1, size=len(years)).tolist(), strict=True))
    rows = [run_stage_year(stage, year, table, mix, basis, weather, np.random.default_rng(seeds[year]))
            for stage in table.stages for year in years]
    first_short = {stage.name: next((r for r in rows if r.stage == stage.name and r.short), None)
                   for stage in table.stages}
    return YearPlanOutcome(rows, first_short, next_stage(rows[-1], table, basis, weather))


def yearplan_kpis(outcome: YearPlanOutcome) -> dict[str, float]:
    """Flat KPIs: ``<stage>_<year>_<metric>`` per row and ``next_stage_<metric>``."""
    kpis: dict[str, float] = {}
    for r in outcome.rows:
        prefix = f"{r.stage}_{r.year}"
        kpis.update({
            f"{prefix}_training_goodput_ratio": r.training_goodput,
            f"{prefix}_training_wall_time_s": r.training_days * 86400.0,
            f"{prefix}_inference_ttft_s": r.inference_ttft_s,
            f"{prefix}_inference_peak_gpus": float(r.inference_peak_devices),
            f"{prefix}_batch_small_job_p95_queued_s": r.batch_small_p95_s,
            f"{prefix}_batch_large_training_p95_queued_s": r.batch_large_p95_s,
            f"{prefix}_batch_utilisation": r.batch_utilisation,
            f"{prefix}_facility_peak_mw": r.facility_peak_mw,
            f"{prefix}_grid_capped_h": float(r.capped_hours),
            f"{prefix}_annual_pue_ratio": r.annual_pue,
            f"{prefix}_facility_energy_mwh": r.facility_mwh,
            f"{prefix}_short_classes_count": float(len(r.short)),
        })
    nxt = outcome.next_stage
    kpis["next_stage_pflops"] = nxt.pflops
    kpis["next_stage_devices_gpus"] = float(nxt.devices)
    kpis["next_stage_facility_mw"] = nxt.facility_mw
    kpis["next_stage_liquid_share_ratio"] = nxt.liquid_share
    kpis["next_stage_annual_pue_ratio"] = nxt.annual_pue
    return kpis
