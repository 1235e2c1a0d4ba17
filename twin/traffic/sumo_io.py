"""SUMO interoperability: read and write ``.net.xml``, ``.rou.xml`` and ``.sumocfg``.

* :func:`read_net` reads a network through sumolib into our road layer: an OSMnx-schema
  ``MultiDiGraph`` (nodes are SUMO junctions, edges SUMO edges with ``sumo_id``), plus the
  connections (allowed movements, lanes, turn direction, priority, internal-lane length and
  speed) and the traffic-light programmes (``tlLogic``).
* :func:`write_net` writes our road layer as SUMO plain XML and builds the ``.net.xml`` with
  ``netconvert`` (geo-referenced in EPSG:4549 when the graph is in EPSG:4490), and
  :func:`write_programs` writes our signal plans as ``tlLogic`` programmes in an additional file.
* :func:`read_routes` reads ``<vehicle>`` (with a ``<route>`` or a route id), ``<trip from to>``
  and ``<flow>`` elements; :func:`write_routes` writes vehicles with explicit routes.
* :func:`read_sumocfg` / :func:`write_sumocfg` handle configuration files, and
  :func:`run_sumo` runs SUMO (micro or ``--mesosim``) and returns its trip information.

sumolib and the SUMO binaries come from the ``eclipse-sumo``/``sumolib`` packages.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from twin.errors import InputError

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

GK_CM120E_PROJ4 = "+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
"""EPSG:4549 (CGCS2000 / 3-degree Gauss-Krüger CM 120E) as a proj.4 string for netconvert."""

_DIRECTION_TURN = {"s": "T", "l": "L", "L": "L", "r": "R", "R": "R", "t": "U", "T": "U"}


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


@dataclass(frozen=True)
class SumoPhase:
    duration_s: float
    state: str
    min_dur_s: float | None = None
    max_dur_s: float | None = None


@dataclass(frozen=True)
class SumoProgram:
    tl_id: str
    program_id: str
    kind: str  # static, actuated, ...
    offset_s: float
    phases: tuple[SumoPhase, ...]


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


def _sumolib():
    try:
        import sumolib
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise RuntimeError("sumolib is required for SUMO files (pip install sumolib)") from exc
    return sumolib


def sumo_binary(name: str) -> str:
    """Path of a SUMO binary (``sumo``, ``netconvert``, ``netgenerate``) from eclipse-sumo."""
    found = shutil.which(name)
    if found:
        return found
    try:
        import sumo

        candidate = Path(sumo.SUMO_HOME) / "bin" / name
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    raise RuntimeError(f"SUMO binary {name!r} not found (install eclipse-sumo)")


def sumo_tools_dir() -> Path:
    """SUMO's ``tools`` folder (``randomTrips.py`` and friends)."""
    import sumo

    return Path(sumo.SUMO_HOME) / "tools"


# --------------------------------------------------------------------------------------------
# .net.xml → road layer
# --------------------------------------------------------------------------------------------


