"""Junctions from road geometry: legs, movements (L/T/R/U), conflicts and default phases.

A junction is a road-graph node. Its *legs* are the neighbouring nodes it connects to, each at
an outward bearing (degrees clockwise from north, measured on the edge geometry next to the
node). A *movement* is a pair (approach edge, exit edge) through the node; its turn comes from
the change of heading: through within ±40°, right beyond +40°, left beyond −40°, U when it
returns to the leg it came from (or turns by more than 160°).

**Conflicts** use a chord model of right-hand traffic (China drives on the right): every leg
has an inbound point just anticlockwise of its bearing and an outbound point just clockwise of
it, on a circle round the junction. A movement is the chord from its inbound to its outbound
point. Two movements *cross* when their chords interleave, and *merge* when they exit on the
same leg; both are conflicts. Movements from the same approach diverge and never conflict.
This reproduces the textbook cases: opposing lefts do not cross, a left crosses the opposing
through, a right merges with the opposing left.

**Default phases** (:func:`default_phases`): a four-leg junction with two clear axes gets two
phases (through and right protected, left and U permitted) or, when it is a *big crossing*
(both axes carry arterial roads or two or more lanes), four phases with protected lefts; a
T-junction gets two phases (the main road, then the stem); anything else gets one phase per
approach (split phasing), which never has conflicting greens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from twin.traffic.edges import HIGHWAY_RANK, edge_lanes, road_rank

if TYPE_CHECKING:
    import networkx as nx

Edge = tuple  # (u, v, key) of the road MultiDiGraph, or a SUMO edge id

THROUGH_MAX_DEG = 40.0
"""Largest heading change still called a through movement (°)."""
UTURN_MIN_DEG = 160.0
"""Smallest heading change called a U-turn (°)."""
AXIS_TOLERANCE_DEG = 40.0
"""Two legs form an axis (a straight road through the junction) when within this of opposite."""
LEG_SIDE_DEG = 1.0
"""Angular half-separation of a leg's inbound and outbound chord points (°); any small value."""

@dataclass(frozen=True)
class Movement:
    """One way through a junction: from an approach edge onto an exit edge."""

    in_edge: Edge
    out_edge: Edge
    in_leg: int  # index into Junction.leg_bearings_deg
    out_leg: int
    turn: str  # "L", "T", "R" or "U"
    angle_deg: float  # heading change, positive to the right


@dataclass
class Junction:
    """A node's legs, movements and conflict matrix."""

    node: object
    leg_nodes: list  # neighbour node of each leg
    leg_bearings_deg: list[float]  # outward bearing of each leg
    movements: list[Movement]
    conflicts: np.ndarray  # bool[n, n], symmetric, False on the diagonal
    leg_rank: list[int] = field(default_factory=list)  # road priority of each leg
    leg_lanes: list[int] = field(default_factory=list)  # inbound lanes of each leg (0: exit only)

    @property
    def approaches(self) -> list[int]:
        """Legs that carry traffic into the junction."""
        return sorted({m.in_leg for m in self.movements})

    def axes(self) -> list[tuple[int, int]]:
        """Pairs of legs that are nearly opposite (straight roads through the junction)."""
        pairs = []
        legs = range(len(self.leg_bearings_deg))
        for a in legs:
            for b in legs:
                if (
                    a < b
                    and abs(_angle_diff(self.leg_bearings_deg[a], self.leg_bearings_deg[b]))
                    >= 180.0 - AXIS_TOLERANCE_DEG
                ):
                    pairs.append((a, b))
        # Keep a matching: each leg on at most one axis, the straightest pairs first.
        pairs.sort(key=lambda ab: -abs(_angle_diff(*(self.leg_bearings_deg[i] for i in ab))))
        used: set[int] = set()
        axes = []
        for a, b in pairs:
            if a not in used and b not in used:
                axes.append((a, b))
                used |= {a, b}
        return axes


def _angle_diff(a_deg: float, b_deg: float) -> float:
    """``b − a`` wrapped to (−180, 180]."""
    d = (b_deg - a_deg + 180.0) % 360.0 - 180.0
    return 180.0 if d == -180.0 else d


def bearing_deg(x0: float, y0: float, x1: float, y1: float) -> float:
    """Bearing from (x0, y0) to (x1, y1), degrees clockwise from north (+y), in [0, 360)."""
    return math.degrees(math.atan2(x1 - x0, y1 - y0)) % 360.0


