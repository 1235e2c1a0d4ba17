"""Signal timing: which strategy cuts delay in a pilot area, by how much, and where it breaks down.

The scenario answers the district plan's 滨海新城 pilot question (智能信号优化, 红绿灯与摄像头智能联动):
it runs the AM peak on the road network with the pilot area's signals under each strategy —
the current fixed plans, Webster fixed time, actuated, max-pressure, a green wave on the main
arterial, and camera-linked adaptive — while the rest of the district runs its own (Webster)
plans around it. Every strategy sees the same vehicles (common random numbers: one demand draw,
same routes), all runs advance together on the engine's clock, and the warm-up before the
measured window is excluded.

It reports per pilot junction the control delay (s/veh) graded by HCM 6 and by a configurable
GB 50647 table, queues (mean and max, vehicles and metres), the degree of saturation (v/c) and
stops per vehicle; for the network the throughput, mean travel time and the congestion index
TTI (actual over free-flow trip time); a ranked table of strategies; a plot of delay by junction
and strategy; and the link travel times by time of day that other layers use.

``[network] source = "city"`` uses the bundled Changle layers (``twin.city.load_city``); ``"grid"``
builds a small synthetic town (for quick checks and tests).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from scenarios.registry import scenario_kind
from twin.config import ScenarioFile, StrictModel
from twin.engine import Engine
from twin.errors import InputError
from twin.results import RunResult
from twin.traffic.demand import DemandConfig
from twin.traffic.model import TrafficParams
from twin.traffic.signals import STRATEGIES, GbLosTable, TimingParams

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from twin.traffic.model import TrafficModel, TrafficNetwork, Trips
    from twin.traffic.signals import SignalPlan

log = logging.getLogger(__name__)


class NetworkTable(StrictModel):
    """The ``[network]`` table: which roads, and which junctions form the pilot."""

    source: Literal["city", "grid"] = Field(
        default="city", description="city: the bundled Changle layers; grid: a synthetic town."
    )
    area_id: str = Field(default="binhai", description="Pilot area (areas layer / node attribute area_id).")
    scope: Literal["district", "area"] = Field(
        default="district",
        description="district: the whole road network around the pilot; area: the pilot alone.",
    )
    grid_size: int = Field(default=8, ge=3, le=30, description="Synthetic grid: junctions per side.")
    grid_spacing_m: float = Field(
        default=300.0, gt=50, le=2000, description="Synthetic grid: block length (m)."
    )
    grid_residents: float = Field(default=60_000.0, gt=0, description="Synthetic grid: total residents.")


class StrategiesTable(StrictModel):
    """The ``[strategies]`` table: what is compared in the pilot and what runs elsewhere."""

    compare: list[str] = Field(default=list(STRATEGIES), min_length=1, description="Strategies to compare.")
    baseline: str = Field(default="fixed", description="The strategy the others are measured against.")
    rest_of_district: str = Field(
        default="webster", description="Strategy of signals outside the pilot area."
    )
    green_wave_road: str | None = Field(
        default=None,
        description="Road name of the green-wave arterial (default: the one with most pilot signals).",
    )
    green_wave_max_junctions: int = Field(
        default=8, ge=2, le=50, description="Most junctions coordinated (the busiest consecutive ones)."
    )
    warmup_s: float = Field(
        default=900.0, ge=0, le=7200, description="Simulated before the measured window (s)."
    )

    @model_validator(mode="after")
    def _known(self) -> StrategiesTable:
        for name in [*self.compare, self.baseline, self.rest_of_district]:
            if name not in STRATEGIES:
                raise ValueError(f"unknown strategy {name!r} (expected one of {', '.join(STRATEGIES)})")
        if self.baseline not in self.compare:
            raise ValueError(f"baseline {self.baseline!r} must be one of compare")
        if len(set(self.compare)) != len(self.compare):
            raise ValueError("compare lists a strategy twice")
        return self


class SignalTimingFile(ScenarioFile):
    """A ``signal_timing`` scenario file."""

    network: NetworkTable = NetworkTable()
    strategies: StrategiesTable = StrategiesTable()
    demand: DemandConfig = DemandConfig()
    traffic: TrafficParams = TrafficParams()
    timing: TimingParams = TimingParams()
    gb_los: GbLosTable = GbLosTable()


# --------------------------------------------------------------------------------------------
# Inputs: the road graph, zones and the pilot's junctions
# --------------------------------------------------------------------------------------------


@dataclass
class CityInputs:
    """What the scenario needs of the city."""

    graph: nx.MultiDiGraph
    zones: pd.DataFrame  # zone_id, residents, jobs, node
    area_nodes: set  # nodes of the pilot area
    description: str


def load_inputs(table: NetworkTable) -> CityInputs:
    """The bundled Changle layers (or a synthetic grid), cut to the scope."""
    if table.source == "grid":
        return grid_town(table)
    try:
        from twin.city.folder import load_city
    except ImportError as exc:  # the data layer is not installed in this checkout
        raise InputError(f"[network] source = 'city': the city layers are not available ({exc})") from None
    city = load_city()
    graph = city.roads
    zones = city.zones[["zone_id", "residents", "jobs", "node"]].copy()
    area = {n for n, d in graph.nodes(data=True) if d.get("area_id") == table.area_id}
    if not area:
        known = sorted({str(d.get("area_id")) for _, d in graph.nodes(data=True) if d.get("area_id")})
        raise InputError(
            f"[network] area_id = {table.area_id!r}: no road node in that area (known: {', '.join(known)})"
        )
    if table.scope == "area":
        graph = _largest_strong_component(graph.subgraph(area).copy())
        zones = zones[zones["node"].isin(list(graph.nodes))]
    return CityInputs(
        graph,
        zones.reset_index(drop=True),
        area & set(graph.nodes),
        f"Changle road network ({table.scope}), pilot area {table.area_id}",
    )


def _largest_strong_component(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    import networkx as nx

    keep = max(nx.strongly_connected_components(graph), key=len)
    return graph.subgraph(keep).copy()


def grid_town(table: NetworkTable) -> CityInputs:
    """A synthetic town: a grid with two-lane arterials every third line, signals where
    arterials meet, zones at every junction and the central third as the pilot area."""
    import networkx as nx
    import pandas as pd

    n, spacing = table.grid_size, table.grid_spacing_m
    graph = nx.MultiDiGraph(crs=None)
    for i in range(n):
        for j in range(n):
            graph.add_node(i * n + j, x=i * spacing, y=j * spacing)

    def arterial(k: int) -> bool:
        return k % 3 == 1

    for i in range(n):
        for j in range(n):
            for di, dj, line, name in ((1, 0, j, f"Row {j}"), (0, 1, i, f"Column {i}")):
                if i + di >= n or j + dj >= n:
                    continue
                a, b = i * n + j, (i + di) * n + j + dj
                major = arterial(line)
                for u, v in ((a, b), (b, a)):
                    graph.add_edge(
                        u,
                        v,
                        length=spacing,
                        lanes=2 if major else 1,
                        speed_kph=50.0 if major else 40.0,
                        highway="primary" if major else "tertiary",
                        name=name,
                        oneway=False,
                        travel_time=spacing / ((50.0 if major else 40.0) / 3.6),
                    )
    for i in range(n):
        for j in range(n):
            if arterial(i) and arterial(j) or (arterial(i) or arterial(j)) and (i + j) % 2 == 0:
                graph.nodes[i * n + j]["highway"] = "traffic_signals"
    lo, hi = n // 3, n - n // 3
    area = {i * n + j for i in range(lo, hi) for j in range(lo, hi)}
    rng = np.random.default_rng(7)
    weights = rng.gamma(2.0, 1.0, n * n)
    jobs = rng.gamma(2.0, 1.0, n * n) * np.array([3.0 if node in area else 1.0 for node in range(n * n)])
    zones = pd.DataFrame(
        {
            "zone_id": [f"z{k}" for k in range(n * n)],
            "residents": table.grid_residents * weights / weights.sum(),
            "jobs": 0.5 * table.grid_residents * jobs / jobs.sum(),
            "node": list(range(n * n)),
        }
    )
    return CityInputs(graph, zones, area, f"synthetic {n}×{n} grid town")


# --------------------------------------------------------------------------------------------
# Plans per strategy
# --------------------------------------------------------------------------------------------


def design_flows(network: TrafficNetwork, trips: Trips, begin_s: float, end_s: float) -> np.ndarray:
    """Movement flows (veh/h) of the trips departing in [begin_s, end_s): the design volumes."""
    counts = np.zeros(network.n_movements)
    lookup = network.mov_lookup
    inside = (trips.depart_s >= begin_s) & (trips.depart_s < end_s)
    for k in np.nonzero(inside)[0]:
        route = trips.routes[k]
        for a, b in zip(route[:-1], route[1:], strict=True):
            counts[lookup[(int(a), int(b))]] += 1
    return counts * 3600.0 / max(end_s - begin_s, 1.0)


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


@dataclass
class StrategyPlans:
    """Plans of one strategy for every controller of the network."""

    strategy: str
    plans: list[SignalPlan]
    green_wave: GreenWave | None = None
    notes: list[str] = field(default_factory=list)


def plans_for(
    strategy: str,
    network: TrafficNetwork,
    base: dict[str, SignalPlan],
    webster: dict[str, SignalPlan],
    pilot: set[str],
    rest: str,
    timing: TimingParams,
    flows: np.ndarray,
    green_wave_road: str | None,
    green_wave_max_junctions: int = 8,
) -> StrategyPlans:
    """Plans with ``strategy`` on the pilot controllers and ``rest`` elsewhere."""
    from twin.traffic.signals import with_strategy

    def timed(controller: str, name: str) -> SignalPlan:
        if name == "fixed":
            return base[controller]
        plan = webster[controller]
        if name in ("webster", "green_wave"):
            return replace(plan, strategy="webster" if name == "webster" else "green_wave")
        if name == "adaptive":
            return replace(plan, strategy="adaptive")
        return with_strategy(plan, name, timing)

    plans = {c: timed(c, strategy if c in pilot else rest) for c in base}
    result = StrategyPlans(strategy, [])
    if strategy == "green_wave":
        wave = coordinate(network, plans, pilot, flows, timing, green_wave_road, green_wave_max_junctions)
        if wave is not None:
            plans.update(wave[0])
            result.green_wave = wave[1]
        else:
            result.notes.append("green wave: no arterial with two or more pilot signals; Webster plans kept")
    result.plans = [plans[c] for c in base]
    return result


def _controller_node(network: TrafficNetwork, controller: str):  # noqa: ANN202 - a graph node
    return network.mov_node[network.controllers[controller][0]]


def coordinate(
    network: TrafficNetwork,
    plans: dict[str, SignalPlan],
    pilot: set[str],
    flows: np.ndarray,
    timing: TimingParams,
    road: str | None,
    max_junctions: int = 8,
) -> tuple[dict[str, SignalPlan], GreenWave] | None:
    """A two-way green wave on a pilot arterial (``road``, or the one carrying most through traffic).

    Junctions: the road's pilot signals in order along it; of those, the run of at most
    ``max_junctions`` consecutive ones carrying the most through traffic. Common cycle: the
    longest Webster cycle among them. Splits: Webster on that cycle. Offsets: each direction has
    its ideal offsets (the arterial phase turns green as a platoon from the first junction of
    that direction arrives, at free-flow speed × the progression factor); the offsets used blend
    the two, the blend maximising the bandwidths weighted by each direction's through flow.
    """
    import networkx as nx

    from twin.city.travel_times import free_flow_time_s
    from twin.traffic.junctions import metric_xy
    from twin.traffic.signals import bandwidth_s, retime_webster

    graph = network.graph
    node_of = {c: _controller_node(network, c) for c in pilot}

    def road_of(link: int) -> str | None:
        data = graph.edges[network.link_keys[link]]
        name = data.get("name")
        if isinstance(name, list):
            name = name[0]
        highway = str(data.get("highway", "")).removesuffix("_link")
        return str(name) if name and highway in ("trunk", "primary", "secondary") else None

    # Each arterial's pilot signals and the through traffic they pass along it (design flows).
    by_road: dict[str, set[str]] = {}
    along: dict[str, float] = {}
    for controller in pilot:
        for m in plans[controller].movements:
            name = road_of(network.mov_in[m])
            if name is None:
                continue
            by_road.setdefault(name, set()).add(controller)
            if network.mov_turn[m] == "T" and road_of(network.mov_out[m]) == name:
                along[name] = along.get(name, 0.0) + float(flows[m])
    if road is not None:
        if road not in by_road:
            raise InputError(
                f"[strategies] green_wave_road = {road!r}: no pilot signal on an arterial of that name"
            )
        chosen = road
    else:
        candidates = [r for r in sorted(by_road) if len(by_road[r]) >= 2]
        if not candidates:
            return None
        chosen = max(candidates, key=lambda r: (along.get(r, 0.0), len(by_road[r])))
    members = sorted(by_road[chosen])
    if len(members) < 2:
        return None
    xy = metric_xy(graph)["nodes"]
    points = np.array([xy[node_of[c]] for c in members])
    axis = np.linalg.svd(points - points.mean(axis=0))[2][0]
    order = [members[i] for i in np.argsort((points - points.mean(axis=0)) @ axis)]
    through = np.array(
        [
            sum(
                flows[m]
                for m in plans[c].movements
                if network.mov_turn[m] == "T"
                and road_of(network.mov_in[m]) == chosen == road_of(network.mov_out[m])
            )
            for c in order
        ]
    )
    size = min(max_junctions, len(order))
    window = max(range(len(order) - size + 1), key=lambda i: (through[i : i + size].sum(), -i))
    order = order[window : window + size]
    factor = timing.progression_speed_factor

    def weight(u, v, data):  # noqa: ANN001, ANN202 - the quickest of parallel edges
        return min(free_flow_time_s(d) for d in data.values())

    # Travel times along the arterial itself where it connects the members, else any road.
    on_road = graph.edge_subgraph(
        [e for e in graph.edges(keys=True) if road_of(network.link_index[e]) == chosen]
    )

    def hop_time(a, b) -> float:  # noqa: ANN001 - graph nodes
        for candidate in (on_road, graph):
            try:
                path = nx.shortest_path(candidate, a, b, weight=weight)
            except (nx.NetworkXNoPath, nx.NodeNotFound):
                continue
            return sum(weight(u, v, candidate[u][v]) for u, v in zip(path[:-1], path[1:], strict=True))
        raise InputError(f"green wave: junction {b} cannot be reached from {a}")

    forward = [hop_time(node_of[a], node_of[b]) / factor for a, b in zip(order[:-1], order[1:], strict=True)]
    backward = [hop_time(node_of[b], node_of[a]) / factor for a, b in zip(order[:-1], order[1:], strict=True)]
    local_flows = {c: flows[list(plans[c].movements)] for c in order}
    cycle = max(retime_webster(plans[c], local_flows[c], network, timing)[1].cycle_s for c in order)
    cycle = float(math.ceil(cycle))
    retimed = {
        c: replace(
            retime_webster(plans[c], local_flows[c], network, timing, cycle_s=cycle)[0], strategy="green_wave"
        )
        for c in order
    }

    def arterial_phase(c: str, came_from) -> tuple[int, float]:  # noqa: ANN001 - a graph node
        """The phase giving green to the through movement arriving from ``came_from``."""
        plan = retimed[c]
        best, best_green, flow = 0, -1.0, 0.0
        for m in plan.movements:
            if network.link_keys[network.mov_in[m]][0] == came_from and network.mov_turn[m] == "T":
                k = plan.phase_of(m)
                if k >= 0 and plan.phases[k].green_s > best_green:
                    best, best_green, flow = k, plan.phases[k].green_s, flows[m]
        return best, flow

    xy_nodes = xy

    def arriving_from(i: int, towards: int) -> object:
        """The arterial neighbour of member ``i`` on the side of member ``towards`` (the far
        side when ``towards`` is out of range, for the first and last members)."""
        node = node_of[order[i]]
        sides = [
            p
            for p in graph.predecessors(node)
            if any(road_of(network.link_index[(p, node, k)]) == chosen for k in graph[p][node])
        ]
        if not sides:
            sides = list(graph.predecessors(node))
        inside = 0 <= towards < len(order)
        target = xy_nodes[node_of[order[towards if inside else (i + 1 if towards < 0 else i - 1)]]]

        def distance(p) -> float:  # noqa: ANN001 - a graph node
            return math.hypot(xy_nodes[p][0] - target[0], xy_nodes[p][1] - target[1])

        return min(sides, key=distance) if inside else max(sides, key=distance)

    out_phase, in_phase, out_flow, in_flow = [], [], 0.0, 0.0
    for i, c in enumerate(order):
        k, f = arterial_phase(c, arriving_from(i, i - 1))
        out_phase.append(k)
        out_flow += f
        k, f = arterial_phase(c, arriving_from(i, i + 1))
        in_phase.append(k)
        in_flow += f
    ideal_out = np.concatenate([[0.0], np.cumsum(forward)])
    ideal_in = -np.concatenate([[0.0], np.cumsum(backward)])  # inbound platoons reach i later going back
    starts_in_cycle_out = [retimed[c].green_window_s(out_phase[i])[0] for i, c in enumerate(order)]
    shift_in = [
        retimed[c].green_window_s(in_phase[i])[0] - starts_in_cycle_out[i] for i, c in enumerate(order)
    ]
    greens_out = [retimed[c].phases[out_phase[i]].green_s for i, c in enumerate(order)]
    greens_in = [retimed[c].phases[in_phase[i]].green_s for i, c in enumerate(order)]

    def evaluate(blend: float) -> tuple[float, float, list[float]]:
        diff = (ideal_in - ideal_out + cycle / 2.0) % cycle - cycle / 2.0
        green_out = (ideal_out + blend * diff) % cycle  # arterial (outbound) green start times
        green_in = (green_out + np.array(shift_in)) % cycle
        bw_out = bandwidth_s(list(green_out), greens_out, forward, cycle)
        bw_in = bandwidth_s(list(green_in[::-1]), greens_in[::-1], backward[::-1], cycle)
        return bw_out, bw_in, list(green_out)

    best = max(
        (evaluate(w) for w in np.linspace(0.0, 1.0, 21)),
        key=lambda r: out_flow * r[0] + in_flow * r[1] + 1e-9 * (r[0] + r[1]),
    )
    outbound, inbound, green_starts = best
    offsets = []
    coordinated = {}
    for i, c in enumerate(order):
        offset = (green_starts[i] - starts_in_cycle_out[i]) % cycle
        offsets.append(float(offset))
        coordinated[c] = replace(retimed[c], offset_s=float(offset))
    wave = GreenWave(chosen, order, cycle, offsets, forward, outbound, inbound)
    return coordinated, wave


# --------------------------------------------------------------------------------------------
# Running and measuring
# --------------------------------------------------------------------------------------------


@dataclass
class StrategyRun:
    strategy: str
    plans: StrategyPlans
    model: TrafficModel


def simulate_strategies(config: SignalTimingFile, inputs: CityInputs, engine: Engine) -> dict[str, Any]:
    """Demand, routes, plans and one traffic model per strategy, all advanced on ``engine``."""
    from twin.traffic.demand import gravity_od, msa_reroute, sample_trips
    from twin.traffic.model import TrafficModel, default_plans, network_from_graph, simulate
    from twin.traffic.signals import SignalController, retime_webster

    header = config.scenario
    warmup = config.strategies.warmup_s
    network = network_from_graph(inputs.graph, config.traffic)
    if not network.controllers:
        raise InputError("the road network has no signalised junction (highway = traffic_signals)")
    pilot = {
        c
        for c, movements in network.controllers.items()
        if network.mov_node[movements[0]] in inputs.area_nodes
    }
    if not pilot:
        raise InputError(
            f"[network] area_id = {config.network.area_id!r}: no signalised junction in the area"
        )
    midnight = -(header.start.hour * 3600.0 + header.start.minute * 60.0 + header.start.second)
    od = gravity_od(inputs.zones, inputs.graph, config.demand)
    trips = sample_trips(
        od,
        network,
        config.demand,
        -warmup,
        header.duration_s,
        engine.rng("traffic_demand"),
        day_start_s=midnight,
    )
    if not len(trips):
        raise InputError("the demand has no trip in the simulated window (check [demand] and the zones)")
    timing = config.timing
    base = {p.controller: p for p in default_plans(network, timing)}
    gaps: list[float] = []
    if config.demand.msa_iterations:
        flows0 = design_flows(network, trips, -warmup, header.duration_s)
        plans0 = [retime_webster(p, flows0[list(p.movements)], network, timing)[0] for p in base.values()]

        def run_once(candidate: Trips) -> TrafficModel:
            return simulate(network, plans0, candidate, -warmup, header.duration_s, timing)

        msa = msa_reroute(run_once, trips, config.demand.msa_iterations, engine.rng("traffic_msa"))
        trips, gaps = msa.trips, msa.relative_gaps
    flows = design_flows(network, trips, -warmup, header.duration_s)
    webster = {c: retime_webster(p, flows[list(p.movements)], network, timing)[0] for c, p in base.items()}
    runs = []
    for strategy in config.strategies.compare:
        plans = plans_for(
            strategy,
            network,
            base,
            webster,
            pilot,
            config.strategies.rest_of_district,
            timing,
            flows,
            config.strategies.green_wave_road,
            config.strategies.green_wave_max_junctions,
        )
        controller = SignalController.build(network, plans.plans, timing)
        model = TrafficModel(network, controller, trips, begin_s=-warmup)
        model.advance_to(0.0)  # warm-up, outside the measured window
        model.start_measuring()
        model.attach(engine, header.duration_s)
        runs.append(StrategyRun(strategy, plans, model))
    engine.run(description="signal strategies")
    return {
        "network": network,
        "pilot": pilot,
        "trips": trips,
        "runs": runs,
        "gaps": gaps,
        "flows": flows,
        "od_daily_trips": float(od.trips.sum() * 2.0),
    }


def junction_measures(
    run: StrategyRun, network: TrafficNetwork, pilot: set[str], gb_table: GbLosTable
) -> pd.DataFrame:
    """Per pilot junction: delay and LOS (HCM 6, GB 50647), queues, v/c, stops."""
    from twin.traffic.signals import gb_los, hcm_los

    nodes = [_controller_node(network, c) for c in sorted(pilot)]
    table = run.model.junction_table(nodes)
    table.insert(0, "strategy", run.strategy)
    table["los_hcm"] = [
        hcm_los(d, x) for d, x in zip(table["control_delay_s_per_veh"], table["v_over_c_ratio"], strict=True)
    ]
    table["los_gb"] = [
        gb_los(d, x, gb_table)
        for d, x in zip(table["control_delay_s_per_veh"], table["v_over_c_ratio"], strict=True)
    ]
    cycles = {str(_controller_node(network, p.controller)): p.cycle_s for p in run.plans.plans}
    table["cycle_s"] = [cycles.get(n, math.nan) for n in table["node"]]
    return table


def network_measures(run: StrategyRun, duration_s: float) -> dict[str, float]:
    kpis = run.model.kpis()
    return {
        "throughput_veh_per_h": kpis["throughput_veh"] * 3600.0 / duration_s,
        "mean_travel_time_s": kpis["mean_travel_time_s"],
        "tti_ratio": kpis["travel_time_index_ratio"],
        "in_network_end_veh": kpis["in_network_veh"],
        "waiting_to_depart_end_veh": kpis["waiting_to_depart_veh"],
        "gridlocks_count": kpis["gridlocks_count"],
    }


def rank_strategies(
    junctions: pd.DataFrame, network_rows: dict[str, dict[str, float]], baseline: str
) -> pd.DataFrame:
    """Strategies ranked by the pilot's volume-weighted control delay (then by network TTI)."""
    import pandas as pd

    rows = []
    for strategy, group in junctions.groupby("strategy", sort=False):
        volume = group["volume_veh"].sum()
        delay = (
            float((group["control_delay_s_per_veh"] * group["volume_veh"]).sum() / volume)
            if volume
            else math.nan
        )
        rows.append(
            {
                "strategy": strategy,
                "pilot_delay_s_per_veh": delay,
                "pilot_volume_veh": int(volume),
                "junctions_los_e_or_f_count": int(group["los_hcm"].isin(["E", "F"]).sum()),
                "worst_junction_delay_s_per_veh": float(group["control_delay_s_per_veh"].max()),
                "max_queue_m": float(group["max_queue_m"].max()),
                "mean_v_over_c_ratio": float(group["v_over_c_ratio"].mean()),
                **network_rows[strategy],
            }
        )
    table = pd.DataFrame(rows)
    base = table.loc[table["strategy"] == baseline, "pilot_delay_s_per_veh"].iloc[0]
    table["delay_change_vs_baseline_pct"] = (
        100.0 * (table["pilot_delay_s_per_veh"] - base) / base if base else math.nan
    )
    table = table.sort_values(["pilot_delay_s_per_veh", "tti_ratio"], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def delay_figure(junctions: pd.DataFrame, strategies: list[str], baseline: str, top: int = 25):  # noqa: ANN201
    """Control delay by junction and strategy.

    Top: grouped bars for the ``top`` pilot junctions with the most vehicle-delay under the
    baseline (where timing matters most). Bottom: every pilot junction, as the share of
    junctions at or under each delay, one line per strategy, with the HCM LOS bounds.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from twin.traffic.signals import HCM_LOS_THRESHOLDS_S

    base = junctions[junctions["strategy"] == baseline]
    weight = (base["control_delay_s_per_veh"] * base["volume_veh"]).to_numpy()
    nodes = list(base["node"].to_numpy()[np.argsort(-weight, kind="stable")][:top])
    width = 0.8 / len(strategies)
    fig, (ax, ax2) = plt.subplots(
        2, 1, figsize=(min(16.0, max(10.0, 0.5 * len(nodes))), 9.0), gridspec_kw={"height_ratios": [3, 2]}
    )
    x = np.arange(len(nodes))
    for i, strategy in enumerate(strategies):
        group = junctions[junctions["strategy"] == strategy].set_index("node").reindex(nodes)
        ax.bar(
            x + (i - (len(strategies) - 1) / 2) * width,
            group["control_delay_s_per_veh"],
            width,
            label=strategy,
        )
    for bound, letter in zip(HCM_LOS_THRESHOLDS_S, "ABCDE", strict=True):
        ax.axhline(bound, color="grey", lw=0.6, ls=":")
        ax.annotate(
            f"{letter}|",
            (1.0, bound),
            xycoords=("axes fraction", "data"),
            fontsize=7,
            color="grey",
            va="bottom",
            ha="left",
        )
    ax.set_xticks(x)
    ax.set_xticklabels(nodes, rotation=90, fontsize=7)
    ax.set_xlabel(f"pilot junction (road node): the {len(nodes)} with most vehicle-delay under {baseline}")
    ax.set_ylabel("control delay (s/veh)")
    ax.set_title("Control delay by junction and signal strategy (HCM LOS bounds dotted)")
    ax.legend(ncol=min(len(strategies), 6), fontsize=8, loc="upper right")
    for strategy in strategies:
        delays = np.sort(
            junctions.loc[junctions["strategy"] == strategy, "control_delay_s_per_veh"].to_numpy()
        )
        ax2.step(delays, np.arange(1, len(delays) + 1) / len(delays), where="post", label=strategy)
    for bound in HCM_LOS_THRESHOLDS_S:
        ax2.axvline(bound, color="grey", lw=0.6, ls=":")
    ax2.set_xscale("symlog", linthresh=10.0)
    ax2.set_xlim(left=0.0)
    ax2.set_xlabel(f"control delay (s/veh), all {junctions['node'].nunique()} pilot junctions")
    ax2.set_ylabel("share of junctions at or under")
    ax2.legend(ncol=min(len(strategies), 6), fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def ranking_figure(ranking: pd.DataFrame):  # noqa: ANN201 - matplotlib Figure
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.barh(ranking["strategy"], ranking["pilot_delay_s_per_veh"], color="tab:blue")
    ax1.invert_yaxis()
    ax1.set_xlabel("pilot control delay (s/veh)")
    ax2.barh(ranking["strategy"], ranking["tti_ratio"], color="tab:orange")
    ax2.invert_yaxis()
    ax2.set_xlabel("network TTI (actual / free-flow)")
    fig.suptitle("Strategies ranked (best at the top)")
    fig.tight_layout()
    return fig


@scenario_kind(
    "signal_timing", SignalTimingFile, "Signal timing strategies compared in a pilot area (AM peak)"
)
def run(config: SignalTimingFile, engine: Engine) -> RunResult:
    """Compare signal strategies in the pilot area; rank them; report junction and network measures."""
    import pandas as pd

    inputs = load_inputs(config.network)
    done = simulate_strategies(config, inputs, engine)
    network, pilot, runs = done["network"], done["pilot"], done["runs"]
    duration = config.scenario.duration_s
    junctions = pd.concat(
        [junction_measures(r, network, pilot, config.gb_los) for r in runs], ignore_index=True
    )
    network_rows = {r.strategy: network_measures(r, duration) for r in runs}
    baseline = config.strategies.baseline
    ranking = rank_strategies(junctions, network_rows, baseline)
    best = ranking.iloc[0]
    base_row = ranking[ranking["strategy"] == baseline].iloc[0]
    kpis: dict[str, float] = {
        "pilot_junctions_count": len(pilot),
        "signalised_junctions_count": len(network.controllers),
        "trips_simulated_veh": len(done["trips"]),
        "daily_vehicle_trips_veh": done["od_daily_trips"],
        "baseline_pilot_delay_s_per_veh": float(base_row["pilot_delay_s_per_veh"]),
        "best_pilot_delay_s_per_veh": float(best["pilot_delay_s_per_veh"]),
        "best_delay_reduction_pct": -float(best["delay_change_vs_baseline_pct"]),
        "best_tti_ratio": float(best["tti_ratio"]),
        "baseline_tti_ratio": float(base_row["tti_ratio"]),
        "baseline_throughput_veh_per_h": float(base_row["throughput_veh_per_h"]),
        "baseline_mean_travel_time_s": float(base_row["mean_travel_time_s"]),
    }
    for _, row in ranking.iterrows():
        s = row["strategy"]
        kpis[f"{s}_pilot_delay_s_per_veh"] = float(row["pilot_delay_s_per_veh"])
        kpis[f"{s}_tti_ratio"] = float(row["tti_ratio"])
        kpis[f"{s}_throughput_veh_per_h"] = float(row["throughput_veh_per_h"])
        kpis[f"{s}_mean_travel_time_s"] = float(row["mean_travel_time_s"])
    wave = next((r.plans.green_wave for r in runs if r.plans.green_wave is not None), None)
    if wave is not None:
        kpis["green_wave_cycle_s"] = wave.cycle_s
        kpis["green_wave_bandwidth_outbound_s"] = wave.bandwidth_outbound_s
        kpis["green_wave_bandwidth_inbound_s"] = wave.bandwidth_inbound_s
        kpis["green_wave_junctions_count"] = len(wave.controllers)
    if done["gaps"]:
        kpis["msa_relative_gap_ratio"] = done["gaps"][-1]
    kpis["gridlocks_count"] = sum(r.model.kpis()["gridlocks_count"] for r in runs)
    kpis["vehicle_link_updates_count"] = sum(r.model.vehicle_link_updates for r in runs)
    best_name = str(best["strategy"])
    best_run = next(r for r in runs if r.strategy == best_name)
    base_run = next(r for r in runs if r.strategy == baseline)
    tables = {
        "strategies": ranking,
        "junctions": junctions,
        "link_times_baseline": base_run.model.link_table(),
        "link_times_best": best_run.model.link_table(),
    }
    if wave is not None:
        tables["green_wave"] = pd.DataFrame(
            {
                "controller": wave.controllers,
                "offset_s": wave.offsets_s,
                "travel_time_to_next_s": [*wave.travel_times_s, math.nan],
            }
        )
    if config.network.source == "city":
        label = f"{config.network.area_id} pilot, {best_name} control: travel-time index"
        tables.update(cim_tables(inputs.graph, inputs.area_nodes, tables["link_times_best"], label))
    adaptive = next((r for r in runs if r.strategy == "adaptive"), None)
    if adaptive is not None and adaptive.model.controller.history:
        tables["adaptive_retiming"] = pd.DataFrame(adaptive.model.controller.history)
    notes = _notes(config, inputs, ranking, junctions, runs, wave, done, best_name)
    figures = {
        "delay_by_junction": delay_figure(junctions, [r.strategy for r in runs], baseline),
        "strategy_ranking": ranking_figure(ranking),
    }
    return RunResult(
        kpis=kpis,
        tables=tables,
        figures=figures,
        notes=notes,
        headline=[
            "best_delay_reduction_pct",
            "best_pilot_delay_s_per_veh",
            "baseline_pilot_delay_s_per_veh",
            "best_tti_ratio",
        ],
    )


def cim_tables(graph: nx.MultiDiGraph, area_nodes: set, links: pd.DataFrame, label: str) -> dict[str, pd.DataFrame]:
    """The run on the CIM (viz/results_overlay.py): per road link the time-mean travel-time index
    (``tti``, ratio to free flow, at least 1; a link no vehicle left in the hour counts as free),
    speed and queue (``cim_road_links``), and the pilot area as the focus (``cim_focus``)."""
    import pandas as pd

    from twin.cim import focus_table
    from twin.city.roads import node_lonlat
    from twin.city.travel_times import free_flow_time_s

    grouped = links.groupby(["u", "v", "key"], sort=True)
    roads = pd.DataFrame({
        "travel_time_s": grouped["mean_travel_time_s"].mean(),
        "speed_m_per_s": grouped["mean_speed_m_per_s"].mean(),
        "queue_veh": grouped["mean_queue_veh"].mean(),
    }).reset_index()
    node_type = type(next(iter(graph.nodes)))  # the link table stores node ids as text
    roads["u"], roads["v"] = roads["u"].map(node_type), roads["v"].map(node_type)
    edges = zip(roads["u"], roads["v"], roads["key"], strict=True)
    free_s = np.array([free_flow_time_s(graph.edges[edge]) for edge in edges])
    roads["tti"] = np.fmax(roads.pop("travel_time_s").to_numpy() / free_s, 1.0)  # NaN (no exits) → 1
    focus = focus_table(*node_lonlat(graph, sorted(area_nodes)), label, min_radius_m=1_500.0)
    return {"cim_road_links": roads, "cim_focus": focus}


def _notes(config, inputs, ranking, junctions, runs, wave, done, best_name) -> list[str]:  # noqa: ANN001
    baseline = config.strategies.baseline
    best = ranking.iloc[0]
    base = ranking[ranking["strategy"] == baseline].iloc[0]
    notes = [
        f"{inputs.description}: {len(done['pilot'])} signalised pilot junctions among "
        f"{len(done['network'].controllers)}; {len(done['trips']):,} vehicle trips simulated "
        f"({config.strategies.warmup_s:.0f} s warm-up, then {config.scenario.duration_s:.0f} s measured "
        f"from {config.scenario.start:%H:%M}), identical for every strategy.",
        f"Best strategy: **{best_name}**, pilot control delay {best['pilot_delay_s_per_veh']:.1f} s/veh "
        f"against {base['pilot_delay_s_per_veh']:.1f} s/veh for {baseline} "
        f"({best['delay_change_vs_baseline_pct']:+.1f} %); network TTI {best['tti_ratio']:.2f} against "
        f"{base['tti_ratio']:.2f}.",
    ]
    best_junctions = junctions[junctions["strategy"] == best_name]
    failing = best_junctions[best_junctions["los_hcm"].isin(["E", "F"])]
    if len(failing):
        worst = failing.sort_values("control_delay_s_per_veh", ascending=False).head(5)
        where = ", ".join(
            f"{r.node} ({r.control_delay_s_per_veh:.0f} s, v/c {r.v_over_c_ratio:.2f})"
            for r in worst.itertuples()
        )
        over = int((failing["v_over_c_ratio"] > 1.0).sum())
        notes.append(
            f"Where it breaks down: under {best_name}, {len(failing)} pilot junctions stay at LOS E/F "
            f"(HCM 6): {where}. Over capacity (v/c > 1), needing capacity or demand measures: {over}; "
            f"held up by queues spilling back from downstream, which coordination or downstream "
            f"capacity can relieve: {len(failing) - over}."
        )
    else:
        notes.append(f"Under {best_name} every pilot junction is at LOS D or better (HCM 6).")
    if wave is not None:
        notes.append(
            f"Green wave on {wave.road}: {len(wave.controllers)} junctions, common cycle "
            f"{wave.cycle_s:.0f} s, bandwidth {wave.bandwidth_outbound_s:.0f} s outbound and "
            f"{wave.bandwidth_inbound_s:.0f} s inbound "
            f"({100 * wave.bandwidth_outbound_s / wave.cycle_s:.0f} % / "
            f"{100 * wave.bandwidth_inbound_s / wave.cycle_s:.0f} % of the cycle)."
        )
    for r in runs:
        notes += r.plans.notes
        for g in r.model.gridlocks:
            nodes = ", ".join(map(str, g.nodes[:6]))
            notes.append(f"Gridlock under {r.strategy} at {g.time_s:.0f} s around nodes {nodes}.")
    oversaturated = sum(p.oversaturated for p in next(r for r in runs if r.strategy == best_name).plans.plans)
    if oversaturated:
        notes.append(
            f"{oversaturated} junctions have Y ≥ {config.timing.oversaturation_y} in the design flows "
            f"(oversaturated: Webster uses the maximum cycle {config.timing.max_cycle_s:.0f} s)."
        )
    if done["gaps"]:
        notes.append(
            "MSA rerouting relative gaps by iteration: " + ", ".join(f"{g:.3f}" for g in done["gaps"]) + "."
        )
    notes.append(
        "GB 50647 grades use the configurable table in [gb_los] (default: GB 50647-2011 表 B.0.1 as "
        "commonly cited: 一级 < 30 s, 二级 30–50 s, 三级 50–60 s, 四级 > 60 s; 负荷度 < 0.6 / 0.8 / 0.9)."
    )
    return notes
