"""The road traffic model: network arrays, routing, the SimPy-driven kernel and its results.

:class:`TrafficNetwork` turns the road layer (an OSMnx graph, or a SUMO network read by
:mod:`twin.io.sumo`) into the arrays of :mod:`kernels.traffic`: links with free-flow time,
discharge capacity (saturation flow × lanes) and storage (length × lanes / jam spacing), and
movements through every junction with their lanes, saturation flow, crossing time, priority
and conflicts (:mod:`twin.junctions`). :class:`LinkRouter` finds fastest routes on the links
and movements. :class:`TrafficModel` runs trips on the network under a
:class:`twin.signals.SignalController`, advanced by one SimPy process of the engine, and turns
the kernel's counters into trip information, per-link counts/speeds/queues by time of day,
junction measures and a :class:`twin.travel_times.TimeOfDayTravelTimes` for other layers.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from twin.config import StrictModel
from twin.errors import InputError

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from twin.engine import Engine
    from twin.traffic.demand import DemandConfig
    from twin.traffic.junctions import Junction
    from twin.traffic.signals import SignalController, SignalPlan, TimingParams
    from twin.traffic.sumo_io import SumoNet

log = logging.getLogger(__name__)


class TrafficParams(StrictModel):
    """Parameters of the traffic model, with their sources (see ``docs/traffic.md``)."""

    step_s: float = Field(default=1.0, gt=0, le=5, description="Kernel time step (s).")
    saturation_flow_veh_per_h_per_lane: float = Field(
        default=1800.0,
        ge=600,
        le=2600,
        description="Saturation flow per through lane (veh/h/lane); HCM base 1900 pc/h/ln, mixed traffic.",
    )
    left_turn_factor: float = Field(default=0.95, gt=0, le=1, description="HCM protected left-turn factor.")
    right_turn_factor: float = Field(default=0.85, gt=0, le=1, description="HCM right-turn factor.")
    uturn_factor: float = Field(default=0.8, gt=0, le=1, description="U-turn saturation factor.")
    jam_spacing_m: float = Field(
        default=7.5, gt=3, le=20, description="Space per stopped car (5 m + 2.5 m gap, SUMO's default car)."
    )
    startup_lost_s: float = Field(
        default=2.0, ge=0, le=6, description="Start-up lost time per green (HCM 6 default 2 s)."
    )
    yellow_extension_s: float = Field(
        default=2.0, ge=0, le=5, description="Yellow still used by drivers (HCM 6 default 2 s)."
    )
    critical_gap_s: float = Field(
        default=4.0,
        gt=0,
        le=10,
        description="Time to the next priority vehicle a yielding movement needs (s).",
    )
    clearance_s: float = Field(
        default=2.0, ge=0, le=10, description="Time a crossing vehicle keeps the conflict area busy (s)."
    )
    lookout_speed_m_per_s: float = Field(
        default=5.0,
        gt=0,
        le=30,
        description="Speed drivers who must give way at an unsignalised junction slow to, to look (m/s).",
    )
    stop_delay_s: float = Field(
        default=5.0, ge=0, le=30, description="Stop-line delay counted as a stop (s)."
    )
    detector_lead_s: float = Field(
        default=3.0, ge=0, le=20, description="Actuated detector set-back (s of travel)."
    )
    accel_m_per_s2: float = Field(default=2.6, gt=0, le=6, description="Acceleration (SUMO default car).")
    decel_m_per_s2: float = Field(
        default=4.5, gt=0, le=9, description="Comfortable deceleration (SUMO default car)."
    )
    lateral_accel_m_per_s2: float = Field(
        default=5.5,
        gt=0,
        le=10,
        description="Lateral acceleration limiting turn speeds (netconvert default).",
    )
    lane_width_m: float = Field(default=3.2, gt=2, le=5, description="Lane width for junction sizes (m).")
    depart_from_rest: bool = Field(
        default=True, description="Trips start at speed 0 (SUMO's default departSpeed)."
    )
    sync_interval_s: float = Field(
        default=10.0, gt=0, le=600, description="Simulated time per kernel call (s)."
    )
    stats_bin_s: float = Field(
        default=900.0, gt=0, le=7200, description="Time-of-day bin of link results (s)."
    )
    gridlock_after_s: float = Field(
        default=300.0, gt=0, description="A spillback cycle blocked this long is gridlock (s)."
    )


# --------------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------------


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

    def kernel_network(self):  # noqa: ANN201 - kernels.traffic.Network
        """The static arrays in the kernel's layout."""
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


def _lanes_of(data: dict) -> int:
    lanes = data.get("lanes", 1)
    if isinstance(lanes, list):
        lanes = lanes[0]
    try:
        return max(1, int(float(lanes)))
    except (TypeError, ValueError):
        return 1


def _speed_of(data: dict) -> float:
    """Free speed of an edge (m/s) from ``speed_kph``, ``maxspeed`` or 50 km/h."""
    for key in ("speed_kph", "maxspeed"):
        value = data.get(key)
        if isinstance(value, list):
            value = value[0]
        try:
            speed = float(value)
        except (TypeError, ValueError):
            continue
        if speed > 0:
            return speed / 3.6
    return 50.0 / 3.6


def _turn_penalty_s(v_in: float, v_turn: float, v_out: float, params: TrafficParams) -> float:
    """Time lost slowing from ``v_in`` to ``v_turn`` and speeding up to ``v_out`` (s)."""
    loss = 0.0
    if v_in > v_turn:
        loss += (v_in - v_turn) ** 2 / (2.0 * params.decel_m_per_s2 * v_in)
    if v_out > v_turn:
        loss += (v_out - v_turn) ** 2 / (2.0 * params.accel_m_per_s2 * v_out)
    return loss


def _lookout_penalty_s(v_in: float, v_turn: float, v_out: float, params: TrafficParams) -> float:
    """Extra time of slowing to the look-out speed (rather than the turn speed) when giving way."""
    v_look = min(v_turn, params.lookout_speed_m_per_s)
    return _turn_penalty_s(v_in, v_look, v_out, params) - _turn_penalty_s(v_in, v_turn, v_out, params)


def _crossing(
    turn: str, width_m: float, v_in: float, v_out: float, params: TrafficParams
) -> tuple[float, float]:
    """Estimated path length (m) and time (s) across a junction ``width_m`` wide."""
    if turn == "T":
        length = width_m
        radius = math.inf
    elif turn == "L":
        radius = max(0.75 * width_m, 6.0)
        length = 0.5 * math.pi * radius
    elif turn == "R":
        radius = max(0.25 * width_m, 5.0)
        length = 0.5 * math.pi * radius
    else:
        radius = 4.0
        length = math.pi * radius
    v_turn = min(v_in, v_out, math.sqrt(params.lateral_accel_m_per_s2 * radius))
    return length, length / v_turn + _turn_penalty_s(v_in, v_turn, v_out, params), v_turn


def _movement_lanes(turn: str, link_lanes: int, turns_on_link: set[str]) -> int:
    """Lanes serving a movement when the data has none (a multi-lane approach).

    GB 50647 flares signalised arterial approaches (approach lanes = link lanes + 1): one left
    lane, one right lane, and the link's lanes less one for through traffic; an approach
    without turns keeps all its lanes for through traffic.
    """
    if link_lanes <= 1:
        return 1
    if turn in ("L", "U", "R"):
        return 1
    return link_lanes - 1 if turns_on_link & {"L", "R", "U"} else link_lanes


