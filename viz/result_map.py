"""The map of a run: its ``results.gpkg`` layers highlighted on a basemap of the city's own layers,
in lon/lat, with town names, a scale bar and a north arrow, in the report's language.

A scenario names its layers after what they show; :data:`LAYER_STYLES` gives each known name a
style and a legend label (an unknown layer is drawn plainly under its own name).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pyogrio
import shapely
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from twin.kpis import Lang
from twin.plot_style import use_cjk_fonts

RESULTS_GPKG = "results.gpkg"
MAP_PNG = "result_map.png"


@dataclass(frozen=True)
class LayerStyle:
    """How a results layer is drawn and what the legend calls it."""

    colour: str
    zh: str
    en: str
    width: float = 2.0
    size: float = 30.0
    marker: str = "o"
    z: float = 5.0


LAYER_STYLES: dict[str, LayerStyle] = {
    "pilot_area": LayerStyle("#1f78b4", "试点区域", "pilot area", width=1.5, z=2),
    "congested_links": LayerStyle("#d7191c", "拥堵路段", "congested links", width=1.8),
    "pilot_junctions": LayerStyle("#2c7bb6", "试点路口", "pilot junctions", size=18),
    "failing_junctions": LayerStyle("#d7191c", "服务水平E/F路口", "junctions at LOS E/F", size=40, marker="X", z=7),
    "burst_pipe": LayerStyle("#000000", "爆管管段", "burst pipe", width=4.0, z=8),
    "isolated_pipes": LayerStyle("#ff7f00", "关阀隔离管段", "isolated segment", width=3.0, z=7),
    "closed_valves": LayerStyle("#6a3d9a", "关闭阀门", "valves closed", size=30, marker="s", z=8),
    "low_pressure_junctions": LayerStyle("#e31a1c", "低于服务水压节点", "junctions below service pressure",
                                         size=14, z=6),
    "cut_off_junctions": LayerStyle("#000000", "停水节点", "junctions cut off", size=14, marker="x", z=6),
    "crew_route": LayerStyle("#33a02c", "抢修队路线", "crew route", width=2.5, z=6),
    "bus_route": LayerStyle("#1b9e77", "公交线路", "bus route", width=3.0, z=5),
    "bus_stops": LayerStyle("#1b9e77", "公交站点", "bus stops", size=22, z=6),
    "failing_towns": LayerStyle("#e31a1c", "水压不足乡镇", "towns below service pressure", size=60, marker="D", z=8),
    "upsized_mains": LayerStyle("#6a3d9a", "建议扩径管段", "mains to upsize", width=3.0, z=7),
    "compute_centre": LayerStyle("#7b3294", "智算中心", "AI computing centre", size=160, marker="*", z=9),
    "exposed_junctions": LayerStyle("#b2182b", "受污染节点", "junctions exposed", size=14, z=6),
    "sensors": LayerStyle("#2166ac", "水质监测点", "sensors", size=30, marker="^", z=8),
}

TITLE = {"zh": "结果地图", "en": "Map of the results"}
NORTH = {"zh": "北", "en": "N"}


def has_layers(run_dir: Path) -> bool:
    return (run_dir / RESULTS_GPKG).exists()


def read_layers(path: Path) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of a ``results.gpkg``, in EPSG:4326, in file order."""
    return {name: pyogrio.read_dataframe(path, layer=name).to_crs("EPSG:4326")
            for name, _ in pyogrio.list_layers(path)}


def _basemap(ax: Any, city: Any, extent: tuple[float, float, float, float]) -> None:
    """The city's own layers, pale: the boundary and the roads (larger classes darker)."""
    if city is None:
        return
    if city.boundary is not None:
        for geometry in city.boundary.to_crs("EPSG:4326").geometry:
            for part in shapely.get_parts(geometry):
                xy = shapely.get_coordinates(part.exterior)
                ax.fill(xy[:, 0], xy[:, 1], facecolor="#f6f4ee", edgecolor="#888888", linewidth=0.8, zorder=0)
    graph = city.roads
    if graph is not None:
        west, south, east, north = extent
        shades = {"快速路": ("#9a9a9a", 1.2), "主干路": ("#b0b0b0", 0.9), "次干路": ("#c8c8c8", 0.6)}
        for _, _, data in graph.edges(data=True):
            geometry = data.get("geometry")
            if geometry is None or data.get("reversed", False):
                continue
            x0, y0, x1, y1 = geometry.bounds
            if x1 < west or x0 > east or y1 < south or y0 > north:
                continue
            colour, width = shades.get(data.get("road_class"), ("#dedede", 0.35))
            xy = shapely.get_coordinates(geometry)
            ax.plot(xy[:, 0], xy[:, 1], color=colour, linewidth=width, zorder=1)


