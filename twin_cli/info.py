"""``twin info``: the dataset's layers with counts, CRS and bounding box, and the city's key counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from twin_cli.options import with_city

BINHAI_AREA_ID = "binhai"


def describe_dataset(folder: Path) -> dict[str, Any]:
    """Layers of ``folder`` (count, CRS, bounding box each) and the counts issue #3 asks for.

    Counts cover whatever layers exist: an OSM import has road counts only.
    """
    import pyogrio  # deferred: pyogrio is slow; keeps 'twin --help' fast

    from twin.city.folder import list_layers, load_city
    from twin.city.manifest import LAYERS
    from twin.errors import InputError

    city = load_city(folder)
    layers: dict[str, Any] = {}
    for gpkg in sorted(folder.glob("*.gpkg")):
        for name in list_layers(gpkg):  # a corrupt GeoPackage is bad input, named
            try:
                info = pyogrio.read_info(gpkg, layer=name, force_total_bounds=True)
            except Exception as exc:  # noqa: BLE001 - any GDAL failure means the layer is unreadable
                raise InputError(f"layer {name}: cannot read it: {exc}", gpkg) from None
            bounds = info.get("total_bounds")
            layers[f"{gpkg.stem}/{name}"] = {
                "features": int(info["features"]),
                "crs": info["crs"],
                "bbox": [round(float(b), 6) for b in bounds] if bounds is not None else None,
            }
    bboxes = [layer["bbox"] for layer in layers.values() if layer["bbox"] and layer["crs"] == "EPSG:4490"]
    bbox = None
    if bboxes:
        bbox = [min(b[0] for b in bboxes), min(b[1] for b in bboxes),
                max(b[2] for b in bboxes), max(b[3] for b in bboxes)]
    other = sorted(p.name for p in folder.iterdir() if p.suffix in (".inp", ".csv", ".npz"))
    crs = sorted({layer["crs"] for layer in layers.values() if layer["crs"]})
    manifest = city.manifest
    return {
        "data_dir": str(folder),
        "city": {"name": manifest.city.name, "name_en": manifest.city.name_en, "lang": manifest.city.lang,
                 "reference_twin": manifest.city.reference_twin},
        "has": {name: {"file": e.file, "source": e.source, "licence": e.licence}
                for name, e in manifest.layers.items()},
        "lacks": {name: how for name, (_, how) in LAYERS.items() if name not in manifest.layers},
        "crs": crs[0] if len(crs) == 1 else crs,
        "bbox": bbox,
        "layers": layers,
        "other_files": other,
        "counts": city_counts(city),
    }


def city_counts(city: Any) -> dict[str, Any]:
    """Key counts of a :class:`twin.city.City` (only for the layers it has)."""
    from twin.city.roads import intersection_nodes, largest_scc_share, road_length_m, signalised_nodes

    counts: dict[str, Any] = {}
    graph = city.roads
    if graph is not None:
        signals = signalised_nodes(graph)
        counts.update(
            road_nodes=graph.number_of_nodes(),
            road_edges=graph.number_of_edges(),
            intersections=len(intersection_nodes(graph)),
            signalised_intersections=len(signals),
            signalised_intersections_binhai=sum(
                1 for n in signals if graph.nodes[n].get("area_id") == BINHAI_AREA_ID
            ),
            largest_scc_share=round(largest_scc_share(graph), 6),
            road_length_km=round(road_length_m(graph) / 1000.0, 1),
        )
    if city.towns is not None:
        counts["towns"] = len(city.towns)
    if city.zones is not None:
        counts["zones"] = len(city.zones)
        counts["population"] = int(city.zones["residents"].sum())
        counts["jobs"] = int(city.zones["jobs"].sum())
    if city.buildings is not None:
        counts["buildings"] = len(city.buildings)
    if city.compute_sites is not None:
        counts["compute_sites"] = len(city.compute_sites)
    if city.bus_lines is not None:
        counts["bus_lines"] = len(city.bus_lines)
        if "autonomous" in city.bus_lines:
            counts["bus_lines_autonomous"] = int(city.bus_lines["autonomous"].astype(bool).sum())
    if city.bus_stops is not None:
        counts["bus_stops"] = len(city.bus_stops)
    if city.water_inp is not None:
        counts.update(_water_counts(city.water_inp))
    if city.water_valves is not None:
        counts["water_isolation_valves"] = len(city.water_valves)
    return counts


def _water_counts(path: Path) -> dict[str, int]:
    """Element counts of an EPANET ``.inp`` by its sections (no solver needed)."""
    sections = {"JUNCTIONS": "water_junctions", "RESERVOIRS": "water_reservoirs", "TANKS": "water_tanks",
                "PIPES": "water_pipes", "PUMPS": "water_pumps", "VALVES": "water_valves"}
    counts = dict.fromkeys(sections.values(), 0)
    current = None
    for raw in path.read_text(errors="replace").splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            current = sections.get(line.strip("[]").upper())
            continue
        if current is not None:
            counts[current] += 1
    return counts


def info(
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Show the city layers in use: counts, CRS, bounding box, and the city's key counts."""
    from twin.paths import data_dir

    summary = describe_dataset(data_dir())
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    city = summary["city"]
    typer.echo(f"city: {city['name']} {city['name_en']}".rstrip() + f"  ({summary['data_dir']})")
    if city["reference_twin"]:
        typer.echo("  a generated reference twin: reports say so")
    typer.echo("has:")
    for name, layer in summary["has"].items():
        typer.echo(f"  {name:16} {layer['file']:28} {layer['source']}")
    if summary["lacks"]:
        typer.echo("lacks:")
        for name, how in summary["lacks"].items():
            typer.echo(f"  {name:16} add with: {how}")
    typer.echo("layers:")
    typer.echo(f"  crs: {summary['crs']}   bbox (lon/lat): {summary['bbox']}")
    for name, layer in summary["layers"].items():
        typer.echo(f"  {name:40} {layer['features']:>9,} features  {layer['crs']}")
    for name in summary["other_files"]:
        typer.echo(f"  {name}")
    typer.echo("counts:")
    for name, value in summary["counts"].items():
        typer.echo(f"  {name:34} {value:>12,}" if isinstance(value, int) else f"  {name:34} {value:>12}")


def register(app: typer.Typer) -> None:
    """Add ``twin info`` to the root app."""
    app.command()(with_city(info))