def network_from_graph(
    graph: nx.MultiDiGraph, params: TrafficParams | None = None, signalised: list | None = None
) -> TrafficNetwork:
    """Build the traffic network of an OSMnx road graph.

    Every edge is a link; every node's movements come from its geometry
    (:func:`twin.junctions.junction_at`; U-turns only at dead ends). ``signalised`` nodes
    (default: ``highway == "traffic_signals"``) become signal controllers.
    """
    from twin.traffic.junctions import junction_at, metric_xy, movement_ranks, signalised_nodes

    params = params or TrafficParams()
    if signalised is None:
        signalised = signalised_nodes(graph)
    signal_set = set(signalised)
    keys = sorted(graph.edges(keys=True), key=lambda e: (str(e[0]), str(e[1]), e[2]))
    link_index = {e: i for i, e in enumerate(keys)}
    xy = metric_xy(graph)
    speeds = np.array([_speed_of(graph.edges[e]) for e in keys])
    lanes = np.array([_lanes_of(graph.edges[e]) for e in keys])
    specs: list[_MovementSpec] = []
    junctions: dict = {}
    local: dict = {}
    for node in sorted(graph.nodes, key=str):
        neighbours = set(graph.predecessors(node)) | set(graph.successors(node))
        junction = junction_at(graph, node, xy, allow_uturns=len(neighbours - {node}) <= 1)
        if not junction.movements:
            continue
        junctions[node] = junction
        width = params.lane_width_m * max(
            [junction.leg_lanes[i] * 2 for i in range(len(junction.leg_lanes))] + [2]
        )
        ranks = movement_ranks(junction)
        turns_by_link: dict[int, set[str]] = {}
        for m in junction.movements:
            turns_by_link.setdefault(link_index[m.in_edge], set()).add(m.turn)
        local[node] = []
        for i, (m, rank) in enumerate(zip(junction.movements, ranks, strict=True)):
            a, b = link_index[m.in_edge], link_index[m.out_edge]
            length, time, v_turn = _crossing(m.turn, width, speeds[a], speeds[b], params)
            gives_way = node not in signal_set and any(
                junction.conflicts[i, k] and ranks[k] > rank for k in range(len(ranks))
            )
            if gives_way:
                time += _lookout_penalty_s(speeds[a], v_turn, speeds[b], params)
            local[node].append(len(specs))
            specs.append(
                _MovementSpec(
                    a,
                    b,
                    node,
                    m.turn,
                    _movement_lanes(m.turn, int(lanes[a]), turns_by_link[a]),
                    time,
                    length,
                    rank,
                )
            )
    controllers = {str(n): local[n] for n in signalised if n in local}
    return _assemble(
        graph,
        params,
        keys,
        [edge_label(graph, e) for e in keys],
        speeds,
        lanes,
        specs,
        junctions,
        local,
        controllers,
    )


def edge_label(graph: nx.MultiDiGraph, edge: tuple) -> str:
    """A text id of an edge: its SUMO id if it has one, else ``u_v_key``."""
    sumo_id = graph.edges[edge].get("sumo_id")
    return str(sumo_id) if sumo_id else f"{edge[0]}_{edge[1]}_{edge[2]}"


