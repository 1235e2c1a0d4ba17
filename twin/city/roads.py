"""The road network: road classes (CJJ 37), GeoPackage load/save, projection to EPSG:4549.

The graph follows OSMnx conventions (see ``docs/data_model.md``): a ``networkx.MultiDiGraph``
with integer nodes carrying ``x``/``y`` (lon/lat, EPSG:4490) and directed edges ``(u, v, key)``
carrying ``length`` (m), ``highway``, ``lanes``, ``maxspeed``, ``speed_kph``, ``travel_time`` (s),
``oneway`` and a ``geometry`` LineString. In the GeoPackage the graph is two layers, as OSMnx's
``save_graph_geopackage`` writes them: ``road_nodes`` (one point per node, column ``osmid``) and
``road_edges`` (one line per directed edge, columns ``u``, ``v``, ``key``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd
import shapely

from twin.crs import to_metric, transformer

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx
    import numpy as np

NODE_LAYER = "road_nodes"
EDGE_LAYER = "road_edges"
SIGNALS = "traffic_signals"


@dataclass(frozen=True)
class RoadClass:
    """One urban road class of CJJ 37-2012 (城市道路工程设计规范) with our defaults.

    Attributes
    ----------
    name_zh
        The class name: 快速路, 主干路, 次干路 or 支路.
    highway
        The OSM ``highway`` value we write for it.
    speed_kph
        Design speed used as the speed limit (km/h); CJJ 37 ranges in ``speed_range_kph``.
    lanes
        Lanes per direction.
    width_m
        Typical total red-line width (m), used to keep buildings off the carriageway.
    rank
        Importance, 0 = highest; used to pick one class where roads overlap.
    """

    name_zh: str
    name_en: str
    highway: str
    speed_kph: float
    speed_range_kph: tuple[float, float]
    lanes: int
    width_m: float
    rank: int


ROAD_CLASSES: dict[str, RoadClass] = {
    "快速路": RoadClass("快速路", "expressway", "trunk", 80.0, (60.0, 100.0), 3, 40.0, 0),
    "主干路": RoadClass("主干路", "arterial", "primary", 60.0, (40.0, 60.0), 3, 40.0, 1),
    "次干路": RoadClass("次干路", "collector", "secondary", 40.0, (30.0, 50.0), 2, 24.0, 2),
    "支路": RoadClass("支路", "local", "residential", 30.0, (20.0, 40.0), 1, 14.0, 3),
}
"""CJJ 37 classes. Speeds are inside CJJ 37's design-speed ranges (DESIGN.md); lanes are typical."""

HIGHWAY_TO_CLASS: dict[str, str] = {
    "motorway": "快速路", "motorway_link": "快速路", "trunk": "快速路", "trunk_link": "快速路",
    "primary": "主干路", "primary_link": "主干路",
    "secondary": "次干路", "secondary_link": "次干路",
    "tertiary": "支路", "tertiary_link": "支路", "residential": "支路", "unclassified": "支路",
    "living_street": "支路", "service": "支路", "road": "支路",
}
"""OSM ``highway`` values to our classes, for imported data (unknown values become 支路)."""


def road_class_of(highway: object) -> str:
    """Our class for an OSM ``highway`` value (lists, as OSMnx gives merged ways, use the first)."""
    if isinstance(highway, list | tuple):
        highway = highway[0] if highway else ""
    return HIGHWAY_TO_CLASS.get(str(highway), "支路")


