"""``twin data check``: validate a dataset folder and list every problem, one line each.

Checks: every layer has a CRS; geometries are valid; required attributes are present and not
NaN (the columns of ``docs/data_model.md``); the road graph is strongly connected; zone and town
connectors and bus stops are road nodes, and each stop lies within ``STOP_TOLERANCE_M`` of its
node; every water junction reaches a reservoir or tank through open links; the water valve table
names existing links and nodes; building residents add up to their zone's. Absent layers are
reported as "not present" and are not problems (an OSM-only dataset is valid).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely

from twin.city.folder import BASE_FILE, TRANSIT_FILE, list_layers, load_city, read_layer
from twin.city.roads import largest_scc_share
from twin.crs import to_metric

STOP_TOLERANCE_M = 15.0
"""A bus stop "lies on the graph" if it is within this distance of its road node (m)."""

REQUIRED: dict[str, tuple[str, ...]] = {
    "boundary": ("name_zh", "adcode"),
    "areas": ("area_id", "name_zh", "kind"),
    "towns": ("town_id", "name_zh", "kind", "population", "node"),
    "landmarks": ("landmark_id", "name_zh", "kind"),
    "road_nodes": ("osmid", "x", "y", "street_count"),
    "road_edges": ("u", "v", "key", "osmid", "highway", "road_class", "lanes", "maxspeed", "speed_kph",
                   "length", "travel_time", "oneway"),
    "zones": ("zone_id", "town_id", "residents", "jobs", "node"),
    "buildings": ("building_id", "zone_id", "use", "height_m", "storeys", "cim_level",
                  "ground_elevation_m", "residents", "jobs"),
    "compute_sites": ("site_id", "name_zh", "kind", "phase1_pflops", "target_pflops", "pue"),
    "bus_stops": ("stop_id", "node"),
    "bus_lines": ("line_id", "headway_s", "autonomous"),
    "bus_line_stops": ("line_id", "direction", "seq", "stop_id"),
}
"""Columns that must exist and hold no NaN, per layer (optional OSM tags may be null)."""


@dataclass
class CheckReport:
    """What ``twin data check`` found."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def note(self, text: str) -> None:
        self.notes.append(text)


def check_dataset(folder: Path) -> CheckReport:
    """Run every check on ``folder``."""

    report = CheckReport()
    city = load_city(folder, use_cache=False)
    for name in (BASE_FILE, TRANSIT_FILE):
        path = folder / name
        if not path.exists():
            report.note(f"{name}: not present")
            continue
        _check_layers(path, report)
    graph = city.roads
    if graph is None:
        report.note("roads: not present")
    else:
        _check_roads(graph, report)
    _check_connectors(city, graph, report)
    _check_stops(city, graph, report)
    _check_water(city, report)
    _check_population(city, report)
    return report


def _check_layers(path: Path, report: CheckReport) -> None:
    import pyogrio  # deferred: pyogrio is slow to import; only the check reads files


    for layer in list_layers(path):
        where = f"{path.name}/{layer}"
        info = pyogrio.read_info(path, layer=layer)
        frame = read_layer(path, layer)
        has_geometry = info.get("geometry_type") not in (None, "Unknown") and "geometry" in frame
        if has_geometry and info["crs"] is None:
            report.problem(f"{where}: no CRS (expected EPSG:4490)")
        if has_geometry:
            geometry = frame.geometry.values
            invalid = ~shapely.is_valid(geometry) | shapely.is_missing(geometry)
            if invalid.any():
                reasons = sorted(set(shapely.is_valid_reason(geometry[invalid])))[:3]
                report.problem(f"{where}: {int(invalid.sum())} invalid geometries ({'; '.join(reasons)})")
        for column in REQUIRED.get(layer, ()):
            if column not in frame.columns:
                report.problem(f"{where}: missing column {column!r}")
                continue
            missing = pd.isna(frame[column]).to_numpy()
            if missing.any():
                report.problem(f"{where}: column {column!r} has {int(missing.sum())} NaN/null values")
        numeric = frame.select_dtypes("number")
        for column in numeric.columns:
            if column in REQUIRED.get(layer, ()):
                continue
            values = numeric[column].to_numpy(dtype=float)
            if pd.isna(values).all() and len(values):
                report.problem(f"{where}: column {column!r} is all NaN")
        report.note(f"{where}: {len(frame)} features, CRS {info['crs']}")


def _check_roads(graph: Any, report: CheckReport) -> None:

    share = largest_scc_share(graph)
    report.note(f"roads: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges, "
                f"largest strongly connected component {share:.2%} of nodes")
    if share < 1.0:
        outside = round((1.0 - share) * graph.number_of_nodes())
        report.problem(f"roads: not strongly connected: largest component holds {share:.2%} of nodes "
                       f"({outside} nodes cannot reach or be reached from the rest)")


