"""``twin brain``: the city brain's 1-hour projection (一小时持续推演) of a typhoon day from a time.

``twin brain SCENARIO --at HH:MM [--horizon-h 1] [--members N] --out DIR`` replays the scenario's
day to ``--at``, projects the next hours as an ensemble (rain to come and repair time uncertain)
and writes ``projection.parquet`` (member, time_s, system, kpi, value), ``bands.parquet`` (p10,
p50, p90 per KPI and time, with the realised values), ``coverage.parquet``, a hindcast figure and
``kpis.json``, through the one writer :mod:`twin.results` (atomic; an existing folder only with
``--force``). See ``docs/typhoon.md``.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import typer

from twin.errors import InputError
from twin.progress import set_quiet


def brain(
    ctx: typer.Context,
    scenario: Path = typer.Argument(..., help="A typhoon_day scenario file."),
    at: str = typer.Option(..., "--at", help="Time of day the projection starts, HH:MM."),
    horizon_h: float = typer.Option(1.0, "--horizon-h", help="Hours projected (0-6]."),
    members: int = typer.Option(20, "--members", help="Ensemble members (1-200)."),
    observed_pumps: Path | None = typer.Option(
        None, "--observed-pumps", help="Observed state at --at: CSV facility,running (pump stations and plants)."),
    hindcast_every_min: int | None = typer.Option(
        None, "--hindcast-every-min", help="Also project from every N minutes from --at to --hindcast-until."),
    hindcast_until: str | None = typer.Option(None, "--hindcast-until", help="Last hindcast start, HH:MM."),
    out: Path = typer.Option(..., "--out", help="Results folder to write."),
    force: bool = typer.Option(False, "--force", help="Replace an existing folder."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
) -> None:
    """Project a typhoon day from --at as an ensemble; write the members, the bands and the hindcast."""
    # deferred: the scenario kinds load numba, pandas and the city; twin --help must stay fast
    from scenarios.loading import load_scenario
    from scenarios.typhoon_brain import hindcast_starts, parse_clock, project  # deferred, as above
    from twin.city.summary import city_summary  # deferred, as above
    from twin.paths import data_dir  # deferred, as above
    from twin.results import write_run  # deferred, as above
    from viz.report.build import build_report  # deferred, as above

    set_quiet(quiet)
    started = time.perf_counter()
    if not 0 < horizon_h <= 6:
        raise InputError(f"--horizon-h {horizon_h}: expected more than 0 and at most 6 hours")
    kind, config = load_scenario(scenario)
    if kind.kind != "typhoon_day":
        raise InputError(f"[scenario] kind = {kind.kind!r}: twin brain projects typhoon_day scenarios", scenario)
    at_s = parse_clock(at, config.scenario.duration_s, horizon_h * 3600.0)
    starts = hindcast_starts(at_s, hindcast_every_min, hindcast_until, config.scenario.duration_s, horizon_h * 3600.0)
    result = project(config, at_s, horizon_h * 3600.0, members, observed_pumps, starts)
    manifest = {"command": ctx.command_path, "kind": "twin brain", "scenario": config.model_dump(mode="json"),
                "scenario_file": str(scenario), "at": at, "horizon_h": horizon_h,
                "members": members, "seed": config.scenario.seed,
                "observed_pumps": str(observed_pumps) if observed_pumps else None, "city": city_summary(data_dir())}
    write_run(out, result, manifest, time.perf_counter() - started, force=force,
              finish=partial(build_report, lang="zh"))
    typer.echo(f"{out}: mean coverage {result.kpis['mean_coverage_ratio']:.0%} (scenario's day), "
               f"{result.kpis['perfect_model_mean_coverage_ratio']:.0%} (perfect-model truth)")


def register(app: typer.Typer) -> None:
    """Add ``twin brain`` to the command line."""
    app.command("brain")(brain)
