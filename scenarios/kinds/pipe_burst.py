"""A pipe burst (管网爆管) and the utility's response, as a story of SimPy processes.

1. **The burst opens**: an orifice (``twin.leaks``) on a pipe, sized as a fraction of the pipe's
   section, discharges ``Cd·A·√(2g·p)``.
2. **Detection**: the SCADA system scans every ``scan_interval_s``; it alarms when a pressure
   sensor reads ``pressure_drop_m`` below its normal value at that time of day (the same day
   without the burst), or when the plants' total outflow (DMA inflow) is ``inflow_jump_pct`` above
   normal. The dispatcher confirms, then sends a crew.
3. **The crew drives** from its depot over the road network: with a traffic run's time-of-day link
   times if ``[crew] travel_times_file`` names one, else at free-flow speed
   (``twin.travel_times``).
4. **Isolation**: the crew closes the minimal set of valves - the boundary of the burst pipe's
   valve segment (``twin.water_segments``) - going from valve to valve by road, nearest first.
5. **Repair** takes a lognormal time; then the valves reopen and **service is restored**.

Hydraulics run alongside: an extended-period, pressure-driven simulation (required pressure = the
GB 50013 service head) is advanced to every event and changed there. A second run of the same
day without the burst is the "normal" the sensors compare against and the baseline of the KPIs.

KPIs: water lost, times to detect/isolate/restore, population cut off, population below the
service head over time and in person-hours, minimum pressures and service availability
(delivered / required).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from scenarios.registry import scenario_kind
from twin.config import ScenarioFile, StrictModel
from twin.engine import Engine
from twin.errors import InputError
from twin.results import RunResult

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd


class NetworkTable(StrictModel):
    """The ``[network]`` table: which water network (default: the bundled Changle network)."""

    inp: str | None = Field(
        default=None, description="EPANET .inp file; default: the dataset's changle_water.inp."
    )
    valves: str | None = Field(
        default=None, description="Valve layer CSV (valve_id, link, node); default: beside the .inp."
    )


class BurstTable(StrictModel):
    """The ``[burst]`` table."""

    pipe: str = Field(
        default="auto",
        description="Pipe that bursts, or 'auto': the largest trunk main in [burst] area that is not "
        "a plant outlet or a station's connection.",
    )
    area: str = Field(default="wuhang", description="area_id where 'auto' looks for the pipe.")
    at_s: float = Field(default=1800.0, ge=0, description="Burst time after the scenario start (s).")
    position: float = Field(
        default=0.5, ge=0, le=1, description="Where along the pipe (fraction from its start)."
    )
    area_fraction: float = Field(
        default=0.5, gt=0, le=1, description="Hole area as a fraction of the pipe's section."
    )
    discharge_coefficient: float = Field(
        default=0.75, gt=0, le=1, description="Orifice discharge coefficient Cd."
    )
    exponent: float = Field(
        default=0.5, ge=0.3, le=3, description="Pressure exponent of the leak (0.5: orifice)."
    )


class DetectionTable(StrictModel):
    """The ``[detection]`` table."""

    sensors: int = Field(default=20, ge=1, le=1000, description="Pressure sensors, spread over the network.")
    pressure_drop_m: float = Field(
        default=8.0, gt=0, description="Alarm: a sensor this far below normal (m)."
    )
    inflow_jump_pct: float = Field(
        default=15.0, gt=0, description="Alarm: plant outflow this far above normal (%)."
    )
    scan_interval_s: float = Field(default=300.0, gt=0, le=3600, description="SCADA scan interval (s).")
    confirm_s: float = Field(
        default=600.0, ge=0, description="Dispatcher's confirmation before a crew leaves (s)."
    )


class CrewTable(StrictModel):
    """The ``[crew]`` table."""

    depot: str = Field(
        default="auto", description="Depot road node id, or 'auto': the node nearest the first plant."
    )
    mobilise_s: float = Field(default=600.0, ge=0, description="From dispatch to leaving the depot (s).")
    valve_close_s: float = Field(default=300.0, ge=0, description="Time to find and close one valve (s).")
    travel_times_file: str | None = Field(
        default=None,
        description="Parquet of a traffic run's link times (u, v, key, bin_start_s [s after midnight], "
        "travel_time_s); default: free flow.",
    )


class RepairTable(StrictModel):
    """The ``[repair]`` table."""

    median_s: float = Field(default=4 * 3600.0, gt=0, description="Median repair time (lognormal) (s).")
    sigma: float = Field(default=0.4, ge=0, le=2, description="Log standard deviation of the repair time.")


class ServiceTable(StrictModel):
    """The ``[service]`` table."""

    service_head_m: float = Field(default=28.0, gt=0, le=100, description="GB 50013 service head (m).")
    report_step_s: int = Field(default=300, ge=60, le=3600, description="Hydraulic reporting step (s).")


class PipeBurstFile(ScenarioFile):
    """A ``pipe_burst`` scenario file."""

    network: NetworkTable = NetworkTable()
    burst: BurstTable = BurstTable()
    detection: DetectionTable = DetectionTable()
    crew: CrewTable = CrewTable()
    repair: RepairTable = RepairTable()
    service: ServiceTable = ServiceTable()


# --------------------------------------------------------------------------------------------------
def _seconds_after_midnight(engine: Engine) -> int:
    start = engine.start
    return start.hour * 3600 + start.minute * 60 + start.second


def load_water(config: PipeBurstFile):
    """The network, its valve layer and pipe tags from ``[network]`` (default: the bundled data)."""
    from pathlib import Path

    import pandas as pd

    from twin.paths import data_dir
    from twin.water.compile import compile_network
    from twin.water.epanet_io import read_inp

    inp = Path(config.network.inp) if config.network.inp else data_dir() / "changle_water.inp"
    valves = Path(config.network.valves) if config.network.valves else inp.with_name(inp.stem + "_valves.csv")
    if not inp.exists():
        raise InputError("[network] inp: water network not found (build it with gis_data/build.py)", inp)
    if not valves.exists():
        raise InputError("[network] valves: valve layer not found", valves)
    wn = read_inp(inp)
    tags = {name: str(wn.get_link(name).tag) for name in wn.link_name_list if wn.get_link(name).tag}
    return compile_network(wn, str(inp)), pd.read_csv(valves), tags


def pick_pipe(net, burst: BurstTable, tags: dict[str, str], area_xy=None) -> str:
    """The burst pipe: ``[burst] pipe``, or the largest trunk main with both ends in the area."""
    if burst.pipe != "auto":
        if burst.pipe not in net.link_names or net.kind[net.link_index(burst.pipe)] > 1:
            raise InputError(f"[burst] pipe = {burst.pipe!r}: not a pipe of the network")
        return burst.pipe
    pipes = np.flatnonzero(net.kind <= 1)
    if area_xy is not None:
        from shapely import contains_xy

        inside = contains_xy(area_xy, net.node_xy[:, 0], net.node_xy[:, 1])
        pipes = pipes[inside[net.start[pipes]] & inside[net.end[pipes]]]
    # a main inside the distribution network: not a plant outlet or a station's connection
    station_nodes = set(np.flatnonzero(net.node_kind != 0).tolist())
    for k in np.flatnonzero(net.kind >= 2):
        station_nodes.update((int(net.start[k]), int(net.end[k])))
    for k in np.flatnonzero(net.kind <= 1):
        if net.node_kind[net.start[k]] != 0 or net.node_kind[net.end[k]] != 0:
            station_nodes.update((int(net.start[k]), int(net.end[k])))
    pipes = np.array(
        [k for k in pipes if net.start[k] not in station_nodes and net.end[k] not in station_nodes],
        dtype=np.int64,
    )
    trunk = [k for k in pipes if tags.get(net.link_names[k]) == "trunk"] or list(pipes)
    if not trunk:
        raise InputError(f"[burst] area = {burst.area!r}: no pipe of the network lies in that area")
    best = max(trunk, key=lambda k: (round(net.diameter_m[k], 4), net.length_m[k], net.link_names[k]))
    return net.link_names[best]


def spread_sensors(net, count: int) -> np.ndarray:
    """Junctions for ``count`` pressure sensors: farthest-point sampling from the sources."""
    nj = net.n_junctions
    xy = net.node_xy[:nj]
    sources = net.node_xy[net.node_kind != 0]
    distance = np.min(np.linalg.norm(xy[:, None, :] - sources[None, :, :], axis=2), axis=1)
    chosen = []
    for _ in range(min(count, nj)):
        pick = int(np.argmax(distance))
        chosen.append(pick)
        distance = np.minimum(distance, np.linalg.norm(xy - xy[pick], axis=1))
    return np.asarray(sorted(chosen), dtype=np.int64)


class _RoadLocator:
    """Nearest road node to a point in EPSG:4549, and road nodes' projected coordinates."""

    def __init__(self, roads: nx.MultiDiGraph) -> None:
        from pyproj import Transformer
        from scipy.spatial import cKDTree

        self.nodes = np.array(sorted(roads.nodes))
        lon = np.array([roads.nodes[n]["x"] for n in self.nodes], dtype=float)
        lat = np.array([roads.nodes[n]["y"] for n in self.nodes], dtype=float)
        x, y = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True).transform(lon, lat)
        self.xy = np.column_stack([x, y])
        self.index = {int(n): i for i, n in enumerate(self.nodes)}
        self._tree = cKDTree(self.xy)

    def nearest(self, point) -> int:
        _, i = self._tree.query(np.asarray(point, dtype=float))
        return int(self.nodes[i])


