"""``twin data``: check a city folder; import real data into one (OSM, buildings, zones)."""

from __future__ import annotations

from pathlib import Path

import typer

from twin_cli.lang import Lang
from twin_cli.options import COORDS_OPTION, Coords, with_city

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
    file: Path = typer.Argument(..., help="OpenStreetMap extract: .osm (XML) or .osm.pbf."),
    out: Path = typer.Option(..., "--out", "-o", help="City folder to add the layers to (created if needed)."),
    name: str | None = typer.Option(None, "--name", help="The city's name [default: the file's]."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="The city's report language (zh or en).", case_sensitive=False),
    force: bool = typer.Option(False, "--force", help="Replace layers the city already has."),
) -> None:
    """Add roads and signals (drivable ways, our schema, largest strongly connected component),
    building footprints and named places from an OSM extract to a city folder."""
    from twin.city.import_osm import import_osm as run

    counts = run(file, out, force=force, city_name=name, lang=lang.value)
    typer.echo(f"{out}: {counts['nodes']} nodes ({counts['nodes_read']} read), {counts['edges']} edges, "
               f"{counts['signals']} signalised nodes, {counts['buildings']} buildings, {counts['places']} places")


@data_app.command("import-buildings")
def import_buildings(
    file: Path = typer.Argument(..., help="Footprints: .gpkg, .geojson or .shp with a CRS."),
    out: Path = typer.Option(..., "--out", "-o", help="City folder to add the layer to (created if needed)."),
    height_column: str | None = typer.Option(None, "--height-column", help="Height column (m)."),
    storeys_column: str | None = typer.Option(None, "--storeys-column", help="Storeys column."),
    coords: Coords = COORDS_OPTION,
    force: bool = typer.Option(False, "--force", help="Replace the city's buildings layer."),
) -> None:
    """Add building footprints with a height or storeys column (3 m per storey), reprojected to
    EPSG:4490, to a city folder."""
    from twin.city.import_buildings import import_buildings as run

    counts = run(file, out, force=force, height_column=height_column, storeys_column=storeys_column,
                 coords=coords.value)
    typer.echo(f"{out}: {counts['buildings']} buildings, tallest {counts['max_height_m']:.1f} m")


@data_app.command("import-zones")
def import_zones(
    file: Path = typer.Argument(..., help="Zones: polygons in .gpkg, .geojson or .shp with a CRS."),
    out: Path = typer.Option(..., "--out", "-o", help="City folder to add the layer to (created if needed)."),
    population_column: str = typer.Option(..., "--population-column", help="Residents per zone."),
    jobs_column: str | None = typer.Option(None, "--jobs-column", help="Jobs per zone [default: none]."),
    name_column: str | None = typer.Option(None, "--name-column", help="Zone names (街道/镇, tracts)."),
    coords: Coords = COORDS_OPTION,
    force: bool = typer.Option(False, "--force", help="Replace the city's zones layer."),
) -> None:
    """Add zones with a population (and optionally jobs) column to a city folder."""
    from twin.city.import_zones import import_zones as run

    counts = run(file, out, population_column, jobs_column, name_column, coords=coords.value, force=force)
    typer.echo(f"{out}: {counts['zones']} zones, {counts['residents']:,} residents, {counts['jobs']:,} jobs")


@data_app.command("import-sumo")
def import_sumo(
    file: Path = typer.Argument(..., help="SUMO network (.net.xml or .net.xml.gz)."),
    out: Path = typer.Option(..., "--out", "-o", help="City folder to add the roads to (created if needed)."),
    place: str | None = typer.Option(
        None, "--place", help="LON,LAT of the centre of a net without a projection (plain metres)."
    ),
    name: str | None = typer.Option(None, "--name", help="The city's name [default: the file's]."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="The city's report language (zh or en).", case_sensitive=False),
    force: bool = typer.Option(False, "--force", help="Replace the city's roads layer."),
) -> None:
    """Add a SUMO network's roads (car lanes, speeds, lengths, names, shapes) and traffic-light
    junctions to a city folder, with the net's own projection (or --place for a net in metres)."""
    from twin.traffic.import_sumo import import_sumo as run
    from twin.water.import_inp import parse_place

    counts = run(file, out, place=parse_place(place) if place is not None else None, force=force, city_name=name,
                 lang=lang.value)
    typer.echo(f"{out}: {counts['nodes']} nodes ({counts['nodes_read']} read), {counts['edges']} edges, "
               f"{counts['signals']} signalised nodes")


@data_app.command("import-inp")
def import_inp(
    file: Path = typer.Argument(..., help="EPANET 2.2 input file (.inp), any units."),
    out: Path = typer.Option(..., "--out", "-o", help="City folder to add the water layer to (created if needed)."),
    crs: str | None = typer.Option(None, "--crs", help="CRS of the model's coordinates, e.g. EPSG:4547."),
    place: str | None = typer.Option(
        None, "--place", help="LON,LAT to centre a model drawn without real coordinates [default: the roads' centre]."
    ),
    force: bool = typer.Option(False, "--force", help="Replace the city's water layer."),
) -> None:
    """Add an EPANET model as the city's water layer, reprojected (--crs) or placed over the city
    (--place, or the road layer's centre) at the scale its pipe lengths give."""
    from twin.water.import_inp import import_inp as run
    from twin.water.import_inp import parse_place

    counts = run(file, out, crs=crs, place=parse_place(place) if place is not None else None, force=force)
    placement = counts["placement"]
    typer.echo(f"{out}: {counts['junctions']} junctions, {counts['pipes']} pipes, {counts['sources']} sources; "
               f"{placement.how}")


@data_app.command("import-gtfs")
def import_gtfs(
    feed: Path = typer.Argument(..., help="GTFS feed (.zip or folder)."),
    out: Path = typer.Option(..., "--out", "-o", help="City folder (with roads) to add the bus layers to."),
    snap_m: float = typer.Option(30.0, "--snap-m", min=0.0, help="Largest stop-to-road-node distance (m)."),
    force: bool = typer.Option(False, "--force", help="Replace the city's bus layers."),
) -> None:
    """Add a GTFS feed's bus lines and stops, laid on the city's roads, as its transit layers."""
    from twin.city.folder import load_city
    from twin.city.importing import NewLayer, add_layers
    from twin.errors import InputError
    from twin.transit.gtfs import import_gtfs as read_lines
    from twin.transit.layer import write_transit_gpkg

    if not out.is_dir():
        raise InputError("no city folder yet: bus lines are laid on the city's roads, so add them first "
                         "(twin data import-osm FILE --out DIR)", out)
    city = load_city(out)
    city.require("roads", "twin data import-gtfs")
    network = read_lines(feed, city.roads, snap_m=snap_m)
    source = f"GTFS feed {feed.name}"
    layers = {name: NewLayer("transit.gpkg", lambda target: write_transit_gpkg(network, target), source)
              for name in ("bus_stops", "bus_lines", "bus_line_stops")}
    add_layers(out, layers, force)
    typer.echo(f"{out}: {len(network.lines)} lines, {len(network.stops)} stops")


def register(app: typer.Typer) -> None:
    """Add the ``twin data`` group to the root app."""
    app.add_typer(data_app, name="data")
