"""The CIM's layers: the city (and optionally a run's results) turned into styled meshes.

Each layer is a function ``(context) -> Layer`` registered in :data:`LAYER_BUILDERS`; a layer is
a few :class:`Drawable` meshes (one merged mesh per kind of thing), labels and legend entries.
The context holds the city, the local frame, the ground-elevation lookup, the view preset
(which widens thin things at district scale) and the run's :class:`Overlay`, if any.

Drawn sizes: roads are ``lanes × 3.5 m`` per direction (CJJ 37 lane width) on the right-hand
side of their centreline (traffic keeps right in China), times the view's ``line_scale``; pipes are
drawn ``line_scale × (4 m + 10 × diameter)`` thick so that they stay visible from far away, at
``PIPE_COVER_M`` below the ground; bus routes float ``ROUTE_LIFT_M`` above the roads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from twin.errors import InputError
from twin.units import unit_of
from viz.cim.labels import LabelSet
from viz.cim.local_frame import LocalFrame
from viz.cim.meshes import extrude_footprints, markers, polylines, ribbons, terrain_surface, tubes
from viz.cim.results_overlay import ROAD_METRICS, Overlay
from viz.cim.views import ViewPreset
from viz.cim.water_geometry import LinkGeometry, read_link_geometry

if TYPE_CHECKING:
    import pyvista as pv

log = logging.getLogger(__name__)

LANE_WIDTH_M = 3.5
"""CJJ 37 motor-vehicle lane width (m)."""
PIPE_COVER_M = 1.5
"""Soil cover above water mains (m): pipes are drawn below the ground, z < ground."""
ROUTE_LIFT_M = 25.0
"""Height of bus and AV routes above the road (m, times the view's line scale)."""
RESULT_EMPHASIS = 2.5
"""Roads and pipes that carry a run's result are drawn this much wider: they are the subject."""
ROAD_LIFT_M = 0.6
"""Height of road ribbons above the terrain surface (m), against z-fighting."""

USE_COLOURS = {
    "residential": "#e9b872",
    "commercial": "#4f86c6",
    "industrial": "#8e6bbf",
    "public": "#57a773",
}
"""Building colour by use (the legend shows the same)."""
OTHER_USE_COLOUR = "#b0b0b0"

ROAD_CLASS_COLOURS = {"快速路": "#2b2b2b", "主干路": "#4a4a4a", "次干路": "#6e6e6e", "支路": "#8f8f8f"}
ROAD_CLASS_EN = {"快速路": "expressway", "主干路": "arterial", "次干路": "collector", "支路": "local"}
PIPE_COLOUR = "#2f7fc1"
ISOLATED_COLOUR = "#e0119d"
BURST_COLOUR = "#ff1f1f"
BUS_COLOUR = "#139c8c"
AV_COLOUR = "#ff7f0e"
COMPUTE_COLOUR = "#c2185b"
BOUNDARY_COLOUR = "#7a1f1f"
SEA_RGB = np.array([168, 201, 226])
LAND_LOW_RGB = np.array([236, 232, 220])
LAND_HIGH_RGB = np.array([176, 170, 140])
OUTSIDE_RGB = np.array([247, 246, 242])


@dataclass
class Drawable:
    """One mesh and how to draw it.

    ``scalars`` names a cell array of ``mesh``: RGB colours if ``rgb``, else values mapped through
    ``cmap`` over ``clim`` with a scalar bar titled ``bar_title`` (which carries the unit).
    """

    name: str
    mesh: pv.PolyData
    color: str | None = None
    scalars: str | None = None
    rgb: bool = False
    cmap: str | None = None
    clim: tuple[float, float] | None = None
    bar_title: str | None = None
    opacity: float = 1.0
    smooth: bool = False
    lighting: bool = True
    nan_color: str = "#c8c8c8"


@dataclass
class Layer:
    """What one layer contributes to a scene."""

    name: str
    drawables: list[Drawable] = field(default_factory=list)
    labels: list[LabelSet] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    """``(label, colour)`` entries for the legend."""


@dataclass
class LayerContext:
    """Everything a layer builder reads."""

    city: Any
    frame: LocalFrame
    view: ViewPreset
    overlay: Overlay | None
    font_size: int
    active_layers: tuple[str, ...] = ()

    def ground_z(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Terrain elevation (m) at local points; 0 where the city has no terrain."""
        terrain = getattr(self.city, "terrain", None)
        if terrain is None:
            return np.zeros_like(np.asarray(x, dtype=float))
        mx, my = self.frame.to_metric(x, y)
        return np.asarray(terrain.elevation_m(mx, my), dtype=float)


def _hex_rgb(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.uint8)


def _boundary_polygon(ctx: LayerContext):  # noqa: ANN202 - shapely geometry

    boundary = getattr(ctx.city, "boundary", None)
    if boundary is None or len(boundary) == 0:
        return None
    return shapely.union_all(ctx.frame.geometries(boundary.geometry))


# --- terrain and boundary -------------------------------------------------------------------------


def terrain_layer(ctx: LayerContext) -> Layer:
    """The ground: hillshaded land inside the district, paler land outside, the sea in blue."""


    terrain = ctx.city.terrain
    ny, nx = terrain.elevation_m_grid.shape
    x = terrain.x0_m + terrain.cell_m * np.arange(nx) - ctx.frame.origin_x_m
    y = terrain.y0_m + terrain.cell_m * np.arange(ny) - ctx.frame.origin_y_m
    surface = terrain_surface(x, y, terrain.elevation_m_grid)
    points = np.asarray(surface.points, dtype=float)
    elevation = points[:, 2]
    top = max(float(np.percentile(elevation, 99)), 50.0)
    t = np.clip(elevation / top, 0, 1)[:, None]
    rgb = LAND_LOW_RGB * (1 - t) + LAND_HIGH_RGB * t
    boundary = _boundary_polygon(ctx)
    if boundary is not None:
        inside = shapely.contains_xy(boundary, points[:, 0], points[:, 1])
        rgb[~inside] = OUTSIDE_RGB * 0.6 + rgb[~inside] * 0.4
    rgb[elevation <= 0.2] = SEA_RGB
    surface.point_data["rgb"] = rgb.astype(np.uint8)
    # Mains lie below the surface: a see-through ground shows them, more so when they carry results.
    opacity = 1.0
    if "water" in ctx.active_layers:
        has_results = ctx.overlay is not None and ctx.overlay.table("cim_water_nodes") is not None
        opacity = 0.25 if has_results else 0.6
    drawable = Drawable("terrain", surface, scalars="rgb", rgb=True, opacity=opacity, smooth=True)
    return Layer("terrain", [drawable], legend=[("sea / water", "#a8c9e2")])


def boundary_layer(ctx: LayerContext) -> Layer:
    """The district boundary as a dark line draped on the ground."""


    boundary = _boundary_polygon(ctx)
    if boundary is None:
        return Layer("boundary")
    rings = shapely.get_exterior_ring(shapely.get_parts(boundary))
    lines = polylines(np.asarray(rings), ctx.ground_z, 10.0)
    mesh = tubes(lines, radius_m=12.0 * ctx.view.line_scale, sides=6)
    return Layer("boundary", [Drawable("boundary", mesh, color=BOUNDARY_COLOUR, lighting=False)],
                 legend=[("district boundary", BOUNDARY_COLOUR)])


# --- buildings ------------------------------------------------------------------------------------


def buildings_layer(ctx: LayerContext) -> Layer:
    """Every building extruded to its height, in one mesh, coloured by use or by a run's value."""


    buildings = ctx.city.buildings
    geoms = ctx.frame.geometries(buildings.geometry)
    parts, row_of_part = shapely.get_parts(geoms, return_index=True)
    polygons = parts[shapely.get_type_id(parts) == 3]
    row_of_part = row_of_part[shapely.get_type_id(parts) == 3]
    ground = buildings["ground_elevation_m"].to_numpy(dtype=float)[row_of_part]
    height = buildings["height_m"].to_numpy(dtype=float)[row_of_part]
    mesh = extrude_footprints(polygons, ground, height)
    row = row_of_part[mesh.cell_data["feature"]]
    mesh.cell_data["building_row"] = row

    metric = ctx.overlay.building_metric if ctx.overlay is not None else None
    if metric is not None:
        table = ctx.overlay.table("cim_buildings")
        by_id = dict(zip(table["building_id"].astype(str), table[metric].astype(float), strict=True))
        values = np.array([by_id.get(b, np.nan) for b in buildings["building_id"].astype(str)])
        mesh.cell_data[metric] = values[row]

        unit = unit_of(metric) or "-"
        finite = values[np.isfinite(values)]
        clim = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if clim[0] == clim[1]:
            clim = (clim[0] - 0.5, clim[1] + 0.5)
        cmap = "RdYlBu" if metric.endswith("_m") else "YlOrRd"
        title = f"Buildings: {metric.replace('_', ' ')} ({unit})"
        drawable = Drawable("buildings", mesh, scalars=metric, cmap=cmap, clim=clim, bar_title=title)
        return Layer("buildings", [drawable], legend=[("building, no result", "#c8c8c8")])

    uses = buildings["use"].astype(str).to_numpy()
    colours = np.array([_hex_rgb(USE_COLOURS.get(u, OTHER_USE_COLOUR)) for u in USE_COLOURS]
                       + [_hex_rgb(OTHER_USE_COLOUR)])
    code = np.array([list(USE_COLOURS).index(u) if u in USE_COLOURS else len(USE_COLOURS) for u in uses])
    rgb = colours[code[row]].astype(float)
    rgb[mesh.cell_data["roof"] == 1] *= 1.08  # lighter roofs read as tops from above
    mesh.cell_data["rgb"] = np.clip(rgb, 0, 255).astype(np.uint8)
    legend = [(f"{use} building", colour) for use, colour in USE_COLOURS.items() if use in set(uses)]
    return Layer("buildings", [Drawable("buildings", mesh, scalars="rgb", rgb=True)], legend=legend)


# --- roads ----------------------------------------------------------------------------------------


def road_edges(ctx: LayerContext) -> dict[str, np.ndarray]:
    """The road graph's directed edges as arrays: ``u``, ``v``, ``key``, class, lanes, one-way, line."""

    graph = ctx.city.roads
    us, vs, keys, classes, lanes, oneway, lines = [], [], [], [], [], [], []
    for u, v, key, data in graph.edges(keys=True, data=True):
        geometry = data.get("geometry")
        if geometry is None:
            geometry = shapely.LineString([(graph.nodes[u]["x"], graph.nodes[u]["y"]),
                                           (graph.nodes[v]["x"], graph.nodes[v]["y"])])
        us.append(u)
        vs.append(v)
        keys.append(key)
        classes.append(data.get("road_class", "支路"))
        lanes.append(int(data.get("lanes", 1) or 1))
        oneway.append(bool(data.get("oneway", False)))
        lines.append(geometry)
    lines_local = shapely.transform(
        np.asarray(lines, dtype=object), lambda xy: np.column_stack(ctx.frame.from_lonlat(xy[:, 0], xy[:, 1]))
    )
    return {
        "u": np.asarray(us), "v": np.asarray(vs), "key": np.asarray(keys), "road_class": np.asarray(classes),
        "lanes": np.asarray(lanes), "oneway": np.asarray(oneway), "line": lines_local,
    }


def _road_opacity(ctx: LayerContext) -> float:
    """Roads turn translucent when a run's water results are shown, so mains under them show."""
    has_water = ctx.overlay is not None and any(
        ctx.overlay.table(name) is not None for name in ("cim_water_nodes", "cim_water_links")
    )
    return 0.15 if has_water and "water" in ctx.active_layers else 1.0


def roads_layer(ctx: LayerContext) -> Layer:
    """Roads as ribbons: by class, or by the run's traffic metric (TTI, speed, queue)."""

    edges = road_edges(ctx)
    metric = ctx.overlay.road_metric if ctx.overlay is not None else None
    emphasis = RESULT_EMPHASIS if metric is not None else 1.0
    width = edges["lanes"] * LANE_WIDTH_M * ctx.view.line_scale * emphasis
    # A two-way road is two directed edges on one centreline: each takes its right-hand half.
    left = np.where(edges["oneway"], width / 2, 0.0)
    right = np.where(edges["oneway"], width / 2, width)
    mesh = ribbons(edges["line"], left, right, ctx.ground_z, lift_m=ROAD_LIFT_M * ctx.view.line_scale)
    feature = mesh.cell_data["feature"]
    if metric is not None:
        spec = ROAD_METRICS[metric]
        table = ctx.overlay.table("cim_road_links")
        lookup = {
            (int(u), int(v), int(k)): float(value) * spec["scale"]
            for u, v, k, value in zip(table["u"], table["v"], table["key"], table[metric], strict=True)
        }
        values = np.array([lookup.get((int(u), int(v), int(k)), np.nan)
                           for u, v, k in zip(edges["u"], edges["v"], edges["key"], strict=True)])
        mesh.cell_data[metric] = values[feature]
        clim = spec["clim"]
        if clim is None:
            finite = values[np.isfinite(values)]
            clim = (0.0, float(finite.max()) if finite.size and finite.max() > 0 else 1.0)
        drawable = Drawable("roads", mesh, scalars=metric, cmap=spec["cmap"], clim=clim,
                            bar_title=spec["title"], lighting=False, opacity=_road_opacity(ctx))
        return Layer("roads", [drawable], legend=[("road, no result", "#c8c8c8")])

    palette = np.array([_hex_rgb(c) for c in ROAD_CLASS_COLOURS.values()])
    code = np.array([list(ROAD_CLASS_COLOURS).index(c) if c in ROAD_CLASS_COLOURS else 3
                     for c in edges["road_class"]])
    mesh.cell_data["rgb"] = palette[code[feature]]
    present = set(edges["road_class"])
    legend = [(f"{ROAD_CLASS_EN[c]} road", colour)
              for c, colour in ROAD_CLASS_COLOURS.items() if c in present]
    drawable = Drawable("roads", mesh, scalars="rgb", rgb=True, lighting=False, opacity=_road_opacity(ctx))
    return Layer("roads", [drawable], legend=legend)


# --- water ----------------------------------------------------------------------------------------


def _links_from_model(wn) -> list:  # noqa: ANN001 - a wntr WaterNetworkModel

    links = []
    for name, link in wn.links():
        start = wn.get_node(link.start_node_name).coordinates
        end = wn.get_node(link.end_node_name).coordinates
        coords = [tuple(start), *[tuple(v) for v in (getattr(link, "vertices", None) or [])], tuple(end)]
        links.append(LinkGeometry(name, link.start_node_name, link.end_node_name, coords,
                                  float(getattr(link, "diameter", 0.3) or 0.3)))
    return links


def water_lines(ctx: LayerContext) -> dict[str, np.ndarray]:
    """The water network's links as local LineStrings with names, diameters (m) and end nodes.

    Read from the city's ``.inp`` text when it has one (fast, see :mod:`viz.water_geometry`),
    else from its WNTR model.
    """

    inp = getattr(ctx.city, "water_inp", None)
    if inp is not None:

        links = read_link_geometry(inp)
    else:
        links = _links_from_model(ctx.city.water())
    names = [link.name for link in links]
    lines = [shapely.LineString(link.coordinates) for link in links]
    diameters = [link.diameter_m for link in links]
    ends = [(link.start_node, link.end_node) for link in links]
    lines_arr = np.asarray(lines, dtype=object)
    sample = shapely.get_coordinates(lines_arr[:1]) if len(lines_arr) else np.zeros((1, 2))
    if np.all(np.abs(sample) <= 180):  # a network stored in lon/lat rather than EPSG:4549 metres
        lines_local = shapely.transform(
            lines_arr, lambda xy: np.column_stack(ctx.frame.from_lonlat(xy[:, 0], xy[:, 1]))
        )
    else:
        lines_local = shapely.transform(
            lines_arr, lambda xy: np.column_stack(ctx.frame.from_metric(xy[:, 0], xy[:, 1]))
        )
    return {"name": np.asarray(names), "line": lines_local, "diameter_m": np.asarray(diameters),
            "ends": ends}


def flagged_pipes(pipes: dict[str, np.ndarray], overlay: Overlay | None) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the isolated pipes and of the burst pipes named by a run's water tables.

    Isolated: flagged ``isolated`` in ``cim_water_links``, or both end nodes ``cut_off`` in
    ``cim_water_nodes``. Burst: flagged ``burst``.
    """
    isolated = np.zeros(len(pipes["name"]), dtype=bool)
    burst = np.zeros(len(pipes["name"]), dtype=bool)
    if overlay is None:
        return np.flatnonzero(isolated), np.flatnonzero(burst)
    links = overlay.table("cim_water_links")
    if links is not None:
        names = links["link"].astype(str)
        for column, target in (("isolated", isolated), ("burst", burst)):
            if column in links.columns:
                target |= np.isin(pipes["name"], names[links[column].astype(bool)].to_numpy())
    nodes = overlay.table("cim_water_nodes")
    if nodes is not None and "cut_off" in nodes.columns:
        cut = set(nodes.loc[nodes["cut_off"].astype(bool), "node"].astype(str))
        isolated |= np.array([a in cut and b in cut for a, b in pipes["ends"]], dtype=bool)
    return np.flatnonzero(isolated), np.flatnonzero(burst)


def water_layer(ctx: LayerContext) -> Layer:
    """Mains below ground as tubes: by pressure if the run has it; burst and isolated highlighted."""


    pipes = water_lines(ctx)
    overlay = ctx.overlay
    nodes = overlay.table("cim_water_nodes") if overlay is not None else None
    scale = ctx.view.line_scale * (RESULT_EMPHASIS if nodes is not None else 1.0)
    radius = scale * (2.0 + 5.0 * np.clip(pipes["diameter_m"], 0.05, 2.0))
    # One tube radius per layer (VTK's tube filter takes one), the mean drawn radius.
    mean_radius = float(np.mean(radius)) if len(radius) else scale * 3.0
    depth = PIPE_COVER_M + mean_radius
    lines = polylines(pipes["line"], ctx.ground_z, -depth)
    layer = Layer("water")
    line_feature = lines.cell_data["feature"]
    if nodes is not None:
        pressure = dict(zip(nodes["node"].astype(str), nodes["pressure_m"].astype(float), strict=True))
        values = np.array([np.nanmean([pressure.get(a, np.nan), pressure.get(b, np.nan)])
                           if (a in pressure or b in pressure) else np.nan for a, b in pipes["ends"]])
        lines.cell_data["pressure_m"] = values[line_feature]
        mesh = tubes(lines, mean_radius)
        layer.drawables.append(Drawable("water", mesh, scalars="pressure_m", cmap="RdYlBu", clim=(0.0, 60.0),
                                        bar_title="Water pressure head (m)"))
    else:
        layer.drawables.append(Drawable("water", tubes(lines, mean_radius), color=PIPE_COLOUR))
        layer.legend.append(("water main (below ground)", PIPE_COLOUR))
    isolated, burst = flagged_pipes(pipes, overlay)
    if len(isolated):
        sub = polylines(pipes["line"][isolated], ctx.ground_z, -depth)
        layer.drawables.append(Drawable("isolated", tubes(sub, mean_radius * 1.8), color=ISOLATED_COLOUR))
        layer.legend.append(("isolated segment", ISOLATED_COLOUR))
    if len(burst):
        middle = shapely.line_interpolate_point(pipes["line"][burst], 0.5, normalized=True)
        xy = shapely.get_coordinates(middle)
        points = np.column_stack([xy, ctx.ground_z(xy[:, 0], xy[:, 1])])
        marker = markers(points, 45.0 * ctx.view.line_scale, "sphere")
        layer.drawables.append(Drawable("burst", marker, color=BURST_COLOUR))
        layer.legend.append(("pipe burst", BURST_COLOUR))
        layer.labels.append(LabelSet(points + [0, 0, 35.0 * ctx.view.line_scale],
                                     [f"爆管 burst {pipes['name'][i]}" for i in burst],
                                     text_color=BURST_COLOUR, font_size=ctx.font_size, priority=0))
    return layer


# --- transit --------------------------------------------------------------------------------------


def node_local_xy(ctx: LayerContext, nodes: list[int]) -> np.ndarray:
    graph = ctx.city.roads
    lon = np.array([graph.nodes[n]["x"] for n in nodes], dtype=float)
    lat = np.array([graph.nodes[n]["y"] for n in nodes], dtype=float)
    return np.column_stack(ctx.frame.from_lonlat(lon, lat))


def transit_layer(ctx: LayerContext) -> Layer:
    """Bus lines floating above the roads; driverless lines and the run's routes in orange."""


    layer = Layer("transit")
    scale = ctx.view.line_scale
    lift = ROUTE_LIFT_M * scale
    bus_lines = getattr(ctx.city, "bus_lines", None)
    if bus_lines is not None and len(bus_lines):
        lines = ctx.frame.geometries(bus_lines.geometry)
        autonomous = bus_lines["autonomous"].astype(bool).to_numpy()
        styles = ((False, BUS_COLOUR, "bus line", 5.0), (True, AV_COLOUR, "driverless bus line", 8.0))
        for flag, colour, label, radius in styles:
            chosen = lines[autonomous == flag]
            if len(chosen):
                mesh = tubes(polylines(chosen, ctx.ground_z, lift), radius * scale)
                layer.drawables.append(Drawable(f"bus_{'av' if flag else 'regular'}", mesh, color=colour))
                layer.legend.append((label, colour))
    routes = ctx.overlay.table("cim_routes") if ctx.overlay is not None else None
    if routes is not None and len(routes):
        geoms, colours = [], []
        for _route_id, group in routes.sort_values(["route_id", "seq"]).groupby("route_id", sort=True):
            xy = node_local_xy(ctx, [int(n) for n in group["node"]])
            if len(xy) >= 2:
                geoms.append(shapely.LineString(xy))
                colours.append(bool(group["autonomous"].iloc[0]) if "autonomous" in group else True)
        if geoms:
            radius = 8.0 * scale * RESULT_EMPHASIS
            mesh = tubes(polylines(np.asarray(geoms, dtype=object), ctx.ground_z, lift * 1.3), radius)
            layer.drawables.append(Drawable("routes", mesh, color=AV_COLOUR))
            layer.legend.append(("run's route (AV)", AV_COLOUR))
    return layer


# --- compute sites and labels ---------------------------------------------------------------------


def compute_layer(ctx: LayerContext) -> Layer:
    """The AI computing centre and IDCs: tall markers with their name and target capacity."""


    sites = getattr(ctx.city, "compute_sites", None)
    if sites is None or len(sites) == 0:
        return Layer("compute")
    xy = shapely.get_coordinates(ctx.frame.geometries(sites.geometry))
    z = ctx.ground_z(xy[:, 0], xy[:, 1])
    size = 60.0 * ctx.view.line_scale
    mesh = markers(np.column_stack([xy, z]), size)
    texts = [f"{row.name_zh} {row.target_pflops:,.0f}P" for row in sites.itertuples()]
    anchors = np.column_stack([xy, z + 2.2 * size])
    # The largest site (the AICC) is labelled before the town names; the others only where room is left.
    largest = int(np.argmax(sites["target_pflops"].to_numpy(dtype=float)))
    others = [i for i in range(len(texts)) if i != largest]
    labels = [LabelSet(anchors[[largest]], [texts[largest]], text_color=COMPUTE_COLOUR,
                       font_size=ctx.font_size, priority=0)]
    if others:
        labels.append(LabelSet(anchors[others], [texts[i] for i in others], text_color=COMPUTE_COLOUR,
                               font_size=ctx.font_size, priority=3))
    return Layer("compute", [Drawable("compute", mesh, color=COMPUTE_COLOUR)], labels,
                 [("compute site (AICC/IDC)", COMPUTE_COLOUR)])


def labels_layer(ctx: LayerContext) -> Layer:
    """Names of towns, landmarks and 滨海新城, in Chinese."""

    layer = Layer("labels")
    styles = (("towns", "#202020", 1.0, 1), ("landmarks", "#3b3b8f", 0.9, 4))
    for attribute, colour, size, priority in styles:
        frame = getattr(ctx.city, attribute, None)
        if frame is None or len(frame) == 0:
            continue
        xy = shapely.get_coordinates(shapely.centroid(ctx.frame.geometries(frame.geometry)))
        z = ctx.ground_z(xy[:, 0], xy[:, 1]) + 30.0 * ctx.view.line_scale
        layer.labels.append(LabelSet(np.column_stack([xy, z]), frame["name_zh"].astype(str).tolist(),
                                     text_color=colour, font_size=int(ctx.font_size * size),
                                     priority=priority))
    areas = getattr(ctx.city, "areas", None)
    if areas is not None and len(areas) and ctx.view.name == "district":
        binhai = areas[areas["area_id"] == "binhai"]
        if len(binhai):
            # In its northern part, leaving the middle (where the AICC stands) to the compute label.
            shapes = ctx.frame.geometries(binhai.geometry)
            xmin, ymin, xmax, ymax = shapely.total_bounds(shapes)
            near = shapely.points((xmin + xmax) / 2, ymax - 0.2 * (ymax - ymin))
            xy = shapely.get_coordinates(shapely.ops.nearest_points(shapely.union_all(shapes), near)[0])
            z = ctx.ground_z(xy[:, 0], xy[:, 1]) + 60.0 * ctx.view.line_scale
            layer.labels.append(LabelSet(np.column_stack([xy, z]), binhai["name_zh"].astype(str).tolist(),
                                         text_color="#0b4f8a", font_size=int(ctx.font_size * 1.2),
                                         priority=0))
    return layer


LAYER_BUILDERS: dict[str, Callable[[LayerContext], Layer]] = {
    "terrain": terrain_layer,
    "boundary": boundary_layer,
    "buildings": buildings_layer,
    "roads": roads_layer,
    "water": water_layer,
    "transit": transit_layer,
    "compute": compute_layer,
    "labels": labels_layer,
}
"""Every layer by name, in drawing order."""

LAYER_NAMES = tuple(LAYER_BUILDERS)


def parse_layers(text: str | None) -> tuple[str, ...]:
    """``--layers`` (comma-separated names, or ``all``) to a tuple in drawing order."""
    if text is None or text.strip() in ("", "all"):
        return LAYER_NAMES
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in LAYER_BUILDERS]
    if unknown:
        raise InputError(f"--layers {','.join(unknown)}: unknown layer; expected some of "
                         f"{', '.join(LAYER_NAMES)} (comma-separated) or 'all'")
    return tuple(name for name in LAYER_NAMES if name in names)


_REQUIRES = {
    "terrain": "terrain", "boundary": "boundary", "buildings": "buildings", "roads": "roads",
    "water": "water", "transit": "roads", "compute": "compute_sites", "labels": "towns",
}
"""The city attribute each layer cannot do without."""


def _has_data(city: Any, name: str) -> str | None:
    """``None`` if the city has the layer's data, else why not."""
    try:
        value = getattr(city, _REQUIRES[name])
        if name == "water":  # ``water`` is a method; a dataset without an .inp has water_inp None
            value = getattr(city, "water_inp", value)
    except (AttributeError, FileNotFoundError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return "missing" if value is None else None


def build_layers(ctx: LayerContext, names: tuple[str, ...], explicit: bool) -> list[Layer]:
    """Build the named layers; a layer whose data the city lacks is skipped unless ``explicit``.

    Raises
    ------
    InputError
        If an explicitly requested layer has no data in this city.
    """
    layers = []
    for name in names:
        problem = _has_data(ctx.city, name)
        if problem is not None:
            if explicit:
                raise InputError(f"--layers {name}: the city has no data for this layer ({problem})")
            log.warning("layer %s skipped: the city has no data for it (%s)", name, problem)
            continue
        layers.append(LAYER_BUILDERS[name](ctx))
    return layers