def _travel_times(config: PipeBurstFile, roads):
    """The crew's travel-time hook and its description: a traffic run's link times if
    ``[crew] travel_times_file`` names one (see :func:`twin.travel_times.read_link_times`), else
    free flow."""
    from pathlib import Path

    from twin.city.travel_times import FreeFlowTravelTimes, read_link_times

    name = config.crew.travel_times_file
    if not name:
        return FreeFlowTravelTimes(roads), "free-flow road speeds"
    path = Path(name)
    times = read_link_times(path, roads, f"[crew] travel_times_file = {name!r}")
    return times, f"time-of-day link times from {path.name}"


# --------------------------------------------------------------------------------------------------
def simulate_burst(
    config: PipeBurstFile, engine: Engine, net, valves_frame, tags: dict[str, str], roads, area_xy=None
) -> RunResult:
    """Run the burst story on ``net`` (compiled, with ``node_xy`` in EPSG:4549) and ``roads``."""
    import pandas as pd

    from twin.city.travel_times import fastest_route
    from twin.water.leaks import Leak, add_leak
    from twin.water.segments import ValveLayer, isolation_plan, valve_segments
    from twin.water.service import (
        availability,
        below_service,
        person_hours_below,
        population_served,
        service_network,
    )
    from twin.water.simulation import ExtendedPeriodSimulation

    service_head = config.service.service_head_m
    step = int(config.service.report_step_s)
    offset = _seconds_after_midnight(engine)
    end = offset + int(math.ceil(engine.duration_s))
    burst = config.burst
    pipe = pick_pipe(net, burst, tags, area_xy)
    leak = Leak(
        pipe,
        burst.position,
        area_fraction=burst.area_fraction,
        discharge_coefficient=burst.discharge_coefficient,
        exponent=burst.exponent,
    )
    split, leak_node = add_leak(net, leak, open_=False)
    ke, ke_n = leak.headloss_parameters(float(net.diameter_m[net.link_index(pipe)]))
    # valves on the burst pipe's far end now sit on its second half
    frame = valves_frame.copy()
    far_end = net.node_names[net.end[net.link_index(pipe)]]
    frame.loc[(frame["link"] == pipe) & (frame["node"] == far_end), "link"] = f"{pipe}__b"
    valves = ValveLayer.from_frame(frame, split)
    service = service_network(split, service_head)
    segments = valve_segments(service, valves)
    close, isolated_links, cut_nodes = isolation_plan(service, valves, segments, split.link_index(pipe))
    valve_links = sorted({int(valves.link[v]) for v in close})
    population = population_served(service)
    nj = service.n_junctions
    sensors = spread_sensors(service, config.detection.sensors)
    plants = np.flatnonzero(service.node_kind == 1)

    baseline = ExtendedPeriodSimulation(
        service.copy(),
        duration_s=end,
        hydraulic_step_s=min(step, 3600),
        report_step_s=step,
        on_unbalanced="relax",
    ).run()
    normal_time = baseline.time_s

    def normal(values: np.ndarray, t_hyd: float) -> np.ndarray:
        i = int(np.searchsorted(normal_time, t_hyd, side="right")) - 1
        return values[max(i, 0)]

    hyd = ExtendedPeriodSimulation(
        service, duration_s=end, hydraulic_step_s=min(step, 3600), report_step_s=step, on_unbalanced="relax"
    )
    hyd.run_until(offset)
    env = engine.env
    log: list[tuple[str, float, str]] = []
    times: dict[str, float] = {}
    detected = env.event()
    locator = _RoadLocator(roads)
    travel, travel_source = _travel_times(config, roads)
    leak_xy = service.node_xy[leak_node]
    burst_road = locator.nearest(leak_xy)
    if config.crew.depot == "auto":
        depot = locator.nearest(service.node_xy[plants[0]] if len(plants) else leak_xy)
    else:
        try:
            depot = int(config.crew.depot)
        except ValueError:
            raise InputError(
                f"[crew] depot = {config.crew.depot!r}: expected a road node id or 'auto'"
            ) from None
        if depot not in roads:
            raise InputError(f"[crew] depot = {config.crew.depot!r}: not a node of the road graph")
    route_nodes: list[int] = []
    valve_closed_at: dict[int, float] = {}

    def advance() -> None:
        hyd.run_until(offset + int(round(env.now)))
        hyd.solve_now()

    def event(name: str, detail: str = "") -> None:
        times[name] = float(env.now)
        log.append((name, float(env.now), detail))

    def burst_opens():
        yield env.timeout(burst.at_s)
        advance()
        hyd.set_leak(leak_node, ke, ke_n)
        advance()
        event(
            "burst",
            f"pipe {pipe} (DN{net.diameter_m[net.link_index(pipe)] * 1000:.0f}), "
            f"hole {leak.area(float(net.diameter_m[net.link_index(pipe)])) * 1e4:.0f} cm²",
        )

    def scada():
        interval = config.detection.scan_interval_s
        while True:
            yield env.timeout(interval - (env.now % interval) if env.now % interval else interval)
            if "burst" not in times:
                continue
            advance()
            t_hyd = offset + env.now
            drop = normal(baseline.head_m, t_hyd)[sensors] - hyd.state.head[sensors]
            supply = -hyd.state.node_outflow[plants].sum()
            normal_supply = -normal(baseline.demand_m3_per_s, t_hyd)[plants].sum()
            jump = 100.0 * (supply / normal_supply - 1.0) if normal_supply > 0 else 0.0
            if drop.max() >= config.detection.pressure_drop_m:
                worst = service.node_names[sensors[int(np.argmax(drop))]]
                event("detected", f"pressure sensor at {worst} {drop.max():.1f} m below normal")
                break
            if jump >= config.detection.inflow_jump_pct:
                event("detected", f"DMA inflow {jump:.0f}% above normal")
                break
        detected.succeed()

    def crew():
        yield detected
        yield env.timeout(config.detection.confirm_s)
        event("dispatched", f"crew leaves depot {depot} after {config.crew.mobilise_s:.0f} s")
        yield env.timeout(config.crew.mobilise_s)
        clock = offset + env.now
        route = fastest_route(roads, travel, depot, burst_road, clock)
        route_nodes.extend(route.nodes)
        yield env.timeout(route.duration_s)
        event(
            "on_site", f"{route.length_m / 1000:.1f} km in {route.duration_s / 60:.0f} min ({travel_source})"
        )
        here = burst_road
        remaining = list(valve_links)
        while remaining:
            positions = {
                k: locator.nearest(service.node_xy[[service.start[k], service.end[k]]].mean(axis=0))
                for k in remaining
            }
            nxt = min(
                remaining,
                key=lambda k: (
                    np.linalg.norm(locator.xy[locator.index[positions[k]]] - locator.xy[locator.index[here]]),
                    k,
                ),
            )
            hop = fastest_route(roads, travel, here, positions[nxt], offset + env.now)
            route_nodes.extend(hop.nodes[1:])
            yield env.timeout(hop.duration_s + config.crew.valve_close_s)
            advance()
            hyd.set_link_status(nxt, False)
            valve_closed_at[nxt] = float(env.now)
            here = positions[nxt]
            remaining.remove(nxt)
        advance()
        event("isolated", f"{len(close)} valves closed")
        rng = engine.rng("repair")
        repair = float(config.repair.median_s * math.exp(config.repair.sigma * rng.standard_normal()))
        yield env.timeout(repair)
        advance()
        hyd.set_leak(leak_node, 0.0, ke_n)
        for k in valve_links:
            hyd.set_link_status(k, True)
        advance()
        event("restored", f"repair took {repair / 3600:.1f} h; valves reopened")

    env.process(burst_opens())
    env.process(scada())
    env.process(crew())
    engine.run(description="pipe burst")
    result = hyd.finish()

    # ---- KPIs ------------------------------------------------------------------------------------
    start_window = offset + burst.at_s
    dt = np.diff(np.append(result.time_s, end))
    water_lost = float((result.leak_m3_per_s[:, leak_node] * dt).sum())
    below = below_service(result, service_head)
    base_below = below_service(baseline, service_head)
    in_window = result.time_s >= start_window
    pop_below = (below * population[None, :]).sum(axis=1)
    base_pop_below = (base_below * population[None, :]).sum(axis=1)
    hours = person_hours_below(result, population, end, service_head, start_s=start_window)
    base_hours = person_hours_below(baseline, population, end, service_head, start_s=start_window)
    served = population > 0
    outside = np.ones(nj, dtype=bool)
    outside[cut_nodes[cut_nodes < nj]] = False
    pressure = result.pressure_m[:, :nj]
    leak_phase = in_window & (result.time_s < offset + times.get("isolated", engine.duration_s))
    kpis: dict[str, float] = {
        "water_lost_m3": water_lost,
        "time_to_detect_s": times.get("detected", math.nan) - burst.at_s,
        "time_to_isolate_s": times.get("isolated", math.nan) - burst.at_s,
        "time_to_restore_s": times.get("restored", math.nan) - burst.at_s,
        "valves_closed_count": float(len(close)),
        "population_cut_off_count": float(population[~outside].sum()),
        "peak_population_below_service_head_count": float(pop_below[in_window].max(initial=0.0)),
        "person_hours_below_service_head_person_h": hours,
        "baseline_person_hours_below_service_head_person_h": base_hours,
        "person_hours_lost_person_h": max(hours - base_hours, 0.0),
        "min_pressure_during_leak_m": float(pressure[np.ix_(leak_phase, served)].min(initial=np.inf)),
        "min_pressure_outside_segment_m": float(
            pressure[np.ix_(in_window, served & outside)].min(initial=np.inf)
        ),
        "service_availability_pct": 100.0 * availability(result, end, start_s=start_window),
        "baseline_service_availability_pct": 100.0 * availability(baseline, end, start_s=start_window),
    }
    if "on_site" in times:
        kpis["crew_travel_s"] = times["on_site"] - times["dispatched"] - config.crew.mobilise_s

    def clock(t: float) -> str:
        return (engine.start + __import__("datetime").timedelta(seconds=float(t))).strftime("%H:%M")

    timeline = pd.DataFrame(
        {
            "event": [e[0] for e in log],
            "time_s": [e[1] for e in log],
            "clock": [clock(e[1]) for e in log],
            "detail": [e[2] for e in log],
        }
    )
    base_idx = np.searchsorted(baseline.time_s, result.time_s, side="right") - 1
    scenario = result.time_s >= offset  # the spin-up from midnight is not part of the story
    over_time = pd.DataFrame(
        {
            "time_s": result.time_s - offset,
            "clock": [clock(t - offset) for t in result.time_s],
            "population_below_service_head_count": pop_below,
            "baseline_population_below_service_head_count": base_pop_below[np.clip(base_idx, 0, None)],
            "leak_m3_per_s": result.leak_m3_per_s[:, leak_node],
            "min_pressure_m": np.where(served, pressure, np.inf).min(axis=1),
            "plant_outflow_m3_per_s": -result.demand_m3_per_s[:, plants].sum(axis=1),
        }
    )[scenario].reset_index(drop=True)
    valve_table = pd.DataFrame(
        {
            "valve_id": [valves.valve_id[v] for v in close],
            "link": [service.link_names[valves.link[v]] for v in close],
            "node": [service.node_names[valves.node[v]] for v in close],
            "closed_at_s": [valve_closed_at.get(int(valves.link[v]), math.nan) for v in close],
        }
    )
    hours_below = (below[in_window] * dt[in_window, None]).sum(axis=0) / 3600.0
    junctions = pd.DataFrame(
        {
            "junction": service.node_names[:nj],
            "population": population,
            "hours_below_service_head_h": hours_below,
            "min_pressure_m": pressure[in_window].min(axis=0) if in_window.any() else np.nan,
            "cut_off": ~outside,
        }
    )
    notes = [
        f"Pipe {pipe} bursts at {clock(burst.at_s)}: a hole of {burst.area_fraction:.0%} of its section "
        f"(Cd {burst.discharge_coefficient}, exponent {burst.exponent}).",
        "; ".join(
            f"{name} {clock(t)} ({detail})" if detail else f"{name} {clock(t)}" for name, t, detail in log
        )
        + ".",
        f"Isolation closes {len(close)} valves and cuts off "
        f"{kpis['population_cut_off_count']:,.0f} residents; {kpis['water_lost_m3']:,.0f} m³ are lost and "
        f"{kpis['person_hours_lost_person_h']:,.0f} person-hours fall below the {service_head:g} m "
        "service head (beyond what the same day costs without the burst).",
        f"Crew travel uses {travel_source}. Service head: GB 50013 (six storeys); pressure-driven demand "
        f"with full supply from {service_head:g} m and none at 0 m.",
    ]
    figures = {
        "burst_map": _map(
            service,
            pipe,
            leak_node,
            cut_nodes,
            [service.link_names[k] for k in valve_links],
            sensors,
            locator,
            route_nodes,
            junctions,
            roads,
        ),
        "pressure_over_time": _pressure_plot(
            result, baseline, sensors, offset, times, over_time, service, service_head, clock
        ),
    }
    return RunResult(
        kpis=kpis,
        tables={
            "timeline": timeline,
            "service_over_time": over_time,
            "valves": valve_table,
            "junction_service": junctions,
            **cim_tables(service, junctions, pipe, isolated_links),
        },
        figures=figures,
        notes=notes,
        headline=["time_to_detect_s", "time_to_isolate_s", "time_to_restore_s", "water_lost_m3",
                  "person_hours_below_service_head_person_h", "service_availability_pct"],
    )


