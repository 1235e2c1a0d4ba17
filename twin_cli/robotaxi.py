"""``twin robotaxi``: run a robotaxi fleet scenario with another policy, size its chargers, and
export the fleet's drives as SUMO routes."""

from __future__ import annotations

import json
import os
import tempfile
from functools import partial
from pathlib import Path

import tomli_w
import typer

from twin.errors import InputError
from twin.progress import set_quiet
from twin_cli.lang import LANG_OPTION, Lang, lang_value

app = typer.Typer(help="Robotaxi fleets: run a robotaxi_fleet scenario with a dispatch policy, size fleet and "
                       "chargers, export the fleet's drives as SUMO routes.",
                  no_args_is_help=True, add_completion=False)

SCENARIO_ARG = typer.Argument(..., help="A robotaxi_fleet scenario file, e.g. scenarios/binhai_robotaxi.toml.")
OUT_OPTION = typer.Option(None, "--out", "-o", help="Results folder [default: results/<scenario name>].")
POLICY_OPTION = typer.Option(None, "--policy", help="Dispatch policy: nearest or batch [default: the file's].")
BATCH_OPTION = typer.Option(None, "--batch-s", help="Batch interval of the batch policy (s).")
REBALANCE_OPTION = typer.Option(None, "--rebalance-s", help="Rebalance idle vehicles every this many s (batch).")
ROUTES_OPTION = typer.Option(None, "--sumo-routes", help="Also write the fleet's drives as a SUMO .rou.xml.")
NET_OPTION = typer.Option(None, "--sumo-net", help="Also write the road network as the SUMO .net.xml "
                                                   "the routes refer to (netconvert).")
FORCE_OPTION = typer.Option(False, "--force", help="Overwrite an existing results folder or file.")
QUIET_OPTION = typer.Option(False, "--quiet", "-q", help="No progress bars or summary.")


