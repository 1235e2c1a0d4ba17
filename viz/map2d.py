"""A 2D map of the city (matplotlib): boundary, roads by class, bus lines, water mains, compute
sites and labelled towns, legible on A4. Reads the city; never changes it.

Town labels are Chinese when a CJK font is installed (``fc-list :lang=zh``, e.g. Debian's
``fonts-noto-cjk``) and pinyin otherwise, so the map never shows missing-glyph boxes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import shapely
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from twin.crs import to_storage
from twin.plot_style import cjk_font

if TYPE_CHECKING:
    from matplotlib.figure import Figure

A4_PORTRAIT_IN = (8.27, 11.69)
ROAD_STYLE = {  # class: (colour, line width in points, z-order)
    "支路": ("#b0b0b0", 0.25, 1),
    "次干路": ("#e0a030", 0.6, 2),
    "主干路": ("#d95f02", 1.0, 3),
    "快速路": ("#b2182b", 1.8, 4),
}
def _lines(geometries: Any) -> list[np.ndarray]:

    out = []
    for geometry in geometries:
        for part in shapely.get_parts(geometry):
            if part.geom_type == "LineString":
                out.append(shapely.get_coordinates(part))
    return out


def water_pipes(inp: Path) -> tuple[list[np.ndarray], list[float]]:
    """Pipe polylines (lon/lat) and diameters (mm or inches as in the file) from an EPANET ``.inp``.

    Coordinates that look like degrees are taken as EPSG:4490, otherwise as EPSG:4549 metres.
    """

    sections: dict[str, list[list[str]]] = {}
    current = None
    for raw in inp.read_text(errors="replace").splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            current = line.strip("[]").upper()
            sections.setdefault(current, [])
            continue
        if current:
            sections[current].append(line.split())
    coords = {row[0]: (float(row[1]), float(row[2])) for row in sections.get("COORDINATES", []) if len(row) >= 3}
    vertices: dict[str, list[tuple[float, float]]] = {}
    for row in sections.get("VERTICES", []):
        if len(row) >= 3:
            vertices.setdefault(row[0], []).append((float(row[1]), float(row[2])))
    if not coords:
        return [], []
    metric = max(abs(x) for x, _ in coords.values()) > 360.0
    lines, diameters = [], []
    for row in sections.get("PIPES", []):
        if len(row) < 5 or row[1] not in coords or row[2] not in coords:
            continue
        xy = np.array([coords[row[1]], *vertices.get(row[0], []), coords[row[2]]])
        if metric:
            xy = np.column_stack(to_storage(xy[:, 0], xy[:, 1]))
        lines.append(xy)
        diameters.append(float(row[4]))
    return lines, diameters


Extent = tuple[float, float, float, float]
"""A lon/lat box ``(west, south, east, north)`` in degrees."""


def draw_map(city: Any, title: str | None = None) -> Figure:
    """Draw ``city`` (a :class:`twin.city.City`) on an A4 portrait figure."""
    matplotlib.use("Agg")
    font = cjk_font()
    figure, ax = plt.subplots(figsize=A4_PORTRAIT_IN)
    handles: list = []
    extent = _draw_boundary(ax, city, handles)
    _draw_airport(ax, city, handles)
    road_extent = _draw_roads(ax, city, handles, font)
    extent = extent or road_extent
    _draw_water(ax, city, handles)
    _draw_bus_lines(ax, city, handles)
    _draw_compute_sites(ax, city, handles)
    _draw_towns(ax, city, font)
    _frame(ax, extent, title, font, handles)
    figure.tight_layout()
    return figure


def _draw_boundary(ax: Any, city: Any, handles: list) -> Extent | None:
    """The district filled in pale paper; returns the mainland's extent (islets would shrink it)."""
    if city.boundary is None:
        return None
    boundary = city.boundary.to_crs("EPSG:4490")
    parts = [p for g in boundary.geometry for p in shapely.get_parts(g)]
    for part in parts:
        xy = shapely.get_coordinates(part.exterior)
        ax.fill(xy[:, 0], xy[:, 1], facecolor="#f4f1e8", edgecolor="#333333", linewidth=1.0, zorder=0)
    handles.append(Line2D([], [], color="#333333", lw=1.0, label="district boundary"))
    return max(parts, key=lambda p: p.area).bounds


def _draw_airport(ax: Any, city: Any, handles: list) -> None:
    if city.areas is None:
        return
    airport = city.areas[city.areas["area_id"] == "airport"].to_crs("EPSG:4490")
    for geometry in airport.geometry:
        for part in shapely.get_parts(geometry):
            xy = shapely.get_coordinates(part.exterior)
            ax.fill(xy[:, 0], xy[:, 1], facecolor="#d9d9d9", edgecolor="#777777", linewidth=0.6, zorder=0.5)
    if len(airport):
        handles.append(Patch(facecolor="#d9d9d9", edgecolor="#777777", label="airport (FOC)"))


