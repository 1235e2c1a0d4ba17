"""The green wave: Webster splits on a common cycle and offsets along an arterial.

:func:`coordinate_green_wave` picks the arterial (the pilot road with most through traffic, or a
named one), the run of its busiest consecutive signals, the common cycle (their longest Webster
cycle) and the offsets that let platoons meet green in both directions, and reports the
progression bandwidth (:func:`bandwidth_s`) each way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from kernels.traffic.layout import FIXED
from twin.city.travel_times import free_flow_time_s
from twin.errors import InputError
from twin.traffic.junctions import metric_xy
from twin.traffic.signals.plan import SignalPlan
from twin.traffic.signals.strategies.base import Coordination, PlanDesign, SignalStrategy
from twin.traffic.signals.strategies.registry import register_strategy
from twin.traffic.signals.timing import TimingParams
from twin.traffic.signals.webster import retime_webster

if TYPE_CHECKING:
    from twin.traffic.network import TrafficNetwork

ARTERIAL_CLASSES = ("trunk", "primary", "secondary")
"""Road classes a green wave may run along (OSM ``highway``, ``*_link`` as its road)."""


@register_strategy
class GreenWaveStrategy(SignalStrategy):
    """Webster splits on a common cycle with offsets along one arterial of the controlled area;
    the other controllers keep their Webster plans."""

    name = "green_wave"
    listed = 4
    control = FIXED
    holds_minimum_green = True

    def time_plan(
        self, plan: SignalPlan, flows_veh_per_h: np.ndarray, network: TrafficNetwork, timing: TimingParams
    ) -> SignalPlan:
        return self.adopt(retime_webster(plan, flows_veh_per_h, network, timing)[0], timing)

    def coordinate(self, plans: dict[str, SignalPlan], design: PlanDesign) -> Coordination:
        found = coordinate_green_wave(plans, design)
        if found is None:
            note = "green wave: no arterial with two or more pilot signals; Webster plans kept"
            return Coordination(plans, notes=[note])
        coordinated, wave = found
        return Coordination({**plans, **coordinated}, summary=wave)


@dataclass
class GreenWave:
    """The coordinated arterial: junctions in order, common cycle, offsets and bandwidths."""

    road: str
    controllers: list[str]
    cycle_s: float
    offsets_s: list[float]
    travel_times_s: list[float]
    bandwidth_outbound_s: float
    bandwidth_inbound_s: float


def green_wave_offsets(
    travel_times_s: list[float], cycle_s: float, first_offset_s: float = 0.0
) -> list[float]:
    """Offsets (green starts mod cycle) that let a platoon leaving the first junction at green
    start meet green at every junction: cumulative travel times, modulo the cycle."""
    offsets = [first_offset_s % cycle_s]
    for t in travel_times_s:
        offsets.append((offsets[-1] + t) % cycle_s)
    return offsets


def bandwidth_s(
    green_starts_s: list[float], greens_s: list[float], travel_times_s: list[float], cycle_s: float
) -> float:
    """GreenWave bandwidth in one direction (s): the longest interval of departures from the
    first junction that meet green at every junction downstream.

    ``green_starts_s[i]`` is the absolute time (mod cycle) of junction ``i``'s arterial green
    start; ``travel_times_s[i]`` the travel time from junction ``i`` to ``i + 1``.
    """
    arrive = np.concatenate([[0.0], np.cumsum(travel_times_s)])
    # A departure at time τ from junction 0 meets junction i at τ + arrive[i]; the band is the
    # intersection over i of the green windows shifted back by arrive[i], on a circle of cycle_s.
    resolution = 0.1
    grid = np.arange(0.0, cycle_s, resolution)
    ok = np.ones_like(grid, dtype=bool)
    for start, green, t in zip(green_starts_s, greens_s, arrive, strict=True):
        phase = (grid + t - start) % cycle_s
        ok &= phase < green
    if ok.all():
        return float(min(greens_s))
    if not ok.any():
        return 0.0
    # Longest run of True on the circle.
    doubled = np.concatenate([ok, ok])
    best = run = 0
    for value in doubled:
        run = run + 1 if value else 0
        best = max(best, run)
    return float(min(best, len(grid)) * resolution)


def coordinate_green_wave(
    plans: dict[str, SignalPlan], design: PlanDesign
) -> tuple[dict[str, SignalPlan], GreenWave] | None:
    """A two-way green wave on an arterial of ``design.controllers`` (``design.arterial``, or the
    one carrying most through traffic); ``None`` when no arterial has two of its signals.

    Junctions: the road's signals in order along it; of those, the run of at most
    ``design.max_coordinated`` consecutive ones carrying the most through traffic. Common cycle:
    the longest Webster cycle among them. Splits: Webster on that cycle. Offsets: each direction
    has its ideal offsets (the arterial phase turns green as a platoon from the first junction of
    that direction arrives, at free-flow speed × the progression factor); the offsets used blend
    the two, the blend maximising the bandwidths weighted by each direction's through flow.

    Returns
    -------
    tuple or None
        The coordinated junctions' plans (``strategy = "green_wave"``) and the progression.
    """
    network, flows = design.network, design.flows_veh_per_h
    by_road, along = _arterials(network, plans, design.controllers, flows)
    chosen = _choose_arterial(by_road, along, design.arterial)
    if chosen is None or len(by_road[chosen]) < 2:
        return None
    xy = metric_xy(network.graph)["nodes"]
    order = _busiest_run(network, xy, plans, flows, chosen, sorted(by_road[chosen]), design.max_coordinated)
    factor = design.timing.progression_speed_factor
    forward, backward = _hop_times(network, order, chosen, factor)
    cycle = max(
        retime_webster(plans[c], flows[list(plans[c].movements)], network, design.timing)[1].cycle_s for c in order
    )
    cycle = float(math.ceil(cycle))
    retimed = {
        c: replace(
            retime_webster(plans[c], flows[list(plans[c].movements)], network, design.timing, cycle_s=cycle)[0],
            strategy="green_wave",
        )
        for c in order
    }
    out_phase, in_phase, out_flow, in_flow = _arterial_phases(network, xy, retimed, flows, order, chosen)
    starts_out = [retimed[c].green_window_s(out_phase[i])[0] for i, c in enumerate(order)]
    shift_in = [retimed[c].green_window_s(in_phase[i])[0] - starts_out[i] for i, c in enumerate(order)]
    greens_out = [retimed[c].phases[out_phase[i]].green_s for i, c in enumerate(order)]
    greens_in = [retimed[c].phases[in_phase[i]].green_s for i, c in enumerate(order)]
    ideal_out = np.concatenate([[0.0], np.cumsum(forward)])
    ideal_in = -np.concatenate([[0.0], np.cumsum(backward)])  # inbound platoons reach i later going back

    def evaluate(blend: float) -> tuple[float, float, list[float]]:
        diff = (ideal_in - ideal_out + cycle / 2.0) % cycle - cycle / 2.0
        green_out = (ideal_out + blend * diff) % cycle  # arterial (outbound) green start times
        green_in = (green_out + np.array(shift_in)) % cycle
        bw_out = bandwidth_s(list(green_out), greens_out, forward, cycle)
        bw_in = bandwidth_s(list(green_in[::-1]), greens_in[::-1], backward[::-1], cycle)
        return bw_out, bw_in, list(green_out)

    outbound, inbound, green_starts = max(
        (evaluate(w) for w in np.linspace(0.0, 1.0, 21)),
        key=lambda r: out_flow * r[0] + in_flow * r[1] + 1e-9 * (r[0] + r[1]),
    )
    offsets = [float((green_starts[i] - starts_out[i]) % cycle) for i in range(len(order))]
    coordinated = {c: replace(retimed[c], offset_s=offsets[i]) for i, c in enumerate(order)}
    return coordinated, GreenWave(chosen, order, cycle, offsets, forward, outbound, inbound)


def road_of(network: TrafficNetwork, link: int) -> str | None:
    """The name of the arterial ``link`` belongs to (:data:`ARTERIAL_CLASSES`), else ``None``."""
    data = network.graph.edges[network.link_keys[link]]
    name = data.get("name")
    if isinstance(name, list):
        name = name[0]
    highway = str(data.get("highway", "")).removesuffix("_link")
    return str(name) if name and highway in ARTERIAL_CLASSES else None


def _arterials(
    network: TrafficNetwork, plans: dict[str, SignalPlan], controllers, flows: np.ndarray  # noqa: ANN001
) -> tuple[dict[str, set[str]], dict[str, float]]:
    """Each arterial's signals among ``controllers`` and the through flow they pass along it."""
    by_road: dict[str, set[str]] = {}
    along: dict[str, float] = {}
    for controller in sorted(controllers):
        for m in plans[controller].movements:
            name = road_of(network, network.mov_in[m])
            if name is None:
                continue
            by_road.setdefault(name, set()).add(controller)
            if network.mov_turn[m] == "T" and road_of(network, network.mov_out[m]) == name:
                along[name] = along.get(name, 0.0) + float(flows[m])
    return by_road, along


