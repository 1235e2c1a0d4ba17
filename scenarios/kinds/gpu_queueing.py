"""The AI computing centre's GPU queue: scheduling policies compared at each build phase.

Each ``[[cases]]`` entry is a year and a capacity in P (for example the 2000P first phase in 2024
and the 10000P target in 2028). The tenant mix of that year (``twin/compute/data/workload_changle.toml``
unless ``[report] workload`` names another) is drawn once per case, and the same jobs and the
same node failures are run under every policy of ``[scheduling] policies`` (common random numbers,
so that differences between policies are the policies'). Each run is a SimPy
:class:`twin.compute.cluster.ClusterModel` with its own clock over ``[scenario] duration_s``; KPIs
leave out the first ``warmup_days`` (see :mod:`twin.compute.comparison`).

The report compares the policies (waits, slowdown, utilisation, SLA attainment per tenant), shows
queue length and utilisation over time and the wait distribution of each tenant, and sizes the
hardware and its power at the plan's PUE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

from scenarios.registry import scenario_kind
from twin.cim import focus_table
from twin.city.folder import load_city
from twin.compute import yearplan_report
from twin.compute.accelerators import ClusterSize, accelerator, size_for_pflops
from twin.compute.comparison import cluster_for, compare_policies, hardware_summary, offered_pflops
from twin.compute.metrics import SimulationResult
from twin.compute.policy_report import policy_answer
from twin.compute.power import PUE_REQUIRED_MAX, annual_energy_mwh
from twin.compute.settings import FailureConfig, PlacementName, PolicyName, SchedulerConfig
from twin.compute.workload import WorkloadConfig, generate, load_workload_config
from twin.compute.yearplan import Basis, YearPlanTable, run_yearplan, yearplan_kpis
from twin.config import ScenarioFile, StrictModel
from twin.engine import Engine
from twin.plot_style import in_both_languages
from twin.results import Answer, RunResult

if TYPE_CHECKING:
    import pandas as pd


class CentreTable(StrictModel):
    """The ``[centre]`` table: hardware basis and power accounting."""

    accelerator: str = Field(default="h100_sxm", description="Device type (twin compute accelerators).")
    precision: Literal["fp16", "bf16", "fp8", "int8"] = Field(default="fp16", description="Basis of P.")
    sparse: bool = Field(default=False, description="Count structured sparsity in P.")
    pue: float = Field(default=1.25, ge=1.0, le=3.0, description="Power usage effectiveness (plan: <= 1.3).")
    idle_power_fraction: float = Field(default=0.0, ge=0.0, le=1.0, description="Idle draw / TDP.")
    rack_power_kw: float = Field(default=40.0, gt=0, description="Rack power budget for rack counts (kW).")


class CaseTable(StrictModel):
    """One ``[[cases]]`` entry: a year's demand against a capacity."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Short name, used in KPI names.")
    year: int = Field(ge=2020, le=2050, description="Year of the tenant mix's arrival rates.")
    capacity_pflops: float = Field(gt=0, le=1e6, description="Capacity of the centre (P).")


class SchedulingTable(StrictModel):
    """The ``[scheduling]`` table: the policies compared and their common settings."""

    policies: list[PolicyName] = Field(
        default=["fifo", "sjf", "easy", "las", "fair"], min_length=1, description="Policies to compare."
    )
    placement: PlacementName = Field(default="consolidated", description="consolidated or spread.")
    preemption: bool = Field(default=True, description="Priority tenants (gov_llm) may preempt.")
    las_thresholds_gpu_h: list[float] = Field(default=[1.0, 64.0], description="LAS thresholds (GPU-h).")
    backfill_depth: int = Field(default=256, ge=1, le=100_000, description="Jobs examined behind the head.")
    restart_overhead_s: float = Field(
        default=300.0, ge=0, description="Restart after preemption/failure (s)."
    )
    checkpoint_interval_s: float = Field(default=3600.0, ge=0, description="Checkpoint period (s; 0: none).")

    @model_validator(mode="after")
    def _unique(self) -> SchedulingTable:
        if len(set(self.policies)) != len(self.policies):
            raise ValueError(f"policies must be unique: {self.policies}")
        return self


