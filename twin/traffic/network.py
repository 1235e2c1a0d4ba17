"""The traffic network: links, movements, lane queues and conflicts, as arrays for the kernel.

:class:`TrafficNetwork` turns the road layer (an OSMnx graph, :func:`network_from_graph`, or a
SUMO network read by :func:`twin.traffic.sumo_io.network.read_net`, :func:`network_from_sumo`)
into the arrays of :mod:`kernels.traffic.layout`: links with free-flow time, discharge capacity
(saturation flow × lanes) and storage (length × lanes / jam spacing), and movements through every
junction with their lanes, saturation flow, crossing time, priority and conflicts
(:mod:`twin.traffic.junctions`). Every link also has a *sink* movement, where trips end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kernels.traffic.layout import (
    N_PARAMS,
    P_CLEARANCE,
    P_DEPART_REST,
    P_DETECTOR_LEAD,
    P_DT,
    P_GAP,
    P_STARTUP_LOST,
    P_STOP_DELAY,
    P_YELLOW_EXT,
    Network,
)
from twin.traffic.crossings import (
    crossing_path,
    junction_width_m,
    lookout_penalty_s,
    movement_lanes,
    turn_penalty_s,
)
from twin.traffic.edges import edge_lanes, edge_speed_m_per_s
from twin.traffic.junctions import Junction, junction_at, metric_xy, movement_ranks, signalised_nodes
from twin.traffic.params import TrafficParams

if TYPE_CHECKING:
    import networkx as nx

    from twin.traffic.sumo_io.network import SumoNet


@dataclass
class TrafficNetwork:
    """Links, movements and conflicts of a road network, as arrays for the kernel."""

    graph: nx.MultiDiGraph
    params: TrafficParams
    link_keys: list[tuple]
    link_ids: list[str]
    link_length_m: np.ndarray
    link_lanes: np.ndarray
    link_speed_m_per_s: np.ndarray
    link_fft_s: np.ndarray
    link_cap_veh_per_s: np.ndarray
    link_storage_veh: np.ndarray
    mov_in: np.ndarray
    mov_out: np.ndarray
    mov_node: list
    mov_turn: list[str]
    mov_lanes: np.ndarray
    mov_cap_veh_per_s: np.ndarray
    mov_extra_s: np.ndarray
    mov_via_length_m: np.ndarray
    mov_rank: np.ndarray
    mov_queue_ptr: np.ndarray  # CSR: lane queues that serve each movement
    mov_queues: np.ndarray
    mov_factor: np.ndarray  # saturation flow factor of the turn
    queue_link: np.ndarray
    queue_lanes: np.ndarray  # lanes a queue stands for (for queue lengths in metres)
    queue_cap_veh_per_s: np.ndarray
    foe_ptr: np.ndarray
    foe_mov: np.ndarray
    junctions: dict
    junction_movements: dict  # node → global movement ids in Junction.movements order
    controllers: dict[str, list[int]]  # signal controller id → its movements (local order)
    link_sink: np.ndarray
    mov_lookup: dict[tuple[int, int], int] = field(default_factory=dict)
    link_index: dict[tuple, int] = field(default_factory=dict)
    sumo: SumoNet | None = None

    @property
    def n_links(self) -> int:
        return len(self.link_keys)

    @property
    def n_movements(self) -> int:
        return len(self.mov_in)

    def controller_node(self, controller: str) -> object:
        """The road-graph node of a signal controller (of its first movement, for a SUMO
        ``tlLogic`` that spans a junction cluster)."""
        return self.mov_node[self.controllers[controller][0]]

    def conflicts_among(self, movements) -> np.ndarray:  # noqa: ANN001 - sequence of ints
        """The conflict matrix among the given movements (global ids)."""
        movements = list(movements)
        where = {m: i for i, m in enumerate(movements)}
        out = np.zeros((len(movements), len(movements)), dtype=bool)
        for i, m in enumerate(movements):
            for f in self.foe_mov[self.foe_ptr[m] : self.foe_ptr[m + 1]]:
                if int(f) in where:
                    out[i, where[int(f)]] = True
        return out

    def kernel_network(self) -> Network:
        """The static arrays in the kernel's layout."""
        p = self.params
        params = np.zeros(N_PARAMS)
        params[P_DT] = p.step_s
        params[P_STARTUP_LOST] = p.startup_lost_s
        params[P_YELLOW_EXT] = p.yellow_extension_s
        params[P_GAP] = p.critical_gap_s
        params[P_CLEARANCE] = p.clearance_s
        params[P_STOP_DELAY] = p.stop_delay_s
        params[P_DETECTOR_LEAD] = p.detector_lead_s
        params[P_DEPART_REST] = 1.0 if p.depart_from_rest else 0.0
        mov_junction = np.full(self.n_movements, -1, np.int64)
        mov_local = np.zeros(self.n_movements, np.int64)
        for j, movements in enumerate(self.controllers.values()):
            for k, m in enumerate(movements):
                mov_junction[m] = j
                mov_local[m] = k
        return Network(
            link_fft_s=self.link_fft_s.astype(float),
            link_storage_veh=self.link_storage_veh.astype(np.int64),
            link_cap_veh_per_s=self.link_cap_veh_per_s.astype(float),
            link_accel_loss_s=self.link_speed_m_per_s / (2.0 * p.accel_m_per_s2),
            queue_link=self.queue_link.astype(np.int64),
            queue_cap_veh_per_s=self.queue_cap_veh_per_s.astype(float),
            mov_in_link=self.mov_in.astype(np.int64),
            mov_out_link=self.mov_out.astype(np.int64),
            mov_queue_ptr=self.mov_queue_ptr.astype(np.int64),
            mov_queues=self.mov_queues.astype(np.int64),
            mov_factor=self.mov_factor.astype(float),
            mov_cap_veh_per_s=self.mov_cap_veh_per_s.astype(float),
            mov_junction=mov_junction,
            mov_local=mov_local,
            mov_rank=self.mov_rank.astype(np.int64),
            mov_extra_s=self.mov_extra_s.astype(float),
            foe_ptr=self.foe_ptr.astype(np.int64),
            foe_mov=self.foe_mov.astype(np.int64),
            params=params,
        )


