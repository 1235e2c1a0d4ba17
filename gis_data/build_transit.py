"""Build the bundled Changle bus layer, ``transit.gpkg``, on the base road graph.

Called by ``gis_data/build.py`` after the base as ``build(out_dir, city)``; deterministic (sorted
inputs, no randomness). The layer is *generated*, like the roads it runs on: it is a plausible
network in the shape of Changle's, not the operator's real timetable. Lines:

* **town trunk lines** ``1``…: from the 吴航 old-town hub to every other town or street centre,
  headway by length (10 min up to 10 km, 15 min up to 20 km, 20 min beyond);
* **old-town lines** ``C1``, ``C2``: across the old town through its hub (8 min);
* **K1** 吴航 ↔ 滨海新城 and **K2** 吴航 ↔ the airport (机场快线);
* **BH-AV1**, the 滨海新城 driverless pilot line (``autonomous``, ``av_bus_12m``, 10 min), across
  the new town past the data-centre cluster and the AI computing centre;
* **AP-AV1**, a driverless airport shuttle between the airport and 滨海新城 (``av_minibus_8m``).

Each line follows the fastest free-flow road route between its terminals (via its waypoints);
direction 1 runs the same stops backwards on the reverse route (or the fastest one where a road
is one-way). Stops sit on road nodes: every 400–800 m (target 500 m) in urban areas (nodes with
an ``area_id``) and every 700–1,500 m (target 1,000 m) elsewhere, always at the terminals and at
town centres on the route. Lines that call at the same node share the stop.

Run alone: ``python gis_data/build_transit.py [--data DIR]`` (rebuilds ``DIR/transit.gpkg``
from the base in ``DIR``, default ``gis_data/``).
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

OUT_NAME = "transit.gpkg"

URBAN_SPACING_M = (400.0, 500.0, 800.0)
"""Stop spacing in urban areas: (least, target, most) in metres."""
RURAL_SPACING_M = (700.0, 1000.0, 1500.0)
"""Stop spacing outside urban areas: (least, target, most) in metres."""


class LinePlan(NamedTuple):
    """A line to lay out: terminals and waypoints (road nodes), service and vehicle.

    (A NamedTuple rather than a dataclass: ``gis_data/build.py`` may load this file by path,
    without registering it as a module, which dataclasses need.)
    """

    line_id: str
    name: str
    nodes: tuple[int, ...]  # origin, waypoints..., destination
    headway_s: float
    vehicle_type: str
    autonomous: bool


def build(out_dir: Path, city: Any) -> list[Path]:
    """Lay out the bus lines on ``city.roads`` and write ``out_dir/transit.gpkg``."""
    from twin.transit.layer import write_transit_gpkg

    network = plan_network(city)
    return [write_transit_gpkg(network, Path(out_dir) / OUT_NAME)]


# --------------------------------------------------------------------------------------------
# Where the lines go
# --------------------------------------------------------------------------------------------


def _metric(graph) -> dict[int, tuple[float, float]]:  # noqa: ANN001
    """Node positions in EPSG:4549 metres."""
    from pyproj import Transformer

    to_metric = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    nodes = sorted(graph.nodes)
    xs, ys = to_metric.transform([graph.nodes[n]["x"] for n in nodes], [graph.nodes[n]["y"] for n in nodes])
    return {n: (float(x), float(y)) for n, x, y in zip(nodes, xs, ys, strict=True)}


def _nearest_node(xy: dict[int, tuple[float, float]], point: tuple[float, float], among=None) -> int:  # noqa: ANN001
    """The road node nearest to a metric point (ties: lowest id)."""
    candidates = sorted(among) if among is not None else sorted(xy)
    return min(candidates, key=lambda n: ((xy[n][0] - point[0]) ** 2 + (xy[n][1] - point[1]) ** 2, n))


def _geometry_point(geometry) -> tuple[float, float]:  # noqa: ANN001
    """A representative metric point of an EPSG:4490 geometry."""
    from pyproj import Transformer

    to_metric = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    point = geometry.representative_point() if geometry.geom_type != "Point" else geometry
    x, y = to_metric.transform(point.x, point.y)
    return float(x), float(y)


def _area_nodes(graph, area_id: str) -> list[int]:  # noqa: ANN001
    return sorted(n for n, d in graph.nodes(data=True) if d.get("area_id") == area_id)


def _strong_core(graph) -> set[int]:  # noqa: ANN001
    """Nodes of the largest strongly connected component (every line must run both ways)."""
    import networkx as nx

    return set(max(nx.strongly_connected_components(graph), key=lambda c: (len(c), min(c))))


def _hubs(city: Any, xy: dict[int, tuple[float, float]], core: set[int]) -> dict[str, int]:
    """Road nodes of the old-town hub, 滨海新城's centre and ends, the AI computing centre and the airport."""
    graph = city.roads
    towns = city.towns.sort_values("town_id")
    areas = city.areas.set_index("area_id")
    hubs: dict[str, int] = {}
    landmarks = getattr(city, "landmarks", None)
    old_town = towns[towns["name_zh"].astype(str).str.contains("吴航")]
    if len(old_town):
        hubs["old_town"] = int(old_town["node"].iloc[0])
    elif "wuhang" in areas.index:
        hubs["old_town"] = _nearest_node(xy, _geometry_point(areas.loc["wuhang", "geometry"]), core)
    else:
        hubs["old_town"] = int(towns["node"].iloc[0])
    binhai = [n for n in _area_nodes(graph, "binhai") if n in core]
    centre = None
    if landmarks is not None and len(landmarks):
        found = landmarks[landmarks["landmark_id"].astype(str) == "binhai_centre"]
        if len(found):
            centre = _geometry_point(found.geometry.iloc[0])
    if centre is None and "binhai" in areas.index:
        centre = _geometry_point(areas.loc["binhai", "geometry"])
    if centre is not None:
        hubs["binhai"] = _nearest_node(xy, centre, binhai or core)
    if binhai:
        # The pilot line crosses the new town along its longer axis, from end to end.
        xs = [xy[n][0] for n in binhai]
        ys = [xy[n][1] for n in binhai]
        if max(xs) - min(xs) >= max(ys) - min(ys):
            ends = (min(binhai, key=lambda n: (xy[n][0], n)), max(binhai, key=lambda n: (xy[n][0], -n)))
        else:
            ends = (min(binhai, key=lambda n: (xy[n][1], n)), max(binhai, key=lambda n: (xy[n][1], -n)))
        hubs["binhai_west"], hubs["binhai_east"] = ends
    sites = getattr(city, "compute_sites", None)
    if sites is not None and len(sites):
        aicc = sites[sites["kind"] == "aicc"] if "kind" in sites else sites.iloc[:0]
        if len(aicc):
            hubs["aicc"] = _nearest_node(xy, _geometry_point(aicc.geometry.iloc[0]), core)
    airport_nodes = [n for n in _area_nodes(graph, "airport") if n in core]
    airport_point = None
    if landmarks is not None and len(landmarks):
        # The landside terminal if the base has one (buses serve it), else the airport itself.
        for kind in ("terminal", "airport"):
            found = landmarks[landmarks["kind"].astype(str) == kind]
            if len(found):
                airport_point = _geometry_point(found.geometry.iloc[0])
                break
    if airport_point is None and "airport" in areas.index:
        airport_point = _geometry_point(areas.loc["airport", "geometry"])
    if airport_point is not None:
        hubs["airport"] = _nearest_node(xy, airport_point, airport_nodes or core)
    return hubs