def graph_to_frames(graph: nx.MultiDiGraph) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The ``road_nodes`` and ``road_edges`` frames of ``graph`` (OSMnx GeoPackage layout)."""
    import geopandas as gpd  # deferred: geopandas is heavy; graphs are built without it

    crs = graph.graph.get("crs", "EPSG:4490")
    node_ids = list(graph.nodes)
    node_rows = [dict(data) for _, data in graph.nodes(data=True)]
    nodes = pd.DataFrame(node_rows)
    nodes.insert(0, "osmid", pd.array(node_ids, dtype="int64"))
    nodes = gpd.GeoDataFrame(
        nodes, geometry=shapely.points(nodes["x"].to_numpy(), nodes["y"].to_numpy()), crs=crs
    )
    rows = []
    for u, v, k, data in graph.edges(keys=True, data=True):
        row = {"u": u, "v": v, "key": k}
        row.update(data)
        rows.append(row)
    edges = pd.DataFrame(rows)
    if "geometry" not in edges:
        edges["geometry"] = None
    missing = edges["geometry"].isna().to_numpy()
    if missing.any():  # OSMnx leaves geometry off straight edges; draw them node to node
        xy = {n: (d["x"], d["y"]) for n, d in graph.nodes(data=True)}
        edges.loc[missing, "geometry"] = [
            shapely.LineString([xy[u], xy[v]])
            for u, v in zip(edges.loc[missing, "u"], edges.loc[missing, "v"], strict=True)
        ]
    edges = gpd.GeoDataFrame(edges, geometry="geometry", crs=crs)
    for column in edges.columns:  # lists (OSMnx merged ways) cannot be stored in a GeoPackage
        if edges[column].dtype == object and column != "geometry":
            if edges[column].map(lambda value: isinstance(value, list)).any():
                edges[column] = edges[column].map(lambda value: str(value[0]) if isinstance(value, list) else value)
    return nodes, edges


def frames_to_graph(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, crs: str) -> nx.MultiDiGraph:
    """Build the ``MultiDiGraph`` from ``road_nodes``/``road_edges`` frames (inverse of above).

    Null attributes (a node without ``highway``, as in OSM) are left off rather than set to NaN.
    """

    graph = nx.MultiDiGraph(crs=crs)
    node_columns = [c for c in nodes.columns if c not in ("osmid", "geometry")]
    node_values = {c: nodes[c].to_numpy(dtype=object) for c in node_columns}
    ids = nodes["osmid"].to_numpy()
    null = {c: pd.isna(nodes[c]).to_numpy() for c in node_columns}
    graph.add_nodes_from(
        (
            int(ids[i]),
            {c: _python(node_values[c][i]) for c in node_columns if not null[c][i]},
        )
        for i in range(len(ids))
    )
    edge_columns = [c for c in edges.columns if c not in ("u", "v", "key")]
    edge_values = {c: edges[c].to_numpy(dtype=object) for c in edge_columns}
    edge_null = {c: pd.isna(edges[c]).to_numpy() for c in edge_columns if c != "geometry"}
    us, vs, ks = (edges[c].to_numpy() for c in ("u", "v", "key"))
    graph.add_edges_from(
        (
            int(us[i]), int(vs[i]), int(ks[i]),
            {
                c: (edge_values[c][i] if c == "geometry" else _python(edge_values[c][i]))
                for c in edge_columns
                if c == "geometry" or not edge_null[c][i]
            },
        )
        for i in range(len(us))
    )
    return graph


def _python(value: object) -> object:
    """NumPy scalars to plain Python values (as OSMnx graphs hold them)."""
    return value.item() if hasattr(value, "item") else value


def save_graph(graph: nx.MultiDiGraph, path: Path) -> None:
    """Write the graph as ``road_nodes``/``road_edges`` layers into GeoPackage ``path``."""
    nodes, edges = graph_to_frames(graph)
    nodes.to_file(path, layer=NODE_LAYER, driver="GPKG", engine="pyogrio")
    edges.to_file(path, layer=EDGE_LAYER, driver="GPKG", engine="pyogrio")


def read_graph(path: Path) -> nx.MultiDiGraph:
    """Read the road graph from a GeoPackage's ``road_nodes``/``road_edges`` layers."""
    import pyogrio  # deferred: pyogrio is slow to import; only file I/O needs it

    nodes = pyogrio.read_dataframe(path, layer=NODE_LAYER, use_arrow=True)
    edges = pyogrio.read_dataframe(path, layer=EDGE_LAYER, use_arrow=True)
    crs = nodes.crs.to_string() if nodes.crs is not None else "EPSG:4490"
    if "fid" in edges.columns:
        edges = edges.drop(columns="fid")
    return frames_to_graph(nodes, edges, crs)