def network_from_sumo(sumo_net: SumoNet, params: TrafficParams | None = None) -> TrafficNetwork:
    """Build the traffic network of a SUMO network: its connections are the movements.

    Lanes per movement, turn direction, right of way (SUMO's major/minor link state) and the
    internal-lane path across the junction come from the ``.net.xml``; conflicts come from the
    geometry like everywhere else. Each ``tlLogic`` is one signal controller.
    """
    from twin.traffic.junctions import junction_at, metric_xy

    params = params or TrafficParams()
    graph = sumo_net.graph
    keys = [sumo_net.edge_key[c] for c in sorted(sumo_net.edge_key)]
    link_index = {e: i for i, e in enumerate(keys)}
    ids = [graph.edges[e]["sumo_id"] for e in keys]
    speeds = np.array([_speed_of(graph.edges[e]) for e in keys])
    lanes = np.array([_lanes_of(graph.edges[e]) for e in keys])
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
            a, b = link_index[m.in_edge], link_index[m.out_edge]
            v_turn = conn.via_length_m / conn.via_time_s if conn.via_time_s > 0 else min(speeds[a], speeds[b])
            extra = conn.via_time_s + _turn_penalty_s(speeds[a], v_turn, speeds[b], params)
            if not conn.tl and not conn.major:  # SUMO's minor link: look out, give way
                extra += _lookout_penalty_s(speeds[a], v_turn, speeds[b], params)
            rank = (2 if conn.major else 0) + (1 if m.turn in ("T", "R") else 0)
            local[node].append(len(specs))
            if conn.tl:
                tl_movements.setdefault(conn.tl, []).append((min(conn.link_indices or (0,)), len(specs)))
            specs.append(
                _MovementSpec(
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
            )
    controllers = {tl: [m for _, m in sorted(items)] for tl, items in sorted(tl_movements.items())}
    network = _assemble(graph, params, keys, ids, speeds, lanes, specs, junctions, local, controllers)
    network.sumo = sumo_net
    return network


def _lane_queues(specs: list[_MovementSpec], lanes, mov_in, mov_lanes, sat: float):
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


def _assemble(
    graph,
    params: TrafficParams,
    keys,
    ids,
    speeds,
    lanes,
    specs: list[_MovementSpec],
    junctions: dict,
    local: dict,
    controllers: dict[str, list[int]],
) -> TrafficNetwork:
    """Lay out links, movements (plus one sink per link), queues and conflicts as arrays."""
    n_links = len(keys)
    length = np.array([max(float(graph.edges[e]["length"]), 1.0) for e in keys])
    fft = length / speeds
    sat = params.saturation_flow_veh_per_h_per_lane / 3600.0
    cap = lanes * sat
    # At least one car per lane: SUMO trims links at junction boundaries, so a link of a
    # junction cluster can be a few decimetres long while its cars stand on the junction.
    storage = np.maximum(lanes, np.floor(length * lanes / params.jam_spacing_m)).astype(np.int64)
    factor = {"T": 1.0, "L": params.left_turn_factor, "R": params.right_turn_factor, "U": params.uturn_factor}
    n_real = len(specs)
    mov_in = np.array([s.in_link for s in specs] + list(range(n_links)), np.int64)
    mov_out = np.array([s.out_link for s in specs] + [-1] * n_links, np.int64)
    mov_turn = [s.turn for s in specs] + ["sink"] * n_links
    mov_node = [s.node for s in specs] + [None] * n_links
    mov_lanes = np.array([s.lanes for s in specs] + list(lanes), np.int64)
    mov_cap = np.array([s.lanes * sat * factor[s.turn] for s in specs] + [np.inf] * n_links)
    mov_extra = np.array([s.extra_s for s in specs] + [0.0] * n_links)
    mov_via = np.array([s.via_length_m for s in specs] + [0.0] * n_links)
    mov_rank = np.array([s.rank for s in specs] + [0] * n_links, np.int64)
    link_sink = np.arange(n_real, n_real + n_links)
    mov_factor = np.array([factor[s.turn] for s in specs] + [1.0] * n_links)
    queue_link, queue_lanes, queue_cap, candidates = _lane_queues(specs, lanes, mov_in, mov_lanes, sat)
    mov_queue_ptr = np.zeros(n_real + n_links + 1, np.int64)
    mov_queue_ptr[1:] = np.cumsum([len(c) for c in candidates])
    mov_queues = np.array([q for c in candidates for q in c], np.int64)
    foes: list[list[int]] = [[] for _ in range(n_real + n_links)]
    for node, junction in junctions.items():
        ids_here = local[node]
        rows, cols = np.nonzero(junction.conflicts)
        for i, j in zip(rows, cols, strict=True):
            foes[ids_here[i]].append(ids_here[j])
    foe_ptr = np.zeros(n_real + n_links + 1, np.int64)
    foe_ptr[1:] = np.cumsum([len(f) for f in foes])
    foe_mov = np.array([f for fs in foes for f in sorted(fs)], np.int64)
    network = TrafficNetwork(
        graph=graph,
        params=params,
        link_keys=list(keys),
        link_ids=list(ids),
        link_length_m=length,
        link_lanes=np.asarray(lanes, np.int64),
        link_speed_m_per_s=np.asarray(speeds, float),
        link_fft_s=fft,
        link_cap_veh_per_s=cap,
        link_storage_veh=storage,
        mov_in=mov_in,
        mov_out=mov_out,
        mov_node=mov_node,
        mov_turn=mov_turn,
        mov_lanes=mov_lanes,
        mov_cap_veh_per_s=mov_cap,
        mov_extra_s=mov_extra,
        mov_via_length_m=mov_via,
        mov_rank=mov_rank,
        mov_queue_ptr=mov_queue_ptr,
        mov_queues=mov_queues,
        mov_factor=mov_factor,
        queue_link=np.array(queue_link, np.int64),
        queue_lanes=np.array(queue_lanes, np.int64),
        queue_cap_veh_per_s=np.array(queue_cap, float),
        foe_ptr=foe_ptr,
        foe_mov=foe_mov,
        junctions=junctions,
        junction_movements=local,
        controllers=controllers,
        link_sink=link_sink,
    )
    network.mov_lookup = {(int(mov_in[m]), int(mov_out[m])): m for m in range(n_real)}
    network.link_index = {e: i for i, e in enumerate(keys)}
    return network


# --------------------------------------------------------------------------------------------
# Signal plans for a network
# --------------------------------------------------------------------------------------------


def default_plans(network: TrafficNetwork, timing: TimingParams) -> list[SignalPlan]:
    """Default fixed-time plans for the network's controllers.

    SUMO networks keep their own programmes (:func:`plans_from_sumo`); graph junctions get the
    phases of :func:`twin.junctions.default_phases` on the default cycle, split equally.
    """
    if network.sumo is not None:
        return plans_from_sumo(network, timing)
    from twin.traffic.junctions import default_phases
    from twin.traffic.signals import Phase, SignalPlan

    plans = []
    for controller, movements in network.controllers.items():
        node = network.mov_node[movements[0]]
        junction: Junction = network.junctions[node]
        groups = default_phases(junction)
        intergreen = timing.yellow_s + timing.all_red_s
        green = max(timing.min_green_s, (timing.default_cycle_s - intergreen * len(groups)) / len(groups))
        phases = [
            Phase(
                "".join(group.get(k, "r") for k in range(len(movements))),
                green,
                timing.yellow_s,
                timing.all_red_s,
                timing.min_green_s,
                timing.max_green_s,
            )
            for group in groups
        ]
        plans.append(SignalPlan.from_phases(controller, movements, phases))
    return plans


_SUMO_CODE = {"G": 3, "O": 3, "g": 2, "s": 2, "o": 2, "y": 1, "Y": 1, "u": 0, "r": 0}


def plans_from_sumo(network: TrafficNetwork, timing: TimingParams) -> list[SignalPlan]:
    """The network's ``tlLogic`` programmes as our plans.

    Each SUMO phase that gives green to a movement not green before starts a phase of ours;
    the SUMO phases after it that only take green away (yellow, all-red) are its transition:
    their durations with a yellow are its yellow time, the rest its all-red. The cycle and the
    offset are kept; a programme starting inside a transition is rotated to start at a green.
    """
    from twin.traffic.signals import Phase, SignalPlan

    sumo = network.sumo
    by_pair = {(sumo.edge_key[c.from_edge], sumo.edge_key[c.to_edge]): c for c in sumo.connections}
    plans = []
    for controller, movements in network.controllers.items():
        program = sumo.programs.get(controller)
        if program is None:
            continue
        links = [
            by_pair[
                (network.link_keys[network.mov_in[m]], network.link_keys[network.mov_out[m]])
            ].link_indices
            for m in movements
        ]
        codes = []
        for phase in program.phases:
            state = phase.state
            codes.append(
                [
                    max((_SUMO_CODE.get(state[i], 0) for i in idx if i < len(state)), default=0)
                    for idx in links
                ]
            )
        greens = [[c >= 2 for c in row] for row in codes]
        starts = []
        for i in range(len(codes)):
            prev = greens[i - 1]
            if any(g and not p for g, p in zip(greens[i], prev, strict=True)):
                starts.append(i)
        if not starts:
            starts = [0]
        offset = program.offset_s
        first = starts[0]
        offset += sum(p.duration_s for p in program.phases[:first])  # rotation keeps absolute timing
        phases = []
        for s_pos, start in enumerate(starts):
            end = starts[(s_pos + 1) % len(starts)]
            span = list(range(start, end if end > start else len(codes))) + (
                list(range(0, end)) if end <= start else []
            )
            sumo_phase = program.phases[start]
            yellow = sum(program.phases[i].duration_s for i in span[1:] if 1 in codes[i])
            all_red = sum(program.phases[i].duration_s for i in span[1:] if 1 not in codes[i])
            letters = "".join("G" if c == 3 else "g" if c == 2 else "r" for c in codes[start])
            min_green = (
                sumo_phase.min_dur_s
                if sumo_phase.min_dur_s is not None
                else min(timing.min_green_s, sumo_phase.duration_s)
            )
            max_green = (
                sumo_phase.max_dur_s
                if sumo_phase.max_dur_s is not None
                else max(timing.max_green_s, sumo_phase.duration_s)
            )
            phases.append(Phase(letters, sumo_phase.duration_s, yellow, all_red, min_green, max_green))
        strategy = "actuated" if program.kind == "actuated" else "fixed"
        # SUMO's offset is when phase 0 starts (cycle position = (t − offset) mod C), as ours.
        plans.append(
            SignalPlan.from_phases(
                controller,
                movements,
                phases,
                offset_s=offset % max(sum(p.duration_s for p in program.phases), 1e-9),
                strategy=strategy,
            )
        )
    return plans


# --------------------------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------------------------


class LinkRouter:
    """Fastest routes over links and allowed movements (Dijkstra on the link graph).

    The cost of continuing from link ``a`` onto link ``b`` is the movement's crossing time
    plus ``b``'s travel time; a route's cost starts with its first link's time.
    """

    def __init__(self, network: TrafficNetwork, link_time_s: np.ndarray | None = None) -> None:
        from scipy.sparse import csr_matrix

        self.network = network
        time = network.link_fft_s if link_time_s is None else np.asarray(link_time_s, float)
        real = network.mov_out >= 0
        a = network.mov_in[real]
        b = network.mov_out[real]
        cost = network.mov_extra_s[real] + time[b] + 1e-6  # explicit zeros would vanish
        self.link_time_s = time
        self.matrix = csr_matrix((cost, (a, b)), shape=(network.n_links, network.n_links))

    def routes(
        self, origins: np.ndarray, destinations: np.ndarray, chunk: int = 64
    ) -> list[np.ndarray | None]:
        """Link sequences from each origin link to its destination link (``None`` if unreachable)."""
        from scipy.sparse.csgraph import dijkstra

        origins = np.asarray(origins, np.int64)
        destinations = np.asarray(destinations, np.int64)
        out: list[np.ndarray | None] = [None] * len(origins)
        unique = np.unique(origins)
        for start in range(0, len(unique), chunk):
            block = unique[start : start + chunk]
            _, pred = dijkstra(self.matrix, indices=block, return_predecessors=True)
            row_of = {int(o): i for i, o in enumerate(block)}
            for t in np.nonzero(np.isin(origins, block))[0]:
                o, d = int(origins[t]), int(destinations[t])
                out[t] = _walk_back(pred[row_of[o]], o, d)
        return out

    def route_time_s(self, route: np.ndarray) -> float:
        """Free-flow (or current-cost) time of a route (s)."""
        lookup = self.network.mov_lookup
        total = float(self.link_time_s[route[0]])
        for a, b in zip(route[:-1], route[1:], strict=True):
            total += float(self.network.mov_extra_s[lookup[(int(a), int(b))]] + self.link_time_s[b])
        return total


def _walk_back(pred: np.ndarray, origin: int, destination: int) -> np.ndarray | None:
    if origin == destination:
        return np.array([origin], np.int64)
    if pred[destination] < 0:
        return None
    path = [destination]
    node = destination
    while node != origin:
        node = int(pred[node])
        if node < 0:
            return None
        path.append(node)
    return np.array(path[::-1], np.int64)


# --------------------------------------------------------------------------------------------
# Trips
# --------------------------------------------------------------------------------------------


@dataclass
class Trips:
    """Vehicles to simulate: ids, departure times (s) and routes (link indices)."""

    ids: list[str]
    depart_s: np.ndarray
    routes: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.ids)

    def kernel_vehicles(self, network: TrafficNetwork):  # noqa: ANN201 - kernels.traffic.Vehicles
        """Flatten routes into the kernel's arrays (movement at the end of each link)."""
        from kernels.traffic.layout import Vehicles

        lengths = np.array([len(r) for r in self.routes], np.int64)
        ptr = np.zeros(len(self.routes), np.int64)
        if len(lengths):
            ptr[1:] = np.cumsum(lengths)[:-1]
        links = np.concatenate(self.routes) if self.routes else np.zeros(0, np.int64)
        movs = np.empty(len(links), np.int64)
        lookup = network.mov_lookup
        for v, route in enumerate(self.routes):
            base = ptr[v]
            for i in range(len(route) - 1):
                key = (int(route[i]), int(route[i + 1]))
                if key not in lookup:
                    raise InputError(
                        f"vehicle {self.ids[v]}: no connection from {network.link_ids[key[0]]} "
                        f"to {network.link_ids[key[1]]}"
                    )
                movs[base + i] = lookup[key]
            movs[base + len(route) - 1] = network.link_sink[route[-1]]
        order = np.argsort(self.depart_s, kind="stable").astype(np.int64)
        return Vehicles(
            depart_s=np.asarray(self.depart_s, float),
            depart_order=order,
            route_ptr=ptr,
            route_len=lengths,
            route_link=links.astype(np.int64),
            route_mov=movs,
        )


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass
class Gridlock:
    """A cycle of full links whose heads wait for each other."""

    time_s: float
    links: list[str]
    nodes: list