def _map(net, pipe, leak_node, cut_nodes, valve_links, sensors, locator, route_nodes, junctions, roads):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    xy = net.node_xy
    fig, ax = plt.subplots(figsize=(10, 9))
    road_segments = [(locator.xy[locator.index[u]], locator.xy[locator.index[v]]) for u, v in roads.edges()]
    ax.add_collection(LineCollection(road_segments, colors="#eeeeee", linewidths=0.4, zorder=0))
    pipes = np.stack([xy[net.start], xy[net.end]], axis=1)
    ax.add_collection(LineCollection(pipes, colors="#9ecae1", linewidths=0.3 + 3 * net.diameter_m, zorder=1))
    cut = set(int(n) for n in cut_nodes)
    in_segment = [k for k in range(net.n_links) if net.start[k] in cut or net.end[k] in cut]
    ax.add_collection(
        LineCollection(
            pipes[in_segment], colors="#de2d26", linewidths=2.5, zorder=3, label="isolated segment"
        )
    )
    nj = net.n_junctions
    worst = junctions["min_pressure_m"].to_numpy()
    shown = junctions["population"].to_numpy() > 0
    points = ax.scatter(
        xy[:nj][shown, 0],
        xy[:nj][shown, 1],
        c=np.clip(worst[shown], 0, 60),
        cmap="RdYlGn",
        s=8,
        zorder=2,
        vmin=0,
        vmax=60,
    )
    fig.colorbar(points, ax=ax, shrink=0.6, label="minimum pressure after the burst (m)")
    if route_nodes:
        route = np.array([locator.xy[locator.index[n]] for n in route_nodes])
        ax.plot(route[:, 0], route[:, 1], color="#3f007d", lw=1.5, zorder=4, label="crew route")
    valve_xy = (
        np.array(
            [xy[[net.start[net.link_index(k)], net.end[net.link_index(k)]]].mean(axis=0) for k in valve_links]
        )
        if valve_links
        else np.zeros((0, 2))
    )
    ax.scatter(
        valve_xy[:, 0], valve_xy[:, 1], marker="X", s=60, color="black", zorder=5, label="valves closed"
    )
    ax.scatter(
        xy[sensors, 0], xy[sensors, 1], marker="^", s=30, color="#08519c", zorder=5, label="pressure sensors"
    )
    ax.scatter(
        *xy[leak_node],
        marker="*",
        s=300,
        color="#ff7f00",
        edgecolor="black",
        zorder=6,
        label=f"burst on {pipe}",
    )
    sources = np.flatnonzero(net.node_kind != 0)
    ax.scatter(
        xy[sources, 0], xy[sources, 1], marker="s", s=40, color="#2171b5", zorder=5, label="plants and tanks"
    )
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_title("Pipe burst: isolation, crew route and pressures")
    ax.set_xlabel("x (EPSG:4549, m)")
    ax.set_ylabel("y (m)")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def _pressure_plot(result, baseline, sensors, offset, times, over_time, net, service_head, clock):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    window = result.time_s >= offset
    hours = (result.time_s[window] - offset) / 3600.0
    base_idx = np.clip(np.searchsorted(baseline.time_s, result.time_s[window], side="right") - 1, 0, None)
    pressure = result.pressure_m[window]
    drop = baseline.pressure_m[base_idx][:, sensors] - pressure[:, sensors]
    shown = sensors[np.argsort(-drop.max(axis=0))[:6]]
    for j in shown:
        ax.plot(hours, pressure[:, j], lw=1.2, label=net.node_names[j])
        ax.plot(hours, baseline.pressure_m[base_idx, j], lw=0.8, ls=":", color=ax.lines[-1].get_color())
    ax.axhline(service_head, color="red", ls="--", lw=0.8, label=f"service head {service_head:g} m")
    ax.set_ylabel("pressure (m)")
    ax.set_title("Pressure at the most affected sensors (dotted: the same day without the burst)")
    ax.legend(fontsize=7, ncol=4)
    ax2.plot(
        over_time["time_s"] / 3600.0,
        over_time["population_below_service_head_count"] / 1000.0,
        color="#de2d26",
        label="with the burst",
    )
    ax2.plot(
        over_time["time_s"] / 3600.0,
        over_time["baseline_population_below_service_head_count"] / 1000.0,
        color="grey",
        ls=":",
        label="without",
    )
    ax2.set_ylabel("residents below service head (thousand)")
    ax2.set_xlabel("hours since the scenario start")
    ax2.legend(fontsize=8)
    for name, t in times.items():
        for axis in (ax, ax2):
            axis.axvline(t / 3600.0, color="black", lw=0.6, alpha=0.5)
        ax.annotate(
            f"{name} {clock(t)}",
            (t / 3600.0, ax.get_ylim()[1]),
            rotation=90,
            fontsize=7,
            va="top",
            ha="right",
        )
    fig.tight_layout()
    return fig


