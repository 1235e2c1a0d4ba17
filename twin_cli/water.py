"""``twin water``: the hydraulic solver on any EPANET network, and pipe-burst criticality.

``twin water solve NET.inp [--duration-h H] [--step-s S] --out DIR`` runs an extended-period
simulation with our Global Gradient solver and writes ``nodes`` and ``links`` tables (Parquet and
CSV, SI units whatever the ``.inp`` units).

``twin water criticality [--pipes trunk|all] --out DIR`` bursts every selected pipe of the
bundled Changle network in turn and ranks pipes by person-hours of lost service.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from twin.progress import set_quiet

water_app = typer.Typer(
    help="Water mains: solve any EPANET network, rank pipe bursts by lost service.",
    no_args_is_help=True,
    add_completion=False,
)


class Unbalanced(StrEnum):
    """What to do when a time step does not converge."""

    error = "error"
    relax = "relax"
    pdd = "pdd"
    continue_ = "continue"


class DemandModel(StrEnum):
    """Demand-driven or pressure-driven demand."""

    dda = "dda"
    pdd = "pdd"


@water_app.command("solve")
def solve(
    inp: Path = typer.Argument(..., help="EPANET input file (.inp), any units."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (nodes/links tables)."),
    duration_h: float | None = typer.Option(
        None, "--duration-h", help="Simulated hours [default: the file's DURATION]."),
    step_s: int | None = typer.Option(
        None, "--step-s", help="Hydraulic and reporting time step in seconds [default: the file's]."),
    demand_model: DemandModel | None = typer.Option(
        None, "--demand-model", case_sensitive=False,
        help="dda (demand-driven) or pdd (pressure-driven, Wagner) [default: the file's]."),
    on_unbalanced: Unbalanced = typer.Option(
        Unbalanced.error, "--on-unbalanced", case_sensitive=False,
        help="If a step does not converge: error (stop and say where), relax (retry damped), "
        "pdd (retry pressure-driven) or continue (keep EPANET's unbalanced answer, flagged)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary."),
) -> None:
    """Simulate an EPANET network with our GGA solver; write nodes and links tables (SI).

    Example: twin water solve Net3.inp --duration-h 24 --out results/net3
    """
    from twin.water.solve import solve_inp

    set_quiet(quiet)
    results, net = solve_inp(inp, out, duration_h=duration_h, step_s=step_s,
                             demand_model=demand_model.value if demand_model else None,
                             on_unbalanced=on_unbalanced.value, force=force)
    if quiet:
        return
    log = results.solver_log
    iterations = sum(entry["iterations"] for entry in log)
    typer.echo(f"{net.n_junctions:,} junctions, {net.n_links:,} links: {len(log)} hydraulic steps, "
               f"{iterations} iterations, {len(results.time_s)} reported times")
    for warning in results.warnings:
        typer.echo(f"warning: {warning}")
    undetermined = int((~results.determinate).sum())
    if undetermined:
        typer.echo(f"note: {undetermined} junction-times have heads the equations do not determine "
                   f"(pockets behind closed links); listed in {out / 'indeterminate_nodes.csv'}")
    typer.echo(f"wrote {out / 'nodes.parquet'} and {out / 'links.parquet'} (+ CSV)")


@water_app.command("quality")
def quality(
    inp: Path = typer.Argument(..., help="EPANET input file (.inp), any units."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (quality table)."),
    parameter: str | None = typer.Option(
        None, "--parameter", help="age, chemical or trace [default: the file's QUALITY option]."),
    trace_node: str | None = typer.Option(
        None, "--trace-node", help="Node whose water is traced (with --parameter trace) [default: the file's]."),
    duration_h: float | None = typer.Option(
        None, "--duration-h", help="Simulated hours [default: the file's DURATION]."),
    quality_step_s: int | None = typer.Option(
        None, "--quality-step-s", help="Quality time step in seconds [default: the file's QUALITY TIMESTEP]."),
    on_unbalanced: Unbalanced = typer.Option(
        Unbalanced.error, "--on-unbalanced", case_sensitive=False,
        help="If a hydraulic step does not converge: error, relax, pdd or continue (as for solve)."),
    chlorine_dose_mg_per_l: float | None = typer.Option(
        None, "--chlorine-dose-mg-per-l", help="Route free chlorine dosed at every reservoir at this "
        "concentration instead of the file's quality options (then checked against GB 5749-2022)."),
    bulk_per_day: float | None = typer.Option(
        None, "--bulk-per-day", help="With a dose: bulk decay rate, per day (<= 0) [default: -0.5]."),
    wall_m_per_day: float | None = typer.Option(
        None, "--wall-m-per-day", help="With a dose: wall decay rate, m/day (<= 0) [default: -0.3048]."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary."),
) -> None:
    """Water age, a decaying chemical or a source trace with our EPANET 2.2-style quality solver;
    writes quality.parquet (node, time_s, value: h, mg/L or %), the mass balance and KPIs.

    Example: twin water quality Net3.inp --parameter trace --trace-node Lake --duration-h 72 --out results/trace
    """
    from twin.water.quality_run import quality_inp

    set_quiet(quiet)
    results, net = quality_inp(inp, out, parameter=parameter, trace_node=trace_node, duration_h=duration_h,
                               quality_step_s=quality_step_s, on_unbalanced=on_unbalanced.value, force=force,
                               chlorine_dose_mg_per_l=chlorine_dose_mg_per_l, bulk_per_day=bulk_per_day,
                               wall_m_per_day=wall_m_per_day)
    if quiet:
        return
    final = results.value[-1, : net.n_junctions]
    typer.echo(f"{net.n_junctions:,} junctions, {len(results.time_s)} reported times of {results.parameter} "
               f"({results.units}): at the end {final.min():.3g} to {final.max():.3g}")
    typer.echo(f"wrote {out / 'quality.parquet'} (+ CSV), {out / 'mass_balance.csv'} and {out / 'kpis.json'}")


@water_app.command("sensors")
def sensors(
    inp: Path = typer.Argument(..., help="EPANET input file (.inp), any units."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (sensor curve)."),
    n_sensors: int = typer.Option(5, "--sensors", help="Sensors to place."),
    every: int = typer.Option(1, "--every", help="Inject at every N-th junction [default: every junction]."),
    start_hours: str = typer.Option("0,6,12,18", "--start-hours", help="Injection start hours, comma-separated."),
    duration_h: float = typer.Option(2.0, "--duration-h", help="Hours each injection lasts."),
    rate_g_per_s: float = typer.Option(10.0, "--rate-g-per-s", help="Contaminant mass rate (g/s)."),
    threshold_mg_per_l: float = typer.Option(0.01, "--threshold-mg-per-l", help="Sensor detection threshold."),
    delay_min: float = typer.Option(30.0, "--delay-min", help="Minutes from detection to a public notice."),
    hours: float = typer.Option(24.0, "--hours", help="Simulated hours."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary."),
) -> None:
    """Place contamination sensors to minimise the people exposed before detection, over an
    ensemble of injections (greedy, as WNTR's and Chama's impact formulation); writes the curve.

    Example: twin water sensors Net3.inp --sensors 5 --every 4 --out results/sensors
    """
    from twin.errors import InputError
    from twin.water.sensor_run import sensors_inp

    set_quiet(quiet)
    try:
        hours_list = tuple(int(h) for h in start_hours.split(","))
    except ValueError:
        raise InputError(f"--start-hours {start_hours!r}: expected whole hours, comma-separated (e.g. 0,6,12)") \
            from None
    curve = sensors_inp(inp, out, n_sensors, every, hours_list, duration_h, rate_g_per_s, threshold_mg_per_l,
                        delay_min, hours, force=force)
    if quiet:
        return
    for row in curve.itertuples():
        typer.echo(f"{row.sensors:>3} sensors{(' (+' + row.node + ')') if row.node else '':<12} "
                   f"{row.mean_exposed_people:>12,.0f} people exposed on average, {row.detected_pct:5.1f} % detected")
    typer.echo(f"wrote {out / 'sensor_curve.parquet'} (+ CSV) and {out / 'kpis.json'}")


class PipeSelection(StrEnum):
    """Which pipes to burst."""

    trunk = "trunk"
    all = "all"


@water_app.command("criticality")
def criticality(
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (ranked table and map)."),
    pipes: PipeSelection = typer.Option(
        PipeSelection.trunk, "--pipes", case_sensitive=False,
        help="trunk (pipes tagged trunk, else DN >= 300) or all."),
    inp: Path | None = typer.Option(
        None, "--inp", help="Network (.inp) [default: the bundled Changle network]."),
    valves: Path | None = typer.Option(
        None, "--valves", help="Valve layer CSV (valve_id, link, node) [default: <inp>_valves.csv]."),
    start_h: float = typer.Option(7.0, "--start-h", help="Hour of day the outage starts."),
    outage_h: float = typer.Option(6.0, "--outage-h", help="Hours the segment stays shut."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Burst each selected pipe in turn, isolate its valve segment for the outage, and rank pipes
    by person-hours without adequate service (GB 50013 service head).

    Example: twin water criticality --pipes trunk --out results/criticality
    """
    from twin.water.criticality import run_criticality

    set_quiet(quiet)
    table = run_criticality(out, pipes=pipes.value, inp=inp, valves_csv=valves, start_h=start_h,
                            outage_h=outage_h, force=force)
    if quiet:
        return
    typer.echo(f"{len(table):,} pipes burst; most critical:")
    for _, row in table.head(5).iterrows():
        hours, cut = row["person_hours_lost_person_h"], row["population_cut_off_count"]
        typer.echo(f"  #{row['rank']:<3} {row['pipe']:<12} {hours:>12,.0f} person-h "
                   f"({cut:,.0f} people cut off)")
    typer.echo(f"wrote {out / 'criticality.parquet'} (+ CSV) and {out / 'criticality_map.png'}")


def register(app: typer.Typer) -> None:
    """Add ``twin water`` to the root app."""
    app.add_typer(water_app, name="water")