class TrafficModel:
    """Trips on a network under signal control, advanced by one SimPy process.

    Parameters
    ----------
    network
        The :class:`TrafficNetwork`.
    controller
        The :class:`twin.signals.SignalController` (its arrays drive the kernel's signals).
    trips
        The vehicles.
    begin_s
        Simulated time (s) at which the model starts (trip departure times are on this clock;
        the engine's time 0 is ``begin_s``).
    use_reference
        Run the plain-Python reference instead of the Numba kernel (tests only; slow).
    """

    def __init__(
        self,
        network: TrafficNetwork,
        controller: SignalController,
        trips: Trips,
        begin_s: float = 0.0,
        use_reference: bool = False,
    ) -> None:
        from kernels.traffic.layout import new_state

        self.network = network
        self.controller = controller
        self.trips = trips
        self.begin_s = float(begin_s)
        self.time_s = float(begin_s)
        self.use_reference = use_reference
        self.net = network.kernel_network()
        self.veh = trips.kernel_vehicles(network)
        self.state = new_state(self.net, controller.arrays, self.veh)
        controller.set_initial_positions(self.state)
        self._init_unsignalised_states()
        self.snapshots: list[dict[str, np.ndarray]] = []
        self._queue_samples: list[np.ndarray] = []
        self.gridlocks: list[Gridlock] = []
        self._gridlock_seen: set[frozenset] = set()
        self._last_moves = 0
        self._last_move_time = self.time_s
        self.stalled_at_s: float | None = None
        self.kernel_calls = 0
        self.measure_from_s = self.time_s
        self._base: dict[str, np.ndarray] = {}
        self._snapshot()

    def _init_unsignalised_states(self) -> None:
        """Movements outside signal controllers are permanently permitted green (yield by rank)."""
        from kernels.traffic.layout import PERMITTED

        signalled = np.zeros(self.network.n_movements, dtype=bool)
        for movements in self.network.controllers.values():
            signalled[list(movements)] = True
        self.state.mov_state[~signalled] = PERMITTED

    # -- running -------------------------------------------------------------------------------
    def advance_to(self, end_s: float) -> None:
        """Advance the kernel to ``end_s`` (whole steps) and collect statistics on the way."""
        from kernels.traffic.reference import advance_reference
        from kernels.traffic.step import advance

        dt = self.network.params.step_s
        step = advance_reference if self.use_reference else advance
        empty = np.zeros((0, 3), np.int64)
        while self.time_s < end_s - 1e-9:
            n = max(1, int(round(min(self.network.params.sync_interval_s, end_s - self.time_s) / dt)))
            next_bin = self._next_bin_s()
            if self.time_s + n * dt > next_bin + 1e-9:
                n = max(1, int(round((next_bin - self.time_s) / dt)))
            self.time_s = float(
                step(self.time_s, n, self.net, self.controller.arrays, self.veh, self.state, empty)
            )
            self.kernel_calls += 1
            self._after_block()

    def process(self, engine: Engine, duration_s: float):
        """The SimPy process: advance by ``sync_interval_s`` blocks, letting others interleave."""
        end_s = self.begin_s + duration_s
        while self.time_s < end_s - 1e-9:
            block_end = min(self.time_s + self.network.params.sync_interval_s, end_s)
            self.advance_to(block_end)
            yield engine.env.timeout(max(self.time_s - self.begin_s - engine.env.now, 0.0))

    def attach(self, engine: Engine, duration_s: float | None = None):
        """Start the model's process on ``engine`` (for ``duration_s``, default the engine's)."""
        return engine.process(self.process(engine, engine.duration_s if duration_s is None else duration_s))

    def _next_bin_s(self) -> float:
        """The next time-of-day bin boundary: bins are whole multiples of ``stats_bin_s`` on the
        model's clock (so 07:00, 07:15, ... when time 0 is a quarter hour)."""
        bin_s = self.network.params.stats_bin_s
        return (math.floor(self.time_s / bin_s + 1e-9) + 1) * bin_s

    def _after_block(self) -> None:
        self._queue_samples.append(self.state.queue_now.copy())
        bin_s = self.network.params.stats_bin_s
        if abs(self.time_s / bin_s - round(self.time_s / bin_s)) < 1e-9:
            self._snapshot()
        self.controller.adaptive_update(self.time_s, self.state)
        self._check_gridlock()

    def _snapshot(self) -> None:
        self.snapshots.append(self._current())
        self._queue_samples = []

    def _snapshots_to_now(self) -> list[dict]:
        """The bin snapshots, plus one for now if the run ended inside a bin."""
        if self.snapshots and self.snapshots[-1]["time_s"] < self.time_s - 1e-9:
            return [*self.snapshots, self._current()]
        return self.snapshots

    def _current(self) -> dict:
        """Cumulative link counters now, and the largest queue sampled since the last bin."""
        st = self.state
        link_queue = np.zeros(self.network.n_links)
        np.add.at(link_queue, self.network.queue_link, st.queue_sum)
        samples = np.array(self._queue_samples) if self._queue_samples else np.zeros((1, len(st.queue_now)))
        queue_max = np.zeros(self.network.n_links)
        np.maximum.at(queue_max, self.network.queue_link, samples.max(axis=0))
        return {
            "time_s": self.time_s,
            "entered": st.link_entered.copy(),
            "exited": st.link_exited.copy(),
            "time_sum_s": st.link_time_sum_s.copy(),
            "queue_sum": link_queue,
            "queue_max": queue_max,
            "occupancy": st.link_occ.copy(),
        }

    def _check_gridlock(self) -> None:
        """Report cycles of spillback that have not moved for ``gridlock_after_s``."""
        import networkx as nx

        from kernels.traffic.layout import C_MOVES

        st, net = self.state, self.network
        moves = int(st.counters[C_MOVES])
        if moves != self._last_moves:
            self._last_moves, self._last_move_time = moves, self.time_s
        in_network = int(st.link_occ.sum())
        if (
            in_network
            and self.time_s - self._last_move_time >= net.params.gridlock_after_s
            and self.stalled_at_s is None
        ):
            self.stalled_at_s = self.time_s
        blocked = np.nonzero(
            (st.queue_blocked_s >= 0) & (self.time_s - st.queue_blocked_s >= net.params.gridlock_after_s)
        )[0]
        if not len(blocked):
            return
        waits = nx.DiGraph()
        for q in blocked:
            v = st.queue_head[q]
            if v < 0:
                continue
            m = self.veh.route_mov[self.veh.route_ptr[v] + st.veh_pos[v]]
            if net.mov_out[m] >= 0:
                waits.add_edge(int(net.mov_in[m]), int(net.mov_out[m]))
        for component in nx.strongly_connected_components(waits):
            if len(component) < 2:
                continue
            key = frozenset(component)
            if key in self._gridlock_seen:
                continue
            self._gridlock_seen.add(key)
            links = sorted(component)
            nodes = sorted({net.link_keys[i][1] for i in links}, key=str)
            self.gridlocks.append(Gridlock(self.time_s, [net.link_ids[i] for i in links], nodes))
            log.warning("gridlock at %.0f s on %d links around nodes %s", self.time_s, len(links), nodes[:5])

    # -- results -------------------------------------------------------------------------------
    _MEASURED = ("mov_passed", "mov_joined", "mov_delay_sum_s", "mov_stops", "mov_open_s", "queue_sum")

    def start_measuring(self) -> None:
        """Measure junctions and trips from now on (after a warm-up): counters restart at zero."""
        self.measure_from_s = self.time_s
        self._base = {name: getattr(self.state, name).copy() for name in self._MEASURED}
        self.state.queue_max[:] = 0

    def _measured(self, name: str) -> np.ndarray:
        """A cumulative counter of the state since :meth:`start_measuring`."""
        value = getattr(self.state, name)
        return value - self._base[name] if name in self._base else value

    @property
    def vehicle_link_updates(self) -> int:
        """Vehicle-link updates so far (insertions, junction crossings, arrivals)."""
        from kernels.traffic.layout import C_MOVES

        return int(self.state.counters[C_MOVES])

    def tripinfo(self) -> pd.DataFrame:
        """One row per finished trip: ``id, depart_s, arrival_s, duration_s, route_length_m,
        time_loss_s`` (time loss: duration less the free-flow time at the speed limits)."""
        import pandas as pd

        st, veh, net = self.state, self.veh, self.network
        done = np.nonzero(~np.isnan(st.veh_arrive_s))[0]
        lengths = np.empty(len(done))
        ideal = np.empty(len(done))
        for i, v in enumerate(done):
            a, b = veh.route_ptr[v], veh.route_ptr[v] + veh.route_len[v]
            links = veh.route_link[a:b]
            movs = veh.route_mov[a : b - 1]
            via = net.mov_via_length_m[movs]
            lengths[i] = net.link_length_m[links].sum() + via.sum()
            ideal[i] = (
                net.link_fft_s[links].sum() + (via / net.link_speed_m_per_s[links[:-1]]).sum()
                if len(movs)
                else net.link_fft_s[links].sum()
            )
        duration = st.veh_arrive_s[done] - st.veh_start_s[done]
        return pd.DataFrame(
            {
                "id": [self.trips.ids[v] for v in done],
                "depart_s": st.veh_start_s[done],
                "arrival_s": st.veh_arrive_s[done],
                "duration_s": duration,
                "route_length_m": lengths,
                "time_loss_s": np.maximum(duration - ideal, 0.0),
            }
        )

    def free_flow_time_s(self, vehicles: np.ndarray) -> np.ndarray:
        """Free-flow trip times (links and junction crossings) of the given vehicles (s)."""
        veh, net = self.veh, self.network
        out = np.empty(len(vehicles))
        for i, v in enumerate(vehicles):
            a, b = veh.route_ptr[v], veh.route_ptr[v] + veh.route_len[v]
            out[i] = (
                net.link_fft_s[veh.route_link[a:b]].sum() + net.mov_extra_s[veh.route_mov[a : b - 1]].sum()
            )
        return out

    def kpis(self) -> dict[str, float]:
        """Network measures of the run so far."""
        st = self.state
        done = np.nonzero(st.veh_arrive_s >= self.measure_from_s)[0]  # NaN compares False
        duration = st.veh_arrive_s[done] - st.veh_start_s[done]
        hours = max(self.time_s - self.measure_from_s, 1e-9) / 3600.0
        free = self.free_flow_time_s(done)
        return {
            "mean_travel_time_s": float(duration.mean()) if len(done) else math.nan,
            "throughput_veh": int(len(done)),
            "throughput_veh_per_h": len(done) / hours,
            "teleports": 0,
            "departed_veh": int(np.count_nonzero(~np.isnan(st.veh_start_s))),
            "in_network_veh": int(st.link_occ.sum()),
            "waiting_to_depart_veh": int(
                np.count_nonzero(np.isnan(st.veh_start_s) & (self.veh.depart_s < self.time_s))
            ),
            "travel_time_index_ratio": float(duration.sum() / free.sum()) if len(done) else math.nan,
            "gridlocks_count": len(self.gridlocks),
            "vehicle_link_updates_count": self.vehicle_link_updates,
        }

    def link_table(self) -> pd.DataFrame:
        """Per link and time bin: entries, exits, mean travel time and speed, mean/max queue."""
        import pandas as pd

        net = self.network
        rows = []
        snapshots = self._snapshots_to_now()
        for before, after in zip(snapshots[:-1], snapshots[1:], strict=True):
            span = after["time_s"] - before["time_s"]
            exited = after["exited"] - before["exited"]
            tt = np.where(
                exited > 0, (after["time_sum_s"] - before["time_sum_s"]) / np.maximum(exited, 1), np.nan
            )
            rows.append(
                pd.DataFrame(
                    {
                        "link": net.link_ids,
                        "u": [str(k[0]) for k in net.link_keys],
                        "v": [str(k[1]) for k in net.link_keys],
                        "key": [int(k[2]) for k in net.link_keys],
                        "bin_start_s": before["time_s"],
                        "entered_veh": after["entered"] - before["entered"],
                        "exited_veh": exited,
                        "flow_veh_per_h": exited * 3600.0 / span,
                        "mean_travel_time_s": tt,
                        "mean_speed_m_per_s": net.link_length_m / tt,
                        "mean_queue_veh": (after["queue_sum"] - before["queue_sum"]) / span,
                        "max_queue_veh": after["queue_max"],
                        "occupancy_end_veh": after["occupancy"],
                    }
                )
            )
        if not rows:
            return pd.DataFrame()
        return pd.concat(rows, ignore_index=True)

    def travel_times(self):  # noqa: ANN201 - twin.travel_times.TimeOfDayTravelTimes
        """Link travel time by time of day for other layers (buses, repair crews).

        Bins without an exit use the free-flow time, raised to the time already spent by any
        vehicle still on the link at the bin's end (so a jammed link never looks free).
        """
        from twin.city.travel_times import FreeFlowTravelTimes, TimeOfDayTravelTimes

        net = self.network
        bins = []
        columns = []
        snapshots = self._snapshots_to_now()
        for before, after in zip(snapshots[:-1], snapshots[1:], strict=True):
            exited = after["exited"] - before["exited"]
            tt = np.where(
                exited > 0,
                (after["time_sum_s"] - before["time_sum_s"]) / np.maximum(exited, 1),
                net.link_fft_s,
            )
            bins.append(before["time_s"])
            columns.append(np.maximum(tt, net.link_fft_s))
        if not columns:
            bins, columns = [self.begin_s], [net.link_fft_s]
        table = np.column_stack(columns)
        edges = [tuple(k) for k in net.link_keys]
        return TimeOfDayTravelTimes(edges, np.array(bins), table, FreeFlowTravelTimes(net.graph))

    def movement_table(self) -> pd.DataFrame:
        """Per movement through a junction (since :meth:`start_measuring`): demand, crossings,
        mean stop-line delay, stops per vehicle, and v/c (demand over saturation flow × the
        time the movement was open)."""
        import pandas as pd

        net = self.network
        real = np.nonzero(net.mov_out >= 0)[0]
        span = max(self.time_s - self.measure_from_s, 1e-9)
        passed = self._measured("mov_passed")[real]
        joined = self._measured("mov_joined")[real]
        open_s = self._measured("mov_open_s")[real]
        delay_sum = self._measured("mov_delay_sum_s")[real]
        stops = self._measured("mov_stops")[real]
        capacity_veh = net.mov_cap_veh_per_s[real] * open_s
        unsignalled = np.array([net.mov_node[m] is not None for m in real]) & (open_s == 0)
        capacity_veh = np.where(unsignalled, net.mov_cap_veh_per_s[real] * span, capacity_veh)
        return pd.DataFrame(
            {
                "movement": real,
                "node": [str(net.mov_node[m]) for m in real],
                "in_link": [net.link_ids[i] for i in net.mov_in[real]],
                "out_link": [net.link_ids[i] for i in net.mov_out[real]],
                "turn": [net.mov_turn[m] for m in real],
                "demand_veh": joined,
                "passed_veh": passed,
                "mean_delay_s": np.where(passed > 0, delay_sum / np.maximum(passed, 1), 0.0),
                "stops_per_veh": np.where(passed > 0, stops / np.maximum(passed, 1), 0.0),
                "v_over_c_ratio": np.where(capacity_veh > 0, joined / np.maximum(capacity_veh, 1e-9), np.inf),
            }
        )

    def junction_table(self, nodes: list | None = None, jam_spacing_m: float | None = None) -> pd.DataFrame:
        """Per junction: volume, control delay, stops, queues (veh and m), critical v/c."""
        import pandas as pd

        net, st = self.network, self.state
        spacing = jam_spacing_m or net.params.jam_spacing_m
        span = max(self.time_s - self.measure_from_s, 1e-9)
        queue_sum = self._measured("queue_sum")
        moves = self.movement_table()
        if nodes is None:
            nodes = [net.mov_node[m[0]] for m in net.controllers.values()]
        rows = []
        for node in nodes:
            here = moves[moves["node"] == str(node)]
            passed = int(here["passed_veh"].sum())
            delay = float((here["mean_delay_s"] * here["passed_veh"]).sum() / passed) if passed else 0.0
            stops = float((here["stops_per_veh"] * here["passed_veh"]).sum() / passed) if passed else 0.0
            in_links = sorted({int(net.mov_in[m]) for m in net.junction_movements.get(node, [])})
            queues = np.nonzero(np.isin(net.queue_link, in_links))[0]
            mean_q = queue_sum[queues] / span
            max_q = st.queue_max[queues]
            metres = spacing / np.maximum(net.queue_lanes[queues], 1)
            rows.append(
                {
                    "node": str(node),
                    "volume_veh": passed,
                    "control_delay_s_per_veh": delay,
                    "stops_per_veh": stops,
                    "mean_queue_veh": float(mean_q.max()) if len(queues) else 0.0,
                    "max_queue_veh": int(max_q.max()) if len(queues) else 0,
                    "mean_queue_m": float((mean_q * metres).max()) if len(queues) else 0.0,
                    "max_queue_m": float((max_q * metres).max()) if len(queues) else 0.0,
                    "v_over_c_ratio": float(here["v_over_c_ratio"].replace(np.inf, np.nan).max())
                    if len(here)
                    else 0.0,
                }
            )
        return pd.DataFrame(rows)


