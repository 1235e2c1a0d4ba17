"""Our model and SUMO on the same case: our model run on SUMO inputs, and our network, plans and
demand written out as SUMO files.

* :func:`run_sumo_inputs` (``twin traffic run``): a ``.net.xml`` and route files (or a
  ``.sumocfg``) run by our model, written as SUMO-style ``tripinfo.csv`` and ``kpis.json``;
* :func:`sumo_programs` and :func:`export_case`: our plans as ``tlLogic`` programmes, and a
  whole case (network, plans, routes, configuration) as SUMO files;
* :func:`changle_case` and :func:`export_changle` (``twin traffic export``): the bundled Changle
  network with Webster plans and its AM-peak trips, whole or cut to one area.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from twin.city.folder import load_city
from twin.errors import InputError
from twin.results import atomic_dir, refuse_existing, write_json
from twin.traffic.demand import DemandConfig, gravity_od, sample_trips
from twin.traffic.model import TrafficModel, run_until_done
from twin.traffic.network import TrafficNetwork, network_from_graph, network_from_sumo
from twin.traffic.params import TrafficParams
from twin.traffic.signals.controller import SignalController
from twin.traffic.signals.default_plans import default_plans
from twin.traffic.signals.plan import Phase, SignalPlan
from twin.traffic.signals.strategies.registry import strategy_class, with_strategy
from twin.traffic.signals.timing import TimingParams
from twin.traffic.signals.webster import retime_webster
from twin.traffic.sumo_io.config import read_sumocfg, write_sumocfg
from twin.traffic.sumo_io.netconvert import write_net
from twin.traffic.sumo_io.network import SumoConnection, SumoNet, read_net
from twin.traffic.sumo_io.programs import SumoPhase, SumoProgram, read_programs, write_programs
from twin.traffic.sumo_io.routes import (
    SUMO_DEFAULT_TYPES,
    SumoTrip,
    read_routes,
    unknown_edges,
    vtype_ids,
    write_routes,
)
from twin.traffic.trips import Trips, cut_trips, movement_counts, trips_from_sumo

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# SUMO inputs in, SUMO-style outputs out (``twin traffic run``)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SumoInputs:
    """The files and times of a run on SUMO inputs, from a ``.sumocfg`` or given one by one."""

    net: Path
    routes: list[Path]
    additional: list[Path]
    begin_s: float
    end_s: float | None
    ignore_route_errors: bool = False


def _sumo_inputs(
    sumocfg: Path | None, net: Path | None, routes: list[Path], begin_s: float | None, end_s: float | None
) -> _SumoInputs:
    """The net, routes, additional files, begin and end: ``sumocfg``'s, overridden by the times given."""
    additional: list[Path] = []
    ignore = False
    if sumocfg is not None:
        config = read_sumocfg(sumocfg)
        net, routes = config.net_file, list(config.route_files)
        additional = list(config.additional_files)
        begin_s = config.begin_s if begin_s is None else begin_s
        end_s = config.end_s if end_s is None else end_s
        ignore = config.ignore_route_errors
    begin_s = 0.0 if begin_s is None else float(begin_s)
    if end_s is not None and end_s <= begin_s:
        raise InputError(f"--end {end_s:g} must be after --begin {begin_s:g}")
    return _SumoInputs(net, list(routes), additional, begin_s, end_s, ignore)