def classify_turn(in_bearing_deg: float, out_bearing_deg: float, same_leg: bool) -> tuple[str, float]:
    """Turn type from the arriving heading and the leaving heading (both as travel bearings)."""
    angle = _angle_diff(in_bearing_deg, out_bearing_deg)
    if same_leg or abs(angle) >= UTURN_MIN_DEG:
        return "U", angle
    if abs(angle) <= THROUGH_MAX_DEG:
        return "T", angle
    return ("R" if angle > 0 else "L"), angle


def conflict_matrix(movements: list[Movement], leg_bearings_deg: list[float]) -> np.ndarray:
    """Crossing and merging conflicts between movements, by the chord model (right-hand traffic)."""
    n = len(movements)
    out = np.zeros((n, n), dtype=bool)
    chords = []
    for m in movements:
        a = (leg_bearings_deg[m.in_leg] - LEG_SIDE_DEG) % 360.0
        b = (leg_bearings_deg[m.out_leg] + LEG_SIDE_DEG) % 360.0
        chords.append((a, b))
    for i in range(n):
        for j in range(i + 1, n):
            mi, mj = movements[i], movements[j]
            if mi.in_leg == mj.in_leg:
                continue  # diverging from one approach
            conflict = mi.out_leg == mj.out_leg or _chords_cross(chords[i], chords[j])
            out[i, j] = out[j, i] = conflict
    return out


def _chords_cross(c1: tuple[float, float], c2: tuple[float, float]) -> bool:
    """Whether two chords of a circle (endpoint angles) interleave."""
    a, b = sorted(c1)
    inside = [a < x < b for x in c2]
    return inside[0] != inside[1]


# --------------------------------------------------------------------------------------------
# From the road graph
# --------------------------------------------------------------------------------------------


def _edge_end_bearing(graph: nx.MultiDiGraph, edge: Edge, at_node: object, xy: dict) -> float:
    """Outward bearing from ``at_node`` along ``edge`` (uses the geometry's segment at the node)."""
    u, v, _ = edge
    data = graph.edges[edge]
    coords = None
    if "edges" in xy:
        coords = xy["edges"].get(edge)
    elif data.get("geometry") is not None:
        coords = list(data["geometry"].coords)
    if not coords or len(coords) < 2:
        coords = [xy["nodes"][u], xy["nodes"][v]]
    if at_node == u:
        (x0, y0), (x1, y1) = coords[0], _far_enough(coords, forward=True)
    else:
        (x0, y0), (x1, y1) = coords[-1], _far_enough(coords, forward=False)
    return bearing_deg(x0, y0, x1, y1)


def _far_enough(coords: list, forward: bool, min_m: float = 15.0) -> tuple[float, float]:
    """The first vertex at least ``min_m`` from the end (short stubs make bearings noisy)."""
    seq = coords if forward else coords[::-1]
    x0, y0 = seq[0]
    for x, y in seq[1:]:
        if math.hypot(x - x0, y - y0) >= min_m:
            return x, y
    return seq[-1]


def metric_xy(graph: nx.MultiDiGraph) -> dict:
    """Node coordinates in metres, and edge geometries in metres when the graph is geographic.

    A graph in EPSG:4490/4326 is projected to EPSG:4549 with one vectorised call for all nodes
    and one for all geometry vertices (``"edges"``: edge → list of (x, y)); a graph without a
    geographic CRS is taken as metric already.
    """
    crs = str(graph.graph.get("crs", "")).upper()
    geographic = crs in {"EPSG:4490", "EPSG:4326", "WGS84"} or graph.graph.get("geographic", False)
    nodes = {n: (float(d["x"]), float(d["y"])) for n, d in graph.nodes(data=True)}
    if not geographic:
        return {"nodes": nodes}
    from pyproj import Transformer  # deferred: pyproj is slow to import and only geographic graphs need it

    transformer = Transformer.from_crs(crs, "EPSG:4549", always_xy=True)
    keys = list(nodes)
    xs, ys = transformer.transform([nodes[k][0] for k in keys], [nodes[k][1] for k in keys])
    edges = []
    counts = []
    lon, lat = [], []
    for u, v, k, data in graph.edges(keys=True, data=True):
        geometry = data.get("geometry")
        if geometry is None:
            continue
        coords = np.asarray(geometry.coords)
        edges.append((u, v, k))
        counts.append(len(coords))
        lon.append(coords[:, 0])
        lat.append(coords[:, 1])
    projected: dict = {}
    if edges:
        ex, ey = transformer.transform(np.concatenate(lon), np.concatenate(lat))
        start = 0
        for edge, n in zip(edges, counts, strict=True):
            projected[edge] = list(
                zip(ex[start : start + n].tolist(), ey[start : start + n].tolist(), strict=True)
            )
            start += n
    return {"nodes": dict(zip(keys, zip(xs, ys, strict=True), strict=True)), "edges": projected}