def simulate(
    network: TrafficNetwork,
    plans: list[SignalPlan],
    trips: Trips,
    begin_s: float,
    end_s: float,
    timing: TimingParams | None = None,
    engine: Engine | None = None,
    use_reference: bool = False,
) -> TrafficModel:
    """Run ``trips`` on ``network`` under ``plans`` from ``begin_s`` to ``end_s``; return the model.

    A fresh :class:`twin.engine.Engine` is used unless one is given (its clock starts at 0 =
    ``begin_s``).
    """
    from twin.engine import Engine
    from twin.traffic.signals import SignalController, TimingParams

    timing = timing or TimingParams()
    controller = SignalController.build(network, plans, timing)
    model = TrafficModel(network, controller, trips, begin_s=begin_s, use_reference=use_reference)
    if engine is None:
        from datetime import datetime

        engine = Engine(seed=0, start=datetime(2025, 6, 3, 7, 0, 0), duration_s=end_s - begin_s)
    model.attach(engine, end_s - begin_s)
    engine.env.run(until=end_s - begin_s + 1e-6)
    return model


def trips_from_sumo(network: TrafficNetwork, sumo_trips) -> tuple[Trips, list[str]]:  # noqa: ANN001
    """Our trips from SUMO route-file vehicles; ``<trip>`` origins/destinations are routed.

    Returns the trips and the ids of vehicles that could not be used (unknown edge, no route).
    """
    index = {sid: i for i, sid in enumerate(network.link_ids)}
    router = None
    ids, departs, routes, skipped = [], [], [], []
    pending = []
    for trip in sumo_trips:
        if trip.edges is not None:
            try:
                route = np.array([index[e] for e in trip.edges], np.int64)
            except KeyError:
                skipped.append(trip.id)
                continue
            if any(
                (int(a), int(b)) not in network.mov_lookup for a, b in zip(route[:-1], route[1:], strict=True)
            ):
                skipped.append(trip.id)
                continue
            ids.append(trip.id)
            departs.append(trip.depart_s)
            routes.append(route)
        else:
            stops = [trip.from_edge, *trip.via, trip.to_edge]
            if any(s not in index for s in stops):
                skipped.append(trip.id)
                continue
            pending.append((trip, [index[s] for s in stops]))
    if pending:
        router = LinkRouter(network)
        legs_o, legs_d, owner = [], [], []
        for t, (_, stops) in enumerate(pending):
            for a, b in zip(stops[:-1], stops[1:], strict=True):
                legs_o.append(a)
                legs_d.append(b)
                owner.append(t)
        found = router.routes(np.array(legs_o), np.array(legs_d))
        pieces: dict[int, list] = {}
        for t, piece in zip(owner, found, strict=True):
            pieces.setdefault(t, []).append(piece)
        for t, (trip, _) in enumerate(pending):
            parts = pieces[t]
            if any(p is None for p in parts):
                skipped.append(trip.id)
                continue
            route = np.concatenate([parts[0]] + [p[1:] for p in parts[1:]])
            ids.append(trip.id)
            departs.append(trip.depart_s)
            routes.append(route)
    order = np.argsort(np.array(departs), kind="stable") if departs else np.array([], int)
    trips = Trips(
        [ids[i] for i in order],
        np.array(departs, float)[order] if departs else np.zeros(0),
        [routes[i] for i in order],
    )
    return trips, skipped


