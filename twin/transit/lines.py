"""Bus lines, stops, vehicle types, operating costs and passenger demand: the transit layer.

The transit layer sits on the road graph (OSMnx schema, see ``docs/data_model.md``):

* a :class:`Stop` lies on a road node;
* a :class:`BusLine` has one or two :class:`Pattern` s (direction 0 and, unless it is a loop or
  one-way service, direction 1); a pattern is a stop sequence plus the road edges of each leg
  between consecutive stops;
* a :class:`VehicleType` carries capacity, speed cap, dwell parameters, energy use and capital
  cost, crewed or autonomous;
* :class:`CostModel` turns a day of service into operating cost per day, crewed or driverless;
* :class:`PassengerDemand` is a list of passengers (origin stop, destination stop, arrival time),
  drawn as Poisson flows from a stop-to-stop OD matrix with a time-of-day profile
  (:func:`poisson_demand`), or laid out evenly for hand-checkable cases (:func:`uniform_demand`).
  :func:`zone_od_to_stop_od` maps a zone OD matrix onto stops.

The SimPy model that runs buses and passengers over this layer is :mod:`twin.bus_sim`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from twin.config import StrictModel
from twin.errors import InputError

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from twin.city.travel_times import TravelTimes

Edge = tuple[int, int, int]

"""Mean Earth radius (IUGG), for short great-circle distances between lon/lat points."""


# --------------------------------------------------------------------------------------------
# Vehicles and costs
# --------------------------------------------------------------------------------------------


class VehicleType(StrictModel):
    """A bus or shuttle type: capacity, speed cap, dwell parameters, energy and capital cost.

    Dwell time at a stop is ``door_time_s + boardings × boarding_time_s_per_pax + alightings ×
    alighting_time_s_per_pax`` (boarding and alighting through separate doors would take the
    maximum instead; Chinese city buses board at the front and alight at the rear, but with
    one-at-a-time fare validation the two overlap little, so the sum is used). Defaults are a
    crewed 12 m battery-electric city bus; see ``docs/transit.md`` for sources and assumptions.
    """

    name: str = Field(default="bus_12m", pattern=r"^[A-Za-z0-9_.-]+$", description="Type name.")
    capacity_pax: int = Field(default=80, ge=1, le=300, description="Seated + standing capacity.")
    autonomous: bool = Field(default=False, description="Driverless (no driver on board).")
    speed_cap_km_per_h: float = Field(
        default=60.0, gt=0, le=130, description="Top speed; links are run at min(link, cap) speed."
    )
    door_time_s: float = Field(default=5.0, ge=0, le=60, description="Door open + close (s).")
    boarding_time_s_per_pax: float = Field(default=2.75, ge=0, le=30, description="Per boarding (s).")
    alighting_time_s_per_pax: float = Field(
        default=1.5, ge=0, le=30, description="Per alighting (s)."
    )
    energy_kwh_per_km: float = Field(
        default=1.4, ge=0, le=10, description="Energy drawn at the charger per km (traction, HVAC, losses)."
    )
    purchase_cny: float = Field(default=1.6e6, ge=0, description="Vehicle price incl. charger share.")
    life_years: float = Field(default=8.0, gt=0, le=30, description="Depreciation life (years).")
    maintenance_cny_per_km: float = Field(default=1.0, ge=0, description="Maintenance + tyres.")

    @property
    def speed_cap_m_per_s(self) -> float:
        """The speed cap in m/s."""
        return self.speed_cap_km_per_h / 3.6


VEHICLE_TYPES: dict[str, VehicleType] = {
    "bus_12m": VehicleType(),
    "av_bus_12m": VehicleType(
        name="av_bus_12m", capacity_pax=70, autonomous=True, speed_cap_km_per_h=40.0,
        energy_kwh_per_km=1.5, purchase_cny=3.0e6, maintenance_cny_per_km=1.4,
    ),
    "av_minibus_8m": VehicleType(
        name="av_minibus_8m", capacity_pax=40, autonomous=True, speed_cap_km_per_h=40.0,
        energy_kwh_per_km=0.85, purchase_cny=1.6e6, maintenance_cny_per_km=1.0,
    ),
    "av_shuttle": VehicleType(
        name="av_shuttle", capacity_pax=14, autonomous=True, speed_cap_km_per_h=30.0,
        door_time_s=4.0, boarding_time_s_per_pax=2.0, alighting_time_s_per_pax=1.5,
        energy_kwh_per_km=0.35, purchase_cny=0.8e6, life_years=6.0, maintenance_cny_per_km=0.8,
    ),
}
"""Named vehicle types. The autonomous ones are capped at the speeds China's L4 bus and shuttle
pilots run at (30–40 km/h); all values are assumptions documented in ``docs/transit.md``."""


def vehicle_type(name: str) -> VehicleType:
    """The preset :class:`VehicleType` called ``name``; unknown names are an :class:`InputError`."""
    if name not in VEHICLE_TYPES:
        raise InputError(f"vehicle type {name!r}: unknown (known: {', '.join(VEHICLE_TYPES)})")
    return VEHICLE_TYPES[name]


class CostModel(StrictModel):
    """Operating cost parameters (CNY). Assumptions, not audited figures: see ``docs/transit.md``."""

    service_hours_per_day: float = Field(
        default=16.0, gt=0, le=24, description="Hours of service per day (06:00–22:00)."
    )
    driver_cost_cny_per_h: float = Field(
        default=55.0, ge=0, description="Driver wage + employer social insurance per paid hour."
    )
    crew_factor_ratio: float = Field(
        default=1.25, ge=1, le=3, description="Paid driver-hours per vehicle-hour (reliefs, spares)."
    )
    safety_operator_on_board: bool = Field(
        default=False, description="Autonomous buses still carry a safety operator (pilot phase)."
    )
    safety_operator_cost_cny_per_h: float = Field(default=45.0, ge=0, description="Per paid hour.")
    remote_operator_cost_cny_per_h: float = Field(default=60.0, ge=0, description="Per paid hour.")
    vehicles_per_remote_operator: int = Field(
        default=5, ge=1, le=100, description="Autonomous vehicles one remote supervisor watches."
    )
    av_system_cny_per_vehicle_day: float = Field(
        default=150.0, ge=0, description="AV software licence, HD map, 5G-V2X data, extra insurance."
    )
    electricity_cny_per_kwh: float = Field(default=0.75, ge=0, description="Depot charging tariff.")


def daily_operating_cost_cny(
    vehicle: VehicleType,
    costs: CostModel,
    fleet_veh: int,
    vehicle_km_per_service_h: float,
    autonomous: bool | None = None,
) -> dict[str, float]:
    """Operating cost of a line per day, by component (CNY/day).

    Parameters
    ----------
    vehicle
        The vehicle type (energy, maintenance and capital cost).
    costs
        Cost parameters.
    fleet_veh
        Buses needed for the service (each is crewed for every service hour when crewed).
    vehicle_km_per_service_h
        Vehicle-km run per hour of service (from the simulation).
    autonomous
        Cost the fleet as driverless (default: ``vehicle.autonomous``). Passing ``False`` for an
        autonomous type prices the same service with drivers, for the crewed-versus-driverless
        comparison.

    Returns
    -------
    dict
        ``crew_cny_per_day``, ``supervision_cny_per_day``, ``energy_cny_per_day``,
        ``maintenance_cny_per_day``, ``capital_cny_per_day``, ``av_system_cny_per_day`` and
        ``total_cny_per_day``.
    """
    driverless = vehicle.autonomous if autonomous is None else autonomous
    hours = costs.service_hours_per_day
    vehicle_km = vehicle_km_per_service_h * hours
    crew = 0.0
    supervision = 0.0
    av_system = 0.0
    if driverless:
        supervisors = math.ceil(fleet_veh / costs.vehicles_per_remote_operator) if fleet_veh else 0
        supervision = supervisors * hours * costs.crew_factor_ratio * costs.remote_operator_cost_cny_per_h
        if costs.safety_operator_on_board:
            crew = fleet_veh * hours * costs.crew_factor_ratio * costs.safety_operator_cost_cny_per_h
        av_system = fleet_veh * costs.av_system_cny_per_vehicle_day
    else:
        crew = fleet_veh * hours * costs.crew_factor_ratio * costs.driver_cost_cny_per_h
    energy = vehicle_km * vehicle.energy_kwh_per_km * costs.electricity_cny_per_kwh
    maintenance = vehicle_km * vehicle.maintenance_cny_per_km
    capital = fleet_veh * vehicle.purchase_cny / (vehicle.life_years * 365.0)
    parts = {
        "crew_cny_per_day": crew,
        "supervision_cny_per_day": supervision,
        "energy_cny_per_day": energy,
        "maintenance_cny_per_day": maintenance,
        "capital_cny_per_day": capital,
        "av_system_cny_per_day": av_system,
    }
    parts["total_cny_per_day"] = sum(parts.values())
    return parts


# --------------------------------------------------------------------------------------------
# Stops, patterns, lines
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    """A bus stop on road node ``node`` at ``lon``/``lat`` (EPSG:4490 degrees)."""

    stop_id: str
    name: str
    node: int
    lon: float
    lat: float


@dataclass
class Pattern:
    """One direction of a line: its stops in order and the road edges of each leg.

    Attributes
    ----------
    direction
        0 or 1 (GTFS ``direction_id``).
    stop_ids
        Stops in running order; the first is the terminal where buses are dispatched.
    legs
        ``legs[k]`` are the road edges from ``stop_ids[k]`` to ``stop_ids[k + 1]`` (empty when
        two consecutive stops share a node).
    leg_length_m
        Length of each leg (m).
    """

    direction: int
    stop_ids: list[str]
    legs: list[list[Edge]]
    leg_length_m: list[float]

    def __post_init__(self) -> None:
        if len(self.legs) != len(self.stop_ids) - 1 or len(self.leg_length_m) != len(self.legs):
            raise ValueError("a pattern needs one leg (and one leg length) per pair of stops")
        # later[k]: the stops a passenger boarding at position k can reach on this pattern.
        self.later: list[frozenset[str]] = []
        reachable: set[str] = set()
        for stop_id in reversed(self.stop_ids):
            self.later.append(frozenset(reachable))
            reachable.add(stop_id)
        self.later.reverse()

    @property
    def n_stops(self) -> int:
        return len(self.stop_ids)

    @property
    def length_m(self) -> float:
        """Length from the first to the last stop (m)."""
        return float(sum(self.leg_length_m))

    @property
    def position_m(self) -> list[float]:
        """Distance of each stop from the first stop along the pattern (m)."""
        return [0.0, *np.cumsum(self.leg_length_m).tolist()]

    def route_nodes(self) -> list[int]:
        """Road nodes along the whole pattern, first stop to last."""
        nodes: list[int] = []
        for leg in self.legs:
            for u, v, _ in leg:
                if not nodes:
                    nodes.append(u)
                nodes.append(v)
        return nodes


@dataclass
class BusLine:
    """A bus line: one or two patterns, a planned headway and the vehicle type that runs it."""

    line_id: str
    name: str
    headway_s: float
    vehicle_type: str
    autonomous: bool
    patterns: dict[int, Pattern]

    def pattern(self, direction: int) -> Pattern:
        return self.patterns[direction]

    @property
    def directions(self) -> list[int]:
        return sorted(self.patterns)


@dataclass
class TransitNetwork:
    """Stops and lines over one road graph."""

    stops: dict[str, Stop]
    lines: dict[str, BusLine]
    graph: nx.MultiDiGraph | None = field(default=None, repr=False)

    def line(self, line_id: str) -> BusLine:
        if line_id not in self.lines:
            raise InputError(f"line {line_id!r}: not in the transit layer (known: {', '.join(self.lines)})")
        return self.lines[line_id]

    def subset(self, line_ids: Iterable[str]) -> TransitNetwork:
        """The network restricted to ``line_ids`` and the stops they use."""
        lines = {line_id: self.line(line_id) for line_id in line_ids}
        used = {s for line in lines.values() for p in line.patterns.values() for s in p.stop_ids}
        return TransitNetwork({s: self.stops[s] for s in self.stops if s in used}, lines, self.graph)


def _edge_between(graph: nx.MultiDiGraph, u: int, v: int) -> Edge:
    """The shortest parallel edge from ``u`` to ``v`` (OSMnx graphs may hold several)."""
    keys = graph[u][v]
    key = min(keys, key=lambda k: (float(keys[k]["length"]), k))
    return (u, v, key)


def edges_along(graph: nx.MultiDiGraph, nodes: Sequence[int]) -> list[Edge]:
    """The edges of a node path, taking the shortest parallel edge between each pair."""
    missing = [(u, v) for u, v in zip(nodes[:-1], nodes[1:], strict=True) if not graph.has_edge(u, v)]
    if missing:
        raise InputError(f"route nodes {missing[0][0]} -> {missing[0][1]}: no road edge between them")
    return [_edge_between(graph, u, v) for u, v in zip(nodes[:-1], nodes[1:], strict=True)]


def build_pattern(
    graph: nx.MultiDiGraph,
    stop_nodes: Sequence[int],
    stop_ids: Sequence[str],
    direction: int,
    travel_times: TravelTimes | None = None,
    route_nodes: Sequence[int] | None = None,
) -> Pattern:
    """A pattern whose legs follow ``route_nodes`` if given, else the fastest road route.

    Parameters
    ----------
    graph
        The road graph.
    stop_nodes, stop_ids
        The stops' road nodes and ids, in running order.
    direction
        0 or 1.
    travel_times
        Link times for the fastest routes (default: free flow).
    route_nodes
        The full node path of the pattern; every stop node must appear on it, in order.
    """
    from twin.city.travel_times import FreeFlowTravelTimes, fastest_route

    if len(stop_nodes) != len(stop_ids) or len(stop_nodes) < 2:
        raise InputError(f"pattern of {list(stop_ids)}: needs at least two stops with one node each")
    legs: list[list[Edge]] = []
    if route_nodes is not None:
        path = list(route_nodes)
        cursor = 0
        cuts = []
        for stop_id, node in zip(stop_ids, stop_nodes, strict=True):
            try:
                cursor = path.index(node, cursor)
            except ValueError:
                raise InputError(
                    f"stop {stop_id!r} (node {node}) is not on the route nodes after position {cursor}"
                ) from None
            cuts.append(cursor)
        legs = [edges_along(graph, path[a : b + 1]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    else:
        times = travel_times if travel_times is not None else FreeFlowTravelTimes(graph)
        for origin, destination in zip(stop_nodes[:-1], stop_nodes[1:], strict=True):
            if origin == destination:
                legs.append([])
                continue
            legs.append(fastest_route(graph, times, int(origin), int(destination)).edges)
    lengths = [float(sum(graph.edges[e]["length"] for e in leg)) for leg in legs]
    return Pattern(direction, list(stop_ids), legs, lengths)


def leg_time_s(
    graph: nx.MultiDiGraph,
    travel_times: TravelTimes,
    leg: Sequence[Edge],
    enter_s: float,
    speed_cap_m_per_s: float = math.inf,
) -> float:
    """Running time of a leg entered at ``enter_s`` (s): each edge at its hook time, entered in
    turn, but never faster than ``speed_cap_m_per_s``."""
    time_s = enter_s
    for edge in leg:
        cap_s = float(graph.edges[edge]["length"]) / speed_cap_m_per_s
        time_s += max(travel_times.edge_time_s(edge, time_s), cap_s)
    return time_s - enter_s


def planned_offsets_s(
    graph: nx.MultiDiGraph,
    travel_times: TravelTimes,
    pattern: Pattern,
    depart_s: float,
    dwell_s: float,
    speed_cap_m_per_s: float = math.inf,
) -> list[float]:
    """Timetable offsets, from the dispatch, of the departure from each stop of ``pattern`` (s).

    The bus dwells ``dwell_s`` at every stop, the first and the last included, and the trip ends
    when it leaves the last stop, so ``offsets[-1]`` is the planned trip time; the arrival at
    stop ``k`` is ``offsets[k] - dwell_s``.
    """
    clock = depart_s + dwell_s
    offsets = [dwell_s]
    for leg in pattern.legs:
        clock += leg_time_s(graph, travel_times, leg, clock, speed_cap_m_per_s) + dwell_s
        offsets.append(clock - depart_s)
    return offsets


def network_from_tables(
    graph: nx.MultiDiGraph,
    bus_stops: pd.DataFrame,
    bus_lines: pd.DataFrame,
    bus_line_stops: pd.DataFrame,
    travel_times: TravelTimes | None = None,
) -> TransitNetwork:
    """Build the network from the three layers of ``docs/data_model.md``.

    ``bus_stops`` needs ``stop_id, name, node`` (lon/lat come from the node); ``bus_lines`` needs
    ``line_id, name, headway_s, autonomous, vehicle_type`` and optionally ``route_nodes`` (JSON list
    of road nodes of direction 0) and ``route_nodes_return`` (direction 1); ``bus_line_stops``
    needs ``line_id, direction, seq, stop_id``. Legs follow the stored route nodes where present,
    else the fastest road route between consecutive stops.
    """
    stops: dict[str, Stop] = {}
    for row in bus_stops.itertuples(index=False):
        node = int(row.node)
        if node not in graph:
            raise InputError(f"bus_stops: stop {row.stop_id!r} lies on node {node}, not in the road graph")
        data = graph.nodes[node]
        stop_id = str(row.stop_id)
        stops[stop_id] = Stop(stop_id, str(row.name), node, float(data["x"]), float(data["y"]))
    lines: dict[str, BusLine] = {}
    ordered = bus_line_stops.sort_values(["line_id", "direction", "seq"])
    for row in bus_lines.itertuples(index=False):
        line_id = str(row.line_id)
        patterns = {}
        for direction, group in ordered[ordered["line_id"] == row.line_id].groupby("direction"):
            stop_ids = [str(s) for s in group["stop_id"]]
            unknown = [s for s in stop_ids if s not in stops]
            if unknown:
                raise InputError(f"bus_line_stops: line {line_id!r} uses unknown stop {unknown[0]!r}")
            column = "route_nodes" if int(direction) == 0 else "route_nodes_return"
            raw = getattr(row, column, None)
            route = json.loads(raw) if isinstance(raw, str) and raw else None
            patterns[int(direction)] = build_pattern(
                graph, [stops[s].node for s in stop_ids], stop_ids, int(direction), travel_times, route
            )
        if 0 not in patterns:
            raise InputError(f"bus_line_stops: line {line_id!r} has no direction 0 stops")
        lines[line_id] = BusLine(
            line_id=line_id,
            name=str(row.name),
            headway_s=float(row.headway_s),
            vehicle_type=str(row.vehicle_type),
            autonomous=bool(row.autonomous),
            patterns=patterns,
        )
    return TransitNetwork(stops, lines, graph)


def network_from_city(city, travel_times: TravelTimes | None = None) -> TransitNetwork:  # noqa: ANN001
    """The bundled (or user) transit layer of a :class:`twin.city.City`."""
    for name in ("bus_stops", "bus_lines", "bus_line_stops"):
        if getattr(city, name, None) is None:
            raise InputError(f"the city has no {name} layer (is changle_transit.gpkg in the data folder?)")
    return network_from_tables(city.roads, city.bus_stops, city.bus_lines, city.bus_line_stops, travel_times)


def network_to_tables(network: TransitNetwork) -> dict[str, pd.DataFrame]:
    """The three layers of ``docs/data_model.md``: ``bus_stops``, ``bus_lines``, ``bus_line_stops``.

    ``bus_stops`` are points at their road node, ``bus_lines`` are direction-0 line strings
    through the route's road nodes, with ``route_nodes`` (direction 0) and ``route_nodes_return``
    (direction 1, ``"[]"`` if none) as JSON lists; all in EPSG:4490. Rows are sorted by id, so the
    same network always gives the same tables.
    """
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import LineString, Point

    graph = network.graph
    stop_rows = sorted(network.stops.values(), key=lambda s: s.stop_id)
    bus_stops = gpd.GeoDataFrame(
        {
            "stop_id": [s.stop_id for s in stop_rows],
            "name": [s.name for s in stop_rows],
            "node": np.array([s.node for s in stop_rows], dtype=np.int64),
        },
        geometry=[Point(s.lon, s.lat) for s in stop_rows],
        crs="EPSG:4490",
    )
    line_rows = []
    geometries = []
    seq_rows = []
    for line_id in sorted(network.lines):
        line = network.lines[line_id]
        forward = line.pattern(0).route_nodes()
        backward = line.pattern(1).route_nodes() if 1 in line.patterns else []
        line_rows.append({
            "line_id": line_id, "name": line.name, "headway_s": float(line.headway_s),
            "autonomous": bool(line.autonomous), "vehicle_type": line.vehicle_type,
            "length_m": line.pattern(0).length_m,
            "route_nodes": json.dumps(forward), "route_nodes_return": json.dumps(backward),
        })
        coords = [(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in forward]
        geometries.append(LineString(coords) if len(coords) > 1 else None)
        for direction in line.directions:
            for seq, stop_id in enumerate(line.pattern(direction).stop_ids):
                seq_rows.append((line_id, direction, seq, stop_id))
    bus_lines = gpd.GeoDataFrame(line_rows, geometry=geometries, crs="EPSG:4490")
    bus_line_stops = pd.DataFrame(seq_rows, columns=["line_id", "direction", "seq", "stop_id"])
    return {"bus_stops": bus_stops, "bus_lines": bus_lines, "bus_line_stops": bus_line_stops}


def write_transit_gpkg(network: TransitNetwork, path: Path) -> Path:
    """Write the transit layers to a GeoPackage, atomically (temporary file, then rename)."""
    import pyogrio

    tables = network_to_tables(network)
    partial = path.with_name(f".{path.stem}.partial.gpkg")
    partial.unlink(missing_ok=True)
    for name in ("bus_stops", "bus_lines", "bus_line_stops"):
        # bus_line_stops has no geometry: a GeoPackage attributes table.
        pyogrio.write_dataframe(tables[name], partial, layer=name, driver="GPKG")
    partial.replace(path)
    return path


def read_transit_tables(path: Path) -> dict[str, pd.DataFrame]:
    """Read the three transit layers from a GeoPackage written by :func:`write_transit_gpkg`."""
    import geopandas as gpd
    import pyogrio

    if not path.exists():
        raise InputError("file not found", path)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    missing = {"bus_stops", "bus_lines", "bus_line_stops"} - layers
    if missing:
        raise InputError(f"missing transit layers {sorted(missing)}", path)
    tables: dict[str, pd.DataFrame] = {
        name: gpd.read_file(path, layer=name, engine="pyogrio") for name in ("bus_stops", "bus_lines")
    }
    tables["bus_line_stops"] = pyogrio.read_dataframe(path, layer="bus_line_stops")
    return tables


def corridor_line(
    graph: nx.MultiDiGraph,
    stop_every: int = 2,
    headway_s: float = 600.0,
    line_id: str = "L1",
    vehicle: str = "bus_12m",
    two_way: bool = True,
) -> TransitNetwork:
    """A line along :func:`twin.generate.roads.arterial_corridor` with a stop on every ``stop_every``-th node."""
    nodes = sorted(n for n in graph.nodes if n < 100_000)  # the avenue, not its cross streets
    stop_nodes = nodes[::stop_every]
    if stop_nodes[-1] != nodes[-1]:
        stop_nodes.append(nodes[-1])
    stops = {
        f"S{n}": Stop(f"S{n}", f"stop {n}", n, float(graph.nodes[n]["x"]), float(graph.nodes[n]["y"]))
        for n in stop_nodes
    }
    ids = [f"S{n}" for n in stop_nodes]
    patterns = {0: build_pattern(graph, stop_nodes, ids, 0)}
    if two_way:
        patterns[1] = build_pattern(graph, stop_nodes[::-1], ids[::-1], 1)
    autonomous = VEHICLE_TYPES[vehicle].autonomous if vehicle in VEHICLE_TYPES else False
    line = BusLine(line_id, f"line {line_id}", headway_s, vehicle, autonomous, patterns)
    return TransitNetwork(stops, {line_id: line}, graph)


# --------------------------------------------------------------------------------------------
# Passenger demand
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PassengerDemand:
    """Passengers in arrival order: origin stop, destination stop and arrival time (s)."""

    origin: np.ndarray  # str stop ids
    destination: np.ndarray  # str stop ids
    arrive_s: np.ndarray

    def __post_init__(self) -> None:
        if not (len(self.origin) == len(self.destination) == len(self.arrive_s)):
            raise ValueError("origin, destination and arrive_s must have one entry per passenger")
        if len(self.arrive_s) > 1 and np.any(np.diff(self.arrive_s) < 0):
            raise ValueError("passengers must be in arrival order")

    def __len__(self) -> int:
        return len(self.arrive_s)

    @classmethod
    def empty(cls) -> PassengerDemand:
        return cls(np.array([], dtype=object), np.array([], dtype=object), np.array([], dtype=float))

    @classmethod
    def concat(cls, parts: Sequence[PassengerDemand]) -> PassengerDemand:
        """Merge several demands into arrival order (stable for equal times)."""
        if not parts:
            return cls.empty()
        arrive = np.concatenate([p.arrive_s for p in parts])
        order = np.argsort(arrive, kind="stable")
        return cls(
            np.concatenate([p.origin for p in parts])[order],
            np.concatenate([p.destination for p in parts])[order],
            arrive[order],
        )


def served_pairs(network: TransitNetwork) -> set[tuple[str, str]]:
    """Stop pairs (origin, destination) that at least one pattern serves without a transfer."""
    pairs: set[tuple[str, str]] = set()
    for line in network.lines.values():
        for pattern in line.patterns.values():
            for k, stop_id in enumerate(pattern.stop_ids):
                pairs.update((stop_id, d) for d in pattern.later[k] if d != stop_id)
    return pairs


def poisson_demand(
    od_pax_per_h: Mapping[tuple[str, str], float],
    duration_s: float,
    rng: np.random.Generator,
    profile: Sequence[float] = (1.0,),
    profile_bin_s: float = 3600.0,
) -> PassengerDemand:
    """Poisson passenger arrivals for every OD pair, with a piecewise-constant time profile.

    Parameters
    ----------
    od_pax_per_h
        Mean passengers per hour from origin stop to destination stop (at profile factor 1).
    duration_s
        Length of the arrival period (s).
    rng
        The random stream (the run's ``"transit_demand"`` stream).
    profile
        Rate factor for each consecutive bin of ``profile_bin_s`` seconds, repeated cyclically
        (e.g. hourly factors for the AM peak).
    profile_bin_s
        Length of a profile bin (s).

    Notes
    -----
    Within a bin the process is homogeneous, so the count is Poisson and the times are uniform
    order statistics; bins are independent by the memoryless property. Pairs are drawn in
    sorted order so the draw depends only on the OD content, not on dict order.
    """
    pairs = sorted((o, d) for (o, d), rate in od_pax_per_h.items() if rate > 0)
    if any(rate < 0 for rate in od_pax_per_h.values()):
        raise InputError("OD matrix: negative passengers per hour")
    rates_per_s = np.array([od_pax_per_h[p] for p in pairs]) / 3600.0
    n_bins = max(1, math.ceil(duration_s / profile_bin_s))
    origins: list[np.ndarray] = []
    destinations: list[np.ndarray] = []
    times: list[np.ndarray] = []
    pair_origin = np.array([p[0] for p in pairs], dtype=object)
    pair_destination = np.array([p[1] for p in pairs], dtype=object)
    for b in range(n_bins):
        begin_s = b * profile_bin_s
        end_s = min(begin_s + profile_bin_s, duration_s)
        factor = float(profile[b % len(profile)])
        counts = rng.poisson(rates_per_s * factor * (end_s - begin_s))
        total = int(counts.sum())
        if total == 0:
            continue
        index = np.repeat(np.arange(len(pairs)), counts)
        origins.append(pair_origin[index])
        destinations.append(pair_destination[index])
        times.append(rng.uniform(begin_s, end_s, size=total))
    if not times:
        return PassengerDemand.empty()
    arrive = np.concatenate(times)
    order = np.argsort(arrive, kind="stable")
    return PassengerDemand(
        np.concatenate(origins)[order], np.concatenate(destinations)[order], arrive[order]
    )


def uniform_demand(
    od_interval_s: Mapping[tuple[str, str], float],
    duration_s: float,
    phase_s: float = 0.0,
) -> PassengerDemand:
    """Evenly spaced arrivals: one passenger every ``interval`` seconds per OD pair.

    The first passenger of each pair arrives at ``phase_s``; used by the deterministic
    validation case, where waits can be computed by hand.
    """
    parts = []
    for (origin, destination), interval_s in sorted(od_interval_s.items()):
        if interval_s <= 0:
            raise InputError(f"uniform demand {origin}->{destination}: interval must be > 0 s")
        arrive = np.arange(phase_s, duration_s, interval_s, dtype=float)
        parts.append(
            PassengerDemand(
                np.full(len(arrive), origin, dtype=object),
                np.full(len(arrive), destination, dtype=object),
                arrive,
            )
        )
    return PassengerDemand.concat(parts)


def zone_od_to_stop_od(
    zone_od_pax_per_h: Mapping[tuple[str, str], float],
    zone_stop: Mapping[str, str],
    served: set[tuple[str, str]] | None = None,
) -> dict[tuple[str, str], float]:
    """Aggregate a zone-to-zone OD matrix onto stops (each zone's access stop).

    Trips whose zones map to the same stop, to no stop, or to a stop pair no line serves
    (when ``served`` is given) are dropped: they walk, or use another mode.
    """
    stop_od: dict[tuple[str, str], float] = {}
    for (zone_o, zone_d), rate in zone_od_pax_per_h.items():
        stop_o, stop_d = zone_stop.get(zone_o), zone_stop.get(zone_d)
        if stop_o is None or stop_d is None or stop_o == stop_d:
            continue
        if served is not None and (stop_o, stop_d) not in served:
            continue
        stop_od[(stop_o, stop_d)] = stop_od.get((stop_o, stop_d), 0.0) + float(rate)
    return stop_od


def gravity_zone_od(
    productions_pax_per_h: Mapping[str, float],
    attractions: Mapping[str, float],
    distance_m: Mapping[tuple[str, str], float],
    beta_per_km: float = 0.15,
) -> dict[tuple[str, str], float]:
    """A singly constrained gravity model: ``T_ij = P_i · A_j e^(−β d_ij) / Σ_k A_k e^(−β d_ik)``.

    Parameters
    ----------
    productions_pax_per_h
        Trips produced per hour by each origin zone.
    attractions
        Attraction weight of each destination zone (e.g. jobs).
    distance_m
        Distance between zones (m); pairs absent are not connected.
    beta_per_km
        Deterrence (1/km).
    """
    od: dict[tuple[str, str], float] = {}
    for origin, produced in productions_pax_per_h.items():
        weights = {
            d: attractions[d] * math.exp(-beta_per_km * distance_m[(origin, d)] / 1000.0)
            for d in attractions
            if d != origin and (origin, d) in distance_m
        }
        total = sum(weights.values())
        if total <= 0:
            continue
        for destination, weight in weights.items():
            od[(origin, destination)] = produced * weight / total
    return od


def line_od_from_zones(
    network: TransitNetwork,
    line_id: str,
    zone_x_m: np.ndarray,
    zone_y_m: np.ndarray,
    zone_activity: np.ndarray,
    stop_x_m: Mapping[str, float],
    stop_y_m: Mapping[str, float],
    pax_per_h: float,
    access_m: float = 800.0,
    beta_per_km: float = 0.15,
) -> dict[tuple[str, str], float]:
    """A stop-to-stop OD matrix for one line, shaped by the zones it serves.

    Each zone whose centroid lies within ``access_m`` of a stop of the line walks to its nearest
    stop; a stop's weight is the activity (residents + jobs) of its zones. Trips between two
    stops follow a doubly weighted gravity form ``w_o · w_d · exp(−β d_od)`` with ``d`` the
    straight-line distance between the stops, kept only for pairs the line serves without a
    transfer, and scaled so the whole matrix carries ``pax_per_h``. With no activity near the
    line, every served pair gets the same share.

    Coordinates are metric (EPSG:4549); returns passengers per hour by (origin, destination).
    """
    line = network.line(line_id)
    stop_ids = sorted({s for p in line.patterns.values() for s in p.stop_ids})
    sx = np.array([stop_x_m[s] for s in stop_ids])
    sy = np.array([stop_y_m[s] for s in stop_ids])
    weight = np.zeros(len(stop_ids))
    if len(zone_x_m):
        dx = np.asarray(zone_x_m)[:, None] - sx[None, :]
        dy = np.asarray(zone_y_m)[:, None] - sy[None, :]
        distance = np.hypot(dx, dy)
        nearest = distance.argmin(axis=1)
        reach = distance[np.arange(len(nearest)), nearest] <= access_m
        np.add.at(weight, nearest[reach], np.asarray(zone_activity, dtype=float)[reach])
    index = {s: i for i, s in enumerate(stop_ids)}
    served = sorted(served_pairs(network.subset([line_id])))
    if not served or pax_per_h <= 0:
        return {}
    raw = []
    for origin, destination in served:
        i, j = index[origin], index[destination]
        d_km = math.hypot(sx[i] - sx[j], sy[i] - sy[j]) / 1000.0
        raw.append(weight[i] * weight[j] * math.exp(-beta_per_km * d_km))
    values = np.array(raw)
    if values.sum() <= 0:
        values = np.ones(len(served))
    values *= pax_per_h / values.sum()
    return {pair: float(v) for pair, v in zip(served, values, strict=True) if v > 0}