class ReportTable(StrictModel):
    """The ``[report]`` table."""

    warmup_days: float = Field(default=14.0, ge=0, description="Days left out of the KPIs.")
    focus_policy: PolicyName = Field(default="easy", description="Policy whose waits and power are detailed.")
    epoch_s: float = Field(default=3600.0, gt=0, description="Monitoring epoch of the SimPy model (s).")
    bin_width_s: float = Field(default=3600.0, gt=0, description="Time-series resolution (s).")
    workload: str | None = Field(default=None, description="Tenant-mix TOML (default: the bundled mix).")


class GpuQueueingFile(ScenarioFile):
    """A ``gpu_queueing`` scenario file."""

    centre: CentreTable = CentreTable()
    cases: list[CaseTable] = Field(
        default=[
            CaseTable(name="phase1_2024", year=2024, capacity_pflops=2000.0),
            CaseTable(name="target_2028", year=2028, capacity_pflops=10000.0),
        ],
        min_length=1,
    )
    scheduling: SchedulingTable = SchedulingTable()
    failures: FailureConfig = FailureConfig(enabled=True)
    report: ReportTable = ReportTable()
    yearplan: YearPlanTable | None = Field(
        default=None, description="The plan answered year by year (twin/compute/yearplan.py); off if absent.")

    # Cross-table checks are field validators (not a model validator) so that an error names
    # its table: a file-level error would carry no location.
    @field_validator("cases")
    @classmethod
    def _unique_cases(cls, cases: list[CaseTable]) -> list[CaseTable]:
        names = [c.name for c in cases]
        if len(set(names)) != len(names):
            raise ValueError(f"case names must be unique: {names}")
        return cases

    @field_validator("report")
    @classmethod
    def _report_fits(cls, report: ReportTable, info: ValidationInfo) -> ReportTable:
        scheduling = info.data.get("scheduling")
        if scheduling is not None and report.focus_policy not in scheduling.policies:
            raise ValueError(
                f"focus_policy {report.focus_policy!r} is not among the policies {scheduling.policies}"
            )
        header = info.data.get("scenario")
        if header is not None and report.warmup_days * 86400.0 >= header.duration_s:
            raise ValueError(f"warmup_days {report.warmup_days:g} must be shorter than [scenario] duration_s")
        return report


KPI_FIELDS = (
    "mean_wait_s",
    "mean_queued_s",
    "mean_jct_s",
    "p95_wait_s",
    "p99_wait_s",
    "large_training_p95_queued_s",
    "mean_bounded_slowdown_ratio",
    "utilisation",
    "fragmentation_ratio",
    "sla_attainment_pct",
)


@dataclass
class CaseOutcome:
    """What one case adds to the run: KPIs, the policy rows, tenants, series, hardware and waits."""

    kpis: dict[str, float] = field(default_factory=dict)
    comparison: list[dict] = field(default_factory=list)
    tenants: list[pd.DataFrame] = field(default_factory=list)
    series: list[pd.DataFrame] = field(default_factory=list)
    hardware: dict = field(default_factory=dict)
    waits: pd.DataFrame | None = None