def _check_connectors(city: Any, graph: Any, report: CheckReport) -> None:
    for layer, id_column in (("zones", "zone_id"), ("towns", "town_id")):
        frame = getattr(city, layer)
        if frame is None or "node" not in frame:
            continue
        if graph is None:
            report.problem(f"{layer}: has road-node connectors but the dataset has no roads")
            continue
        bad = [str(i) for i, n in zip(frame[id_column], frame["node"], strict=True) if int(n) not in graph]
        if bad:
            report.problem(f"{layer}: {len(bad)} connector nodes not in the road graph "
                           f"({id_column} {', '.join(bad[:5])})")


def _check_stops(city: Any, graph: Any, report: CheckReport) -> None:


    stops = city.bus_stops
    if stops is None:
        report.note("bus_stops: not present")
        return
    if graph is None:
        report.problem("bus_stops: present but the dataset has no roads")
        return
    if stops.crs is None or "node" not in stops:
        return  # already reported by the layer checks
    lonlat = stops.to_crs("EPSG:4490")
    for stop_id, node, point in zip(stops["stop_id"], stops["node"], lonlat.geometry, strict=True):
        if node is None or (isinstance(node, float) and np.isnan(node)) or int(node) not in graph:
            report.problem(f"bus_stops: stop {stop_id} is on node {node}, which is not in the road graph")
            continue
        data = graph.nodes[int(node)]
        (sx, nx_), (sy, ny_) = to_metric(np.array([point.x, data["x"]]), np.array([point.y, data["y"]]))
        distance_m = float(np.hypot(sx - nx_, sy - ny_))
        if distance_m > STOP_TOLERANCE_M:
            report.problem(f"bus_stops: stop {stop_id} is {distance_m:.0f} m from its node {int(node)} "
                           f"(expected ≤ {STOP_TOLERANCE_M:.0f} m)")
    line_stops = city.bus_line_stops
    if line_stops is not None and "stop_id" in line_stops:
        known = set(stops["stop_id"].astype(str))
        unknown = sorted(set(line_stops["stop_id"].astype(str)) - known)
        if unknown:
            report.problem(f"bus_line_stops: {len(unknown)} stop ids not in bus_stops ({', '.join(unknown[:5])})")


def water_unreached_junctions(wn: Any) -> list[str]:
    """Junctions of a WNTR model with no open path to a reservoir or tank (sorted)."""

    graph = nx.Graph()
    graph.add_nodes_from(wn.node_name_list)
    for _name, link in wn.links():
        status = str(getattr(link, "initial_status", "Open"))
        if status.lower().endswith("closed"):
            continue
        graph.add_edge(link.start_node_name, link.end_node_name)
    sources = set(wn.reservoir_name_list) | set(wn.tank_name_list)
    reached: set[str] = set()
    for component in nx.connected_components(graph):
        if component & sources:
            reached |= component
    return sorted(set(wn.junction_name_list) - reached)


def _check_water(city: Any, report: CheckReport) -> None:
    if city.water_inp is None:
        report.note("water network: not present")
        return
    try:
        wn = city.water()
    except Exception as exc:  # noqa: BLE001 - WNTR raises many types for a bad .inp
        report.problem(f"{city.water_inp.name}: cannot be read by WNTR: {type(exc).__name__}: {exc}")
        return
    if not wn.reservoir_name_list and not wn.tank_name_list:
        report.problem(f"{city.water_inp.name}: no reservoir or tank (no water source)")
    unreached = water_unreached_junctions(wn)
    if unreached:
        report.problem(f"{city.water_inp.name}: {len(unreached)} junctions do not reach a reservoir or tank "
                       f"({', '.join(unreached[:5])})")
    report.note(f"{city.water_inp.name}: {len(wn.junction_name_list)} junctions, {len(wn.link_name_list)} links")
    valves = city.water_valves
    if valves is not None:
        links, nodes = set(wn.link_name_list), set(wn.node_name_list)
        bad = [str(v) for v, link, node in zip(valves["valve_id"], valves["link"], valves["node"], strict=True)
               if str(link) not in links or str(node) not in nodes]
        if bad:
            report.problem(f"water valves: {len(bad)} valves name a missing link or node ({', '.join(bad[:5])})")


def _check_population(city: Any, report: CheckReport) -> None:
    zones, buildings = city.zones, city.buildings
    if zones is None or buildings is None or "residents" not in zones or "residents" not in buildings:
        return
    if "zone_id" not in buildings or not (buildings["zone_id"] != 0).any():
        return  # imported footprints carry no zones
    by_zone = buildings.groupby("zone_id")["residents"].sum()
    expected = zones.set_index("zone_id")["residents"]
    diff = expected.sub(by_zone, fill_value=0)
    wrong = diff[diff != 0]
    if len(wrong):
        report.problem(f"zones: residents differ from their buildings' sum in {len(wrong)} zones "
                       f"(zone_id {', '.join(str(z) for z in wrong.index[:5])})")