def edge_label(graph: nx.MultiDiGraph, edge: tuple) -> str:
    """A text id of an edge: its SUMO id if it has one, else ``u_v_key``."""
    sumo_id = graph.edges[edge].get("sumo_id")
    return str(sumo_id) if sumo_id else f"{edge[0]}_{edge[1]}_{edge[2]}"


# --------------------------------------------------------------------------------------------
# Building: links and movement specifications, from a graph or a SUMO network
# --------------------------------------------------------------------------------------------


@dataclass
class _Links:
    """The links of a network before assembly: graph edges, ids, free speeds and lanes."""

    keys: list[tuple]
    ids: list[str]
    speed_m_per_s: np.ndarray
    lanes: np.ndarray


def _links(graph: nx.MultiDiGraph, keys: list[tuple], ids: list[str]) -> _Links:
    speeds = np.array([edge_speed_m_per_s(graph.edges[e]) for e in keys])
    lanes = np.array([edge_lanes(graph.edges[e]) for e in keys])
    return _Links(keys, ids, speeds, lanes)


@dataclass
class _MovementSpec:
    in_link: int
    out_link: int
    node: object
    turn: str
    lanes: int
    extra_s: float
    via_length_m: float
    rank: int
    lane_indices: tuple[int, ...] | None = None  # SUMO: the link's car lanes that serve it


