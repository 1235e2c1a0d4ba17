"""``twin compute``: the AI computing centre's GPU queue and capacity plan.

* ``twin compute simulate`` runs a workload (a trace CSV, a tenant-mix TOML, the bundled Changle
  mix for a year, or a synthetic open stream from flags) against a cluster on the core's
  :class:`~twin.engine.Engine` (its clock, and one seed with a child stream each for the workload
  and the failures) and writes ``jobs.parquet``/``.csv``, ``timeseries``, ``tenants``,
  ``kpis.json`` and ``manifest.json``.
* ``twin compute replay`` replays a public cluster trace (Alibaba, Philly, Acme) through one of our
  scheduling policies on a cluster and writes the same folder as ``simulate``.
* ``twin compute plan`` finds, for each year, the least capacity meeting the SLA, and whether the
  2000P phase and the 10000P target suffice; it writes a table, the answers, a plot and
  ``manifest.json``.
* ``twin compute size`` converts P into devices, nodes, racks and power.
* ``twin compute accelerators`` lists the catalogue with its sources.

Folders are written by the one writer, :mod:`twin.results` (atomically, an existing folder only
with ``--force``). Our modules are imported inside the commands so that ``twin --help`` stays fast.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from twin.errors import InputError
from twin.progress import set_quiet
from twin_cli.options import with_city

compute_app = typer.Typer(
    name="compute",
    help="AI computing centre: GPU queueing simulation, capacity planning and power.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

PLACEMENTS = ("consolidated", "spread")
WORKLOAD_STREAM = "compute.workload"
FAILURE_STREAM = "compute.failures"
"""The engine's child streams of ``twin compute simulate`` (workload draws, node failures)."""


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise InputError(f"{option} {value!r}: expected one of {', '.join(allowed)}")
    return value


def _policy_choice(value: str) -> str:
    """``--policy`` among the registered scheduling policies."""
    from twin.compute.policies.registry import policy_names

    return _choice(value, policy_names(), "--policy")


