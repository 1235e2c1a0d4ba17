"""The pipe-burst figures, in Chinese or English: the burst on the map (isolated segment, valves
closed, sensors, the crew's route, least pressures) and pressures and residents below the service
head over time. Labels of KPIs come from the KPI catalogue; the rest from :data:`TEXT`.

Coordinates are EPSG:4549 (metres), drawn with lon/lat tick labels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from twin.crs import to_storage
from twin.kpis import kpi_info

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TEXT = {
    "segment": {"zh": "关阀隔离管段", "en": "isolated segment"},
    "route": {"zh": "抢修队路线", "en": "crew route"},
    "valves": {"zh": "关闭的阀门", "en": "valves closed"},
    "sensors": {"zh": "压力监测点", "en": "pressure sensors"},
    "burst_on": {"zh": "爆管 {pipe}", "en": "burst on {pipe}"},
    "sources": {"zh": "水厂与水池", "en": "plants and tanks"},
    "min_after": {"zh": "爆管后最低水压 (米)", "en": "least pressure after the burst (m)"},
    "map_title": {"zh": "爆管：关阀隔离、抢修路线与水压", "en": "Pipe burst: isolation, crew route and pressures"},
    "lon": {"zh": "经度 (°E)", "en": "longitude (°E)"},
    "lat": {"zh": "纬度 (°N)", "en": "latitude (°N)"},
    "pressure": {"zh": "水压 (米)", "en": "pressure (m)"},
    "sensors_title": {"zh": "受影响最大的监测点水压（虚线：无爆管的同一天）",
                      "en": "Pressure at the most affected sensors (dotted: the same day without the burst)"},
    "service_head": {"zh": "服务水头 {head:g} 米", "en": "service head {head:g} m"},
    "with": {"zh": "爆管时", "en": "with the burst"},
    "without": {"zh": "无爆管", "en": "without"},
    "thousand": {"zh": "(千人)", "en": "(thousand)"},
    "hours": {"zh": "情景开始后小时数", "en": "hours since the scenario start"},
    "events": {"zh": {"burst": "爆管", "detected": "发现", "dispatched": "派单", "on_site": "到场",
                      "isolated": "隔离", "restored": "恢复"}, "en": {}},
}


def lonlat_ticks(ax: Axes, lang: str) -> None:
    """Label a metric (EPSG:4549) axis pair in degrees of lon/lat."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    xs, ys = np.linspace(x0, x1, 5), np.linspace(y0, y1, 5)
    lon, _ = to_storage(xs, np.full(5, (y0 + y1) / 2))
    _, lat = to_storage(np.full(5, (x0 + x1) / 2), ys)
    ax.set_xticks(xs, [f"{v:.3f}" for v in lon])
    ax.set_yticks(ys, [f"{v:.3f}" for v in lat])
    ax.set_xlabel(TEXT["lon"][lang])
    ax.set_ylabel(TEXT["lat"][lang])