def run(config: GpuQueueingFile, engine: Engine) -> RunResult:
    """Simulate every case under every policy and compare them."""
    import pandas as pd  # deferred: heavy, and the registry imports every kind to discover kinds

    report = config.report
    mix = load_workload_config(Path(report.workload)) if report.workload else load_workload_config()
    outcomes = {case.name: run_case(config, case, mix, engine) for case in config.cases}
    kpis = {name: value for outcome in outcomes.values() for name, value in outcome.kpis.items()}
    comparison_frame = pd.DataFrame([row for outcome in outcomes.values() for row in outcome.comparison])
    tenants_frame = pd.concat([t for outcome in outcomes.values() for t in outcome.tenants], ignore_index=True)
    series_frame = pd.concat([s for outcome in outcomes.values() for s in outcome.series], ignore_index=True)
    hardware = [outcome.hardware for outcome in outcomes.values()]
    waits = {name: outcome.waits for name, outcome in outcomes.items()}
    headline = [f"{c.name}_{report.focus_policy}_p95_wait_s" for c in config.cases]
    headline += [f"{c.name}_{report.focus_policy}_utilisation" for c in config.cases]
    headline += [f"{config.cases[-1].name}_annual_energy_mwh"]
    result = RunResult(
        kpis=kpis,
        tables={
            "policy_comparison": comparison_frame,
            "tenant_waits": tenants_frame,
            "timeseries": series_frame,
            "hardware": pd.DataFrame(hardware),
            **cim_focus_table(config),
        },
        figures=_figures(config, series_frame, tenants_frame, waits),
        notes=_notes(config, comparison_frame, tenants_frame, hardware, PUE_REQUIRED_MAX),
        headline=headline,
    )
    if config.yearplan is not None:
        add_yearplan(config, config.yearplan, mix, engine, result)
    return result


def add_yearplan(config: GpuQueueingFile, table: YearPlanTable, mix: WorkloadConfig, engine: Engine,
                 result: RunResult) -> None:
    """The year-by-year plan's KPIs, tables, PUE figure and notes, on the run's own child stream."""
    centre = config.centre
    basis = Basis(centre.accelerator, centre.precision, centre.sparse)
    outcome = run_yearplan(table, mix, basis, engine.rng("gpu_queueing.yearplan"))
    kpis = yearplan_kpis(outcome)
    result.kpis.update(kpis)
    frames = yearplan_report.tables(outcome, table, kpis)
    result.tables.update(frames)
    result.figures.update(in_both_languages(
        "pue_by_month", lambda lang: yearplan_report.pue_figure(frames["pue_by_month"], lang)))
    result.notes += yearplan_report.pue_notes(frames["pue_by_month"])
    result.headline = [f"{s.name}_{max(table.years)}_short_classes_count" for s in table.stages] + [
        "next_stage_pflops", "next_stage_facility_mw", *result.headline]


def answer(config: GpuQueueingFile, kpis: dict[str, float], result: RunResult) -> Answer | None:
    """Without a ``[yearplan]``: the policy that keeps most jobs within their service level, and
    whether each case meets the plan's SLA (:func:`twin.compute.policy_report.policy_answer`).
    With a ``[yearplan]``: which year each stage runs short, on what, and the next stage (means
    and intervals over the replications); the year-by-year table shows the means."""
    table = config.yearplan
    if table is None or "yearplan" not in result.tables:
        return policy_answer(result.tables["policy_comparison"], config.report.focus_policy)
    frames = yearplan_report.tables_from_means(result.tables["options"], kpis)
    result.tables["options"] = frames
    return yearplan_report.answer(result.tables["yearplan"], table, kpis, result.intervals,
                                  config.centre.accelerator)


def schedulers_of(table: SchedulingTable) -> list[SchedulerConfig]:
    """One scheduler per policy compared, with the table's common settings."""
    return [
        SchedulerConfig(
            policy=policy,
            placement=table.placement,
            preemption=table.preemption,
            las_thresholds_gpu_h=table.las_thresholds_gpu_h,
            backfill_depth=table.backfill_depth,
            restart_overhead_s=table.restart_overhead_s,
            checkpoint_interval_s=table.checkpoint_interval_s,
        )
        for policy in table.policies
    ]


