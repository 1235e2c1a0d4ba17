"""``twin info``: the loaded city's layers with their counts and CRS."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def describe_dataset(folder: Path) -> dict:
    """Layers found in ``folder``: each GeoPackage layer with its feature count and CRS."""
    import pyogrio

    layers = {}
    for gpkg in sorted(folder.glob("*.gpkg")):
        for name, _geometry_type in pyogrio.list_layers(gpkg):
            info = pyogrio.read_info(gpkg, layer=name)
            layers[f"{gpkg.stem}/{name}"] = {"features": int(info["features"]), "crs": info["crs"]}
    other = sorted(p.name for p in folder.glob("*.inp"))
    return {"data_dir": str(folder), "layers": layers, "other_files": other}


def info(
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Show the city layers in use, with feature counts and CRS."""
    from twin.paths import data_dir

    summary = describe_dataset(data_dir())
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    typer.echo(f"dataset: {summary['data_dir']}")
    if not summary["layers"] and not summary["other_files"]:
        typer.echo("  (no layers yet)")
    for name, layer in summary["layers"].items():
        typer.echo(f"  {name:40} {layer['features']:>9,} features  {layer['crs']}")
    for name in summary["other_files"]:
        typer.echo(f"  {name}")


def register(app: typer.Typer) -> None:
    """Add ``twin info`` to the root app."""
    app.command()(info)
