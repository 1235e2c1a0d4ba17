"""``twin transit``: the bus layer's lines, and GTFS export and import."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from twin.errors import InputError

app = typer.Typer(help="Bus lines: list them, export the planned service as GTFS, import GTFS lines.",
                  no_args_is_help=True, add_completion=False)

DATA_OPTION = typer.Option(None, "--data", help="Dataset folder [default: $TWIN_DATA_DIR or gis_data/].")


def _dataset(data: Path | None) -> Path:
    from twin.paths import data_dir

    folder = data if data is not None else data_dir()
    if not folder.is_dir():
        raise InputError("dataset folder not found", folder)
    return folder


def _network(folder: Path):  # noqa: ANN202 - twin.transit.lines.TransitNetwork
    """The dataset's road graph with its transit layer."""
    from twin.city.folder import load_city
    from twin.transit.layer import network_from_tables, read_transit_tables

    tables = read_transit_tables(folder / "transit.gpkg")
    roads = load_city(folder).roads
    return network_from_tables(roads, tables["bus_stops"], tables["bus_lines"], tables["bus_line_stops"])


def _clock_s(text: str, option: str) -> float:
    """Seconds after midnight from ``HH:MM`` (hours may pass 24)."""
    try:
        hours, minutes = (int(part) for part in text.split(":"))
    except ValueError:
        raise InputError(f"{option} {text!r}: expected HH:MM") from None
    if hours < 0 or not 0 <= minutes < 60:
        raise InputError(f"{option} {text!r}: expected HH:MM")
    return float(hours * 3600 + minutes * 60)


def _natural_key(line_id: str) -> tuple:
    return (0, int(line_id), "") if line_id.isdigit() else (1, 0, line_id)


@app.command("lines")
def lines(
    data: Path | None = DATA_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """List the bus lines: id, headway, vehicle, driverless or not, stops and length."""
    from twin.transit.layer import read_transit_tables

    tables = read_transit_tables(_dataset(data) / "transit.gpkg")
    counts = tables["bus_line_stops"].query("direction == 0").groupby("line_id").size()
    rows = []
    lines_table = tables["bus_lines"]
    # Natural order: 1, 2, …, 10, then the lettered lines.
    order = sorted(range(len(lines_table)), key=lambda i: _natural_key(str(lines_table["line_id"].iloc[i])))
    for row in lines_table.iloc[order].itertuples(index=False):
        rows.append({
            "line_id": row.line_id, "name": row.name, "headway_s": float(row.headway_s),
            "vehicle_type": row.vehicle_type, "autonomous": bool(row.autonomous),
            "stops": int(counts.get(row.line_id, 0)),
            "length_km": round(float(getattr(row, "length_m", float("nan"))) / 1000.0, 2),
        })
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for r in rows:
        kind = "driverless" if r["autonomous"] else "crewed"
        typer.echo(f"{r['line_id']:8} every {r['headway_s'] / 60:4.1f} min  {r['stops']:3d} stops  "
                   f"{r['length_km']:6.2f} km  {r['vehicle_type']:14} {kind:10} {r['name']}")


@app.command("export-gtfs")
def export_gtfs(
    out: Path = typer.Option(..., "--out", "-o", help="Feed to write: a .zip file or a folder."),
    data: Path | None = DATA_OPTION,
    start: str = typer.Option("06:00", "--start", help="First departure, HH:MM."),
    end: str = typer.Option("22:00", "--end", help="End of service, HH:MM."),
    dwell_s: float = typer.Option(15.0, "--dwell-s", min=0.0, help="Dwell allowance per stop (s)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing feed."),
) -> None:
    """Export the transit layer's planned service as GTFS (frequency-based trips)."""
    from twin.transit.gtfs import planned_feed, write_feed

    start_s, end_s = _clock_s(start, "--start"), _clock_s(end, "--end")
    network = _network(_dataset(data))
    path = write_feed(planned_feed(network, start_s, end_s, dwell_s=dwell_s), out, force=force)
    typer.echo(f"wrote {path}: {len(network.lines)} lines, {len(network.stops)} stops")


@app.command("import-gtfs")
def import_gtfs(
    feed: Path = typer.Argument(..., help="GTFS feed (.zip or folder)."),
    out: Path = typer.Option(..., "--out", "-o", help="Transit GeoPackage to write (*.gpkg)."),
    data: Path | None = DATA_OPTION,
    snap_m: float = typer.Option(30.0, "--snap-m", min=0.0, help="Largest stop-to-road-node distance (m)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Import a GTFS feed's bus lines onto the dataset's road graph as a transit GeoPackage."""
    from twin.city.folder import load_city
    from twin.transit.gtfs import import_gtfs as read_lines
    from twin.transit.layer import write_transit_gpkg

    if out.exists() and not force:
        raise InputError("already exists; pass --force to overwrite it", out)
    if out.suffix.lower() != ".gpkg":
        raise InputError("expected a .gpkg file name", out)
    network = read_lines(feed, load_city(_dataset(data)).roads, snap_m=snap_m)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_transit_gpkg(network, out)
    typer.echo(f"wrote {out}: {len(network.lines)} lines, {len(network.stops)} stops")


def register(root: typer.Typer) -> None:
    """Add ``twin transit`` to the root app."""
    root.add_typer(app, name="transit")