def project(graph: nx.MultiDiGraph, to_crs: str = "EPSG:4549") -> nx.MultiDiGraph:
    """A copy of ``graph`` in ``to_crs`` (default EPSG:4549, metres): node x/y and edge geometry.

    Lengths stay as they are (they are already metres). ``lon``/``lat`` keep the original
    coordinates, as ``osmnx.project_graph`` does.
    """


    source = graph.graph.get("crs", "EPSG:4490")
    move = transformer(str(source), str(to_crs))
    projected = graph.copy()
    ids = list(projected.nodes)
    lon = np.array([projected.nodes[n]["x"] for n in ids])
    lat = np.array([projected.nodes[n]["y"] for n in ids])
    x, y = move.transform(lon, lat)
    for n, xi, yi, lo, la in zip(ids, x, y, lon, lat, strict=True):
        data = projected.nodes[n]
        data.update(x=float(xi), y=float(yi), lon=float(lo), lat=float(la))
    edges = [(u, v, k) for u, v, k, g in projected.edges(keys=True, data="geometry") if g is not None]
    if edges:
        geometries = np.array([projected.edges[e]["geometry"] for e in edges], dtype=object)
        moved = shapely.transform(
            geometries, lambda xy: np.column_stack(move.transform(xy[:, 0], xy[:, 1]))
        )
        for edge, geometry in zip(edges, moved, strict=True):
            projected.edges[edge]["geometry"] = geometry
    projected.graph["crs"] = str(to_crs)
    return projected


def signalised_nodes(graph: nx.MultiDiGraph) -> list[int]:
    """Nodes tagged ``highway="traffic_signals"``, sorted."""
    return sorted(n for n, h in graph.nodes(data="highway") if h == SIGNALS)


def intersection_nodes(graph: nx.MultiDiGraph) -> list[int]:
    """Nodes where at least three streets meet (``street_count >= 3``), sorted."""
    return sorted(n for n, c in graph.nodes(data="street_count") if c is not None and c >= 3)


def largest_scc_share(graph: nx.MultiDiGraph) -> float:
    """Share of nodes in the largest strongly connected component (0 for an empty graph)."""

    if graph.number_of_nodes() == 0:
        return 0.0
    largest = max(nx.strongly_connected_components(graph), key=len)
    return len(largest) / graph.number_of_nodes()


def road_length_m(graph: nx.MultiDiGraph) -> float:
    """Length of road (m): a two-way road counts once although it is two directed edges."""
    return sum(
        float(data.get("length", 0.0)) * (1.0 if data.get("oneway") else 0.5)
        for _, _, data in graph.edges(data=True)
    )


def node_lonlat(graph: nx.MultiDiGraph, nodes) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001 - any iterable
    """Longitudes and latitudes (the graph's ``x``, ``y``) of ``nodes``, in their order."""

    nodes = list(nodes)
    return (np.array([graph.nodes[n]["x"] for n in nodes], dtype=float),
            np.array([graph.nodes[n]["y"] for n in nodes], dtype=float))


def nearest_nodes(graph: nx.MultiDiGraph, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The road node nearest to each lon/lat point (EPSG:4490 degrees), by metric distance."""
    from scipy.spatial import cKDTree  # deferred: scipy is heavy; only nearest-node queries need it

    nodes = np.array(sorted(graph.nodes))
    x_m, y_m = to_metric(np.array([graph.nodes[n]["x"] for n in nodes], dtype=float),
                         np.array([graph.nodes[n]["y"] for n in nodes], dtype=float))
    px, py = to_metric(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    _, index = cKDTree(np.column_stack([x_m, y_m])).query(np.column_stack([px, py]))
    return nodes[np.asarray(index, dtype=np.int64)]
