"""``twin render``: the CIM 3D view of the city, or of a run's results, to PNG and offline HTML."""

from __future__ import annotations

from pathlib import Path

import typer

from twin_cli.options import with_city

VIEWS_HELP = "district (whole district), binhai (滨海新城) or focus (the run's burst, route, jam...)."
LAYERS_HELP = (
    "Comma-separated layers to draw [default: all]: terrain, boundary, buildings, roads, water, "
    "transit, compute, labels."
)


def render(
    results_dir: Path | None = typer.Argument(
        None, help="A results folder written by 'twin run'; its cim_* tables colour the scene."
    ),
    view: str = typer.Option("district", "--view", help=VIEWS_HELP),
    layers: str | None = typer.Option(None, "--layers", help=LAYERS_HELP),
    out: Path = typer.Option(Path("cim.png"), "--out", "-o", help="PNG file to write."),
    html: Path | None = typer.Option(None, "--html", help="Also write an interactive offline HTML file."),
    size: str = typer.Option("1920x1080", "--size", help="Picture size WIDTHxHEIGHT in pixels."),
) -> None:
    """Render the CIM 3D view off-screen to a PNG (and optionally an offline interactive HTML)."""
    from viz.cim.render import parse_size
    from viz.cim.render import render as render_scene

    outcome = render_scene(results_dir, view=view, layers=layers, out=out, html=html, size=parse_size(size))
    typer.echo(f"wrote {outcome.png} ({outcome.triangles:,} triangles, view {outcome.view})")
    if outcome.html is not None:
        typer.echo(f"wrote {outcome.html} (opens offline in a browser)")


def register(app: typer.Typer) -> None:
    """Add ``twin render`` to the root app."""
    app.command()(with_city(render))