def junction_at(
    graph: nx.MultiDiGraph,
    node: object,
    xy: dict | None = None,
    allowed: set[tuple[Edge, Edge]] | None = None,
    turns: dict[tuple[Edge, Edge], str] | None = None,
    allow_uturns: bool = False,
) -> Junction:
    """The junction at ``node``: legs from its neighbours, movements, conflicts.

    Parameters
    ----------
    graph
        Road graph (OSMnx schema); coordinates may be geographic (then projected to EPSG:4549).
    node
        The junction node.
    xy
        Cached result of :func:`metric_xy` (computed if omitted).
    allowed
        If given, only these (in edge, out edge) pairs are movements (e.g. SUMO connections).
    turns
        Turn letters to use instead of the geometric classification (e.g. SUMO ``dir``).
    allow_uturns
        Whether U-turns are movements when ``allowed`` is not given (default: no, as SUMO's
        default ``--no-turnarounds`` … and most Chinese urban junctions).
    """
    xy = xy if xy is not None else metric_xy(graph)
    legs = _Legs.at(graph, node, xy)
    movements = []
    for a in legs.in_edges:
        if a not in legs.in_leg:
            continue
        arriving = (legs.bearings_deg[legs.in_leg[a]] + 180.0) % 360.0
        for b in legs.out_edges:
            if b not in legs.out_leg:
                continue
            if allowed is not None and (a, b) not in allowed:
                continue
            same_leg = legs.in_leg[a] == legs.out_leg[b]
            turn, angle = classify_turn(arriving, legs.bearings_deg[legs.out_leg[b]], same_leg)
            if turns is not None and (a, b) in turns:
                turn = turns[(a, b)]
            if allowed is None and turn == "U" and not allow_uturns:
                continue
            movements.append(Movement(a, b, legs.in_leg[a], legs.out_leg[b], turn, angle))
    return Junction(
        node=node,
        leg_nodes=sorted(legs.index, key=legs.index.get),
        leg_bearings_deg=legs.bearings_deg,
        movements=movements,
        conflicts=conflict_matrix(movements, legs.bearings_deg),
        leg_rank=legs.rank,
        leg_lanes=legs.lanes,
    )


@dataclass
class _Legs:
    """The legs of a node: one per neighbour, with its bearing, road rank and inbound lanes, and
    the leg of each (non-loop) edge in and out."""

    in_edges: list[Edge]
    out_edges: list[Edge]
    index: dict = field(default_factory=dict)  # neighbour node → leg
    bearings_deg: list[float] = field(default_factory=list)
    rank: list[int] = field(default_factory=list)
    lanes: list[int] = field(default_factory=list)
    in_leg: dict = field(default_factory=dict)  # edge → leg
    out_leg: dict = field(default_factory=dict)

    @classmethod
    def at(cls, graph: nx.MultiDiGraph, node: object, xy: dict) -> _Legs:
        legs = cls(sorted(graph.in_edges(node, keys=True), key=str), sorted(graph.out_edges(node, keys=True), key=str))
        for e in legs.in_edges:
            if e[0] != node:  # not a self-loop
                legs.in_leg[e] = legs.add(e[0], _edge_end_bearing(graph, e, node, xy), graph.edges[e], True)
        for e in legs.out_edges:
            if e[1] != node:
                legs.out_leg[e] = legs.add(e[1], _edge_end_bearing(graph, e, node, xy), graph.edges[e], False)
        return legs

    def add(self, neighbour: object, bearing_deg: float, data: dict, inbound: bool) -> int:
        """The leg towards ``neighbour`` (new at ``bearing_deg`` if unseen), updated by one edge."""
        if neighbour not in self.index:
            self.index[neighbour] = len(self.bearings_deg)
            self.bearings_deg.append(bearing_deg)
            self.rank.append(0)
            self.lanes.append(0)
        i = self.index[neighbour]
        self.rank[i] = max(self.rank[i], road_rank(data))
        if inbound:
            self.lanes[i] += edge_lanes(data)
        return i


# --------------------------------------------------------------------------------------------
# Priorities and default phases
# --------------------------------------------------------------------------------------------