def _draw_roads(ax: Any, city: Any, handles: list, font: str | None) -> Extent | None:
    """Roads by class and the signalised junctions; returns the road network's extent."""
    graph = city.roads
    if graph is None:
        return None
    by_class: dict[str, list[np.ndarray]] = {name: [] for name in ROAD_STYLE}
    for _, _, data in graph.edges(data=True):
        if data.get("reversed", False):
            continue
        geometry = data.get("geometry")
        if geometry is not None:
            by_class.setdefault(data.get("road_class", "支路"), []).append(shapely.get_coordinates(geometry))
    english = {"快速路": "expressway", "主干路": "arterial", "次干路": "collector", "支路": "local"}
    for name, (colour, width, z) in ROAD_STYLE.items():
        if by_class.get(name):
            ax.add_collection(LineCollection(by_class[name], colors=colour, linewidths=width, zorder=z))
            label = f"{name} {english[name]}" if font else english[name]
            handles.append(Line2D([], [], color=colour, lw=max(width, 0.8), label=label))
    signals = [(d["x"], d["y"]) for _, d in graph.nodes(data=True) if d.get("highway") == "traffic_signals"]
    if signals:
        xy = np.array(signals)
        ax.scatter(xy[:, 0], xy[:, 1], s=2.5, color="#1f3a93", zorder=6, linewidths=0)
        handles.append(Line2D([], [], marker="o", ls="", ms=3, color="#1f3a93",
                              label=f"signalised junction ({len(signals)})"))
    xs = [d["x"] for _, d in graph.nodes(data=True)]
    ys = [d["y"] for _, d in graph.nodes(data=True)]
    return (min(xs), min(ys), max(xs), max(ys))


def _draw_water(ax: Any, city: Any, handles: list) -> None:
    if city.water_inp is None:
        return
    pipes, diameters = water_pipes(city.water_inp)
    if pipes:
        d = np.asarray(diameters)
        widths = 0.3 + 1.5 * (d / d.max())
        ax.add_collection(LineCollection(pipes, colors="#2c7fb8", linewidths=widths, alpha=0.8, zorder=5))
        handles.append(Line2D([], [], color="#2c7fb8", lw=1.2, label="water mains"))


def _draw_bus_lines(ax: Any, city: Any, handles: list) -> None:
    if city.bus_lines is None:
        return
    lines = _lines(city.bus_lines.to_crs("EPSG:4490").geometry)
    if lines:
        ax.add_collection(LineCollection(lines, colors="#1b9e77", linewidths=1.2, alpha=0.7, zorder=7))
        handles.append(Line2D([], [], color="#1b9e77", lw=1.2, label=f"bus lines ({len(city.bus_lines)})"))


def _draw_compute_sites(ax: Any, city: Any, handles: list) -> None:
    if city.compute_sites is None:
        return
    sites = city.compute_sites.to_crs("EPSG:4490")
    aicc = sites["kind"] == "aicc"
    ax.scatter(sites.geometry.x[aicc], sites.geometry.y[aicc], marker="*", s=160, color="#7b3294",
               edgecolors="white", zorder=9)
    ax.scatter(sites.geometry.x[~aicc], sites.geometry.y[~aicc], marker="s", s=30, color="#c51b7d",
               edgecolors="white", zorder=9)
    handles.append(Line2D([], [], marker="*", ls="", ms=11, color="#7b3294", label="AI computing centre"))
    handles.append(Line2D([], [], marker="s", ls="", ms=5, color="#c51b7d", label="data centres"))


def _draw_towns(ax: Any, city: Any, font: str | None) -> None:
    """Town points with their names (Chinese when a CJK font is installed, else pinyin)."""
    if city.towns is None:
        return
    towns = city.towns.to_crs("EPSG:4490")
    ax.scatter(towns.geometry.x, towns.geometry.y, s=14, color="black", zorder=10)
    column = "name_zh" if font else "name_pinyin"
    for x, y, label in zip(towns.geometry.x, towns.geometry.y, towns[column], strict=True):
        ax.annotate(label, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=7.5, zorder=11,
                    fontfamily=font or "DejaVu Sans",
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75))


def _frame(ax: Any, extent: Extent | None, title: str | None, font: str | None, handles: list) -> None:
    """Limits with a small margin, true-shape aspect at the map's latitude, labels and legend."""
    if extent is not None:
        pad = 0.015
        ax.set_xlim(extent[0] - pad, extent[2] + pad)
        ax.set_ylim(extent[1] - pad, extent[3] + pad)
        ax.set_aspect(1.0 / math.cos(math.radians((extent[1] + extent[3]) / 2)))
    ax.set_xlabel("longitude (°E, CGCS2000)")
    ax.set_ylabel("latitude (°N)")
    default_title = "长乐区 Changle District" if font else "Changle District (Changle Qu), Fuzhou"
    ax.set_title(title or default_title, fontfamily=font or "DejaVu Sans")
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9,
              prop={"family": font, "size": 7} if font else {"size": 7})
    ax.grid(True, linewidth=0.3, alpha=0.5)


def save_map(city: Any, out: Path, dpi: int = 200) -> Path:
    """Draw and write the map as PNG."""

    figure = draw_map(city)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=dpi, metadata={"Software": None})
    plt.close(figure)
    return out