def _area_polygon(city, area_id: str):
    import shapely
    from pyproj import Transformer

    areas = city.areas
    match = areas[areas["area_id"] == area_id]
    if match.empty:
        known = ", ".join(sorted(map(str, areas["area_id"])))
        raise InputError(f"[burst] area = {area_id!r}: unknown area (known: {known})")
    to_metric = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    return shapely.transform(
        match.geometry.iloc[0], lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1]))
    )


@scenario_kind(
    "pipe_burst", PipeBurstFile, "water main burst: detection, crew, valve isolation, repair, service lost"
)
def run(config: PipeBurstFile, engine: Engine) -> RunResult:
    """Run the burst story on the bundled Changle network and roads."""
    try:
        from twin.city.folder import load_city
    except ImportError:
        raise InputError(
            "the city base data (twin.city) is not available yet; build gis_data first"
        ) from None
    city = load_city()
    net, valves, tags = load_water(config)
    area = _area_polygon(city, config.burst.area) if config.burst.pipe == "auto" else None
    return simulate_burst(config, engine, net, valves, tags, city.roads, area)


def cim_tables(net, junctions: pd.DataFrame, pipe: str, isolated_links: np.ndarray) -> dict[str, pd.DataFrame]:
    """The event on the CIM (viz/results_overlay.py): each junction's least pressure in the window
    and whether the isolation cut it off (``cim_water_nodes``), and the burst pipe with the links
    the isolation closes (``cim_water_links``), named as in the network file (the burst pipe's
    second half, ``<pipe>__b``, is the pipe itself)."""
    import pandas as pd

    nodes = pd.DataFrame({
        "node": junctions["junction"], "pressure_m": junctions["min_pressure_m"], "cut_off": junctions["cut_off"],
    })
    names = sorted({net.link_names[int(k)].removesuffix("__b") for k in isolated_links} | {pipe})
    links = pd.DataFrame({"link": names, "burst": [name == pipe for name in names], "isolated": True})
    return {"cim_water_nodes": nodes, "cim_water_links": links}