def _cluster(
    gpus: int | None,
    pflops: float | None,
    accelerator: str,
    precision: str,
    sparse: bool,
    gpus_per_node: int | None,
    pue: float,
):
    """The cluster from ``--gpus`` or from ``--pflops`` of ``--accelerator``."""
    from twin.compute.accelerators import accelerator as spec_of
    from twin.compute.accelerators import size_for_pflops
    from twin.compute.cluster_spec import ClusterSpec
    from twin.compute.power import check_pue

    spec = spec_of(accelerator)
    check_pue(pue)
    per_node = gpus_per_node or spec.devices_per_node
    if gpus is not None and pflops is not None:
        raise InputError("give either --gpus or --pflops, not both")
    if gpus is not None:
        if gpus < per_node or gpus % per_node:
            raise InputError(
                f"--gpus {gpus}: must be a positive multiple of {per_node} (nodes of {per_node} devices)"
            )
        return ClusterSpec(nodes=gpus // per_node, gpus_per_node=per_node, accelerator=accelerator, pue=pue)
    size = size_for_pflops(pflops if pflops is not None else 10000.0, accelerator, precision, sparse)
    return ClusterSpec(
        nodes=size.nodes, gpus_per_node=spec.devices_per_node, accelerator=accelerator, pue=pue
    )


def _manifest(ctx: typer.Context) -> dict[str, Any]:
    """What made the folder: the command and its options (versions, commit and times are added
    by :func:`twin.results.write_run`)."""
    options = {name: str(value) if isinstance(value, Path) else value for name, value in ctx.params.items()}
    return {"command": ctx.command_path, "options": options, "seed": options.get("seed")}


@compute_app.command()
@with_city
def simulate(
    ctx: typer.Context,
    workload: Path | None = typer.Option(
        None,
        "--workload",
        "-w",
        help="Trace CSV (Alibaba cluster-trace-gpu-v2023 pods or Philly/Tiresias jobs) or tenant-mix TOML.",
    ),
    trace_format: str = typer.Option("auto", "--trace-format", help="auto, alibaba, philly or acme."),
    year: int = typer.Option(2028, "--year", help="Year of the tenant mix's arrival rates (2024-2028)."),
    days: float = typer.Option(30.0, "--days", help="Days of arrivals drawn from a tenant mix."),
    gpus: int | None = typer.Option(None, "--gpus", help="Cluster size in devices (a multiple of 8)."),
    pflops: float | None = typer.Option(None, "--pflops", help="Cluster size in P [default: 10000]."),
    accelerator: str = typer.Option(
        "h100_sxm", "--accelerator", help="Device type (twin compute accelerators)."
    ),
    precision: str = typer.Option("fp16", "--precision", help="Basis of P: fp16, bf16, fp8 or int8."),
    sparse: bool = typer.Option(False, "--sparse", help="Count structured sparsity in P (default: dense)."),
    gpus_per_job: int = typer.Option(1, "--gpus-per-job", help="Synthetic stream: devices per job."),
    arrival_rate_per_h: float | None = typer.Option(
        None,
        "--arrival-rate-per-h",
        help="Synthetic stream: Poisson arrival rate (jobs/h); selects synthetic mode.",
    ),
    mean_duration_h: float = typer.Option(
        1.0, "--mean-duration-h", help="Synthetic stream: mean run time (h)."
    ),
    duration_dist: str = typer.Option("exponential", "--duration-dist", help="exponential or lognormal."),
    duration_cv: float = typer.Option(1.0, "--duration-cv", help="Coefficient of variation (lognormal)."),
    jobs: int = typer.Option(10000, "--jobs", help="Synthetic stream: number of jobs."),
    policy: str = typer.Option("easy", "--policy", help="fifo, sjf, easy, las or fair."),
    placement: str = typer.Option("consolidated", "--placement", help="consolidated or spread."),
    preemption: bool = typer.Option(
        False, "--preemption/--no-preemption", help="Priority tenants may preempt."
    ),
    failures: bool = typer.Option(
        False, "--failures/--no-failures", help="Node failures with checkpoint-restart."
    ),
    horizon_days: float | None = typer.Option(
        None, "--horizon-days", help="Stop at this time (default: after the last arrival, let jobs finish)."
    ),
    warmup_days: float = typer.Option(
        0.0, "--warmup-days", help="Leave jobs submitted before this out of KPIs."
    ),
    pue: float = typer.Option(1.25, "--pue", help="Power usage effectiveness for energy (plan: <= 1.3)."),
    seed: int = typer.Option(1, "--seed", min=0, help="Seed of the workload and failure streams."),
    out: Path = typer.Option(Path("results/compute_simulate"), "--out", "-o", help="Results folder."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing results folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Run a workload against the GPU cluster; write jobs, time series, tenants and KPIs."""
    from twin.config import DEFAULT_START
    from twin.engine import Engine

    set_quiet(quiet)
    started = time.perf_counter()
    _check_simulate_options(out, force, policy, placement, duration_dist, trace_format)
    spec = _cluster(gpus, pflops, accelerator, precision, sparse, None, pue)
    # one seed for the run; without --horizon-days the run lasts until the last job ends
    engine = Engine(seed, DEFAULT_START, horizon_days * 86400.0 if horizon_days is not None else math.inf)
    stream = None
    if arrival_rate_per_h is not None:
        stream = _SyntheticStream(jobs, gpus_per_job, arrival_rate_per_h, mean_duration_h, duration_dist, duration_cv)
    table = _workload(workload, trace_format, year, days, accelerator, precision, stream, engine)
    _refuse_all_too_large(table, spec, "--gpus-per-job" if stream is not None else str(workload))
    horizon_s = _horizon_s(horizon_days, table)
    result = _run_cluster(engine, table, spec, policy, placement, preemption, failures, horizon_s, warmup_days,
                          drain=horizon_days is None)
    _write_simulation(ctx, out, force, result, time.perf_counter() - started)
    if not quiet:
        _print_summary(result.kpis, spec, len(table), out)


def _refuse_all_too_large(table, spec, source: str) -> None:  # noqa: ANN001 - JobTable, ClusterSpec
    """Exit 2 rather than report a perfect SLA over nothing: every job is larger than the cluster."""
    from twin.errors import InputError

    if len(table) and int(table.gpus.min()) > spec.gpus:
        raise InputError(
            f"every one of the {len(table):,} jobs asks for more devices (at least {int(table.gpus.min()):,}) "
            f"than the cluster has ({spec.gpus:,}): nothing could run; give a larger cluster or smaller jobs",
            source,
        )


@compute_app.command()
@with_city
def replay(
    ctx: typer.Context,
    trace: Path = typer.Argument(..., help="Trace CSV: Alibaba v2023 pods, Philly/Tiresias jobs or AcmeTrace jobs."),
    trace_format: str = typer.Option("auto", "--format", help="auto, alibaba, philly or acme."),
    policy: str = typer.Option("fifo", "--policy", help="fifo, sjf, easy, las or fair."),
    gpus: int | None = typer.Option(None, "--gpus", help="Cluster size in devices (a multiple of 8)."),
    pflops: float | None = typer.Option(None, "--pflops", help="Cluster size in P [default: 10000]."),
    accelerator: str = typer.Option("h100_sxm", "--accelerator", help="Device type (twin compute accelerators)."),
    placement: str = typer.Option("consolidated", "--placement", help="consolidated or spread."),
    pue: float = typer.Option(1.25, "--pue", help="Power usage effectiveness for energy (plan: <= 1.3)."),
    out: Path = typer.Option(Path("results/compute_replay"), "--out", "-o", help="Results folder."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing results folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Replay a cluster trace through a scheduling policy: submissions, GPU counts and run times as
    recorded; the waits, completion times and utilisation are our policy's. Every job runs to the end."""
    from twin.compute.traces import read_trace
    from twin.config import DEFAULT_START
    from twin.engine import Engine

    set_quiet(quiet)
    started = time.perf_counter()
    _check_simulate_options(out, force, policy, placement, "exponential", trace_format)
    spec = _cluster(gpus, pflops, accelerator, "fp16", False, None, pue)
    table = read_trace(trace, trace_format)  # type: ignore[arg-type]
    biggest = int(table.gpus.max())
    if biggest > spec.gpus:
        raise InputError(f"a job of {biggest} GPUs is larger than the cluster of {spec.gpus} devices: expected "
                         f"--gpus or --pflops of at least {biggest} devices", trace)
    engine = Engine(0, DEFAULT_START, math.inf)
    horizon_s = float(table.submit_s[-1]) + 1.0
    result = _run_cluster(engine, table, spec, policy, placement, False, False, horizon_s, 0.0, drain=True)
    _write_simulation(ctx, out, force, result, time.perf_counter() - started)
    if not quiet:
        _print_summary(result.kpis, spec, len(table), out)


def _check_simulate_options(
    out: Path, force: bool, policy: str, placement: str, duration_dist: str, trace_format: str
) -> None:
    """The folder may be written and the choices are known, before any work."""
    from twin.results import refuse_existing

    refuse_existing(out, force)
    _policy_choice(policy)
    _choice(placement, PLACEMENTS, "--placement")
    _choice(duration_dist, ("exponential", "lognormal"), "--duration-dist")
    _choice(trace_format, ("auto", "alibaba", "philly", "acme"), "--trace-format")


@dataclass(frozen=True)
class _SyntheticStream:
    """The synthetic open stream's flags (``--arrival-rate-per-h`` selects it)."""

    n_jobs: int
    gpus_per_job: int
    arrival_rate_per_h: float
    mean_duration_h: float
    duration_dist: str
    duration_cv: float


def _workload(workload: Path | None, trace_format: str, year: int, days: float, accelerator: str,
              precision: str, stream: _SyntheticStream | None, engine):
    """The job table: a synthetic stream, a tenant-mix TOML or a trace, or the bundled mix."""
    from twin.compute.traces import read_trace
    from twin.compute.workload import generate, load_workload_config, synthetic

    rng = engine.rng(WORKLOAD_STREAM)
    if stream is not None:
        if workload is not None:
            raise InputError(
                "give either --workload or the synthetic flags (--arrival-rate-per-h ...), not both"
            )
        table = synthetic(
            stream.n_jobs, stream.gpus_per_job, stream.arrival_rate_per_h, stream.mean_duration_h, rng,
            stream.duration_dist, stream.duration_cv,  # type: ignore[arg-type]
        )
    elif workload is not None and workload.suffix.lower() == ".toml":
        table = generate(load_workload_config(workload), year, _days(days), rng, accelerator, precision)
    elif workload is not None:
        table = read_trace(workload, trace_format)  # type: ignore[arg-type]
    else:
        table = generate(load_workload_config(), year, _days(days), rng, accelerator, precision)
    if len(table) == 0:
        raise InputError("the workload has no jobs")
    return table


def _horizon_s(horizon_days: float | None, table) -> float:
    """End of the run (s): ``--horizon-days``, or just after the last arrival (then it drains)."""
    if horizon_days is not None and not horizon_days > 0:
        raise InputError(f"--horizon-days {horizon_days}: must be > 0")
    return horizon_days * 86400.0 if horizon_days is not None else float(table.submit_s[-1]) + 1.0


def _run_cluster(engine, table, spec, policy: str, placement: str, preemption: bool, failures: bool,
                 horizon_s: float, warmup_days: float, drain: bool):
    """The cluster model on the engine's clock, failures from the engine's failure stream."""
    from twin.compute.cluster import ClusterModel
    from twin.compute.settings import FailureConfig, SchedulerConfig

    model = ClusterModel(
        engine.env,
        table,
        spec,
        SchedulerConfig(policy=policy, placement=placement, preemption=preemption),  # type: ignore[arg-type]
        FailureConfig(enabled=failures),
        horizon_s=horizon_s,
        rng=engine.rng(FAILURE_STREAM),
        warmup_s=warmup_days * 86400.0,
        bin_width_s=_bin_width(horizon_s),
    )
    return model.run(drain=drain)


def _write_simulation(ctx: typer.Context, out: Path, force: bool, result, wall_time_s: float) -> None:
    """``kpis.json``, the jobs, time series and tenant tables, and the manifest, atomically."""
    from twin.results import RunResult, write_run

    run = RunResult(
        kpis=result.kpis,
        tables={"jobs": result.jobs, "timeseries": result.timeseries, "tenants": result.tenants},
    )
    write_run(out, run, _manifest(ctx), wall_time_s, force=force)


def _days(days: float) -> float:
    if not days > 0:
        raise InputError(f"--days {days}: must be > 0")
    return days * 86400.0


def _bin_width(horizon_s: float) -> float:
    """Time-series resolution: an hour for runs up to 90 days, a day beyond."""
    return 3600.0 if horizon_s <= 90 * 86400.0 else 86400.0


def _print_summary(kpis: dict[str, float], spec, n_jobs: int, out: Path) -> None:
    from rich.console import Console  # deferred: rich is slow to import and only the summary needs it
    from rich.table import Table  # deferred: as rich.console above

    from twin.kpis import format_number

    table = Table(title=f"{n_jobs:,} jobs on {spec.nodes:,} nodes ({spec.gpus:,} {spec.accelerator} devices)")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for name in (
        "jobs_completed",
        "mean_wait_s",
        "p50_wait_s",
        "p95_wait_s",
        "p99_wait_s",
        "mean_jct_s",
        "mean_bounded_slowdown_ratio",
        "utilisation",
        "fragmentation_ratio",
        "sla_attainment_pct",
        "energy_mwh",
    ):
        table.add_row(name, format_number(kpis[name]))
    Console().print(table)
    rejected = int(kpis.get("jobs_rejected_jobs", 0))
    if rejected:  # never a silent success: the KPIs above leave these jobs out
        Console().print(f"[yellow]{rejected:,} of {n_jobs:,} jobs were rejected (larger than the cluster)[/yellow]")
    Console().print(f"results: {out}")


@compute_app.command()
@with_city
def plan(
    ctx: typer.Context,
    years: str = typer.Option("2024-2028", "--years", help="Years to plan, e.g. 2024-2028 or 2024,2026."),
    accelerator: str = typer.Option("h100_sxm", "--accelerator", help="Device type to size in."),
    precision: str = typer.Option("fp16", "--precision", help="Basis of P: fp16, bf16, fp8 or int8."),
    sparse: bool = typer.Option(False, "--sparse", help="Count structured sparsity in P (default: dense)."),
    policy: str = typer.Option("easy", "--policy", help="Scheduling policy of the centre."),
    placement: str = typer.Option("consolidated", "--placement", help="consolidated or spread."),
    small_p95_wait_h: float = typer.Option(
        1.0, "--small-p95-wait-h", help="SLA: p95 wait of jobs <= 1 node (h)."
    ),
    large_p95_wait_h: float = typer.Option(
        24.0, "--large-p95-wait-h", help="SLA: p95 wait of large training (h)."
    ),
    workload: Path | None = typer.Option(
        None, "--workload", "-w", help="Tenant-mix TOML [default: bundled]."
    ),
    days: float = typer.Option(180.0, "--days", help="Simulated days per capacity tried (after warm-up)."),
    warmup_days: float = typer.Option(14.0, "--warmup-days", help="Warm-up days left out of the SLA."),
    check: str = typer.Option("2000,10000", "--check", help="Fixed capacities (P) to test each year."),
    seed: int = typer.Option(2024, "--seed", min=0, help="Seed of the workloads."),
    out: Path = typer.Option(Path("results/compute_plan"), "--out", "-o", help="Results folder."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing results folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or table."),
) -> None:
    """Least capacity meeting the SLA for each year, and when 2000P and 10000P run out."""
    from twin.compute.accelerators import accelerator as spec_of
    from twin.compute.plan import SlaTargets
    from twin.compute.workload import load_workload_config
    from twin.results import refuse_existing

    set_quiet(quiet)
    started = time.perf_counter()
    refuse_existing(out, force)
    _policy_choice(policy)
    _choice(placement, PLACEMENTS, "--placement")
    year_list = _parse_years(years)
    checks = _parse_floats(check, "--check")
    spec_of(accelerator).peak_tflops(precision, sparse)
    if not days > 0 or warmup_days < 0:
        raise InputError(f"--days {days} / --warmup-days {warmup_days}: need days > 0 and warm-up >= 0")
    if not small_p95_wait_h > 0 or not large_p95_wait_h > 0:
        raise InputError("--small-p95-wait-h and --large-p95-wait-h must be > 0")
    config = load_workload_config(workload) if workload is not None else load_workload_config()
    sla = SlaTargets(small_job_p95_wait_h=small_p95_wait_h, large_training_p95_wait_h=large_p95_wait_h)
    plans = _plan_years(year_list, accelerator, precision, sparse, policy, placement, sla, config, days,
                        warmup_days, seed, checks)
    frame = _plan_frame(plans, checks)
    answers = _answers(plans, checks)
    summary = {
        "accelerator": accelerator,
        "basis": f"{'sparse' if sparse else 'dense'} {precision.upper()}",
        "policy": policy,
        "sla": sla.model_dump(),
        "days": days,
        "warmup_days": warmup_days,
        "answers": answers,
    }
    figure = _plan_figure(frame, checks, accelerator, precision, sparse)
    _write_plan(ctx, out, force, frame, summary, figure, time.perf_counter() - started)
    if not quiet:
        _print_plan(frame, checks, answers, out)


def _plan_years(year_list: list[int], accelerator: str, precision: str, sparse: bool, policy: str,
                placement: str, sla, config, days: float, warmup_days: float, seed: int, checks: list[float]):
    """The capacity plan of every year, with a progress bar over the simulations."""
    from twin.compute.plan import plan_capacity
    from twin.compute.settings import SchedulerConfig
    from twin.progress import progress_bar

    with progress_bar(len(year_list) * 12, "capacity plan") as bar:
        return plan_capacity(
            year_list,
            accelerator,
            precision,
            sparse,
            SchedulerConfig(policy=policy, placement=placement),  # type: ignore[arg-type]
            sla,
            config,
            days,
            warmup_days,
            seed,
            tuple(checks),
            on_step=lambda _nodes: bar.advance(),
        )


def _plan_frame(plans, checks: list[float]):
    """One row per year: offered and required P, devices, nodes, waits and the fixed checks."""
    import pandas as pd  # deferred: heavy, and only the plan's table needs it

    rows = []
    for p in plans:
        row = {
            "year": p.year,
            "offered_pflops": p.offered_pflops,
            "required_pflops": p.required_pflops,
            "required_devices": p.required_devices,
            "required_nodes": p.required_nodes,
            "utilisation_at_required": p.utilisation_at_required,
            "small_job_p95_wait_h": p.small_job_p95_wait_h,
            "large_training_p95_wait_h": p.large_training_p95_wait_h,
            "simulations": p.simulations,
        }
        for cap in checks:
            row[f"meets_sla_{cap:g}p"] = p.checked[cap]
            row[f"worst_p95_wait_h_{cap:g}p"] = p.checked_p95_wait_h[cap]
        rows.append(row)
    return pd.DataFrame(rows)


def _write_plan(ctx: typer.Context, out: Path, force: bool, frame, summary: dict, figure, wall_time_s: float) -> None:
    """``plan.csv``/``.parquet``, ``plan.json`` (the answers), ``plan.png`` and the manifest, atomically."""
    from twin.results import RunResult, json_text, write_run

    run = RunResult(kpis={}, tables={"plan": frame}, figures={"plan": figure},
                    files={"plan.json": json_text(summary).encode()})
    write_run(out, run, _manifest(ctx), wall_time_s, force=force)


def _parse_years(text: str) -> list[int]:
    try:
        if "-" in text:
            first, last = (int(x) for x in text.split("-", 1))
            years = list(range(first, last + 1))
        else:
            years = [int(x) for x in text.split(",")]
    except ValueError:
        raise InputError(f"--years {text!r}: expected FIRST-LAST or a comma list of years") from None
    if not years or any(y < 2020 or y > 2050 for y in years):
        raise InputError(f"--years {text!r}: years must be between 2020 and 2050")
    return years


def _parse_floats(text: str, option: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"{option} {text!r}: expected a comma list of numbers") from None
    if any(not v > 0 or not math.isfinite(v) for v in values):
        raise InputError(f"{option} {text!r}: values must be > 0")
    return values


def _answers(plans, checks: list[float]) -> dict[str, str]:
    answers = {}
    for cap in checks:
        failing = [p.year for p in plans if not p.checked[cap]]
        if not failing:
            answers[f"{cap:g}P"] = f"meets the SLA in every year planned ({plans[0].year}-{plans[-1].year})"
        elif failing[0] == plans[0].year:
            answers[f"{cap:g}P"] = f"does not meet the SLA even in {failing[0]}"
        else:
            last_ok = max(p.year for p in plans if p.year < failing[0])
            answers[f"{cap:g}P"] = f"meets the SLA up to {last_ok}; capacity runs out in {failing[0]}"
    return answers


def _plan_figure(frame, checks, accelerator: str, precision: str, sparse: bool):
    import matplotlib  # deferred: heavy, and only the plan's plot needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred: as matplotlib above

    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.bar(frame["year"], frame["required_pflops"], color="tab:blue", label="least capacity meeting the SLA")
    ax.plot(frame["year"], frame["offered_pflops"], "o-", color="tab:orange", label="offered load")
    for cap, style in zip(checks, ("--", ":", "-.", "-"), strict=False):
        ax.axhline(cap, color="grey", ls=style, lw=1, label=f"{cap:g}P")
    basis = f"{'sparse' if sparse else 'dense'} {precision.upper()}"
    ax.set_ylabel(f"P ({basis}, {accelerator})")
    ax.set_xlabel("year")
    ax.set_xticks(frame["year"])
    ax.set_title("AI computing centre: capacity needed for the SLA")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _print_plan(frame, checks, answers: dict[str, str], out: Path) -> None:
    from rich.console import Console  # deferred: rich is slow to import and only the table needs it
    from rich.table import Table  # deferred: as rich.console above

    table = Table(title="Least capacity meeting the SLA")
    for column in ("year", "offered P", "required P", "devices", "nodes", "util"):
        table.add_column(column, justify="right")
    for cap in checks:
        table.add_column(f"{cap:g}P ok", justify="center")
    for _, r in frame.iterrows():
        cells = [
            str(int(r["year"])),
            f"{r['offered_pflops']:,.0f}",
            f"{r['required_pflops']:,.0f}",
            f"{int(r['required_devices']):,}",
            f"{int(r['required_nodes']):,}",
            f"{r['utilisation_at_required']:.2f}",
        ]
        cells += ["yes" if r[f"meets_sla_{cap:g}p"] else "no" for cap in checks]
        table.add_row(*cells)
    console = Console()
    console.print(table)
    for cap, answer in answers.items():
        console.print(f"{cap}: {answer}")
    console.print(f"results: {out}")


@compute_app.command()
@with_city
def size(
    pflops: float = typer.Option(10000.0, "--pflops", help="Capacity (P)."),
    accelerator: str = typer.Option("h100_sxm", "--accelerator", help="Device type."),
    precision: str = typer.Option("fp16", "--precision", help="Basis of P: fp16, bf16, fp8 or int8."),
    sparse: bool = typer.Option(False, "--sparse", help="Count structured sparsity (default: dense)."),
    utilisation: float = typer.Option(0.65, "--utilisation", help="Allocated utilisation for power."),
    pue: float = typer.Option(1.25, "--pue", help="Power usage effectiveness (plan: <= 1.3)."),
    rack_power_kw: float = typer.Option(40.0, "--rack-power-kw", help="Rack power budget (kW)."),
) -> None:
    """Devices, nodes, racks, power and annual energy of a capacity in P."""
    from twin.compute.accelerators import accelerator as spec_of
    from twin.compute.accelerators import size_for_pflops
    from twin.compute.power import PUE_REQUIRED_MAX, annual_energy_mwh, facility_power_mw

    s = size_for_pflops(pflops, accelerator, precision, sparse, rack_power_kw)
    spec = spec_of(accelerator)
    power = facility_power_mw(s.devices, s.nodes, spec, utilisation, pue)
    typer.echo(
        f"{pflops:g} P ({s.basis}) of {spec.name}: {s.devices_needed:,} devices needed, "
        f"{s.nodes:,} nodes of {spec.devices_per_node} ({s.devices:,} devices, "
        f"{s.pflops_installed:,.0f} P installed), {s.racks:,} racks of {s.nodes_per_rack} nodes"
    )
    typer.echo(
        f"power at {utilisation:.0%} utilisation, PUE {pue:g}: {power:,.1f} MW; "
        f"{annual_energy_mwh(power):,.0f} MWh/year"
        + ("" if pue <= PUE_REQUIRED_MAX else f" (PUE above the plan's {PUE_REQUIRED_MAX})")
    )


@compute_app.command()
@with_city
def accelerators() -> None:
    """The accelerator catalogue: dense peaks by precision, memory, power, node shape."""
    from twin.compute.accelerators import load_catalogue

    for key, a in sorted(load_catalogue().accelerators.items()):
        peaks = ", ".join(
            f"{p.upper()} {a.peak_tflops(p):g}"
            for p in ("fp16", "bf16", "fp8", "int8")
            if getattr(a, f"{p}_dense_{'tops' if p == 'int8' else 'tflops'}") is not None
        )
        typer.echo(
            f"{key:12} {a.name}: {peaks} (dense; sparse x{a.sparsity_factor:g}); "
            f"{a.memory_gb:g} GB {a.memory_type}; {a.tdp_w:g} W; {a.devices_per_node} per node"
        )


def register(app: typer.Typer) -> None:
    """Add ``twin compute ...`` to the root app."""
    app.add_typer(compute_app, name="compute")
