"""GTFS import and export of bus lines.

Export
    * :func:`planned_feed`: the transit layer's planned service (every line frequency-based at its
      headway over a service span; template trips timed from the travel-time hook plus a dwell
      allowance);
    * :func:`simulated_feed`: the service a :mod:`twin.transit.buses` run actually operated: timetable
      lines as every completed trip with its simulated times, headway-dispatched lines as a
      template trip (mean simulated times) plus ``frequencies.txt`` (``exact_times = 0``);
    * :func:`write_feed` writes the tables as a folder or a ``.zip``, atomically.

    Tables: ``agency, stops, routes, trips, stop_times, calendar, shapes`` and, for headway
    lines, ``frequencies``. Two extension columns in ``routes.txt``, ``twin_vehicle_type`` and
    ``twin_autonomous``, carry what GTFS has no field for (consumers ignore unknown columns).
    Coordinates: the layer's CGCS2000 (EPSG:4490) lon/lat are written as GTFS's WGS84; the two
    frames differ by well under a metre, far below stop-placement accuracy.

Import
    :func:`import_gtfs` reads a feed with gtfs-kit and lays its lines on a road graph: each stop
    snaps to the nearest road node (within ``snap_m``), each route direction keeps its most
    frequent stop pattern, legs follow the feed's shape where its points are road nodes (as in
    our own exports), else the fastest road route between consecutive stops; the headway comes
    from ``frequencies.txt`` if present, else from the spacing of the trips' first departures.
"""

from __future__ import annotations

import math
import tempfile
import zipfile
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.city.travel_times import FreeFlowTravelTimes
from twin.crs import to_metric
from twin.errors import InputError
from twin.results import atomic_dir
from twin.transit.lines import BusLine, Pattern, Stop, TransitNetwork, build_pattern
from twin.transit.timetable import planned_offsets_s
from twin.transit.vehicles import VEHICLE_TYPES

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from twin.city.travel_times import TravelTimes
    from twin.transit.records import BusRun

AGENCY_ID = "changle_twin"
SERVICE_ID = "weekday"
TIMEZONE = "Asia/Shanghai"
ROUTE_TYPE_BUS = 3
GTFS_TABLES = ("agency", "stops", "routes", "trips", "stop_times", "calendar", "shapes", "frequencies")