# --------------------------------------------------------------------------------------------
# SUMO inputs in, SUMO-style outputs out (``twin traffic run``)
# --------------------------------------------------------------------------------------------


def run_until_done(model: TrafficModel, end_s: float | None, max_extra_s: float = 4 * 3600.0) -> None:
    """Advance ``model`` to ``end_s``, or (``None``) until every vehicle has arrived.

    Without an end, the run stops when the network is empty and nobody waits to depart, when it
    has stalled (gridlock), or ``max_extra_s`` after the last departure.
    """
    if end_s is not None:
        model.advance_to(end_s)
        return
    last_depart = float(model.veh.depart_s.max()) if len(model.veh.depart_s) else model.begin_s
    limit = max(last_depart, model.begin_s) + max_extra_s
    while model.time_s < limit:
        model.advance_to(min(model.time_s + 300.0, limit))
        state = model.state
        if model.time_s > last_depart and not state.link_occ.any() and not np.isnan(state.veh_start_s).any():
            break
        if model.stalled_at_s is not None:
            break


def run_sumo_inputs(
    out_dir,
    sumocfg=None,
    net=None,
    routes=(),
    begin_s=None,
    end_s=None,  # noqa: ANN001
    strategy: str = "fixed",
    force: bool = False,
    params: TrafficParams | None = None,
) -> dict[str, float]:
    """Run the model on SUMO files; write ``tripinfo.csv`` and ``kpis.json`` into ``out_dir``.

    ``sumocfg`` gives the net, routes, begin and end (``begin_s``/``end_s`` override them).
    Vehicles departing before the begin time are left out, as SUMO does; trips are routed by
    free-flow time; the network's traffic-light programmes run under ``strategy``.

    Returns
    -------
    dict
        The KPIs written to ``kpis.json``.
    """
    from pathlib import Path

    from twin.results import atomic_dir, refuse_existing, write_json
    from twin.traffic.signals import TimingParams, with_strategy
    from twin.traffic.sumo_io import read_net, read_programs, read_routes, read_sumocfg

    out_dir = Path(out_dir)
    refuse_existing(out_dir, force)
    additional: list = []
    if sumocfg is not None:
        config = read_sumocfg(sumocfg)
        net, routes = config.net_file, list(config.route_files)
        additional = list(config.additional_files)
        begin_s = config.begin_s if begin_s is None else begin_s
        end_s = config.end_s if end_s is None else end_s
        if not routes:
            raise InputError("no <route-files> in the configuration", sumocfg)
    begin_s = 0.0 if begin_s is None else float(begin_s)
    if end_s is not None and end_s <= begin_s:
        raise InputError(f"--end {end_s:g} must be after --begin {begin_s:g}")
    sumo_net = read_net(net)
    for path in additional:
        sumo_net.programs.update(read_programs(path))  # the last programme loaded runs, as in SUMO
    network = network_from_sumo(sumo_net, params or TrafficParams())
    sumo_trips = [trip for path in routes for trip in read_routes(path)]
    sumo_trips = [trip for trip in sumo_trips if trip.depart_s >= begin_s]
    trips, skipped = trips_from_sumo(network, sumo_trips)
    if skipped:
        log.warning(
            "%d vehicles have no usable route (unknown edges or no connection): %s",
            len(skipped),
            ", ".join(skipped[:5]),
        )
    timing = TimingParams()
    plans = [with_strategy(p, strategy, timing) for p in default_plans(network, timing)]
    from twin.traffic.signals import SignalController

    controller = SignalController.build(network, plans, timing)
    model = TrafficModel(network, controller, trips, begin_s=begin_s)
    run_until_done(model, end_s)
    table = model.tripinfo()
    kpis = model.kpis()
    result = {
        "mean_travel_time_s": kpis["mean_travel_time_s"],
        "throughput_veh": kpis["throughput_veh"],
        "teleports": 0,
        "loaded_veh": len(sumo_trips),
        "skipped_veh": len(skipped),
        "unfinished_veh": len(trips) - kpis["throughput_veh"],
        "mean_time_loss_s": float(table["time_loss_s"].mean()) if len(table) else math.nan,
        "mean_route_length_m": float(table["route_length_m"].mean()) if len(table) else math.nan,
        "gridlocks_count": len(model.gridlocks),
        "end_s": model.time_s,
    }
    with atomic_dir(out_dir, force) as tmp:
        table.to_csv(tmp / "tripinfo.csv", index=False)
        write_json(
            tmp / "kpis.json",
            {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in result.items()},
        )
    return result