def network_from_graph(
    graph: nx.MultiDiGraph, params: TrafficParams | None = None, signalised: list | None = None
) -> TrafficNetwork:
    """Build the traffic network of an OSMnx road graph.

    Every edge is a link; every node's movements come from its geometry
    (:func:`twin.traffic.junctions.junction_at`; U-turns only at dead ends). ``signalised`` nodes
    (default: ``highway == "traffic_signals"``) become signal controllers.
    """
    params = params or TrafficParams()
    if signalised is None:
        signalised = signalised_nodes(graph)
    signal_set = set(signalised)
    keys = sorted(graph.edges(keys=True), key=lambda e: (str(e[0]), str(e[1]), e[2]))
    links = _links(graph, keys, [edge_label(graph, e) for e in keys])
    link_index = {e: i for i, e in enumerate(keys)}
    xy = metric_xy(graph)
    specs: list[_MovementSpec] = []
    junctions: dict = {}
    local: dict = {}
    for node in sorted(graph.nodes, key=str):
        neighbours = set(graph.predecessors(node)) | set(graph.successors(node))
        junction = junction_at(graph, node, xy, allow_uturns=len(neighbours - {node}) <= 1)
        if not junction.movements:
            continue
        junctions[node] = junction
        here = _graph_movements(junction, link_index, links, node in signal_set, params)
        local[node] = list(range(len(specs), len(specs) + len(here)))
        specs += here
    controllers = {str(n): local[n] for n in signalised if n in local}
    return _assemble(graph, params, links, specs, junctions, local, controllers)


def _graph_movements(
    junction: Junction, link_index: dict, links: _Links, signalised: bool, params: TrafficParams
) -> list[_MovementSpec]:
    """The movements of one junction of our road graph, with crossing times from its geometry.

    At an unsignalised junction a movement that must give way to a conflicting higher-ranked
    one also pays the time of slowing to the look-out speed.
    """
    speeds, lanes = links.speed_m_per_s, links.lanes
    width = junction_width_m(junction, params.lane_width_m)
    ranks = movement_ranks(junction)
    turns_by_link: dict[int, set[str]] = {}
    for m in junction.movements:
        turns_by_link.setdefault(link_index[m.in_edge], set()).add(m.turn)
    specs = []
    for i, (m, rank) in enumerate(zip(junction.movements, ranks, strict=True)):
        a, b = link_index[m.in_edge], link_index[m.out_edge]
        length, time, v_turn = crossing_path(m.turn, width, speeds[a], speeds[b], params)
        gives_way = not signalised and any(
            junction.conflicts[i, k] and ranks[k] > rank for k in range(len(ranks))
        )
        if gives_way:
            time += lookout_penalty_s(speeds[a], v_turn, speeds[b], params)
        lanes_here = movement_lanes(m.turn, int(lanes[a]), turns_by_link[a])
        specs.append(_MovementSpec(a, b, junction.node, m.turn, lanes_here, time, length, rank))
    return specs


def network_from_sumo(sumo_net: SumoNet, params: TrafficParams | None = None) -> TrafficNetwork:
    """Build the traffic network of a SUMO network: its connections are the movements.

    Lanes per movement, turn direction, right of way (SUMO's major/minor link state) and the
    internal-lane path across the junction come from the ``.net.xml``; conflicts come from the
    geometry like everywhere else. Each ``tlLogic`` is one signal controller.
    """
    params = params or TrafficParams()
    graph = sumo_net.graph
    keys = [sumo_net.edge_key[c] for c in sorted(sumo_net.edge_key)]
    links = _links(graph, keys, [graph.edges[e]["sumo_id"] for e in keys])
    link_index = {e: i for i, e in enumerate(keys)}
    by_pair = {
        (sumo_net.edge_key[c.from_edge], sumo_net.edge_key[c.to_edge]): c for c in sumo_net.connections
    }
    allowed_at: dict = {}
    for a, b in by_pair:
        allowed_at.setdefault(a[1], set()).add((a, b))
    xy = metric_xy(graph)
    specs: list[_MovementSpec] = []
    junctions: dict = {}
    local: dict = {}
    tl_movements: dict[str, list[tuple[int, int]]] = {}
    for node in sorted(graph.nodes, key=str):
        allowed = allowed_at.get(node)
        if not allowed:
            continue
        turns = {pair: by_pair[pair].turn for pair in allowed}
        junction = junction_at(graph, node, xy, allowed=allowed, turns=turns)
        junctions[node] = junction
        local[node] = []
        for m in junction.movements:
            conn = by_pair[(m.in_edge, m.out_edge)]
            local[node].append(len(specs))
            if conn.tl:
                tl_movements.setdefault(conn.tl, []).append((min(conn.link_indices or (0,)), len(specs)))
            specs.append(_sumo_movement(m, conn, link_index, links, node, params))
    controllers = {tl: [m for _, m in sorted(items)] for tl, items in sorted(tl_movements.items())}
    network = _assemble(graph, params, links, specs, junctions, local, controllers)
    network.sumo = sumo_net
    return network