def line_plans(city: Any) -> list[LinePlan]:
    """The lines to build, with terminals and waypoints on the strongly connected road core."""
    graph = city.roads
    xy = _metric(graph)
    core = _strong_core(graph)
    hubs = _hubs(city, xy, core)
    old = hubs["old_town"]
    if old not in core:
        old = _nearest_node(xy, xy[old], core)
    plans: list[LinePlan] = []
    towns = city.towns.sort_values("town_id")
    number = 1
    for row in towns.itertuples(index=False):
        node = int(row.node)
        if node not in core:
            node = _nearest_node(xy, xy[node], core)
        if node == old:
            continue
        distance_km = math.dist(xy[old], xy[node]) / 1000.0
        headway_s = 600.0 if distance_km <= 10 else 900.0 if distance_km <= 20 else 1200.0
        plans.append(LinePlan(str(number), f"{number}路 吴航—{row.name_zh}", (old, node), headway_s,
                              "bus_12m", False))
        number += 1
    # Two old-town lines through the hub, between the farthest old-town nodes on each axis.
    town_nodes = [n for n in _area_nodes(graph, "wuhang") if n in core] or sorted(
        core, key=lambda n: (math.dist(xy[n], xy[old]), n))[:400]
    west = min(town_nodes, key=lambda n: (xy[n][0], n))
    east = max(town_nodes, key=lambda n: (xy[n][0], -n))
    south = min(town_nodes, key=lambda n: (xy[n][1], n))
    north = max(town_nodes, key=lambda n: (xy[n][1], -n))
    plans.append(LinePlan("C1", "城区1线 (东西)", (west, old, east), 480.0, "bus_12m", False))
    plans.append(LinePlan("C2", "城区2线 (南北)", (south, old, north), 480.0, "bus_12m", False))
    if "binhai" in hubs:
        plans.append(LinePlan("K1", "快1线 吴航—滨海新城", (old, hubs["binhai"]), 600.0, "bus_12m", False))
    if "airport" in hubs:
        plans.append(LinePlan("K2", "快2线 吴航—机场 (机场快线)", (old, hubs["airport"]), 1200.0,
                              "bus_12m", False))
    if "binhai_west" in hubs:
        via = tuple(n for n in (hubs.get("aicc"), hubs.get("binhai")) if n is not None)
        ends = (hubs["binhai_west"], *via, hubs["binhai_east"])
        plans.append(LinePlan("BH-AV1", "滨海新城无人驾驶公交示范线", ends, 600.0, "av_bus_12m", True))
    if "airport" in hubs and "binhai" in hubs:
        plans.append(LinePlan("AP-AV1", "机场—滨海新城无人驾驶接驳线", (hubs["airport"], hubs["binhai"]),
                              900.0, "av_minibus_8m", True))
    return plans


