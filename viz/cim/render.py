"""``twin render`` and the report hook: a city (and a run) to a PNG and an offline HTML.

:func:`render` checks its inputs first (view, layers, results folder), so that bad input fails
in well under a second, then loads the city, builds the layers in one local frame, fits the
view's camera, and draws off-screen. :func:`render_focus` is what a report builder calls: it
writes ``cim_focus.png`` into a run folder that has ``cim_*`` tables (see
:mod:`viz.results_overlay`) and does nothing for runs with nothing to put on the map.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from twin.city.folder import load_city
from twin.crs import METRIC_EPSG
from twin.errors import InputError
from viz.cim.html_export import export_html
from viz.cim.layers import LayerContext, build_layers, flagged_pipes, node_local_xy, parse_layers, water_lines
from viz.cim.local_frame import LocalFrame
from viz.cim.results_overlay import Overlay, load_overlay
from viz.cim.scene import Scene, build_plotter
from viz.cim.views import ViewPreset, box_around, fit_camera, preset

log = logging.getLogger(__name__)

FOCUS_PNG = "cim_focus.png"
"""The file :func:`render_focus` writes into a run folder (reports embed every PNG there)."""
DEFAULT_SIZE = (1920, 1080)
MIN_FOCUS_RADIUS_M = 600.0


@dataclass
class RenderOutcome:
    """What a render wrote and how big the scene was."""

    png: Path
    html: Path | None
    triangles: int
    view: str


def parse_size(text: str) -> tuple[int, int]:
    """``--size WIDTHxHEIGHT`` (pixels, each 64–8192)."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise InputError(f"--size {text!r}: expected WIDTHxHEIGHT in pixels, e.g. 1920x1080") from None
    if not (64 <= width <= 8192 and 64 <= height <= 8192):
        raise InputError(f"--size {text!r}: width and height must be between 64 and 8192 pixels")
    return width, height


def _frame(city: Any) -> LocalFrame:


    source = city.boundary if getattr(city, "boundary", None) is not None else city.buildings
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.asarray(source.to_crs(epsg=METRIC_EPSG).geometry.values))
    return LocalFrame.around(np.array([xmin, xmax]), np.array([ymin, ymax]))


def _bounds(frame: LocalFrame, geoseries) -> tuple[float, float, float, float]:  # noqa: ANN001

    return tuple(float(v) for v in shapely.total_bounds(frame.geometries(geoseries)))


def _square(box: tuple[float, float, float, float], minimum_m: float) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = box
    radius = max((xmax - xmin) / 2, (ymax - ymin) / 2, minimum_m)
    return box_around((xmin + xmax) / 2, (ymin + ymax) / 2, radius)


def focus_box(ctx: LayerContext) -> tuple[tuple[float, float, float, float], str]:
    """The ground box the focus view shows and its label, from the run's tables.

    In order: the run's ``cim_focus`` row; its burst and isolated pipes; its routes; its
    road links (the worst tenth by the metric); its buildings.
    """

    overlay = ctx.overlay
    assert overlay is not None
    focus = overlay.focus
    if focus is not None:
        x, y = ctx.frame.from_lonlat(np.array([focus.lon]), np.array([focus.lat]))
        return box_around(float(x[0]), float(y[0]), max(focus.radius_m, 100.0)), focus.label
    if overlay.table("cim_water_links") is not None or overlay.table("cim_water_nodes") is not None:
        pipes = water_lines(ctx)
        isolated, burst = flagged_pipes(pipes, overlay)
        chosen = np.union1d(isolated, burst)
        if len(chosen):
            box = shapely.total_bounds(pipes["line"][chosen])
            return _square(tuple(box), MIN_FOCUS_RADIUS_M), "pipe burst and isolated segment"
    routes = overlay.table("cim_routes")
    if routes is not None and len(routes):
        xy = node_local_xy(ctx, [int(n) for n in routes["node"]])
        box = (xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max())
        return _square(box, MIN_FOCUS_RADIUS_M), "route"
    metric = overlay.road_metric
    if metric is not None:
        table = overlay.table("cim_road_links")
        values = table[metric].astype(float)
        if metric == "speed_m_per_s":
            worst = values <= values.quantile(0.1)
        else:
            worst = values >= values.quantile(0.9)
        nodes = np.unique(table.loc[worst, ["u", "v"]].to_numpy().ravel())
        xy = node_local_xy(ctx, [int(n) for n in nodes])
        box = (xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max())
        return _square(box, MIN_FOCUS_RADIUS_M), f"worst road links by {metric}"
    table = overlay.table("cim_buildings")
    if table is not None:
        buildings = ctx.city.buildings
        chosen = buildings[buildings["building_id"].astype(str).isin(table["building_id"].astype(str))]
        if len(chosen):
            return _square(_bounds(ctx.frame, chosen.geometry), MIN_FOCUS_RADIUS_M), "buildings"
    raise InputError("--view focus: the run has no cim_* tables to focus on "
                     "(see docs/cim.md for what a run writes)", overlay.run_dir)