def _choose_arterial(by_road: dict[str, set[str]], along: dict[str, float], road: str | None) -> str | None:
    """``road`` if given (it must have a signal), else the arterial with two or more signals that
    carries the most through traffic (then the most signals)."""
    if road is not None:
        if road not in by_road:
            raise InputError(
                f"[strategies] green_wave_road = {road!r}: no pilot signal on an arterial of that name"
            )
        return road
    candidates = [r for r in sorted(by_road) if len(by_road[r]) >= 2]
    if not candidates:
        return None
    return max(candidates, key=lambda r: (along.get(r, 0.0), len(by_road[r])))


def _busiest_run(
    network: TrafficNetwork,
    xy: dict,
    plans: dict[str, SignalPlan],
    flows: np.ndarray,
    road: str,
    members: list[str],
    max_junctions: int,
) -> list[str]:
    """The arterial's signals in order along it (its principal axis through the nodes' metric
    ``xy``), cut to the run of at most ``max_junctions`` consecutive ones with the most through
    flow along the road."""
    points = np.array([xy[network.controller_node(c)] for c in members])
    axis = np.linalg.svd(points - points.mean(axis=0))[2][0]
    order = [members[i] for i in np.argsort((points - points.mean(axis=0)) @ axis)]
    through = np.array(
        [
            sum(
                flows[m]
                for m in plans[c].movements
                if network.mov_turn[m] == "T"
                and road_of(network, network.mov_in[m]) == road == road_of(network, network.mov_out[m])
            )
            for c in order
        ]
    )
    size = min(max_junctions, len(order))
    window = max(range(len(order) - size + 1), key=lambda i: (through[i : i + size].sum(), -i))
    return order[window : window + size]