def run_case(config: GpuQueueingFile, case: CaseTable, mix: WorkloadConfig, engine: Engine) -> CaseOutcome:
    """One case: its hardware, its year's jobs, every policy on them, and the focus policy's detail."""
    centre, report = config.centre, config.report
    duration_s = config.scenario.duration_s
    warmup_s = report.warmup_days * 86400.0
    spec_acc = accelerator(centre.accelerator)
    size = size_for_pflops(
        case.capacity_pflops, centre.accelerator, centre.precision, centre.sparse, centre.rack_power_kw
    )
    jobs = generate(
        mix, case.year, duration_s, engine.rng(f"gpu_queueing.workload.{case.name}"),
        centre.accelerator, centre.precision,
    )
    offered = offered_pflops(jobs, duration_s, spec_acc.peak_tflops(centre.precision, centre.sparse))
    results = compare_policies(
        jobs,
        cluster_for(size, spec_acc, centre.pue, centre.idle_power_fraction),
        schedulers_of(config.scheduling),
        config.failures,
        engine.seed_sequence(f"gpu_queueing.failures.{case.name}"),
        horizon_s=duration_s,
        epoch_s=report.epoch_s,
        bin_width_s=report.bin_width_s,
        warmup_s=warmup_s,
        label=case.name,
    )
    outcome = CaseOutcome()
    for policy, result in results.items():
        _add_policy(outcome, case, policy, result)
    focus = results[report.focus_policy]
    outcome.waits = focus.jobs[focus.jobs["submit_s"] >= warmup_s][["tenant", "queued_s"]]
    _add_hardware(outcome, case, size, focus, offered, centre.pue)
    return outcome


def _add_policy(outcome: CaseOutcome, case: CaseTable, policy: str, result: SimulationResult) -> None:
    """A policy's row of the comparison, its KPIs, tenants and time series."""
    row = {"case": case.name, "year": case.year, "capacity_pflops": case.capacity_pflops, "policy": policy}
    outcome.comparison.append({**row, **result.kpis})
    for name in KPI_FIELDS:
        outcome.kpis[f"{case.name}_{policy}_{name}"] = result.kpis[name]
    outcome.tenants.append(result.tenants.assign(case=case.name, policy=policy))
    outcome.series.append(result.timeseries.assign(case=case.name, policy=policy))


def _add_hardware(
    outcome: CaseOutcome, case: CaseTable, size: ClusterSize, focus: SimulationResult, offered: float, pue: float
) -> None:
    """The case's hardware row and KPIs, with power from the focus policy's run."""
    row = {"case": case.name, "year": case.year, "capacity_pflops": case.capacity_pflops}
    outcome.hardware = {**row, **hardware_summary(size, focus, offered, pue)}
    power_mw = outcome.hardware["mean_power_mw"]
    outcome.kpis[f"{case.name}_devices_gpus"] = float(size.devices)
    outcome.kpis[f"{case.name}_racks_count"] = float(size.racks)
    outcome.kpis[f"{case.name}_offered_load_pflops"] = offered
    outcome.kpis[f"{case.name}_power_mw"] = power_mw
    outcome.kpis[f"{case.name}_annual_energy_mwh"] = annual_energy_mwh(power_mw)


def cim_focus_table(config: GpuQueueingFile) -> dict[str, pd.DataFrame]:
    """``{"cim_focus": ...}`` centred on the AI computing centre of the city layers, for the report's
    CIM render (viz/results_overlay.py); empty if the dataset has no ``aicc`` compute site."""
    sites = load_city().compute_sites
    if sites is None or not (sites["kind"] == "aicc").any():
        return {}
    aicc = sites[sites["kind"] == "aicc"].iloc[0]
    last = config.cases[-1]
    label = f"{aicc['name_zh']}: {last.capacity_pflops:,.0f}P in {last.year}"
    return {"cim_focus": focus_table([aicc.geometry.x], [aicc.geometry.y], label, min_radius_m=2500.0)}


