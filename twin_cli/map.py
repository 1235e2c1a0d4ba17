"""``twin map``: a 2D map of the city as PNG (A4-legible)."""

from __future__ import annotations

from pathlib import Path

import typer

from twin_cli.options import with_city


def map_command(
    out: Path = typer.Option(..., "--out", "-o", help="PNG file to write."),
    dpi: int = typer.Option(200, "--dpi", min=50, max=600, help="Resolution (dots per inch)."),
) -> None:
    """Draw the boundary, roads by class, bus lines, water mains, compute sites and towns."""
    from twin.city.folder import load_city
    from twin.errors import InputError
    from twin.paths import data_dir
    from viz.map2d import save_map

    if out.suffix.lower() != ".png":
        raise InputError(f"--out {out}: expected a .png file name")
    city = load_city(data_dir())
    save_map(city, out, dpi=dpi)
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add ``twin map`` to the root app."""
    app.command("map")(with_city(map_command))
