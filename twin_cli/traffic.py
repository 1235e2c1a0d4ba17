"""``twin traffic``: run the traffic model on SUMO inputs, and export the Changle case to SUMO.

``twin traffic run (--sumocfg F | --net N --routes R) [--begin S] [--end S] --out DIR`` runs our
mesoscopic model on a SUMO network and route file (``<vehicle>``/``<trip>``/``<flow>``) with the
network's own signal programmes, and writes ``DIR/tripinfo.csv`` and ``DIR/kpis.json``.

``twin traffic export --out DIR`` writes the bundled Changle network, its signal plans and its
AM-peak demand as SUMO files (``.net.xml``, ``.add.xml``, ``.rou.xml``, ``.sumocfg``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from twin.progress import set_quiet

traffic_app = typer.Typer(
    help="Road traffic: run the mesoscopic model on SUMO inputs, export the Changle case to SUMO.",
    no_args_is_help=True,
    add_completion=False,
)


@traffic_app.command("run")
def run(
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (tripinfo.csv, kpis.json)."),
    sumocfg: Path | None = typer.Option(None, "--sumocfg", help="SUMO configuration (.sumocfg)."),
    net: Path | None = typer.Option(None, "--net", help="SUMO network (.net.xml), with --routes."),
    routes: list[Path] = typer.Option(None, "--routes", help="SUMO route file(s) (.rou.xml), with --net."),
    begin: float | None = typer.Option(None, "--begin", help="Start time (s) [default: .sumocfg or 0]."),
    end: float | None = typer.Option(
        None, "--end", help="End time (s) [default: .sumocfg, else until every vehicle has arrived]."
    ),
    strategy: str = typer.Option("fixed", "--strategy", help="Signal strategy for every traffic light."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
) -> None:
    """Run the mesoscopic traffic model on SUMO files and write tripinfo.csv and kpis.json."""
    from twin.errors import InputError
    from twin.traffic.sumo_case import run_sumo_inputs

    set_quiet(quiet)
    if sumocfg is None and (net is None or not routes):
        raise InputError("give --sumocfg FILE, or --net NET.net.xml with --routes ROUTES.rou.xml")
    if sumocfg is not None and (net is not None or routes):
        raise InputError("give either --sumocfg or --net/--routes, not both")
    summary = run_sumo_inputs(
        out,
        sumocfg=sumocfg,
        net=net,
        routes=list(routes or []),
        begin_s=begin,
        end_s=end,
        strategy=strategy,
        force=force,
    )
    if not quiet:
        typer.echo(
            f"{summary['throughput_veh']:,} trips finished, mean travel time "
            f"{summary['mean_travel_time_s']:.1f} s; wrote {out / 'tripinfo.csv'} and {out / 'kpis.json'}"
        )


@traffic_app.command("export")
def export(
    out: Path = typer.Option(..., "--out", "-o", help="Output folder for the SUMO files."),
    area: str | None = typer.Option(
        None, "--area", help="Only this area (e.g. binhai) [default: whole district]."
    ),
    seed: int = typer.Option(1, "--seed", help="Seed of the demand draw."),
    begin: float = typer.Option(7 * 3600.0, "--begin", help="Start of the demand window (s after midnight)."),
    duration: float = typer.Option(3600.0, "--duration", help="Length of the demand window (s)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output folder."),
) -> None:
    """Export the Changle network, signal plans and demand to SUMO (net, tlLogic, routes, sumocfg)."""
    from twin.traffic.sumo_case import export_changle

    files = export_changle(out, area=area, seed=seed, begin_s=begin, duration_s=duration, force=force)
    for name in files:
        typer.echo(f"wrote {out / name}")


def register(app: typer.Typer) -> None:
    """Add ``twin traffic`` to the root app."""
    app.add_typer(traffic_app, name="traffic")