def _mainland_box(ctx: LayerContext) -> tuple[float, float, float, float]:
    """The bounds of the boundary's largest polygon: offshore islets would shrink the district."""

    parts = shapely.get_parts(ctx.frame.geometries(ctx.city.boundary.geometry))
    largest = parts[int(np.argmax(shapely.area(parts)))]
    return tuple(float(v) for v in largest.bounds)


def view_box(ctx: LayerContext) -> tuple[tuple[float, float, float, float], str]:
    """The ground box of the context's view and a caption for it."""
    city = ctx.city
    if ctx.view.name == "district":
        return _mainland_box(ctx), "district overview"
    if ctx.view.name == "binhai":
        areas = getattr(city, "areas", None)
        binhai = areas[areas["area_id"] == "binhai"] if areas is not None else []
        if len(binhai) == 0:
            raise InputError("--view binhai: the city has no area with area_id 'binhai'")
        return _square(_bounds(ctx.frame, binhai.geometry), 500.0), "滨海新城 Binhai New City"
    return focus_box(ctx)


def _titles(city: Any, overlay: Overlay | None, caption: str, view: ViewPreset) -> tuple[str, str]:
    district = "长乐区 Changle District"
    if getattr(city, "boundary", None) is not None and len(city.boundary):
        name = str(city.boundary["name_zh"].iloc[0])
        district = f"{name} · {district}" if name and name != "长乐区" else district
    title = f"{district} — CIM 3D · {caption}"
    parts = [f"{len(city.buildings):,} buildings" if getattr(city, "buildings", None) is not None else ""]
    if overlay is not None:
        parts.insert(0, f"run: {overlay.scenario_name} ({overlay.kind})")
        if overlay.road_metric:
            parts.append(f"roads by {overlay.road_metric}")
    parts.append(f"view: {view.name}")
    return title, " · ".join(p for p in parts if p)


def render(
    run_dir: Path | None = None,
    view: str = "district",
    layers: str | None = None,
    out: Path = Path("cim.png"),
    html: Path | None = None,
    size: tuple[int, int] = DEFAULT_SIZE,
    city: Any = None,
) -> RenderOutcome:
    """Render the city (coloured by ``run_dir``'s outputs, if given) to ``out`` and maybe ``html``.

    Parameters
    ----------
    run_dir
        A results folder written by ``twin run``; its ``cim_*`` tables colour the scene.
    view
        ``district``, ``binhai`` or ``focus`` (the last needs ``run_dir``).
    layers
        Comma-separated layer names (see :data:`viz.layers.LAYER_NAMES`) or ``None`` for all.
    out, html
        The PNG to write, and optionally an interactive offline HTML.
    size
        Picture size in pixels.
    city
        The city to draw; default ``twin.city.folder.load_city()``.

    Raises
    ------
    InputError
        Unknown view or layer, missing results folder, focus without a run.
    """
    view_preset = preset(view)
    names = parse_layers(layers)
    overlay = load_overlay(run_dir) if run_dir is not None else None
    if view == "focus" and overlay is None:
        raise InputError("--view focus needs a RESULTS_DIR (the run whose focus to show)")
    if out.suffix.lower() != ".png":
        raise InputError(f"--out {out}: expected a .png file name")
    if html is not None and html.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--html {html}: expected an .html file name")
    if city is None:

        city = load_city()
    frame = _frame(city)
    ctx = LayerContext(city, frame, view_preset, overlay, view_preset.label_font_size, active_layers=names)
    box, caption = view_box(ctx)
    built = build_layers(ctx, names, explicit=layers is not None and layers.strip() not in ("", "all"))
    centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    ground = float(ctx.ground_z(np.array([centre_x]), np.array([centre_y]))[0])
    camera = fit_camera(box, ground, view_preset, size[0] / size[1])
    title, subtitle = _titles(city, overlay, caption, view_preset)


    scene = Scene(built, camera, title, subtitle, size)
    plotter = build_plotter(scene)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        plotter.screenshot(str(out), return_img=False)
        if html is not None:

            export_html(plotter, scene, html)
    finally:
        plotter.close()
    log.info("rendered %s (%d triangles)", out, scene.triangles)
    return RenderOutcome(out, html, scene.triangles, view)


def render_focus(run_dir: Path, size: tuple[int, int] = (1280, 720), city: Any = None) -> Path | None:
    """Write ``run_dir/cim_focus.png``, the focus view of a run; ``None`` if it has no ``cim_*`` tables.

    Meant for report builders: call it on a finished (or about-to-be-renamed) run folder before
    building the report, which embeds every PNG in the folder.
    """
    overlay = load_overlay(run_dir)
    if overlay.is_empty:
        return None
    target = Path(run_dir) / FOCUS_PNG
    render(run_dir, view="focus", out=target, size=size, city=city)
    return target


def report_figure_hook(run_dir: Path) -> list[Path]:
    """The CIM figures of a run for its report: ``[run_dir/cim_focus.png]`` or ``[]``.

    Safe to call from any report builder: it returns ``[]`` when the run has nothing to put on
    the map, or when the render fails (logged as a warning), so that a report is never lost to
    its picture.
    """
    try:
        png = render_focus(Path(run_dir))
    except Exception as exc:  # noqa: BLE001 - a report without its render beats no report
        log.warning("CIM render for %s skipped: %s", run_dir, exc)
        return []
    return [] if png is None else [png]