def _towns(ax: Any, city: Any, extent: tuple[float, float, float, float], lang: Lang) -> None:
    if city is None or city.towns is None:
        return
    west, south, east, north = extent
    column = "name_zh" if lang == "zh" or "name_pinyin" not in city.towns else "name_pinyin"
    towns = city.towns.to_crs("EPSG:4326")
    for point, name in zip(towns.geometry, towns[column], strict=True):
        if west <= point.x <= east and south <= point.y <= north:
            ax.plot(point.x, point.y, "o", color="#333333", markersize=3, zorder=10)
            ax.annotate(str(name), (point.x, point.y), xytext=(3, 3), textcoords="offset points", fontsize=8,
                        zorder=11, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


def _draw_layer(ax: Any, name: str, frame: gpd.GeoDataFrame, lang: Lang) -> Line2D:
    style = LAYER_STYLES.get(name, LayerStyle("#1f78b4", name, name))
    for geometry in frame.geometry:
        if geometry is None or geometry.is_empty:
            continue
        for part in shapely.get_parts(geometry):
            if part.geom_type == "Point":
                ax.scatter([part.x], [part.y], s=style.size, c=style.colour, marker=style.marker, zorder=style.z,
                           edgecolors="white", linewidths=0.5)
            elif part.geom_type == "LineString":
                xy = shapely.get_coordinates(part)
                ax.plot(xy[:, 0], xy[:, 1], color=style.colour, linewidth=style.width, zorder=style.z)
            elif part.geom_type == "Polygon":
                xy = shapely.get_coordinates(part.exterior)
                ax.fill(xy[:, 0], xy[:, 1], facecolor=style.colour, alpha=0.12, edgecolor=style.colour,
                        linewidth=style.width, zorder=style.z)
    label = f"{getattr(style, lang)} ({len(frame)})"
    if frame.geom_type.isin(["Point", "MultiPoint"]).all():
        return Line2D([], [], marker=style.marker, ls="", color=style.colour, markersize=7, label=label)
    return Line2D([], [], color=style.colour, lw=style.width, label=label)


def _extent(layers: dict[str, gpd.GeoDataFrame], margin: float = 0.15) -> tuple[float, float, float, float]:
    bounds = np.array([frame.total_bounds for frame in layers.values() if len(frame)])
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    pad = max(east - west, north - south, 0.01) * margin
    return west - pad, south - pad, east + pad, north + pad


def _scale_bar(ax: Any, extent: tuple[float, float, float, float], lang: Lang) -> None:
    """A bar of a round length (km) in the lower right, true at the map's mid latitude."""
    west, south, east, north = extent
    km_per_deg = 111.32 * math.cos(math.radians((south + north) / 2))
    target_km = (east - west) * km_per_deg / 5
    length_km = max((k for k in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) if k <= target_km), default=0.1)
    x1 = east - (east - west) * 0.05
    x0 = x1 - length_km / km_per_deg
    y = south + (north - south) * 0.05
    ax.plot([x0, x1], [y, y], color="black", linewidth=3, solid_capstyle="butt", zorder=12)
    ax.text((x0 + x1) / 2, y + (north - south) * 0.012, f"{length_km:g} km", ha="center", va="bottom",
            fontsize=8, zorder=12)


def _north_arrow(ax: Any, extent: tuple[float, float, float, float], lang: Lang) -> None:
    west, south, east, north = extent
    x, y = east - (east - west) * 0.05, north - (north - south) * 0.12
    ax.annotate(NORTH[lang], xy=(x, y + (north - south) * 0.07), xytext=(x, y), ha="center", va="center",
                fontsize=10, fontweight="bold", zorder=12,
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5})


def draw_result_map(city: Any, layers: dict[str, gpd.GeoDataFrame], lang: Lang, title: str = "") -> Figure:
    """The run's layers highlighted on the city's basemap (see the module docstring)."""
    matplotlib.use("Agg")
    use_cjk_fonts()
    extent = _extent(layers)
    figure, ax = plt.subplots(figsize=(8.0, 7.0))
    _basemap(ax, city, extent)
    handles = [_draw_layer(ax, name, frame, lang) for name, frame in layers.items() if len(frame)]
    _towns(ax, city, extent, lang)
    west, south, east, north = extent
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1.0 / math.cos(math.radians((south + north) / 2)))
    _scale_bar(ax, extent, lang)
    _north_arrow(ax, extent, lang)
    ax.set_xlabel("经度 (°E)" if lang == "zh" else "longitude (°E)")
    ax.set_ylabel("纬度 (°N)" if lang == "zh" else "latitude (°N)")
    ax.set_title(title or TITLE[lang])
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.grid(True, linewidth=0.3, alpha=0.5)
    figure.tight_layout()
    return figure


def write_result_map(run_dir: Path, city: Any, lang: Lang) -> Path | None:
    """Draw ``run_dir/result_map.png`` from its ``results.gpkg``; ``None`` if it has no layers."""
    path = run_dir / RESULTS_GPKG
    if not path.exists():
        return None
    layers = read_layers(path)
    if not any(len(frame) for frame in layers.values()):
        return None
    figure = draw_result_map(city, layers, lang)
    target = run_dir / MAP_PNG
    figure.savefig(target, dpi=150, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return target