def read_net(path: str | Path) -> SumoNet:
    """Read a ``.net.xml`` into our road layer (see the module docstring)."""
    import networkx as nx
    from shapely.geometry import LineString

    path = Path(path)
    if not path.exists():
        raise InputError("SUMO network not found", path)
    sumolib = _sumolib()
    try:
        net = sumolib.net.readNet(
            str(path), withInternal=True, withPrograms=True, withPedestrianConnections=False
        )
    except Exception as exc:  # noqa: BLE001 - sumolib raises plain exceptions on bad XML
        raise InputError(f"cannot read SUMO network: {exc}", path) from None
    geo = net.hasGeoProj()

    def to_xy(x: float, y: float) -> tuple[float, float]:
        if geo:
            lon, lat = net.convertXY2LonLat(x, y)
            return float(lon), float(lat)
        return float(x), float(y)

    graph = nx.MultiDiGraph(crs="EPSG:4490" if geo else None, name=path.stem, source="sumo")
    junction_type = {}
    for node in net.getNodes():
        if node.getType() == "internal":
            continue
        x, y = to_xy(*node.getCoord()[:2])
        tls = node.getType() in ("traffic_light", "traffic_light_unregulated", "traffic_light_right_on_red")
        graph.add_node(
            node.getID(),
            x=x,
            y=y,
            sumo_type=node.getType(),
            highway="traffic_signals" if tls else None,
            street_count=0,
        )
        junction_type[node.getID()] = node.getType()
    edge_key = {}
    for edge in net.getEdges(withInternal=False):
        if edge.getFunction() not in ("", "normal"):
            continue
        if not any(lane.allows("passenger") for lane in edge.getLanes()):
            continue
        u, v = edge.getFromNode().getID(), edge.getToNode().getID()
        speed = float(edge.getSpeed())
        lanes = sum(1 for lane in edge.getLanes() if lane.allows("passenger"))
        coords = [to_xy(*p[:2]) for p in edge.getShape()]
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
        edge_key[edge.getID()] = (u, v, key)
    for node in graph.nodes:
        graph.nodes[node]["street_count"] = len(set(graph.predecessors(node)) | set(graph.successors(node)))

    car_lane_index = {
        edge.getID(): {
            lane.getIndex(): k
            for k, lane in enumerate([lane for lane in edge.getLanes() if lane.allows("passenger")])
        }
        for edge in net.getEdges(withInternal=False)
        if edge.getID() in edge_key
    }
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
                item = merged.setdefault(
                    (edge.getID(), to_edge.getID()),
                    {
                        "lanes": set(),
                        "dir": conn.getDirection(),
                        "states": set(),
                        "tl": None,
                        "links": set(),
                        "via": [],
                    },
                )
                item["lanes"].add(conn.getFromLane().getIndex())
                item["states"].add(conn.getState())
                if conn.getTLSID():
                    item["tl"] = conn.getTLSID()
                    item["links"].add(int(conn.getTLLinkIndex()))
                item["via"].append(_internal_path(net, conn))
    connections = []
    for (a, b), item in sorted(merged.items()):
        length, time = min(item["via"], key=lambda lt: lt[1])
        connections.append(
            SumoConnection(
                from_edge=a,
                to_edge=b,
                from_lanes=len(item["lanes"]),
                lane_indices=tuple(
                    sorted(car_lane_index[a][i] for i in item["lanes"] if i in car_lane_index[a])
                ),
                turn=_DIRECTION_TURN.get(item["dir"], "T"),
                major=bool(item["states"] & {"M", "O"}),
                tl=item["tl"],
                link_indices=tuple(sorted(item["links"])),
                via_length_m=length,
                via_time_s=time,
            )
        )
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
                SumoPhase(float(p.duration), p.state, _maybe_float(p.minDur), _maybe_float(p.maxDur))
                for p in program.getPhases()
            ),
        )
    return SumoNet(path, graph, edge_key, connections, programs, geo, junction_type)


def _maybe_float(value) -> float | None:  # noqa: ANN001 - sumolib gives str/float/None/-1
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


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


# --------------------------------------------------------------------------------------------
# road layer → .net.xml
# --------------------------------------------------------------------------------------------


def edge_id(edge: tuple) -> str:
    """SUMO id of a graph edge: its ``sumo_id`` if it came from SUMO, else ``u_v_key``."""
    u, v, k = edge
    return f"{u}_{v}_{k}"


def _sumo_priority(data: dict) -> int:
    from twin.traffic.junctions import HIGHWAY_RANK

    highway = data.get("highway", "")
    if isinstance(highway, list):
        highway = highway[0]
    return HIGHWAY_RANK.get(str(highway).removesuffix("_link"), 2)