def _overridden(scenario: Path, dispatch: dict, sizing: dict) -> tuple[Path, bool]:
    """The scenario file, or a hidden copy beside it (relative paths still resolve) with the
    ``[dispatch]`` and ``[sizing]`` keys replaced; ``True`` if it is a copy to delete."""
    from twin.config import read_toml

    data = read_toml(scenario)
    kind = data.get("scenario", {}).get("kind") if isinstance(data.get("scenario"), dict) else None
    if kind != "robotaxi_fleet":
        raise InputError(f"[scenario] kind = {kind!r}: expected 'robotaxi_fleet' for twin robotaxi", scenario)
    updates = {"dispatch": {k: v for k, v in dispatch.items() if v is not None},
               "sizing": {k: v for k, v in sizing.items() if v is not None}}
    if not any(updates.values()):
        return scenario, False
    for table, values in updates.items():
        if values:
            data[table] = {**data.get(table, {}), **values}
    handle, name = tempfile.mkstemp(prefix=f".{scenario.stem}.", suffix=".toml", dir=scenario.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(tomli_w.dumps(data))
    return Path(name), True


def _run(scenario: Path, out: Path | None, dispatch: dict, sizing: dict, routes: Path | None, net: Path | None,
         force: bool, quiet: bool, lang: Lang | None) -> Path:
    """Run the scenario (with overrides), then write the SUMO files asked for."""
    from scenarios.runner import run_scenario  # deferred: keeps 'twin --help' fast
    from viz.report.build import build_report  # deferred: keeps 'twin --help' fast

    set_quiet(quiet)
    for path, what in ((routes, ".rou.xml"), (net, ".net.xml")):
        if path is not None and path.exists() and not force:
            raise InputError("already exists; pass --force to overwrite it", path)
        if path is not None and not path.name.endswith(what):
            raise InputError(f"expected a file name ending in {what}", path)
    path, copy = _overridden(scenario, dispatch, sizing)
    try:
        out_dir = run_scenario(path, out, force=force, finish=partial(build_report, lang=lang_value(lang)))
    finally:
        if copy:
            path.unlink(missing_ok=True)
    if routes is not None or net is not None:
        _export(scenario, out_dir, routes, net)
    if not quiet:
        typer.echo(f"wrote {out_dir}")
    return out_dir


def _export(scenario: Path, out_dir: Path, routes: Path | None, net: Path | None) -> None:
    """The run's ``vehicle_legs`` as SUMO routes on the city's road network."""
    import pandas as pd  # deferred: heavy

    from scenarios.kinds.robotaxi_fleet import road_times  # deferred: the kind pulls in the model
    from scenarios.loading import load_scenario  # deferred: keeps 'twin --help' fast
    from scenarios.robotaxi_sumo import write_fleet_routes  # deferred: keeps 'twin --help' fast
    from twin.city.folder import load_city  # deferred: loads the city's layers
    from twin.traffic.sumo_io.netconvert import write_net  # deferred: keeps 'twin --help' fast

    _, config = load_scenario(scenario)
    graph = load_city().roads
    if routes is not None:
        times, bins = road_times(config, graph)
        legs = pd.read_parquet(out_dir / "vehicle_legs.parquet")
        write_fleet_routes(graph, times, legs, bins, routes)
        typer.echo(f"wrote {routes}: {int((legs['from_node'] != legs['to_node']).sum()):,} vehicles (fleet legs)")
    if net is not None:
        write_net(graph, net)
        typer.echo(f"wrote {net}")


@app.command("run")
def run(
    scenario: Path = SCENARIO_ARG, out: Path | None = OUT_OPTION, policy: str | None = POLICY_OPTION,
    batch_s: float | None = BATCH_OPTION, rebalance_s: float | None = REBALANCE_OPTION,
    pooling: bool | None = typer.Option(None, "--pooling/--no-pooling", help="Ride pooling by insertion (batch)."),
    sumo_routes: Path | None = ROUTES_OPTION, sumo_net: Path | None = NET_OPTION,
    force: bool = FORCE_OPTION, quiet: bool = QUIET_OPTION, lang: Lang | None = LANG_OPTION,
) -> None:
    """Run a robotaxi_fleet scenario, optionally with another dispatch policy, and export SUMO routes."""
    dispatch = {"policy": policy, "batch_s": batch_s, "rebalance_s": rebalance_s, "pooling": pooling}
    _run(scenario, out, dispatch, {}, sumo_routes, sumo_net, force, quiet, lang)


@app.command("size")
def size(
    scenario: Path = SCENARIO_ARG, out: Path | None = OUT_OPTION, policy: str | None = POLICY_OPTION,
    fleet_sizes: str | None = typer.Option(None, "--fleet-sizes", help="Comma-separated fleet sizes of the curve."),
    force: bool = FORCE_OPTION, quiet: bool = QUIET_OPTION, lang: Lang | None = LANG_OPTION,
) -> None:
    """Size the fleet (smallest meeting the target) and the chargers (least plugs per station)."""
    sizes = None
    if fleet_sizes is not None:
        try:
            sizes = [int(x) for x in fleet_sizes.split(",")]
        except ValueError:
            raise InputError(f"--fleet-sizes {fleet_sizes!r}: expected integers separated by commas") from None
    out_dir = _run(scenario, out, {"policy": policy}, {"chargers": True, "fleet_sizes": sizes}, None, None,
                   force, True, lang)
    if not quiet:
        _print_sizing(out_dir)


def _print_sizing(out_dir: Path) -> None:
    """The sizing answer: smallest fleet, least plugs per station."""
    import pandas as pd  # deferred: heavy

    kpis = json.loads((out_dir / "kpis.json").read_text(encoding="utf-8"))
    smallest = kpis.get("robotaxi_smallest_fleet_veh")
    typer.echo(f"smallest fleet meeting the target: {'none tried' if smallest is None else f'{smallest:.1f} vehicles'}"
               " (mean of the replications)")
    for row in pd.read_parquet(out_dir / "charger_sizing.parquet").itertuples():
        typer.echo(f"  {row.station}: {row.least_plugs} plugs of {row.plugs} configured "
                   f"({row.power_kw:g} kW each; the main run)")
    typer.echo(f"wrote {out_dir}")


def register(root: typer.Typer) -> None:
    """Add ``twin robotaxi`` to the root app."""
    root.add_typer(app, name="robotaxi")