def burst_map(lang: str, net: Any, pipe: str, leak_node: int, cut_nodes: np.ndarray,  # long: one map, layer by layer
              valve_links: list[str], sensors: np.ndarray, locator: Any, route_nodes: list[int], junctions: Any,
              roads: Any) -> Figure:
    """The burst on the map: isolated segment, valves, sensors, the crew's route and pressures."""
    import matplotlib  # deferred: matplotlib is slow to import

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred with matplotlib, after choosing its backend
    from matplotlib.collections import LineCollection  # deferred with matplotlib

    xy = net.node_xy
    fig, ax = plt.subplots(figsize=(10, 9))
    road_segments = [(locator.xy[locator.index[u]], locator.xy[locator.index[v]]) for u, v in roads.edges()]
    ax.add_collection(LineCollection(road_segments, colors="#eeeeee", linewidths=0.4, zorder=0))
    pipes = np.stack([xy[net.start], xy[net.end]], axis=1)
    ax.add_collection(LineCollection(pipes, colors="#9ecae1", linewidths=0.3 + 3 * net.diameter_m, zorder=1))
    cut = set(int(n) for n in cut_nodes)
    in_segment = [k for k in range(net.n_links) if net.start[k] in cut or net.end[k] in cut]
    ax.add_collection(LineCollection(pipes[in_segment], colors="#de2d26", linewidths=2.5, zorder=3,
                                     label=TEXT["segment"][lang]))
    nj = net.n_junctions
    worst = junctions["min_pressure_m"].to_numpy()
    shown = junctions["population"].to_numpy() > 0
    points = ax.scatter(xy[:nj][shown, 0], xy[:nj][shown, 1], c=np.clip(worst[shown], 0, 60), cmap="RdYlGn",
                        s=8, zorder=2, vmin=0, vmax=60)
    fig.colorbar(points, ax=ax, shrink=0.6, label=TEXT["min_after"][lang])
    if route_nodes:
        route = np.array([locator.xy[locator.index[n]] for n in route_nodes])
        ax.plot(route[:, 0], route[:, 1], color="#3f007d", lw=1.5, zorder=4, label=TEXT["route"][lang])
    valve_xy = (np.array([xy[[net.start[net.link_index(k)], net.end[net.link_index(k)]]].mean(axis=0)
                          for k in valve_links]) if valve_links else np.zeros((0, 2)))
    ax.scatter(valve_xy[:, 0], valve_xy[:, 1], marker="X", s=60, color="black", zorder=5,
               label=TEXT["valves"][lang])
    ax.scatter(xy[sensors, 0], xy[sensors, 1], marker="^", s=30, color="#08519c", zorder=5,
               label=TEXT["sensors"][lang])
    ax.scatter(*xy[leak_node], marker="*", s=300, color="#ff7f00", edgecolor="black", zorder=6,
               label=TEXT["burst_on"][lang].format(pipe=pipe))
    sources = np.flatnonzero(net.node_kind != 0)
    ax.scatter(xy[sources, 0], xy[sources, 1], marker="s", s=40, color="#2171b5", zorder=5,
               label=TEXT["sources"][lang])
    ax.set_aspect("equal")
    ax.autoscale_view()
    lonlat_ticks(ax, lang)
    ax.set_title(TEXT["map_title"][lang])
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def pressure_plot(lang: str, result: Any, baseline: Any, sensors: np.ndarray, offset: float,
                  times: dict[str, float], over_time: Any, net: Any, service_head: float,
                  clock: Any) -> Figure:  # long: two panels and the event marks
    """Pressures at the most affected sensors, and residents below the service head, over time."""
    import matplotlib  # deferred: matplotlib is slow to import

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred with matplotlib, after choosing its backend

    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    window = result.time_s >= offset
    hours = (result.time_s[window] - offset) / 3600.0
    base_idx = np.clip(np.searchsorted(baseline.time_s, result.time_s[window], side="right") - 1, 0, None)
    pressure = result.pressure_m[window]
    drop = baseline.pressure_m[base_idx][:, sensors] - pressure[:, sensors]
    shown = sensors[np.argsort(-drop.max(axis=0))[:6]]
    for j in shown:
        ax.plot(hours, pressure[:, j], lw=1.2, label=net.node_names[j])
        ax.plot(hours, baseline.pressure_m[base_idx, j], lw=0.8, ls=":", color=ax.lines[-1].get_color())
    ax.axhline(service_head, color="red", ls="--", lw=0.8, label=TEXT["service_head"][lang].format(head=service_head))
    ax.set_ylabel(TEXT["pressure"][lang])
    ax.set_title(TEXT["sensors_title"][lang])
    ax.legend(fontsize=7, ncol=4)
    below = "population_below_service_head_count"
    ax2.plot(over_time["time_s"] / 3600.0, over_time[below] / 1000.0, color="#de2d26", label=TEXT["with"][lang])
    ax2.plot(over_time["time_s"] / 3600.0, over_time["baseline_" + below] / 1000.0, color="grey", ls=":",
             label=TEXT["without"][lang])
    ax2.set_ylabel(f"{kpi_info(below).label[lang]} {TEXT['thousand'][lang]}")
    ax2.set_xlabel(TEXT["hours"][lang])
    ax2.legend(fontsize=8)
    for name, t in times.items():
        for axis in (ax, ax2):
            axis.axvline(t / 3600.0, color="black", lw=0.6, alpha=0.5)
        label = TEXT["events"][lang].get(name, name.replace("_", " "))
        ax.annotate(f"{label} {clock(t)}", (t / 3600.0, ax.get_ylim()[1]), rotation=90, fontsize=7, va="top",
                    ha="right")
    fig.tight_layout()
    return fig