def seconds_to_gtfs_time(seconds: float) -> str:
    """``HH:MM:SS`` from seconds after midnight (hours may pass 24, as GTFS allows)."""
    total = int(round(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def gtfs_time_to_seconds(text: str) -> float:
    """Seconds after midnight from ``H:MM:SS`` / ``HH:MM:SS``."""
    try:
        hours, minutes, seconds = (int(part) for part in str(text).strip().split(":"))
    except ValueError:
        raise InputError(f"GTFS time {text!r}: expected HH:MM:SS") from None
    return float(hours * 3600 + minutes * 60 + seconds)


def _midnight_offset_s(start: datetime) -> float:
    """Seconds from midnight to ``start`` (a run's simulated time 0)."""
    return float(start.hour * 3600 + start.minute * 60 + start.second)


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------


def _common_tables(network: TransitNetwork, service_date: date) -> dict[str, pd.DataFrame]:
    """``agency``, ``stops``, ``routes``, ``calendar`` and ``shapes`` of a network."""
    # Deferred: pandas is heavy and only the feed's tables need it.
    import pandas as pd

    graph = network.graph
    used = sorted({s for line in network.lines.values() for p in line.patterns.values() for s in p.stop_ids})
    stops = pd.DataFrame({
        "stop_id": used,
        "stop_name": [network.stops[s].name for s in used],
        "stop_lat": [round(network.stops[s].lat, 7) for s in used],
        "stop_lon": [round(network.stops[s].lon, 7) for s in used],
    })
    routes = pd.DataFrame([{
        "route_id": line.line_id,
        "agency_id": AGENCY_ID,
        "route_short_name": line.line_id,
        "route_long_name": line.name,
        "route_desc": ("autonomous (driverless) service" if line.autonomous else "crewed service")
        + f", vehicle type {line.vehicle_type}",
        "route_type": ROUTE_TYPE_BUS,
        "twin_vehicle_type": line.vehicle_type,
        "twin_autonomous": int(line.autonomous),
    } for line in (network.lines[k] for k in sorted(network.lines))])
    shape_rows = []
    for line_id in sorted(network.lines):
        for direction, pattern in sorted(network.lines[line_id].patterns.items()):
            edges = pattern.edges()
            if edges:
                nodes = [edges[0][0]] + [e[1] for e in edges]
                lengths = [float(graph.edges[e]["length"]) for e in edges]
                distance_m = [0.0, *np.cumsum(lengths).tolist()]
            else:
                nodes, distance_m = [network.stops[pattern.stop_ids[0]].node], [0.0]
            shape_rows += [
                (f"{line_id}_{direction}", round(float(graph.nodes[n]["y"]), 7),
                 round(float(graph.nodes[n]["x"]), 7), seq, round(d, 2))
                for seq, (n, d) in enumerate(zip(nodes, distance_m, strict=True))
            ]
    shapes = pd.DataFrame(shape_rows, columns=[
        "shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence", "shape_dist_traveled",
    ])
    day = service_date.strftime("%Y%m%d")
    calendar = pd.DataFrame([{
        "service_id": SERVICE_ID, "monday": 1, "tuesday": 1, "wednesday": 1, "thursday": 1,
        "friday": 1, "saturday": 1, "sunday": 1, "start_date": day, "end_date": day,
    }])
    agency = pd.DataFrame([{
        "agency_id": AGENCY_ID, "agency_name": "Changle Twin (simulated)",
        "agency_url": "https://example.invalid/changle-twin", "agency_timezone": TIMEZONE,
        "agency_lang": "zh",
    }])
    return {"agency": agency, "stops": stops, "routes": routes, "calendar": calendar, "shapes": shapes}


def _stop_time_rows(trip_id: str, stop_ids: list[str], arrive_s: list[float], depart_s: list[float]):
    """stop_times rows with whole seconds, kept non-decreasing after rounding."""
    rows = []
    last = -math.inf
    for seq, (stop_id, a, d) in enumerate(zip(stop_ids, arrive_s, depart_s, strict=True)):
        a_i = max(int(round(a)), last)
        d_i = max(int(round(d)), a_i)
        last = d_i
        rows.append((trip_id, seconds_to_gtfs_time(a_i), seconds_to_gtfs_time(d_i), stop_id, seq,
                     0 if seq else 1, 1 if seq else 0))
    return rows


TRIP_COLUMNS = ["route_id", "service_id", "trip_id", "direction_id", "shape_id"]
STOP_TIME_COLUMNS = ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence",
                     "pickup_type", "drop_off_type"]


def planned_feed(
    network: TransitNetwork,
    service_start_s: float = 6 * 3600.0,
    service_end_s: float = 22 * 3600.0,
    travel_times: TravelTimes | None = None,
    dwell_s: float = 15.0,
    service_date: date = date(2025, 6, 3),
) -> dict[str, pd.DataFrame]:
    """GTFS tables of the network's planned service: every line at its headway, all day.

    Parameters
    ----------
    network
        The transit layer (with its road graph).
    service_start_s, service_end_s
        First departure and end of the frequency window, seconds after midnight.
    travel_times
        Link times for the template trips (default: free flow); the vehicle's speed cap applies.
    dwell_s
        Dwell allowance per stop (s).
    service_date
        The one day of ``calendar.txt``.
    """
    # Deferred: pandas is heavy and only the feed's tables need it.
    import pandas as pd

    if service_end_s <= service_start_s:
        raise InputError(f"service end {service_end_s} s must be after start {service_start_s} s")
    times = travel_times or FreeFlowTravelTimes(network.graph)
    tables = _common_tables(network, service_date)
    trips, stop_times, frequencies = [], [], []
    for line_id in sorted(network.lines):
        line = network.lines[line_id]
        known = VEHICLE_TYPES.get(line.vehicle_type)
        cap = known.speed_cap_m_per_s if known is not None else math.inf
        for direction, pattern in sorted(line.patterns.items()):
            trip_id = f"{line_id}_{direction}_template"
            offsets = planned_offsets_s(network.graph, times, pattern, service_start_s, dwell_s, cap)
            depart = [service_start_s + o for o in offsets]
            arrive = [t - dwell_s for t in depart]
            trips.append((line_id, SERVICE_ID, trip_id, direction, f"{line_id}_{direction}"))
            stop_times += _stop_time_rows(trip_id, pattern.stop_ids, arrive, depart)
            frequencies.append((trip_id, seconds_to_gtfs_time(service_start_s),
                                seconds_to_gtfs_time(service_end_s), int(round(line.headway_s)), 0))
    tables["trips"] = pd.DataFrame(trips, columns=TRIP_COLUMNS)
    tables["stop_times"] = pd.DataFrame(stop_times, columns=STOP_TIME_COLUMNS)
    tables["frequencies"] = pd.DataFrame(
        frequencies, columns=["trip_id", "start_time", "end_time", "headway_secs", "exact_times"]
    )
    return tables


def simulated_feed(run: BusRun, start: datetime) -> dict[str, pd.DataFrame]:
    """GTFS tables of the service a simulation operated.

    Timetable-dispatched lines: one trip per completed simulated trip, with its simulated arrival
    and departure at every stop. Headway-dispatched lines: per direction, one template trip whose
    times are the mean simulated times from dispatch, and a ``frequencies.txt`` row covering the
    dispatches at the target headway. Trips still running at the end of the run are left out (a
    GTFS trip must reach its last stop). ``start`` is the run's simulated time 0.
    """
    # Deferred: pandas is heavy and only the feed's tables need it.
    import pandas as pd

    network = run.network.subset(run.services)
    tables = _common_tables(network, start.date())
    midnight_s = _midnight_offset_s(start)
    visits = run.stop_visits
    done = run.trips[run.trips["end_s"].notna()]
    trips, stop_times, frequencies = [], [], []
    for line_id in sorted(run.services):
        service = run.services[line_id]
        line = network.lines[line_id]
        for direction, pattern in sorted(line.patterns.items()):
            shape_id = f"{line_id}_{direction}"
            mine = done[(done["line_id"] == line_id) & (done["direction"] == direction)]
            if mine.empty:
                continue
            v = visits[visits["trip_index"].isin(mine["trip_index"])].sort_values(["trip_index", "seq"])
            if service.dispatch == "timetable":
                for _, group in v.groupby("trip_index", sort=True):
                    trip_id = str(group["trip_id"].iloc[0])
                    trips.append((line_id, SERVICE_ID, trip_id, direction, shape_id))
                    stop_times += _stop_time_rows(
                        trip_id, list(group["stop_id"]),
                        list(group["arrive_s"] + midnight_s), list(group["depart_s"] + midnight_s),
                    )
                continue
            dispatch = mine.set_index("trip_index")["dispatch_s"]
            rel = v.assign(arr=v["arrive_s"] - v["trip_index"].map(dispatch),
                           dep=v["depart_s"] - v["trip_index"].map(dispatch))
            mean = rel.groupby("seq")[["arr", "dep"]].mean().sort_index()
            first_s = float(mine["dispatch_s"].min()) + midnight_s
            trip_id = f"{line_id}_{direction}_template"
            trips.append((line_id, SERVICE_ID, trip_id, direction, shape_id))
            stop_times += _stop_time_rows(trip_id, pattern.stop_ids,
                                          list(mean["arr"] + first_s), list(mean["dep"] + first_s))
            end_s = first_s + len(mine) * service.headway_s
            frequencies.append((trip_id, seconds_to_gtfs_time(first_s), seconds_to_gtfs_time(end_s),
                                int(round(service.headway_s)), 0))
    tables["trips"] = pd.DataFrame(trips, columns=TRIP_COLUMNS)
    tables["stop_times"] = pd.DataFrame(stop_times, columns=STOP_TIME_COLUMNS)
    if frequencies:
        tables["frequencies"] = pd.DataFrame(
            frequencies, columns=["trip_id", "start_time", "end_time", "headway_secs", "exact_times"]
        )
    return tables


def write_feed(tables: dict[str, pd.DataFrame], out: Path, force: bool = False) -> Path:
    """Write GTFS tables as ``<name>.txt`` files, into a folder or (``out`` ends in .zip) a zip.

    Written to a temporary name and renamed, so a failed write leaves nothing; an existing
    target is refused unless ``force``.
    """
    unknown = sorted(set(tables) - set(GTFS_TABLES))
    if unknown:
        raise ValueError(f"not GTFS tables: {unknown}")
    if out.suffix.lower() == ".zip":
        if out.exists() and not force:
            raise InputError("GTFS feed already exists; pass --force to overwrite it", out)
        if out.is_dir():
            raise InputError("is a folder, expected a .zip file", out)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
        tmp = Path(tmp_name)
        try:
            with open(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
                for name in sorted(tables):
                    info = zipfile.ZipInfo(f"{name}.txt", date_time=(2025, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, tables[name].to_csv(index=False, lineterminator="\n"))
            tmp.replace(out)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return out
    with atomic_dir(out, force) as folder:
        for name, table in sorted(tables.items()):
            table.to_csv(folder / f"{name}.txt", index=False, lineterminator="\n")
    return out


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------


def read_feed(path: Path):  # noqa: ANN201 - a gtfs_kit.Feed (imported lazily)
    """Read a GTFS folder or zip with gtfs-kit; a missing or unreadable feed is an InputError."""
    # Deferred: gtfs-kit is slow to import and only GTFS import needs it.
    import gtfs_kit

    if not Path(path).exists():
        raise InputError("GTFS feed not found", path)
    try:
        feed = gtfs_kit.read_feed(Path(path), dist_units="m")
    except Exception as exc:  # noqa: BLE001 - gtfs-kit raises bare ValueError/KeyError/...
        raise InputError(f"not a readable GTFS feed: {type(exc).__name__}: {exc}", path) from None
    for table in ("stops", "routes", "trips", "stop_times"):
        if getattr(feed, table, None) is None:
            raise InputError(f"GTFS feed has no {table}.txt", path)
    return feed


def _graph_nodes_metric(graph: nx.MultiDiGraph) -> tuple[np.ndarray, np.ndarray]:
    """The road nodes in sorted order and their EPSG:4549 coordinates as an ``(n, 2)`` array (m)."""
    nodes = np.array(sorted(graph.nodes), dtype=np.int64)
    nx_, ny_ = to_metric(
        np.array([graph.nodes[n]["x"] for n in nodes]), np.array([graph.nodes[n]["y"] for n in nodes])
    )
    return nodes, np.column_stack([nx_, ny_])


def _nearest_nodes(
    graph: nx.MultiDiGraph, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The nearest road node of each lon/lat point (EPSG:4490) and its distance, in EPSG:4549 (m)."""
    # Deferred: scipy is heavy and only GTFS import snaps points to nodes.
    from scipy.spatial import cKDTree

    nodes, xy = _graph_nodes_metric(graph)
    sx, sy = to_metric(lon, lat)
    distance_m, index = cKDTree(xy).query(np.column_stack([sx, sy]))
    return nodes[index], distance_m


def _snap_stops(
    stops: pd.DataFrame, graph: nx.MultiDiGraph, snap_m: float, source: Path
) -> dict[str, int]:
    """Nearest road node of each stop, in EPSG:4549 metres; stops beyond ``snap_m`` are errors."""
    nearest, distance_m = _nearest_nodes(
        graph, stops["stop_lon"].to_numpy(float), stops["stop_lat"].to_numpy(float)
    )
    far = np.flatnonzero(distance_m > snap_m)
    if len(far):
        i = far[0]
        raise InputError(
            f"stops.txt: stop {stops['stop_id'].iloc[i]!r} is {distance_m[i]:.0f} m from the nearest "
            f"road node (snap limit {snap_m:g} m; {len(far)} stops too far)", source,
        )
    return {str(s): int(n) for s, n in zip(stops["stop_id"], nearest, strict=True)}


def _shape_route_nodes(
    shape: pd.DataFrame | None, graph: nx.MultiDiGraph, tolerance_m: float = 1.0
) -> list[int] | None:
    """The shape as a road-node path, if each point is (within ``tolerance_m``) a road node and
    consecutive nodes are joined by an edge; else ``None`` (a shape drawn off the graph)."""
    if shape is None or shape.empty:
        return None
    pts = shape.sort_values("shape_pt_sequence")
    nearest, distance_m = _nearest_nodes(
        graph, pts["shape_pt_lon"].to_numpy(float), pts["shape_pt_lat"].to_numpy(float)
    )
    if np.any(distance_m > tolerance_m):
        return None
    path = [int(n) for n in nearest]
    path = [n for k, n in enumerate(path) if k == 0 or n != path[k - 1]]
    if any(not graph.has_edge(u, v) for u, v in zip(path[:-1], path[1:], strict=True)):
        return None
    return path


def _headway_s(feed: Any, trip_ids: list[str], first_departure_s: dict[str, float]) -> float:
    """Headway of a route: time-weighted mean of its frequency rows, else the median spacing of
    its trips' first-stop times (86,400 s for a single daily trip)."""
    freq = getattr(feed, "frequencies", None)
    if freq is not None and not freq.empty:
        rows = freq[freq["trip_id"].isin(trip_ids)]
        if not rows.empty:
            span = rows["end_time"].map(gtfs_time_to_seconds) - rows["start_time"].map(gtfs_time_to_seconds)
            weights = span.clip(lower=1.0).to_numpy()
            return float(np.average(rows["headway_secs"].astype(float), weights=weights))
    times = np.sort([first_departure_s[t] for t in trip_ids if t in first_departure_s])
    if len(times) < 2:
        return 86_400.0
    return float(np.median(np.diff(times)))


BUS_ROUTE_TYPES = (3, 700, 701, 702, 704, 711, 712, 715)
"""GTFS ``route_type`` codes of buses: the basic one and the extended bus types (7xx)."""


def _bus_routes(feed: Any, path: Path) -> pd.DataFrame:
    """The feed's bus routes (all routes when it has no ``route_type``)."""
    routes = feed.routes.copy()
    routes = routes[routes["route_type"].astype(int).isin(list(BUS_ROUTE_TYPES))] \
        if "route_type" in routes else routes
    if routes.empty:
        raise InputError("GTFS feed has no bus routes (route_type 3 or 7xx)", path)
    return routes


def _trips_of(feed: Any, routes: pd.DataFrame) -> pd.DataFrame:
    """The trips of ``routes``, ids as text and ``direction_id`` an integer (0 where missing)."""
    trips = feed.trips.copy()
    trips["trip_id"] = trips["trip_id"].astype(str)
    trips["route_id"] = trips["route_id"].astype(str)
    trips = trips[trips["route_id"].isin(routes["route_id"].astype(str))]
    if "direction_id" not in trips:
        trips["direction_id"] = 0
    trips["direction_id"] = trips["direction_id"].fillna(0).astype(int)
    return trips


def _stop_times_of(feed: Any, trips: pd.DataFrame) -> pd.DataFrame:
    """The stop times of ``trips``, sorted by trip and stop sequence."""
    st = feed.stop_times.copy()
    st["trip_id"] = st["trip_id"].astype(str)
    st["stop_id"] = st["stop_id"].astype(str)
    st = st[st["trip_id"].isin(trips["trip_id"])]
    st["stop_sequence"] = st["stop_sequence"].astype(int)
    return st.sort_values(["trip_id", "stop_sequence"])


def _first_departures_s(st: pd.DataFrame) -> dict[str, float]:
    """Each trip's dispatch: the arrival at its first stop (its departure includes the first dwell)."""
    first = st.groupby("trip_id").first()
    first_time = first["arrival_time"].where(first["arrival_time"].notna(), first["departure_time"])
    return {str(t): gtfs_time_to_seconds(v) for t, v in first_time.items() if isinstance(v, str)}


def _stops_on_graph(
    feed: Any, st: pd.DataFrame, graph: nx.MultiDiGraph, snap_m: float, path: Path
) -> dict[str, Stop]:
    """The stops the trips use, each at its snapped road node (lon/lat of the node)."""
    stops_table = feed.stops.copy()
    stops_table["stop_id"] = stops_table["stop_id"].astype(str)
    stops_table = stops_table[stops_table["stop_id"].isin(set(st["stop_id"]))]
    node_of = _snap_stops(stops_table, graph, snap_m, path)
    stops = {}
    for row in stops_table.itertuples(index=False):
        node = node_of[row.stop_id]
        name = row.stop_name if isinstance(getattr(row, "stop_name", None), str) else row.stop_id
        stops[row.stop_id] = Stop(row.stop_id, name, node, float(graph.nodes[node]["x"]),
                                  float(graph.nodes[node]["y"]))
    return stops


def _direction_pattern(
    group: pd.DataFrame,
    direction: int,
    patterns_by_trip: dict[str, tuple[str, ...]],
    stops: dict[str, Stop],
    shapes: pd.DataFrame | None,
    graph: nx.MultiDiGraph,
    travel_times: TravelTimes | None,
) -> Pattern | None:
    """The most frequent stop pattern of one route direction, laid on the roads along the shape
    of its first trip where the shape runs on road nodes through the stops, else by the fastest
    routes; ``None`` if the direction has no stop times."""
    counts = Counter(patterns_by_trip[t] for t in group["trip_id"] if t in patterns_by_trip)
    if not counts:
        return None
    best = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
    representative = next(t for t in sorted(group["trip_id"]) if patterns_by_trip.get(t) == best)
    route_nodes = None
    shape_id = group.set_index("trip_id").get("shape_id", {}).get(representative) \
        if "shape_id" in group else None
    if shapes is not None and isinstance(shape_id, str):
        route_nodes = _shape_route_nodes(shapes[shapes["shape_id"] == shape_id], graph)
    stop_nodes = [stops[s].node for s in best]
    ids = list(best)
    try:
        return build_pattern(graph, stop_nodes, ids, direction, travel_times, route_nodes)
    except InputError:
        if route_nodes is None:
            raise
        # The shape does not pass the stops' nodes in order: route between stops instead.
        return build_pattern(graph, stop_nodes, ids, direction, travel_times)


def _vehicle_and_names(route: Any, route_id: str) -> tuple[str, bool, str]:
    """Vehicle type, driverless flag and display name of a route, from our extension columns
    (``twin_vehicle_type``, ``twin_autonomous``) where present."""
    vehicle = getattr(route, "twin_vehicle_type", None)
    vehicle = vehicle if isinstance(vehicle, str) and vehicle in VEHICLE_TYPES else "bus_12m"
    flag = getattr(route, "twin_autonomous", None)
    if flag is not None and not _is_nan(flag):
        autonomous = bool(int(flag))
    else:
        autonomous = VEHICLE_TYPES[vehicle].autonomous
    short = getattr(route, "route_short_name", None)
    long_name = getattr(route, "route_long_name", None)
    name = long_name if isinstance(long_name, str) and long_name else (
        short if isinstance(short, str) and short else route_id)
    return vehicle, autonomous, name


def import_gtfs(
    path: Path,
    graph: nx.MultiDiGraph,
    travel_times: TravelTimes | None = None,
    snap_m: float = 30.0,
) -> TransitNetwork:
    """Lay a GTFS feed's bus lines on ``graph`` as a :class:`TransitNetwork`.

    Parameters
    ----------
    path
        GTFS folder or zip.
    graph
        Road graph (OSMnx schema, EPSG:4490) the lines run on.
    travel_times
        Link times for legs routed between stops (default: free flow).
    snap_m
        Largest distance from a stop to its road node (m).
    """
    feed = read_feed(path)
    routes = _bus_routes(feed, path)
    trips = _trips_of(feed, routes)
    st = _stop_times_of(feed, trips)
    patterns_by_trip = {str(t): tuple(g) for t, g in st.groupby("trip_id")["stop_id"]}
    first_departure_s = _first_departures_s(st)
    stops = _stops_on_graph(feed, st, graph, snap_m, path)
    shapes = getattr(feed, "shapes", None)
    lines: dict[str, BusLine] = {}
    for route in routes.itertuples(index=False):
        route_id = str(route.route_id)
        route_trips = trips[trips["route_id"] == route_id]
        if route_trips.empty:
            continue
        patterns = {}
        for direction, group in route_trips.groupby("direction_id"):
            pattern = _direction_pattern(
                group, int(direction), patterns_by_trip, stops, shapes, graph, travel_times
            )
            if pattern is not None:
                patterns[int(direction)] = pattern
        if not patterns:
            continue
        if 0 not in patterns:  # a one-direction route coded as direction 1
            only = patterns.pop(min(patterns))
            only.direction = 0
            patterns[0] = only
        headway = _headway_s(feed, sorted(route_trips[route_trips["direction_id"] == min(
            route_trips["direction_id"])]["trip_id"]), first_departure_s)
        vehicle, autonomous, name = _vehicle_and_names(route, route_id)
        lines[route_id] = BusLine(route_id, name, headway, vehicle, autonomous, patterns)
    if not lines:
        raise InputError("GTFS feed has no bus route with trips", path)
    used = {s for line in lines.values() for p in line.patterns.values() for s in p.stop_ids}
    return TransitNetwork({s: stops[s] for s in sorted(used)}, lines, graph)


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)
