"""A SUMO ``.net.xml`` read into our road layer, with what the graph cannot hold.

:func:`read_net` gives an OSMnx-schema ``MultiDiGraph`` (nodes are SUMO junctions, edges the SUMO
edges cars may use, with ``sumo_id``), the connections between edges merged into movements
(lanes, turn direction, right of way, the internal lanes' length and time, the traffic light and
its link indices) and the traffic-light programmes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
from shapely.geometry import LineString

from twin.errors import InputError
from twin.traffic.sumo_io.programs import SumoPhase, SumoProgram, optional_float

_DIRECTION_TURN = {"s": "T", "l": "L", "L": "L", "r": "R", "R": "R", "t": "U", "T": "U"}
"""Our turn letter of each SUMO connection ``dir``."""

_SIGNAL_TYPES = ("traffic_light", "traffic_light_unregulated", "traffic_light_right_on_red")
"""SUMO junction types that are traffic lights."""


@dataclass(frozen=True)
class SumoConnection:
    """All lane connections from one edge to another, merged into one movement."""

    from_edge: str
    to_edge: str
    from_lanes: int  # number of distinct lanes of from_edge that may take it
    lane_indices: tuple[int, ...]  # those lanes, counted among the edge's car lanes (0 = rightmost)
    turn: str  # L, T, R or U (from SUMO's dir)
    major: bool  # SUMO state M/O (has right of way) rather than m/=/s/w
    tl: str | None  # controlling traffic light
    link_indices: tuple[int, ...]  # indices into the tlLogic state strings
    via_length_m: float  # length of the internal lanes crossing the junction
    via_time_s: float  # free-flow time across the junction on the internal lanes


@dataclass
class SumoNet:
    """A SUMO network as our road layer plus what the graph cannot hold."""

    path: Path
    graph: nx.MultiDiGraph
    edge_key: dict[str, tuple]  # SUMO edge id → (u, v, key)
    connections: list[SumoConnection]
    programs: dict[str, SumoProgram]
    geo: bool  # whether node x/y are lon/lat (EPSG:4490) rather than local metres
    junction_type: dict[str, str] = field(default_factory=dict)


def _sumolib():  # noqa: ANN202 - the sumolib module
    try:
        import sumolib  # deferred: sumolib is slow to import and only SUMO files need it
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise RuntimeError("sumolib is required for SUMO files (pip install sumolib)") from exc
    return sumolib


def read_net(path: str | Path) -> SumoNet:
    """Read a ``.net.xml`` into our road layer (see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise InputError("SUMO network not found", path)
    try:
        net = _sumolib().net.readNet(str(path), withInternal=True, withPrograms=True, withPedestrianConnections=False)
    except Exception as exc:  # noqa: BLE001 - sumolib raises plain exceptions on bad XML
        raise InputError(f"cannot read SUMO network: {exc}", path) from None
    graph, edge_key, junction_type = _road_layer(net, path.stem)
    programs = _programs(net, path)
    return SumoNet(path, graph, edge_key, _connections(net, edge_key), programs, net.hasGeoProj(), junction_type)


def _road_layer(net, name: str) -> tuple[nx.MultiDiGraph, dict[str, tuple], dict[str, str]]:  # noqa: ANN001
    """The graph of a sumolib network (lon/lat when it is geo-referenced), the graph edge of
    each SUMO edge id, and each junction's SUMO type."""
    geo = net.hasGeoProj()

    def to_xy(x: float, y: float) -> tuple[float, float]:
        if geo:
            lon, lat = net.convertXY2LonLat(x, y)
            return float(lon), float(lat)
        return float(x), float(y)

    graph = nx.MultiDiGraph(crs="EPSG:4490" if geo else None, name=name, source="sumo")
    junction_type = {}
    for node in net.getNodes():
        if node.getType() == "internal":
            continue
        x, y = to_xy(*node.getCoord()[:2])
        highway = "traffic_signals" if node.getType() in _SIGNAL_TYPES else None
        graph.add_node(node.getID(), x=x, y=y, sumo_type=node.getType(), highway=highway, street_count=0)
        junction_type[node.getID()] = node.getType()
    edge_key = {}
    for edge in net.getEdges(withInternal=False):
        if edge.getFunction() not in ("", "normal"):
            continue
        if not any(lane.allows("passenger") for lane in edge.getLanes()):
            continue
        edge_key[edge.getID()] = _add_edge(graph, edge, [to_xy(*p[:2]) for p in edge.getShape()])
    for node in graph.nodes:
        graph.nodes[node]["street_count"] = len(set(graph.predecessors(node)) | set(graph.successors(node)))
    return graph, edge_key, junction_type


def _add_edge(graph: nx.MultiDiGraph, edge, coords: list[tuple[float, float]]) -> tuple:  # noqa: ANN001
    """Add a sumolib edge with OSMnx attributes (its car lanes only); return its graph key."""
    u, v = edge.getFromNode().getID(), edge.getToNode().getID()
    speed = float(edge.getSpeed())
    lanes = sum(1 for lane in edge.getLanes() if lane.allows("passenger"))
    key = graph.add_edge(
        u,
        v,
        sumo_id=edge.getID(),
        osmid=edge.getID(),
        name=edge.getName() or edge.getID(),
        highway=edge.getType() or "unclassified",
        road_class="",
        lanes=int(lanes),
        maxspeed=str(round(speed * 3.6)),
        speed_kph=speed * 3.6,
        length=float(edge.getLength()),
        travel_time=float(edge.getLength()) / speed,
        oneway=True,
        priority=int(edge.getPriority()),
        geometry=LineString(coords) if len(coords) >= 2 else None,
    )
    return (u, v, key)


def _connections(net, edge_key: dict[str, tuple]) -> list[SumoConnection]:  # noqa: ANN001
    """The car connections between the graph's edges, lane connections merged per edge pair."""
    car_lane_index = {
        edge.getID(): {
            lane.getIndex(): k
            for k, lane in enumerate([lane for lane in edge.getLanes() if lane.allows("passenger")])
        }
        for edge in net.getEdges(withInternal=False)
        if edge.getID() in edge_key
    }
    connections = []
    for (a, b), item in sorted(_merged_lane_connections(net, edge_key).items()):
        length, time = min(item["via"], key=lambda lt: lt[1])
        connections.append(
            SumoConnection(
                from_edge=a,
                to_edge=b,
                from_lanes=len(item["lanes"]),
                lane_indices=tuple(sorted(car_lane_index[a][i] for i in item["lanes"] if i in car_lane_index[a])),
                turn=_DIRECTION_TURN.get(item["dir"], "T"),
                major=bool(item["states"] & {"M", "O"}),
                tl=item["tl"],
                link_indices=tuple(sorted(item["links"])),
                via_length_m=length,
                via_time_s=time,
            )
        )
    return connections


def _merged_lane_connections(net, edge_key: dict[str, tuple]) -> dict[tuple[str, str], dict]:  # noqa: ANN001
    """Per (from edge, to edge): the from-lanes, direction, link states, traffic light, its link
    indices and the internal paths of the car lane connections between them."""
    merged: dict[tuple[str, str], dict] = {}
    for edge in net.getEdges(withInternal=False):
        if edge.getID() not in edge_key:
            continue
        for to_edge, conns in edge.getOutgoing().items():
            if to_edge.getID() not in edge_key:
                continue
            for conn in conns:
                if not (conn.getFromLane().allows("passenger") and conn.getToLane().allows("passenger")):
                    continue
                empty = {"lanes": set(), "dir": conn.getDirection(), "states": set(), "tl": None, "links": set()}
                item = merged.setdefault((edge.getID(), to_edge.getID()), {**empty, "via": []})
                item["lanes"].add(conn.getFromLane().getIndex())
                item["states"].add(conn.getState())
                if conn.getTLSID():
                    item["tl"] = conn.getTLSID()
                    item["links"].add(int(conn.getTLLinkIndex()))
                item["via"].append(_internal_path(net, conn))
    return merged


def _internal_path(net, conn) -> tuple[float, float]:  # noqa: ANN001 - sumolib objects
    """Length (m) and free-flow time (s) of the internal lanes a connection uses."""
    length = time = 0.0
    via = conn.getViaLaneID()
    seen = 0
    while via and seen < 8:
        lane = net.getLane(via)
        length += lane.getLength()
        time += lane.getLength() / max(lane.getSpeed(), 0.1)
        outgoing = lane.getOutgoing()
        via = outgoing[0].getViaLaneID() if outgoing else ""
        seen += 1
    return length, time


def _programs(net, path: Path) -> dict[str, SumoProgram]:  # noqa: ANN001 - a sumolib network
    """Each traffic light's programme ``"0"`` (else its first by id)."""
    programs = {}
    for tls in net.getTrafficLights():
        items = tls.getPrograms()
        if not items:
            continue
        program = items[sorted(items)[0]] if "0" not in items else items["0"]
        programs[tls.getID()] = SumoProgram(
            tl_id=tls.getID(),
            program_id=program._id,
            kind=program._type,
            offset_s=float(program._offset),
            phases=tuple(
                SumoPhase(float(p.duration), p.state, optional_float(p.minDur), optional_float(p.maxDur))
                for p in program.getPhases()
            ),
            source=str(path),
        )
    return programs