def _sumo_movement(m, conn, link_index: dict, links: _Links, node, params: TrafficParams) -> _MovementSpec:  # noqa: ANN001
    """One SUMO connection as a movement: its internal lanes' time plus the turning losses.

    A minor link (no traffic light, no right of way) looks out and gives way.
    """
    speeds = links.speed_m_per_s
    a, b = link_index[m.in_edge], link_index[m.out_edge]
    v_turn = conn.via_length_m / conn.via_time_s if conn.via_time_s > 0 else min(speeds[a], speeds[b])
    extra = conn.via_time_s + turn_penalty_s(speeds[a], v_turn, speeds[b], params)
    if not conn.tl and not conn.major:  # SUMO's minor link: look out, give way
        extra += lookout_penalty_s(speeds[a], v_turn, speeds[b], params)
    rank = (2 if conn.major else 0) + (1 if m.turn in ("T", "R") else 0)
    return _MovementSpec(
        a,
        b,
        node,
        m.turn,
        max(1, conn.from_lanes),
        extra,
        conn.via_length_m,
        rank,
        conn.lane_indices or tuple(range(max(1, conn.from_lanes))),
    )


# --------------------------------------------------------------------------------------------
# Assembly: the arrays
# --------------------------------------------------------------------------------------------


def _lane_queues(specs: list[_MovementSpec], lanes, mov_in, mov_lanes, sat: float):  # noqa: ANN001, ANN202
    """Lane queues of every link and the queues each movement (then each sink) may use.

    * A SUMO link (its movements know their lanes) gets one queue per car lane; a movement
      uses the lanes SUMO connects, and a trip may end in any lane.
    * Otherwise a single-lane link has one queue for every movement (a turning car blocks
      those behind it), and a multi-lane link one queue per movement standing for its lanes
      (flared approaches with turn lanes, as GB 50647 asks at signalised arterials).

    Returns ``queue_link, queue_lanes, queue_cap_veh_per_s, candidates`` (per movement).
    """
    n_real = len(specs)
    n_links = len(lanes)
    by_link: dict[int, list[int]] = {}
    for m in range(n_real + n_links):
        by_link.setdefault(int(mov_in[m]), []).append(m)
    queue_link: list[int] = []
    queue_lanes: list[int] = []
    queue_cap: list[float] = []
    candidates: list[list[int]] = [[] for _ in range(n_real + n_links)]
    for link in range(n_links):
        movements = by_link.get(link, [])
        real = [m for m in movements if m < n_real]
        if real and all(specs[m].lane_indices is not None for m in real):
            first = len(queue_link)
            for _ in range(int(lanes[link])):
                queue_link.append(link)
                queue_lanes.append(1)
                queue_cap.append(sat)
            for m in real:
                candidates[m] = [first + i for i in specs[m].lane_indices if i < lanes[link]] or [first]
            for m in movements:
                if m >= n_real:
                    candidates[m] = list(range(first, first + int(lanes[link])))
        elif lanes[link] <= 1:
            q = len(queue_link)
            queue_link.append(link)
            queue_lanes.append(1)
            queue_cap.append(sat)
            for m in movements:
                candidates[m] = [q]
        else:
            for m in movements:
                candidates[m] = [len(queue_link)]
                queue_link.append(link)
                queue_lanes.append(int(mov_lanes[m]))
                queue_cap.append(float(mov_lanes[m]) * sat)
    return queue_link, queue_lanes, queue_cap, candidates