# --------------------------------------------------------------------------------------------
# Our network, plans and demand out to SUMO (``twin traffic export``)
# --------------------------------------------------------------------------------------------


def sumo_programs(
    network: TrafficNetwork, plans: list[SignalPlan], sumo_net: SumoNet, program_id: str = "twin"
) -> list:  # noqa: ANN201 - list[twin.io.sumo.SumoProgram]
    """Our plans as SUMO ``tlLogic`` programmes of ``sumo_net`` (built from the same road layer).

    SUMO connections are matched to our movements by edge ids (then by approach and turn);
    each of our phases becomes a green phase, a yellow phase (movements losing green show
    ``y``) and an all-red phase. Actuated plans export as SUMO ``actuated`` programmes (SUMO
    places its own detectors); the others as ``static`` with the plan's current timing.
    """
    from twin.traffic.sumo_io import SumoPhase, SumoProgram

    by_tl: dict[str, list] = {}
    for conn in sumo_net.connections:
        if conn.tl:
            by_tl.setdefault(conn.tl, []).append(conn)
    programs = []
    for plan in plans:
        conns = by_tl.get(plan.controller)
        if not conns:
            log.warning("controller %s has no traffic light in the SUMO network", plan.controller)
            continue
        local = {}
        by_turn = {}
        for k, m in enumerate(plan.movements):
            a, b = network.link_ids[network.mov_in[m]], network.link_ids[network.mov_out[m]]
            local[(a, b)] = k
            by_turn.setdefault((a, network.mov_turn[m]), k)
            by_turn.setdefault((a, "*"), k)
        n_links = 1 + max(i for c in conns for i in c.link_indices)
        slot = [-1] * n_links
        for conn in conns:
            k = local.get(
                (conn.from_edge, conn.to_edge),
                by_turn.get((conn.from_edge, conn.turn), by_turn.get((conn.from_edge, "*"), -1)),
            )
            for i in conn.link_indices:
                slot[i] = k
        phases = []
        for i, phase in enumerate(plan.phases):
            nxt = plan.phases[(i + 1) % len(plan.phases)]

            def letters(stage: str, phase=phase, nxt=nxt, slot=slot) -> str:  # noqa: ANN001
                out = []
                for k in slot:
                    if k < 0 or not phase.green(k):
                        out.append("r")
                    elif stage == "green" or nxt.green(k):
                        out.append(phase.states[k])
                    else:
                        out.append("y" if stage == "yellow" else "r")
                return "".join(out)

            phases.append(SumoPhase(phase.green_s, letters("green"), phase.min_green_s, phase.max_green_s))
            if phase.yellow_s > 0:
                phases.append(SumoPhase(phase.yellow_s, letters("yellow")))
            if phase.all_red_s > 0:
                phases.append(SumoPhase(phase.all_red_s, letters("red")))
        kind = "actuated" if plan.strategy == "actuated" else "static"
        programs.append(
            SumoProgram(plan.controller, program_id, kind, plan.offset_s % plan.cycle_s, tuple(phases))
        )
    return programs