# --------------------------------------------------------------------------------------------
# Routes and stops
# --------------------------------------------------------------------------------------------


def fastest_path(graph, origin: int, destination: int) -> list[int]:  # noqa: ANN001
    """Free-flow fastest node path (networkx Dijkstra on ``travel_time``)."""
    import networkx as nx

    from twin.city.travel_times import free_flow_time_s

    def weight(u, v, data):  # noqa: ANN001, ANN202 - parallel edges: the quickest
        return min(free_flow_time_s(d) for d in data.values())

    return nx.dijkstra_path(graph, origin, destination, weight=weight)


def route_nodes(graph, via: tuple[int, ...]) -> list[int]:  # noqa: ANN001
    """The fastest route through ``via`` in order, without immediate back-tracking at waypoints."""
    path = [via[0]]
    for a, b in zip(via[:-1], via[1:], strict=True):
        path += fastest_path(graph, a, b)[1:]
    # Remove spurs (…, u, v, u, …) that waypoints off the main road would leave.
    cleaned: list[int] = []
    for node in path:
        if len(cleaned) >= 2 and cleaned[-2] == node:
            cleaned.pop()
            continue
        cleaned.append(node)
    return cleaned


def is_urban(area_id: object) -> bool:
    """Whether a node's ``area_id`` marks an urban area (anything but none or ``"rural"``)."""
    return isinstance(area_id, str) and area_id not in ("", "rural")


def place_stops(graph, path: list[int], town_nodes: set[int]) -> list[int]:  # noqa: ANN001
    """Positions (indices into ``path``) of the stops along a route.

    Greedy along the route: a stop goes at a node once the distance from the last stop reaches
    the target spacing, or earlier (at least the least spacing) when going on to the next node
    would exceed the most; terminals and town centres always get one.
    """
    from twin.transit.lines import edges_along

    edges = edges_along(graph, path)
    lengths = [float(graph.edges[e]["length"]) for e in edges]
    stops = [0]
    since = 0.0
    for i in range(1, len(path) - 1):
        since += lengths[i - 1]
        urban = is_urban(graph.nodes[path[i]].get("area_id"))
        least, target, most = URBAN_SPACING_M if urban else RURAL_SPACING_M
        ahead = since + lengths[i]
        if path[i] in town_nodes and since >= 0.5 * least:
            stops.append(i)
            since = 0.0
        elif since >= target or (since >= least and ahead > most):
            stops.append(i)
            since = 0.0
    last = len(path) - 1
    if stops[-1] != last:
        if since + lengths[-1] < 0.5 * URBAN_SPACING_M[0] and len(stops) > 1:
            stops[-1] = last  # a stop right before the terminal: move it onto the terminal
        else:
            stops.append(last)
    return stops