def write_net(
    graph: nx.MultiDiGraph,
    out_path: str | Path,
    signalised: list | None = None,
    extra_args: list[str] | None = None,
) -> Path:
    """Write ``graph`` as a SUMO network (plain XML, then ``netconvert``).

    Node ids and edge ids are kept (edges as ``sumo_id`` if present, else ``u_v_key``), lanes,
    speeds and shapes come from the OSMnx attributes, and ``signalised`` nodes (default: nodes
    with ``highway == "traffic_signals"``) become traffic lights. Lengths are taken from the
    shapes (as netconvert does). A graph in EPSG:4490 is written geo-referenced through the
    EPSG:4549 projection; a graph without a CRS is taken as local metres.

    Returns
    -------
    Path
        ``out_path``.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    crs = str(graph.graph.get("crs") or "").upper()
    geo = crs in ("EPSG:4490", "EPSG:4326")
    if signalised is None:
        signalised = [n for n, d in graph.nodes(data=True) if d.get("highway") == "traffic_signals"]
    signalised = set(signalised)
    nodes = ET.Element("nodes")
    for node, data in graph.nodes(data=True):
        ET.SubElement(
            nodes,
            "node",
            id=str(node),
            x=repr(float(data["x"])),
            y=repr(float(data["y"])),
            type="traffic_light" if node in signalised else "priority",
        )
    edges = ET.Element("edges")
    for u, v, k, data in graph.edges(keys=True, data=True):
        lanes = data.get("lanes", 1)
        lanes = int(float(lanes[0] if isinstance(lanes, list) else lanes))
        speed_m_per_s = float(data.get("speed_kph", 50.0)) / 3.6
        attrs = dict(
            id=str(data.get("sumo_id") or edge_id((u, v, k))),
            **{"from": str(u)},
            to=str(v),
            numLanes=str(max(1, lanes)),
            speed=f"{speed_m_per_s:.3f}",
            priority=str(_sumo_priority(data)),
        )
        highway = data.get("highway")
        if highway:
            attrs["type"] = str(highway[0] if isinstance(highway, list) else highway)
        geometry = data.get("geometry")
        if geometry is not None and len(geometry.coords) > 2:
            attrs["shape"] = " ".join(f"{x!r},{y!r}" for x, y in list(geometry.coords))
        ET.SubElement(edges, "edge", **attrs)
    with tempfile.TemporaryDirectory(prefix="twin-netconvert-") as tmp:
        nod = Path(tmp) / "net.nod.xml"
        edg = Path(tmp) / "net.edg.xml"
        ET.ElementTree(nodes).write(nod, encoding="utf-8", xml_declaration=True)
        ET.ElementTree(edges).write(edg, encoding="utf-8", xml_declaration=True)
        cmd = [
            sumo_binary("netconvert"),
            "--node-files",
            str(nod),
            "--edge-files",
            str(edg),
            "--output-file",
            str(out_path),
            "--no-turnarounds",
            "true",
            "--tls.default-type",
            "static",
            "--no-warnings",
            "true",
            "--edges.join",
            "false",
            "--geometry.remove",
            "false",
            "--junctions.join",
            "false",
        ]
        if geo:
            cmd += ["--proj.plain-geo", "true", "--proj", GK_CM120E_PROJ4]
        cmd += list(extra_args or [])
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"netconvert failed: {done.stderr.strip()[-2000:]}")
    return out_path


def read_programs(path: str | Path) -> dict[str, SumoProgram]:
    """``tlLogic`` programmes of an additional file (or a network), by traffic-light id.

    When a file holds several programmes for one light, the last wins, as in SUMO.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("additional file not found", path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputError(f"not valid XML: {exc}", path) from None
    programs = {}
    for element in root.iter("tlLogic"):
        phases = tuple(
            SumoPhase(
                float(p.get("duration")),
                p.get("state"),
                _maybe_float(p.get("minDur")),
                _maybe_float(p.get("maxDur")),
            )
            for p in element.iter("phase")
        )
        if not phases:
            continue
        programs[element.get("id")] = SumoProgram(
            element.get("id"),
            element.get("programID", "0"),
            element.get("type", "static"),
            float(element.get("offset", "0")),
            phases,
        )
    return programs


def write_programs(programs: list[SumoProgram], out_path: str | Path) -> Path:
    """Write traffic-light programmes as a SUMO additional file (loaded with ``-a``).

    SUMO switches each traffic light to the last programme loaded for it, so these replace the
    network's own programmes.
    """
    root = ET.Element("additional")
    for program in programs:
        element = ET.SubElement(
            root,
            "tlLogic",
            id=program.tl_id,
            type=program.kind,
            programID=program.program_id,
            offset=f"{program.offset_s:g}",
        )
        for phase in program.phases:
            attrs = {"duration": f"{phase.duration_s:g}", "state": phase.state}
            if phase.min_dur_s is not None:
                attrs["minDur"] = f"{phase.min_dur_s:g}"
            if phase.max_dur_s is not None:
                attrs["maxDur"] = f"{phase.max_dur_s:g}"
            ET.SubElement(element, "phase", **attrs)
    out_path = Path(out_path)
    ET.indent(root)
    ET.ElementTree(root).write(out_path, encoding="utf-8", xml_declaration=True)
    return out_path


# --------------------------------------------------------------------------------------------
# Routes and configurations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SumoTrip:
    """One vehicle of a route file: an explicit route, or an origin/destination to route."""

    id: str
    depart_s: float
    edges: tuple[str, ...] | None = None  # explicit route
    from_edge: str | None = None
    to_edge: str | None = None
    via: tuple[str, ...] = ()


def _depart(value: str | None, where: str, source: Path) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{where}: depart = {value!r}: expected a number of seconds", source) from None


def read_routes(path: str | Path, seed: int = 0) -> list[SumoTrip]:
    """Vehicles of a ``.rou.xml`` (``<vehicle>``, ``<trip>``, ``<flow>``), sorted by departure.

    Flows expand as SUMO does: ``period`` (or ``vehsPerHour``, or ``number`` spread evenly over
    [begin, end)) gives evenly spaced vehicles ``<flow id>.<i>``; ``probability`` draws one
    vehicle per second with that probability (seeded by ``seed``).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("route file not found", path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputError(f"not valid XML: {exc}", path) from None
    named: dict[str, tuple[str, ...]] = {}
    for element in root.iter("route"):
        if element.get("id") and element.get("edges"):
            named[element.get("id")] = tuple(element.get("edges").split())
    rng = np.random.default_rng(seed)
    trips: list[SumoTrip] = []
    for element in root:
        tag = element.tag
        if tag == "vehicle":
            vid = element.get("id", "?")
            depart = _depart(element.get("depart"), f"<vehicle id={vid!r}>", path)
            inner = element.find("route")
            if inner is not None and inner.get("edges"):
                edges = tuple(inner.get("edges").split())
            elif element.get("route") in named:
                edges = named[element.get("route")]
            else:
                raise InputError(f"<vehicle id={vid!r}>: no <route> and no known route id", path)
            trips.append(SumoTrip(vid, depart, edges=edges))
        elif tag == "trip":
            vid = element.get("id", "?")
            depart = _depart(element.get("depart"), f"<trip id={vid!r}>", path)
            if not element.get("from") or not element.get("to"):
                raise InputError(f"<trip id={vid!r}>: needs from= and to= edges", path)
            via = tuple((element.get("via") or "").split())
            trips.append(
                SumoTrip(vid, depart, from_edge=element.get("from"), to_edge=element.get("to"), via=via)
            )
        elif tag == "flow":
            trips += _expand_flow(element, named, rng, path)
    trips.sort(key=lambda trip: trip.depart_s)
    return trips


def _expand_flow(element, named, rng, path: Path) -> list[SumoTrip]:  # noqa: ANN001
    fid = element.get("id", "?")
    where = f"<flow id={fid!r}>"
    begin = _depart(element.get("begin", "0"), where, path)
    end = _depart(element.get("end", "3600"), where, path)
    inner = element.find("route")
    edges = None
    if inner is not None and inner.get("edges"):
        edges = tuple(inner.get("edges").split())
    elif element.get("route") in named:
        edges = named[element.get("route")]
    elif not (element.get("from") and element.get("to")):
        raise InputError(f"{where}: needs a route or from= and to=", path)
    period_text = element.get("period")
    if element.get("probability") is not None:
        p = float(element.get("probability"))
        seconds = np.arange(math.ceil(begin), math.ceil(end))
        times = seconds[rng.random(len(seconds)) < p].astype(float)
    elif period_text is not None and period_text.startswith("exp("):
        rate_per_s = float(period_text[4:-1])  # Poisson arrivals with this rate
        gaps = rng.exponential(1.0 / rate_per_s, size=int((end - begin) * rate_per_s * 2 + 20))
        times = begin + np.cumsum(gaps)
        times = times[times < end]
    else:
        if period_text is not None:
            period = float(period_text)
        elif element.get("vehsPerHour") is not None:
            period = 3600.0 / float(element.get("vehsPerHour"))
        elif element.get("number") is not None:
            period = (end - begin) / max(int(element.get("number")), 1)
        else:
            raise InputError(f"{where}: needs period, vehsPerHour, number or probability", path)
        times = np.arange(begin, end - 1e-9, period)
        if element.get("number") is not None:
            times = times[: int(element.get("number"))]
    via = tuple((element.get("via") or "").split())
    return [
        SumoTrip(
            f"{fid}.{i}",
            float(t),
            edges=edges,
            from_edge=None if edges else element.get("from"),
            to_edge=None if edges else element.get("to"),
            via=via,
        )
        for i, t in enumerate(times)
    ]


def write_routes(
    trips: list[tuple[str, float, list[str]]], out_path: str | Path, depart_speed: str = "0"
) -> Path:
    """Write vehicles ``(id, depart_s, [edge ids])`` with explicit routes, sorted by departure."""
    root = ET.Element("routes")
    for vid, depart, edges in sorted(trips, key=lambda t: (t[1], str(t[0]))):
        vehicle = ET.SubElement(
            root, "vehicle", id=str(vid), depart=f"{depart:.2f}", departSpeed=depart_speed
        )
        ET.SubElement(vehicle, "route", edges=" ".join(edges))
    out_path = Path(out_path)
    ET.indent(root)
    ET.ElementTree(root).write(out_path, encoding="utf-8", xml_declaration=True)
    return out_path


@dataclass(frozen=True)
class SumoConfig:
    """What we use of a ``.sumocfg``."""

    path: Path
    net_file: Path
    route_files: tuple[Path, ...]
    additional_files: tuple[Path, ...]
    begin_s: float
    end_s: float | None


def read_sumocfg(path: str | Path) -> SumoConfig:
    """Read the net, route and additional files and the begin/end times of a ``.sumocfg``."""
    path = Path(path)
    if not path.exists():
        raise InputError("SUMO configuration not found", path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputError(f"not valid XML: {exc}", path) from None

    def value(tag: str) -> str | None:
        element = root.find(f".//{tag}")
        return element.get("value") if element is not None else None

    net = value("net-file")
    if not net:
        raise InputError("no <net-file value=...> in <input>", path)
    routes = [p for p in (value("route-files") or "").replace(",", " ").split() if p]
    additional = [p for p in (value("additional-files") or "").replace(",", " ").split() if p]
    begin = value("begin")
    end = value("end")
    folder = path.parent
    return SumoConfig(
        path=path,
        net_file=(folder / net).resolve(),
        route_files=tuple((folder / p).resolve() for p in routes),
        additional_files=tuple((folder / p).resolve() for p in additional),
        begin_s=_depart(begin, "<begin>", path) if begin else 0.0,
        end_s=_depart(end, "<end>", path) if end else None,
    )


def write_sumocfg(
    out_path: str | Path,
    net_file: Path,
    route_files: list[Path],
    additional_files: list[Path] | None = None,
    begin_s: float = 0.0,
    end_s: float | None = None,
) -> Path:
    """Write a ``.sumocfg`` referencing files relative to its own folder."""
    out_path = Path(out_path)
    folder = out_path.parent.resolve()

    def rel(p: Path) -> str:
        return os.path.relpath(Path(p).resolve(), folder)

    root = ET.Element("configuration")
    inputs = ET.SubElement(root, "input")
    ET.SubElement(inputs, "net-file", value=rel(net_file))
    ET.SubElement(inputs, "route-files", value=",".join(rel(p) for p in route_files))
    if additional_files:
        ET.SubElement(inputs, "additional-files", value=",".join(rel(p) for p in additional_files))
    time = ET.SubElement(root, "time")
    ET.SubElement(time, "begin", value=f"{begin_s:g}")
    if end_s is not None:
        ET.SubElement(time, "end", value=f"{end_s:g}")
    ET.indent(root)
    ET.ElementTree(root).write(out_path, encoding="utf-8", xml_declaration=True)
    return out_path


# --------------------------------------------------------------------------------------------
# Running SUMO (validation and benchmarks)
# --------------------------------------------------------------------------------------------


def run_sumo(
    net_file: Path,
    route_files: list[Path],
    out_dir: Path,
    begin_s: float = 0.0,
    end_s: float | None = None,
    mesosim: bool = False,
    additional_files: list[Path] | None = None,
    seed: int = 42,
    extra_args: list[str] | None = None,
) -> pd.DataFrame:
    """Run SUMO without teleporting and return its tripinfo as a table.

    Columns ``id, depart_s, arrival_s, duration_s, route_length_m, time_loss_s`` (the
    ``twin traffic run`` columns). ``--time-to-teleport -1`` keeps every vehicle on the road,
    as our model does. With ``mesosim`` the mesoscopic model runs with junction control, so it
    honours traffic lights and priorities.
    """
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    tripinfo = out_dir / ("tripinfo_meso.xml" if mesosim else "tripinfo_micro.xml")
    cmd = [
        sumo_binary("sumo"),
        "-n",
        str(net_file),
        "-r",
        ",".join(str(p) for p in route_files),
        "--tripinfo-output",
        str(tripinfo),
        "--no-step-log",
        "true",
        "--no-warnings",
        "true",
        "--time-to-teleport",
        "-1",
        "--seed",
        str(seed),
        "-b",
        f"{begin_s:g}",
        "--duration-log.disable",
        "true",
    ]
    if end_s is not None:
        cmd += ["-e", f"{end_s:g}"]
    if additional_files:
        cmd += ["-a", ",".join(str(p) for p in additional_files)]
    if mesosim:
        cmd += ["--mesosim", "true", "--meso-junction-control", "true"]
    cmd += list(extra_args or [])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"sumo failed: {done.stderr.strip()[-2000:]}")
    rows = [
        (
            e.get("id"),
            float(e.get("depart")),
            float(e.get("arrival")),
            float(e.get("duration")),
            float(e.get("routeLength")),
            float(e.get("timeLoss")),
        )
        for e in ET.parse(tripinfo).getroot().iter("tripinfo")
    ]
    return pd.DataFrame(
        rows, columns=["id", "depart_s", "arrival_s", "duration_s", "route_length_m", "time_loss_s"]
    )


def random_trips(
    net_file: Path,
    out_file: Path,
    begin_s: float,
    end_s: float,
    period_s: float,
    seed: int,
    extra_args: list[str] | None = None,
) -> Path:
    """Generate trips with SUMO's ``randomTrips.py`` (``--validate`` keeps only routable ones).

    It runs in ``out_file``'s folder, where the validation leaves its scratch files.
    """
    import sys

    out_file = Path(out_file).resolve()
    cmd = [
        sys.executable,
        str(sumo_tools_dir() / "randomTrips.py"),
        "-n",
        str(Path(net_file).resolve()),
        "-o",
        str(out_file),
        "-b",
        f"{begin_s:g}",
        "-e",
        f"{end_s:g}",
        "-p",
        f"{period_s:g}",
        "--seed",
        str(seed),
        "--validate",
    ] + list(extra_args or [])
    env = dict(os.environ, SUMO_HOME=str(sumo_tools_dir().parent))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=out_file.parent)
    if done.returncode != 0:
        raise RuntimeError(f"randomTrips failed: {done.stderr.strip()[-2000:]}")
    return out_file


def netgenerate_grid(
    out_file: Path,
    number: int = 4,
    length_m: float = 200.0,
    lanes: int = 1,
    traffic_lights: bool = True,
    extra_args: list[str] | None = None,
) -> Path:
    """A ``netgenerate --grid`` network (signals at every inner junction when requested)."""
    cmd = [
        sumo_binary("netgenerate"),
        "--grid",
        "--grid.number",
        str(number),
        "--grid.length",
        f"{length_m:g}",
        "--default.lanenumber",
        str(lanes),
        "--no-turnarounds",
        "true",
        "-o",
        str(out_file),
    ]
    if traffic_lights:
        cmd += ["--tls.guess", "true"]
    cmd += list(extra_args or [])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"netgenerate failed: {done.stderr.strip()[-2000:]}")
    return out_file
