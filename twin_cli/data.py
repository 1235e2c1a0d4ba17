"""``twin data``: check a dataset, import real OSM roads and building footprints."""

from __future__ import annotations

from pathlib import Path

import typer

from twin_cli.options import with_city

data_app = typer.Typer(
    help="Check a dataset folder; import real data (OSM roads, building footprints).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@data_app.command("check")
@with_city
def check(
    folder: Path | None = typer.Argument(
        None, help="City folder [default: --city, $TWIN_DATA_DIR or the bundled Changle]."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the problems."),
) -> None:
    """Validate a dataset: CRS, geometries, NaN attributes, road connectivity, stops on the graph,
    water junctions reaching a source. Lists every problem; exit status 2 if there are any."""
    from twin.city.check import check_dataset
    from twin.paths import data_dir

    folder = folder or data_dir()
    report = check_dataset(folder)
    if not quiet:
        for note in report.notes:
            typer.echo(f"  {note}")
    for problem in report.problems:
        typer.echo(f"PROBLEM {problem}")
    if report.problems:
        from twin.errors import InputError

        raise InputError(f"{len(report.problems)} problems (listed above)", folder)
    typer.echo(f"{folder}: ok")


@data_app.command("import-osm")
def import_osm(
    file: Path = typer.Argument(..., help="OpenStreetMap file: .osm (XML) or .osm.pbf."),
    out: Path = typer.Option(..., "--out", "-o", help="New dataset folder to write."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing folder."),
) -> None:
    """Build the road layer from real OSM data (drivable ways, our schema, largest strongly
    connected component) into a dataset folder that `twin data check` and load_city accept."""
    from twin.city.import_osm import import_osm as run

    counts = run(file, out, force=force)
    typer.echo(f"{out}: {counts['nodes']} nodes ({counts['nodes_read']} read), {counts['edges']} edges, "
               f"{counts['signals']} signalised nodes")


@data_app.command("import-buildings")
def import_buildings(
    file: Path = typer.Argument(..., help="Footprints: .gpkg, .geojson or .shp with a CRS."),
    out: Path = typer.Option(..., "--out", "-o", help="New dataset folder to write."),
    height_column: str | None = typer.Option(None, "--height-column", help="Height column (m)."),
    storeys_column: str | None = typer.Option(None, "--storeys-column", help="Storeys column."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing folder."),
) -> None:
    """Import building footprints with a height or storeys column (3 m per storey), reprojected
    to EPSG:4490, into a dataset folder."""
    from twin.city.import_buildings import import_buildings as run

    counts = run(file, out, force=force, height_column=height_column, storeys_column=storeys_column)
    typer.echo(f"{out}: {counts['buildings']} buildings, tallest {counts['max_height_m']:.1f} m")


def register(app: typer.Typer) -> None:
    """Add the ``twin data`` group to the root app."""
    app.add_typer(data_app, name="data")