def plan_network(city: Any):  # noqa: ANN201 - twin.transit.TransitNetwork
    """The bundled bus network of ``city``."""
    from twin.transit.lines import BusLine, Stop, TransitNetwork, build_pattern, edges_along

    graph = city.roads
    town_nodes = {int(n) for n in city.towns["node"]}
    names = _town_names(city)
    stops: dict[str, Stop] = {}
    lines: dict[str, BusLine] = {}
    for plan in line_plans(city):
        path = route_nodes(graph, plan.nodes)
        if len(path) < 2:
            continue
        positions = place_stops(graph, path, town_nodes)
        stop_nodes = [path[i] for i in positions]
        for node in stop_nodes:
            stop_id = f"S{node}"
            if stop_id not in stops:
                stops[stop_id] = Stop(stop_id, _stop_name(graph, node, names), node,
                                      float(graph.nodes[node]["x"]), float(graph.nodes[node]["y"]))
        ids = [f"S{n}" for n in stop_nodes]
        forward = build_pattern(graph, stop_nodes, ids, 0, route_nodes=path)
        backward_path = path[::-1]
        try:
            edges_along(graph, backward_path)
            backward = build_pattern(graph, stop_nodes[::-1], ids[::-1], 1, route_nodes=backward_path)
        except Exception:  # noqa: BLE001 - a one-way street on the way: route stop to stop
            backward = build_pattern(graph, stop_nodes[::-1], ids[::-1], 1)
        lines[plan.line_id] = BusLine(plan.line_id, plan.name, plan.headway_s, plan.vehicle_type,
                                      plan.autonomous, {0: forward, 1: backward})
    _unique_names(stops)
    return TransitNetwork(stops, lines, graph)


def _town_names(city: Any) -> dict[int, str]:
    return {int(r.node): str(r.name_zh) for r in city.towns.itertuples(index=False)}


def _street_names(graph, node: int) -> list[str]:  # noqa: ANN001
    """Names of the streets meeting at ``node``, most frequent first (ties: alphabetical)."""
    names = Counter(
        str(d["name"]) for _, _, d in [*graph.in_edges(node, data=True), *graph.out_edges(node, data=True)]
        if isinstance(d.get("name"), str) and d["name"]
    )
    return [name for name, _ in sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))]


def _stop_name(graph, node: int, towns: dict[int, str]) -> str:  # noqa: ANN001
    """A stop's name as Chinese stops are named: the town centre, the crossing of two streets
    (``文松路滨海横5路口``), the street, or (for unnamed lanes) the street one junction away."""
    if node in towns:
        return f"{towns[node]}站"
    names = _street_names(graph, node)
    if len(names) >= 2:
        return f"{names[0]}{names[1]}口站"
    if names:
        return f"{names[0]}站"
    for neighbour in sorted(set(graph.successors(node)) | set(graph.predecessors(node))):
        near = _street_names(graph, neighbour)
        if near:
            return f"{near[0]}附近站"
    return f"站点{node}"


def _unique_names(stops: dict) -> None:
    """Number stops that would otherwise share a name along the same street (文松路站 2, …)."""
    from twin.transit.lines import Stop

    by_name: dict[str, list[str]] = {}
    for stop_id in sorted(stops, key=lambda s: int(s[1:])):
        by_name.setdefault(stops[stop_id].name, []).append(stop_id)
    for name, ids in by_name.items():
        if len(ids) < 2:
            continue
        for k, stop_id in enumerate(ids, start=1):
            s = stops[stop_id]
            stops[stop_id] = Stop(s.stop_id, f"{name} {k}", s.node, s.lon, s.lat)


def main(argv: list[str] | None = None) -> None:
    """Rebuild the transit layer from the base dataset in ``--data``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parent,
                        help="dataset folder with base.gpkg (default: gis_data/)")
    args = parser.parse_args(argv)
    from twin.city.folder import load_city

    for path in build(args.data, load_city(args.data)):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