def export_case(
    graph: nx.MultiDiGraph,
    network: TrafficNetwork,
    plans: list[SignalPlan],
    trips: Trips,
    out_dir,
    begin_s: float,
    end_s: float,
    name: str = "case",
) -> list[str]:  # noqa: ANN001
    """Write ``name.net.xml`` (from ``graph``), ``name.add.xml`` (our plans as tlLogic),
    ``name.rou.xml`` (the trips with their routes) and ``name.sumocfg`` into ``out_dir``.

    Trips whose route uses a movement SUMO's ``netconvert`` did not build are left out of the
    route file (their number is logged). Returns the file names written.
    """
    from pathlib import Path

    from twin.traffic.sumo_io import read_net, write_net, write_programs, write_routes, write_sumocfg

    out_dir = Path(out_dir)
    net_file = write_net(graph, out_dir / f"{name}.net.xml")
    sumo_net = read_net(net_file)
    add_file = write_programs(sumo_programs(network, plans, sumo_net), out_dir / f"{name}.add.xml")
    connected = {(c.from_edge, c.to_edge) for c in sumo_net.connections}
    vehicles, dropped = [], 0
    for vid, depart, route in zip(trips.ids, trips.depart_s, trips.routes, strict=True):
        edges = [network.link_ids[i] for i in route]
        if all((a, b) in connected for a, b in zip(edges[:-1], edges[1:], strict=True)):
            vehicles.append((vid, float(depart), edges))
        else:
            dropped += 1
    if dropped:
        log.warning("%d of %d trips use a turn netconvert did not build; left out", dropped, len(trips))
    depart_speed = "0" if network.params.depart_from_rest else "max"
    rou_file = write_routes(vehicles, out_dir / f"{name}.rou.xml", depart_speed=depart_speed)
    cfg = write_sumocfg(out_dir / f"{name}.sumocfg", net_file, [rou_file], [add_file], begin_s, end_s)
    return [p.name for p in (net_file, add_file, rou_file, cfg)]


def cut_trips(network: TrafficNetwork, trips: Trips, keep_links: set[int], min_links: int = 2) -> Trips:
    """Trips cut to the part of their route on ``keep_links`` (a sub-area cordon).

    Each trip keeps its first run of consecutive links inside the cordon (if it has at least
    ``min_links``), departing when it would reach the cordon at free flow. Routes stay in
    ``network``'s link indices.
    """
    ids, departs, routes = [], [], []
    for vid, depart, route in zip(trips.ids, trips.depart_s, trips.routes, strict=True):
        inside = np.array([int(link) in keep_links for link in route])
        if not inside.any():
            continue
        first = int(np.argmax(inside))
        last = first
        while last + 1 < len(route) and inside[last + 1]:
            last += 1
        if last - first + 1 < min_links:
            continue
        lead = float(network.link_fft_s[route[:first]].sum())
        if first:
            lead += float(
                sum(
                    network.mov_extra_s[network.mov_lookup[(int(a), int(b))]]
                    for a, b in zip(route[:first], route[1 : first + 1], strict=True)
                )
            )
        ids.append(vid)
        departs.append(float(depart) + lead)
        routes.append(np.asarray(route[first : last + 1], np.int64))
    order = np.argsort(np.array(departs), kind="stable") if departs else np.array([], int)
    return Trips(
        [ids[i] for i in order],
        np.array(departs)[order] if departs else np.zeros(0),
        [routes[i] for i in order],
    )


def changle_case(
    area: str | None,
    seed: int,
    begin_s: float,
    duration_s: float,
    demand: DemandConfig | None = None,
    params: TrafficParams | None = None,
    timing: TimingParams | None = None,
):  # noqa: ANN201 - a dict of the case's parts
    """The bundled Changle network, Webster plans and AM-peak trips (optionally cut to ``area``).

    Times are seconds after midnight; trips depart in [begin_s, begin_s + duration_s). With an
    area, the district's trips are simulated on their district routes and cut at the area's
    cordon (so through traffic is kept), and the graph is the area's largest strongly connected
    part.
    """
    import networkx as nx

    from twin.city.folder import load_city
    from twin.traffic.demand import DemandConfig, gravity_od, sample_trips
    from twin.traffic.signals import TimingParams, retime_webster

    demand = demand or DemandConfig()
    params = params or TrafficParams()
    timing = timing or TimingParams()
    city = load_city()
    graph = city.roads
    zones = city.zones[["zone_id", "residents", "jobs", "node"]]
    network = network_from_graph(graph, params)
    od = gravity_od(zones, graph, demand)
    trips = sample_trips(od, network, demand, begin_s, begin_s + duration_s, np.random.default_rng(seed))
    if area is not None:
        nodes = {n for n, d in graph.nodes(data=True) if d.get("area_id") == area}
        if not nodes:
            raise InputError(f"--area {area!r}: no road node has that area_id")
        sub = graph.subgraph(nodes)
        core = max(nx.strongly_connected_components(sub), key=len)
        area_graph = graph.subgraph(core).copy()
        keep = {network.link_index[e] for e in area_graph.edges(keys=True)}
        cut = cut_trips(network, trips, keep)
        sub_network = network_from_graph(area_graph, params)
        remap = {i: sub_network.link_index[network.link_keys[i]] for i in keep}
        trips = Trips(
            cut.ids, cut.depart_s, [np.array([remap[int(i)] for i in r], np.int64) for r in cut.routes]
        )
        graph, network = area_graph, sub_network
    flows = np.zeros(network.n_movements)
    for route in trips.routes:
        for a, b in zip(route[:-1], route[1:], strict=True):
            flows[network.mov_lookup[(int(a), int(b))]] += 1.0
    flows *= 3600.0 / duration_s
    plans = [
        retime_webster(p, flows[list(p.movements)], network, timing)[0]
        for p in default_plans(network, timing)
    ]
    return {"graph": graph, "network": network, "plans": plans, "trips": trips, "timing": timing}


def export_changle(
    out_dir,
    area: str | None = None,
    seed: int = 1,
    begin_s: float = 7 * 3600.0,  # noqa: ANN001
    duration_s: float = 3600.0,
    force: bool = False,
) -> list[str]:
    """``twin traffic export``: the Changle case (or one area of it) as SUMO files."""
    from pathlib import Path

    from twin.results import atomic_dir

    out_dir = Path(out_dir)
    case = changle_case(area, seed, begin_s, duration_s)
    with atomic_dir(out_dir, force) as tmp:
        return export_case(
            case["graph"],
            case["network"],
            case["plans"],
            case["trips"],
            tmp,
            begin_s,
            begin_s + duration_s,
            name=f"changle_{area}" if area else "changle",
        )