def _read_demand(
    inputs: _SumoInputs, known_edges: set[str], source: Path | None
) -> tuple[list[SumoTrip], dict[str, Path]]:
    """Every vehicle of the route files and of the additional files (SUMO reads demand from
    both) that departs at or after the begin time.

    A route through an edge the network does not have stops the run, as it stops SUMO, unless
    the configuration sets ``ignore-route-errors`` (then the vehicle is left out and counted).
    """
    files = [*inputs.routes, *inputs.additional]
    by_file = {path: read_routes(path) for path in files}
    types = set(SUMO_DEFAULT_TYPES).union(*(vtype_ids(path) for path in files))
    for path, found in by_file.items():
        untyped = next((t for t in found if t.vtype is not None and t.vtype not in types), None)
        if untyped is not None:
            raise InputError(f"vehicle {untyped.id!r}: type {untyped.vtype!r} is not defined by any <vType>", path)
        bad = None if inputs.ignore_route_errors else unknown_edges(found, known_edges)
        if bad is not None:
            raise InputError(f"vehicle {bad[0]!r} uses edge {bad[1]!r}, which is not in the network", path)
    trips = [trip for found in by_file.values() for trip in found]
    if not trips:
        raise InputError("no <vehicle>, <trip> or <flow> in the route or additional files", source)
    origin = {trip.id: path for path, found in by_file.items() for trip in found}
    return [trip for trip in trips if trip.depart_s >= inputs.begin_s], origin


def _refuse_unroutable(
    skipped: list[str], sumo_trips: list[SumoTrip], origin: dict[str, Path], network: TrafficNetwork
) -> None:
    """Stop, as SUMO does without ``ignore-route-errors``, at the first vehicle whose route is
    not connected or whose trip has no route, naming it and the edges."""
    if not skipped:
        return
    trip = next(t for t in sumo_trips if t.id == skipped[0])
    if trip.edges is None:
        raise InputError(
            f"vehicle {trip.id!r}: no route from edge {trip.from_edge!r} to edge {trip.to_edge!r}", origin.get(trip.id)
        )
    index = {sid: i for i, sid in enumerate(network.link_ids)}
    pair = next(
        ((a, b) for a, b in zip(trip.edges[:-1], trip.edges[1:], strict=True)
         if (index[a], index[b]) not in network.mov_lookup),
        (trip.edges[0], trip.edges[-1]),
    )
    raise InputError(
        f"vehicle {trip.id!r}: its route has no connection from edge {pair[0]!r} to edge {pair[1]!r}",
        origin.get(trip.id),
    )