def _csr(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """``ptr, items``: row ``i`` is ``items[ptr[i]:ptr[i + 1]]``."""
    ptr = np.zeros(len(rows) + 1, np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    return ptr, np.array([x for r in rows for x in r], np.int64)


def _movement_arrays(specs: list[_MovementSpec], links: _Links, sat: float, params: TrafficParams) -> dict:
    """The movement fields of :class:`TrafficNetwork`: the real movements, then one sink per link."""
    n_links = len(links.keys)
    factor = {"T": 1.0, "L": params.left_turn_factor, "R": params.right_turn_factor, "U": params.uturn_factor}
    return {
        "mov_in": np.array([s.in_link for s in specs] + list(range(n_links)), np.int64),
        "mov_out": np.array([s.out_link for s in specs] + [-1] * n_links, np.int64),
        "mov_node": [s.node for s in specs] + [None] * n_links,
        "mov_turn": [s.turn for s in specs] + ["sink"] * n_links,
        "mov_lanes": np.array([s.lanes for s in specs] + list(links.lanes), np.int64),
        "mov_cap_veh_per_s": np.array([s.lanes * sat * factor[s.turn] for s in specs] + [np.inf] * n_links),
        "mov_extra_s": np.array([s.extra_s for s in specs] + [0.0] * n_links),
        "mov_via_length_m": np.array([s.via_length_m for s in specs] + [0.0] * n_links),
        "mov_rank": np.array([s.rank for s in specs] + [0] * n_links, np.int64),
        "mov_factor": np.array([factor[s.turn] for s in specs] + [1.0] * n_links),
        "link_sink": np.arange(len(specs), len(specs) + n_links),
    }


def _assemble(
    graph: nx.MultiDiGraph,
    params: TrafficParams,
    links: _Links,
    specs: list[_MovementSpec],
    junctions: dict,
    local: dict,
    controllers: dict[str, list[int]],
) -> TrafficNetwork:
    """Lay out links, movements (plus one sink per link), queues and conflicts as arrays."""
    length = np.array([max(float(graph.edges[e]["length"]), 1.0) for e in links.keys])
    sat = params.saturation_flow_veh_per_h_per_lane / 3600.0
    # At least one car per lane: SUMO trims links at junction boundaries, so a link of a
    # junction cluster can be a few decimetres long while its cars stand on the junction.
    storage = np.maximum(links.lanes, np.floor(length * links.lanes / params.jam_spacing_m)).astype(np.int64)
    movements = _movement_arrays(specs, links, sat, params)
    mov_in = movements["mov_in"]
    queue_link, queue_lanes, queue_cap, candidates = _lane_queues(
        specs, links.lanes, mov_in, movements["mov_lanes"], sat
    )
    mov_queue_ptr, mov_queues = _csr(candidates)
    foes: list[list[int]] = [[] for _ in range(len(mov_in))]
    for node, junction in junctions.items():
        ids_here = local[node]
        rows, cols = np.nonzero(junction.conflicts)
        for i, j in zip(rows, cols, strict=True):
            foes[ids_here[i]].append(ids_here[j])
    foe_ptr, foe_mov = _csr([sorted(f) for f in foes])
    network = TrafficNetwork(
        graph=graph,
        params=params,
        link_keys=list(links.keys),
        link_ids=list(links.ids),
        link_length_m=length,
        link_lanes=np.asarray(links.lanes, np.int64),
        link_speed_m_per_s=np.asarray(links.speed_m_per_s, float),
        link_fft_s=length / links.speed_m_per_s,
        link_cap_veh_per_s=links.lanes * sat,
        link_storage_veh=storage,
        mov_queue_ptr=mov_queue_ptr,
        mov_queues=mov_queues,
        queue_link=np.array(queue_link, np.int64),
        queue_lanes=np.array(queue_lanes, np.int64),
        queue_cap_veh_per_s=np.array(queue_cap, float),
        foe_ptr=foe_ptr,
        foe_mov=foe_mov,
        junctions=junctions,
        junction_movements=local,
        controllers=controllers,
        **movements,
    )
    mov_out = movements["mov_out"]
    network.mov_lookup = {(int(mov_in[m]), int(mov_out[m])): m for m in range(len(specs))}
    network.link_index = {e: i for i, e in enumerate(links.keys)}
    return network