def major_legs(junction: Junction) -> set[int]:
    """The legs of the major road at an unsignalised junction.

    The highest-ranked legs; when they include a straight pair (an axis) that pair is the
    major road, and a single top leg takes the leg opposite it along. Two top legs at an angle
    (the main road bends) are both major.
    """
    ranks = junction.leg_rank
    if not ranks:
        return set()
    top = max(ranks)
    top_legs = [i for i, r in enumerate(ranks) if r == top]
    axes = junction.axes()
    for a, b in axes:
        if a in top_legs and b in top_legs:
            return {a, b}
    if len(top_legs) == 1:
        for a, b in axes:
            if top_legs[0] in (a, b):
                return {a, b}
    return set(top_legs)


def movement_ranks(junction: Junction) -> list[int]:
    """Static priority of each movement (3 major T/R, 2 major L/U, 1 minor T/R, 0 minor L/U).

    Among movements showing the same signal (or at an unsignalised junction) the lower rank
    gives way to a conflicting higher rank: lefts yield to opposing through traffic, and the
    minor road yields to the major road.
    """
    major = major_legs(junction)
    ranks = []
    for m in junction.movements:
        base = 2 if m.in_leg in major else 0
        ranks.append(base + (1 if m.turn in ("T", "R") else 0))
    return ranks


def is_big_crossing(junction: Junction, min_lanes: int = 2, min_rank: int = HIGHWAY_RANK["primary"]) -> bool:
    """A four-leg crossing of two axes whose every approach has ``min_lanes`` lanes or is arterial."""
    axes = junction.axes()
    if len(junction.leg_bearings_deg) != 4 or len(axes) != 2:
        return False
    return all(
        junction.leg_lanes[i] >= min_lanes or junction.leg_rank[i] >= min_rank
        for axis in axes
        for i in axis
        if junction.leg_lanes[i] > 0
    )


def default_phases(junction: Junction, four_phase: bool | None = None) -> list[dict[int, str]]:
    """Phase groupings for ``junction``: each phase maps movement index → ``"G"`` or ``"g"``.

    ``"G"`` is protected (no conflicting movement is green), ``"g"`` permitted (green, but gives
    way to conflicting ``"G"`` traffic). Movements not listed are red. ``four_phase`` forces or
    forbids protected lefts on a four-leg crossing (default: :func:`is_big_crossing`).
    """
    moves = junction.movements
    axes = junction.axes()
    approaches = junction.approaches
    n_legs = len(junction.leg_bearings_deg)
    phases: list[dict[int, str]]
    if n_legs == 4 and len(axes) == 2:
        big = is_big_crossing(junction) if four_phase is None else four_phase
        phases = []
        for axis in axes:
            through = {i: "G" for i, m in enumerate(moves) if m.in_leg in axis and m.turn in ("T", "R")}
            left = {
                i: ("G" if big else "g")
                for i, m in enumerate(moves)
                if m.in_leg in axis and m.turn in ("L", "U")
            }
            if big:
                phases += [p for p in (through, left) if p]
            elif through or left:
                phases.append(through | left)
    elif n_legs == 3 and len(axes) == 1:
        axis = axes[0]
        main = {i: ("G" if m.turn in ("T", "R") else "g") for i, m in enumerate(moves) if m.in_leg in axis}
        stem = {i: "G" for i, m in enumerate(moves) if m.in_leg not in axis}
        phases = [p for p in (main, stem) if p]
    else:
        phases = [{i: "G" for i, m in enumerate(moves) if m.in_leg == leg} for leg in approaches]
        phases = [p for p in phases if p]
    return [_demote_conflicting_protected(junction, phase) for phase in phases]


def _demote_conflicting_protected(junction: Junction, phase: dict[int, str]) -> dict[int, str]:
    """Make the lower-ranked of two conflicting protected movements permitted (it gives way)."""
    ranks = movement_ranks(junction)
    phase = dict(phase)
    greens = sorted(phase, key=lambda i: (-ranks[i], i))
    for a_pos, a in enumerate(greens):
        if phase[a] != "G":
            continue
        for b in greens[a_pos + 1 :]:
            if phase[b] == "G" and junction.conflicts[a, b]:
                phase[b] = "g"
    return phase


def signalised_nodes(graph: nx.MultiDiGraph) -> list:
    """Nodes marked ``highway="traffic_signals"`` (OSM convention), sorted."""
    return sorted((n for n, d in graph.nodes(data=True) if d.get("highway") == "traffic_signals"), key=str)