def run_sumo_inputs(
    out_dir: str | Path,
    sumocfg: str | Path | None = None,
    net: str | Path | None = None,
    routes: list[Path] | tuple = (),
    begin_s: float | None = None,
    end_s: float | None = None,
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
    out_dir = Path(out_dir)
    refuse_existing(out_dir, force)
    inputs = _sumo_inputs(sumocfg, net, list(routes), begin_s, end_s)
    sumo_net = read_net(inputs.net)
    for path in inputs.additional:
        sumo_net.programs.update(read_programs(path))  # the last programme loaded runs, as in SUMO
    network = network_from_sumo(sumo_net, params or TrafficParams())
    sumo_trips, origin = _read_demand(inputs, set(sumo_net.edge_key), Path(sumocfg) if sumocfg else None)
    trips, skipped = trips_from_sumo(network, sumo_trips)
    if not inputs.ignore_route_errors:
        _refuse_unroutable(skipped, sumo_trips, origin, network)
    if skipped:
        log.warning(
            "%d vehicles have no usable route (unknown edges or no connection): %s",
            len(skipped),
            ", ".join(skipped[:5]),
        )
    timing = TimingParams()
    plans = [with_strategy(p, strategy, timing) for p in default_plans(network, timing)]
    controller = SignalController.build(network, plans, timing)
    model = TrafficModel(network, controller, trips, begin_s=inputs.begin_s)
    run_until_done(model, inputs.end_s)
    table = model.tripinfo()
    result = _run_kpis(model, table, sumo_trips, skipped)
    with atomic_dir(out_dir, force) as tmp:
        table.to_csv(tmp / "tripinfo.csv", index=False)
        write_json(
            tmp / "kpis.json",
            {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in result.items()},
        )
    return result


def _run_kpis(
    model: TrafficModel, table: pd.DataFrame, sumo_trips: list[SumoTrip], skipped: list[str]
) -> dict[str, float]:
    """What ``twin traffic run`` reports: SUMO's summary measures, and what was left out."""
    kpis = model.kpis()
    return {
        "mean_travel_time_s": kpis["mean_travel_time_s"],
        "throughput_veh": kpis["throughput_veh"],
        "teleports": 0,
        "loaded_veh": len(sumo_trips),
        "skipped_veh": len(skipped),
        "unfinished_veh": len(model.trips) - kpis["throughput_veh"],
        "mean_time_loss_s": float(table["time_loss_s"].mean()) if len(table) else math.nan,
        "mean_route_length_m": float(table["route_length_m"].mean()) if len(table) else math.nan,
        "gridlocks_count": len(model.gridlocks),
        "end_s": model.time_s,
    }


# --------------------------------------------------------------------------------------------
# Our network, plans and demand out to SUMO (``twin traffic export``)
# --------------------------------------------------------------------------------------------


def sumo_programs(
    network: TrafficNetwork, plans: list[SignalPlan], sumo_net: SumoNet, program_id: str = "twin"
) -> list[SumoProgram]:
    """Our plans as SUMO ``tlLogic`` programmes of ``sumo_net`` (built from the same road layer).

    SUMO connections are matched to our movements by edge ids (then by approach and turn);
    each of our phases becomes a green phase, a yellow phase (movements losing green show
    ``y``) and an all-red phase. Plans export as their strategy's SUMO type (actuated plans as
    ``actuated`` programmes, where SUMO places its own detectors); the others as ``static`` with
    the plan's current timing.
    """
    by_tl: dict[str, list[SumoConnection]] = {}
    for conn in sumo_net.connections:
        if conn.tl:
            by_tl.setdefault(conn.tl, []).append(conn)
    programs = []
    for plan in plans:
        conns = by_tl.get(plan.controller)
        if not conns:
            log.warning("controller %s has no traffic light in the SUMO network", plan.controller)
            continue
        slot = _link_slots(network, plan, conns)
        phases = []
        for i, phase in enumerate(plan.phases):
            nxt = plan.phases[(i + 1) % len(plan.phases)]
            phases.append(SumoPhase(phase.green_s, _states(slot, phase, nxt, "green"), phase.min_green_s,
                                    phase.max_green_s))
            if phase.yellow_s > 0:
                phases.append(SumoPhase(phase.yellow_s, _states(slot, phase, nxt, "yellow")))
            if phase.all_red_s > 0:
                phases.append(SumoPhase(phase.all_red_s, _states(slot, phase, nxt, "red")))
        kind = strategy_class(plan.strategy).sumo_type
        programs.append(SumoProgram(plan.controller, program_id, kind, plan.offset_s % plan.cycle_s, tuple(phases)))
    return programs


def _link_slots(network: TrafficNetwork, plan: SignalPlan, conns: list[SumoConnection]) -> list[int]:
    """For each link index of a traffic light, the plan's local movement it shows (-1: none):
    matched by edge ids, else by approach and turn, else by approach."""
    local = {}
    by_turn = {}
    for k, m in enumerate(plan.movements):
        a, b = network.link_ids[network.mov_in[m]], network.link_ids[network.mov_out[m]]
        local[(a, b)] = k
        by_turn.setdefault((a, network.mov_turn[m]), k)
        by_turn.setdefault((a, "*"), k)
    slot = [-1] * (1 + max(i for c in conns for i in c.link_indices))
    for conn in conns:
        k = local.get(
            (conn.from_edge, conn.to_edge),
            by_turn.get((conn.from_edge, conn.turn), by_turn.get((conn.from_edge, "*"), -1)),
        )
        for i in conn.link_indices:
            slot[i] = k
    return slot


def _states(slot: list[int], phase: Phase, nxt: Phase, stage: str) -> str:
    """The SUMO state string of one stage (``green``, ``yellow``, ``red``) of ``phase``, before
    ``nxt``: a movement green in both stays green through the transition."""
    out = []
    for k in slot:
        if k < 0 or not phase.green(k):
            out.append("r")
        elif stage == "green" or nxt.green(k):
            out.append(phase.states[k])
        else:
            out.append("y" if stage == "yellow" else "r")
    return "".join(out)


def export_case(
    graph: nx.MultiDiGraph,
    network: TrafficNetwork,
    plans: list[SignalPlan],
    trips: Trips,
    out_dir: str | Path,
    begin_s: float,
    end_s: float,
    name: str = "case",
) -> list[str]:
    """Write ``name.net.xml`` (from ``graph``), ``name.add.xml`` (our plans as tlLogic),
    ``name.rou.xml`` (the trips with their routes) and ``name.sumocfg`` into ``out_dir``.

    Trips whose route uses a movement SUMO's ``netconvert`` did not build are left out of the
    route file (their number is logged). Returns the file names written.
    """
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


# --------------------------------------------------------------------------------------------
# The Changle case
# --------------------------------------------------------------------------------------------


@dataclass
class ChangleCase:
    """The bundled Changle network (or one area of it), its Webster plans and AM-peak trips."""

    graph: nx.MultiDiGraph
    network: TrafficNetwork
    plans: list[SignalPlan]
    trips: Trips
    timing: TimingParams


def changle_case(
    area: str | None,
    seed: int,
    begin_s: float,
    duration_s: float,
    demand: DemandConfig | None = None,
    params: TrafficParams | None = None,
    timing: TimingParams | None = None,
) -> ChangleCase:
    """The bundled Changle network, Webster plans and AM-peak trips (optionally cut to ``area``).

    Times are seconds after midnight; trips depart in [begin_s, begin_s + duration_s). With an
    area, the district's trips are simulated on their district routes and cut at the area's
    cordon (so through traffic is kept), and the graph is the area's largest strongly connected
    part. Plans are Webster's on the flows of the trips.
    """
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
        graph, network, trips = _cut_to_area(graph, network, trips, area, params)
    flows = movement_counts(network, trips.routes)
    flows *= 3600.0 / duration_s
    plans = [
        retime_webster(p, flows[list(p.movements)], network, timing)[0] for p in default_plans(network, timing)
    ]
    return ChangleCase(graph, network, plans, trips, timing)


def _cut_to_area(
    graph: nx.MultiDiGraph, network: TrafficNetwork, trips: Trips, area: str, params: TrafficParams
) -> tuple[nx.MultiDiGraph, TrafficNetwork, Trips]:
    """The area's largest strongly connected part, its network, and the trips cut at its cordon
    (their routes in the area network's links)."""
    nodes = {n for n, d in graph.nodes(data=True) if d.get("area_id") == area}
    if not nodes:
        raise InputError(f"--area {area!r}: no road node has that area_id")
    core = max(nx.strongly_connected_components(graph.subgraph(nodes)), key=len)
    area_graph = graph.subgraph(core).copy()
    keep = {network.link_index[e] for e in area_graph.edges(keys=True)}
    cut = cut_trips(network, trips, keep)
    sub_network = network_from_graph(area_graph, params)
    remap = {i: sub_network.link_index[network.link_keys[i]] for i in keep}
    routes = [np.array([remap[int(i)] for i in r], np.int64) for r in cut.routes]
    return area_graph, sub_network, Trips(cut.ids, cut.depart_s, routes)


def export_changle(
    out_dir: str | Path,
    area: str | None = None,
    seed: int = 1,
    begin_s: float = 7 * 3600.0,
    duration_s: float = 3600.0,
    force: bool = False,
) -> list[str]:
    """``twin traffic export``: the Changle case (or one area of it) as SUMO files."""
    out_dir = Path(out_dir)
    case = changle_case(area, seed, begin_s, duration_s)
    with atomic_dir(out_dir, force) as tmp:
        return export_case(
            case.graph,
            case.network,
            case.plans,
            case.trips,
            tmp,
            begin_s,
            begin_s + duration_s,
            name=f"changle_{area}" if area else "changle",
        )
