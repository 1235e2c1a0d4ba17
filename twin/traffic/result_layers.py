"""Map layers of a signal-timing run for ``results.gpkg``: the pilot's junctions, those still at
LOS E/F under the recommended strategy, and the links congested under it, each with the names a
planner knows the place by (the road names meeting at a junction, in both languages, and the
link's road name)."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pandas as pd
import shapely

from twin.city.places import junction_name
from twin.crs import STORAGE_CRS

CONGESTED_TTI = 1.5
"""A link counts as congested when crossing it takes at least 1.5 times its free-flow time (an
assumption of ours, a parameter of :func:`signal_layers`; not taken from a standard)."""


def _points(graph: nx.MultiDiGraph, nodes: list, extra: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({"node": [str(n) for n in nodes],
                          "name_zh": [junction_name(graph, n, "zh") for n in nodes],
                          "name_en": [junction_name(graph, n, "en") for n in nodes]})
    if extra is not None:
        frame = pd.concat([frame, extra.reset_index(drop=True)], axis=1)
    geometry = [shapely.Point(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes]
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=STORAGE_CRS)


def signal_layers(graph: nx.MultiDiGraph, pilot_nodes: set, roads: pd.DataFrame, best_junctions: pd.DataFrame,
                  threshold_tti: float = CONGESTED_TTI) -> dict[str, gpd.GeoDataFrame]:
    """``pilot_junctions`` (the pilot's signalised nodes), ``failing_junctions`` (HCM LOS E or F
    under the best strategy) and ``congested_links`` (TTI ≥ ``threshold_tti``) in lon/lat.

    ``roads`` is the per-link table (``u, v, key, tti, speed_m_per_s, queue_veh``); ``best_junctions``
    the best strategy's rows of the junction table (``node``, ``los_hcm``, delay, v/c).
    """
    by_node = {str(n): n for n in graph.nodes}
    pilot = sorted((n for n in pilot_nodes if graph.nodes[n].get("highway") == "traffic_signals"), key=str)
    failing_rows = best_junctions[best_junctions["los_hcm"].isin(["E", "F"])]
    failing = [by_node[str(n)] for n in failing_rows["node"] if str(n) in by_node]
    extra = failing_rows[["control_delay_s_per_veh", "v_over_c_ratio", "los_hcm"]]
    congested = roads[roads["tti"] >= threshold_tti]
    lines, names = [], []
    for u, v, k in zip(congested["u"], congested["v"], congested["key"], strict=True):
        data = graph.edges[u, v, k]
        geometry = data.get("geometry")
        if geometry is None:
            geometry = shapely.LineString([(graph.nodes[u]["x"], graph.nodes[u]["y"]),
                                           (graph.nodes[v]["x"], graph.nodes[v]["y"])])
        lines.append(geometry)
        name = str(data.get("name") or "")
        names.append(name if name and name != "nan" else f"{u}→{v}")
    links = gpd.GeoDataFrame(
        {"name": names, "tti_ratio": congested["tti"].to_numpy(),
         "speed_m_per_s": congested["speed_m_per_s"].to_numpy(), "queue_veh": congested["queue_veh"].to_numpy()},
        geometry=lines, crs=STORAGE_CRS)
    return {
        "pilot_junctions": _points(graph, pilot),
        "failing_junctions": _points(graph, failing, extra) if failing else _points(graph, []),
        "congested_links": links.sort_values("tti_ratio", ascending=False, kind="stable").reset_index(drop=True)
        if len(links) else links,
    }