def _notes(config: GpuQueueingFile, comparison, tenants, hardware: list[dict], pue_max: float) -> list[str]:
    notes = [
        f"Capacity is counted as {'sparse' if config.centre.sparse else 'dense'} "
        f"{config.centre.precision.upper()} P of {config.centre.accelerator}; every policy of a case runs "
        f"the same jobs and the same node failures over {config.scenario.duration_s / 86400:.0f} days, "
        f"KPIs from day {config.report.warmup_days:g}.",
    ]
    for case in config.cases:
        rows = comparison[comparison["case"] == case.name].set_index("policy")
        focus = rows.loc[config.report.focus_policy]
        hw = next(h for h in hardware if h["case"] == case.name)
        small = _best(rows["small_job_p95_queued_s"])
        large = _best(rows["large_training_p95_queued_s"])
        worst = _best(-rows["mean_queued_s"])
        fp = config.report.focus_policy
        p95_small = rows["small_job_p95_queued_s"] / 3600.0
        p95_large = rows["large_training_p95_queued_s"] / 3600.0
        notes.append(
            f"{case.name} ({case.year} demand, offered {hw['offered_pflops']:,.0f}P, on "
            f"{case.capacity_pflops:g}P = {hw['devices']:,} devices in {hw['nodes']:,} nodes, "
            f"{hw['racks']:,} racks): small jobs (<= 1 node) queue least under {small} "
            f"(p95 {p95_small.min():.2f} h), large training under {large} (p95 {p95_large.min():.1f} h); "
            f"{worst} queue jobs longest (mean {rows['mean_queued_s'].max() / 3600:.1f} h). "
            f"Under {fp}: p95 time queued {p95_small[fp]:.2f} h "
            f"for small jobs and {p95_large[fp]:.1f} h for large training, "
            f"SLA attainment {focus['sla_attainment_pct']:.1f}%, utilisation {focus['utilisation']:.0%}, "
            f"{hw['mean_power_mw']:.1f} MW at PUE {hw['pue']:g} ({hw['annual_energy_mwh']:,.0f} MWh/year)."
        )
        short = tenants[(tenants["case"] == case.name) & (tenants["policy"] == config.report.focus_policy)]
        worst_tenant = short.sort_values("sla_attainment_pct").iloc[0]
        notes.append(
            f"{case.name}: lowest SLA attainment under {config.report.focus_policy} is "
            f"{worst_tenant['tenant']} ({worst_tenant['sla_attainment_pct']:.1f}%, p95 time queued "
            f"{worst_tenant['p95_queued_s'] / 3600:.2f} h)."
        )
    notes.append(
        "Waits: *_wait_s is the delay to a job's first start; *_queued_s counts every period it waits, "
        "also after a preemption (LAS, priority tenants) or a node failure, and is what the SLA uses. "
        "LAS starts nearly every job at once, so its first-start delays look perfect while large jobs "
        "are preempted and wait later."
    )
    if config.centre.pue > pue_max:
        notes.append(f"PUE {config.centre.pue:g} exceeds the plan's limit of {pue_max}.")
    return notes


def _best(values) -> str:
    """The policies that share the lowest value, in words ("every policy" when all tie)."""
    best = [name for name, v in values.items() if v <= values.min() + 1e-9 * max(abs(values.min()), 1.0)]
    return "every policy" if len(best) == len(values) else ", ".join(best)


def _pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend."""
    import matplotlib  # deferred: heavy, and only the report's figures need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred: as matplotlib above

    return plt


def _figures(config: GpuQueueingFile, series, tenants, waits) -> dict:
    """The report's four figures: queue length, utilisation, waits per tenant, p95 by tenant and policy."""
    return {
        "queue_length": _queue_length_figure(config, series),
        "utilisation": _utilisation_figure(config, series),
        "wait_by_tenant": _wait_by_tenant_figure(config, waits),
        "tenant_p95_by_policy": _tenant_p95_figure(config, tenants),
    }


def _queue_length_figure(config: GpuQueueingFile, series):
    """Jobs waiting over time, one panel per case, one line per policy."""
    plt = _pyplot()
    cases = [c.name for c in config.cases]
    policies = config.scheduling.policies
    fig, axes = plt.subplots(len(cases), 1, figsize=(10, 3.2 * len(cases)), squeeze=False)
    for ax, case in zip(axes[:, 0], cases, strict=True):
        for policy in policies:
            ts = series[(series["case"] == case) & (series["policy"] == policy)]
            ax.plot(ts["start_s"] / 86400.0, ts["queued_jobs"], lw=0.8, label=policy)
        ax.axvline(config.report.warmup_days, color="grey", ls=":", lw=0.8)
        ax.set_yscale("symlog", linthresh=10)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("jobs waiting")
        ax.set_title(f"{case}: queue length")
        ax.legend(fontsize=8, ncol=len(policies))
    axes[-1, 0].set_xlabel("days")
    fig.tight_layout()
    return fig