def _quickest_edge_s(u, v, data) -> float:  # noqa: ANN001 - networkx's weight signature
    """Free-flow time of the quickest of parallel edges (s)."""
    return min(free_flow_time_s(d) for d in data.values())


def _hop_times(network: TrafficNetwork, order: list[str], road: str, factor: float) -> tuple[list[float], list[float]]:
    """GreenWave times between consecutive junctions, forward and backward (s): free-flow
    times along the arterial itself where it connects them, else along any road, over ``factor``."""
    graph = network.graph
    on_road = graph.edge_subgraph(
        [e for e in graph.edges(keys=True) if road_of(network, network.link_index[e]) == road]
    )

    def hop_time(a, b) -> float:  # noqa: ANN001 - graph nodes
        for candidate in (on_road, graph):
            try:
                path = nx.shortest_path(candidate, a, b, weight=_quickest_edge_s)
            except (nx.NetworkXNoPath, nx.NodeNotFound):
                continue
            return sum(
                _quickest_edge_s(u, v, candidate[u][v]) for u, v in zip(path[:-1], path[1:], strict=True)
            )
        raise InputError(f"green wave: junction {b} cannot be reached from {a}")

    nodes = [network.controller_node(c) for c in order]
    forward = [hop_time(a, b) / factor for a, b in zip(nodes[:-1], nodes[1:], strict=True)]
    backward = [hop_time(b, a) / factor for a, b in zip(nodes[:-1], nodes[1:], strict=True)]
    return forward, backward


def _arterial_phases(
    network: TrafficNetwork,
    xy: dict,
    plans: dict[str, SignalPlan],
    flows: np.ndarray,
    order: list[str],
    road: str,
) -> tuple[list[int], list[int], float, float]:
    """Each junction's arterial phase outbound (arriving from the previous junction's side) and
    inbound (from the next one's), with the through flows they serve each way."""
    graph = network.graph
    nodes = [network.controller_node(c) for c in order]

    def arterial_phase(c: str, came_from) -> tuple[int, float]:  # noqa: ANN001 - a graph node
        """The phase giving green to the through movement arriving from ``came_from``."""
        plan = plans[c]
        best, best_green, flow = 0, -1.0, 0.0
        for m in plan.movements:
            if network.link_keys[network.mov_in[m]][0] == came_from and network.mov_turn[m] == "T":
                k = plan.phase_of(m)
                if k >= 0 and plan.phases[k].green_s > best_green:
                    best, best_green, flow = k, plan.phases[k].green_s, flows[m]
        return best, flow

    def arriving_from(i: int, towards: int) -> object:
        """The arterial neighbour of member ``i`` on the side of member ``towards`` (the far
        side when ``towards`` is out of range, for the first and last members)."""
        node = nodes[i]
        sides = [
            p
            for p in graph.predecessors(node)
            if any(road_of(network, network.link_index[(p, node, k)]) == road for k in graph[p][node])
        ]
        if not sides:
            sides = list(graph.predecessors(node))
        inside = 0 <= towards < len(order)
        target = xy[nodes[towards if inside else (i + 1 if towards < 0 else i - 1)]]

        def distance(p) -> float:  # noqa: ANN001 - a graph node
            return math.hypot(xy[p][0] - target[0], xy[p][1] - target[1])

        return min(sides, key=distance) if inside else max(sides, key=distance)

    out_phase, in_phase, out_flow, in_flow = [], [], 0.0, 0.0
    for i, c in enumerate(order):
        k, f = arterial_phase(c, arriving_from(i, i - 1))
        out_phase.append(k)
        out_flow += f
        k, f = arterial_phase(c, arriving_from(i, i + 1))
        in_phase.append(k)
        in_flow += f
    return out_phase, in_phase, out_flow, in_flow