def _utilisation_figure(config: GpuQueueingFile, series):
    """Allocated share over time per policy, with the focus policy's fragmented free devices."""
    plt = _pyplot()
    cases = [c.name for c in config.cases]
    policies = config.scheduling.policies
    fig, axes = plt.subplots(len(cases), 1, figsize=(10, 3.2 * len(cases)), squeeze=False)
    for ax, case in zip(axes[:, 0], cases, strict=True):
        for policy in policies:
            ts = series[(series["case"] == case) & (series["policy"] == policy)]
            ax.plot(ts["start_s"] / 86400.0, ts["utilisation"], lw=0.8, label=policy)
        focus = series[(series["case"] == case) & (series["policy"] == config.report.focus_policy)]
        frag = focus["fragmented_free_gpus"] / focus["in_service_gpus"].where(focus["in_service_gpus"] > 0, 1)
        ax.fill_between(
            focus["start_s"] / 86400.0,
            0,
            frag,
            color="grey",
            alpha=0.3,
            label=f"fragmented free ({config.report.focus_policy})",
        )
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("allocated share")
        ax.set_title(f"{case}: GPU utilisation (allocated)")
        ax.legend(fontsize=8, ncol=len(policies) + 1)
    axes[-1, 0].set_xlabel("days")
    fig.tight_layout()
    return fig


def _wait_by_tenant_figure(config: GpuQueueingFile, waits):
    """Survival curves of the time queued per tenant under the focus policy, one panel per case."""
    plt = _pyplot()
    cases = [c.name for c in config.cases]
    fig, axes = plt.subplots(1, len(cases), figsize=(5.5 * len(cases), 4), squeeze=False)
    for ax, case in zip(axes[0], cases, strict=True):
        frame = waits[case]
        for tenant, group in frame.groupby("tenant", sort=True):
            values = np.sort(group["queued_s"].to_numpy() / 3600.0)
            if len(values) == 0:
                continue
            # share of the tenant's jobs that waited longer than x (a survival curve shows the tail)
            longer = 1.0 - np.arange(1, len(values) + 1) / len(values)
            ax.step(
                np.maximum(values, 1e-3),
                np.maximum(longer, 0.5 / len(values)),
                where="post",
                label=f"{tenant} ({len(values):,} jobs)",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(1e-3, None)
        ax.set_xlabel("time queued, x (h; also after preemption or failure)")
        ax.set_ylabel("share of jobs waiting longer than x")
        ax.set_title(f"{case}: waits per tenant ({config.report.focus_policy})")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _tenant_p95_figure(config: GpuQueueingFile, tenants):
    """p95 time queued per tenant, bars grouped by policy, one panel per case."""
    plt = _pyplot()
    cases = [c.name for c in config.cases]
    policies = config.scheduling.policies
    fig, axes = plt.subplots(1, len(cases), figsize=(5.5 * len(cases), 4), squeeze=False)
    for ax, case in zip(axes[0], cases, strict=True):
        frame = tenants[tenants["case"] == case]
        names = list(dict.fromkeys(frame["tenant"]))
        width = 0.8 / len(policies)
        for k, policy in enumerate(policies):
            values = [
                frame[(frame["tenant"] == t) & (frame["policy"] == policy)]["p95_queued_s"].iloc[0] / 3600.0
                for t in names
            ]
            ax.bar(np.arange(len(names)) + k * width, values, width, label=policy)
        ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2)
        ax.set_xticklabels(names, fontsize=8)
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("p95 time queued (h)")
        ax.set_title(f"{case}: p95 time queued by tenant and policy")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


scenario_kind("gpu_queueing", GpuQueueingFile, "AI computing centre: GPU queueing, policies and capacity",
              answer=answer)(run)
