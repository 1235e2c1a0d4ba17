"""The ``pipe_burst`` scenario kind: a water main bursts (管网爆管) and the utility responds.

The story - the burst opens, SCADA detects it, a crew drives from its depot, closes the valve
segment valve by valve, repairs the pipe and restores service - is the model
:func:`twin.water.burst.simulate_burst`, SimPy processes on the run's clock with the hydraulics
following every event. This module reads the scenario file (``[network]``, ``[burst]``,
``[detection]``, ``[crew]``, ``[repair]``, ``[service]``), loads the network, its valve layer, the
city's roads and the burst's area, calls the model, and turns the outcome into KPIs, tables,
figures and notes.

KPIs: water lost, times to detect/isolate/restore, population cut off, population below the
service head over time and in person-hours (against the same day without the burst), minimum
pressures and service availability (delivered / required).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from kernels.hydraulics.codes import PIPE
from scenarios.registry import scenario_kind
from twin.city.folder import load_city
from twin.city.travel_times import read_link_times
from twin.config import ScenarioFile, StrictModel
from twin.engine import Engine
from twin.errors import InputError
from twin.paths import data_dir
from twin.results import RunResult
from twin.water.burst import Burst, BurstOutcome, Crew, Detection, Repair, largest_main, simulate_burst
from twin.water.compile import compile_network
from twin.water.epanet_io import link_tags, read_inp
from twin.water.leaks import Leak
from twin.water.network import CompiledNetwork
from twin.water.service import availability, below_service, person_hours_below

if TYPE_CHECKING:
    from collections.abc import Callable

    import networkx as nx
    import pandas as pd
    import shapely
    from matplotlib.figure import Figure


class NetworkTable(StrictModel):
    """The ``[network]`` table: which water network (default: the bundled Changle network)."""

    inp: str | None = Field(
        default=None, description="EPANET .inp file; default: the dataset's water.inp."
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


@scenario_kind(
    "pipe_burst", PipeBurstFile, "water main burst: detection, crew, valve isolation, repair, service lost"
)
def run(config: PipeBurstFile, engine: Engine) -> RunResult:
    """Run the burst story on the bundled Changle network and roads."""
    city = load_city()
    net, valves, tags = load_water(config)
    area = _area_polygon(city, config.burst.area) if config.burst.pipe == "auto" else None
    return assess_burst(config, engine, net, valves, tags, city.roads, area)


# ---- inputs -------------------------------------------------------------------------------------------
def load_water(config: PipeBurstFile) -> tuple[CompiledNetwork, pd.DataFrame, dict[str, str]]:
    """The network, its valve layer and pipe tags from ``[network]`` (default: the bundled data)."""
    # deferred: pandas is slow to import, and the registry imports every kind to discover it
    import pandas as pd

    inp = Path(config.network.inp) if config.network.inp else data_dir() / "water.inp"
    valves = Path(config.network.valves) if config.network.valves else inp.with_name(inp.stem + "_valves.csv")
    if not inp.exists():
        raise InputError("[network] inp: water network not found (build it with gis_data/build.py)", inp)
    if not valves.exists():
        raise InputError("[network] valves: valve layer not found", valves)
    wn = read_inp(inp)
    return compile_network(wn, str(inp)), pd.read_csv(valves), link_tags(wn)


def pick_pipe(net: CompiledNetwork, burst: BurstTable, tags: dict[str, str],
              area_xy: shapely.Polygon | None = None) -> str:
    """The burst pipe: ``[burst] pipe``, or the largest trunk main with both ends in the area."""
    if burst.pipe != "auto":
        if burst.pipe not in net.link_names or net.kind[net.link_index(burst.pipe)] > PIPE:
            raise InputError(f"[burst] pipe = {burst.pipe!r}: not a pipe of the network")
        return burst.pipe
    pipe = largest_main(net, tags, area_xy)
    if pipe is None:
        raise InputError(f"[burst] area = {burst.area!r}: no pipe of the network lies in that area")
    return pipe


def crew_plan(config: PipeBurstFile, roads: nx.MultiDiGraph) -> Crew:
    """The crew of ``[crew]``: its depot (``auto``: by the first plant) and its road times - a
    traffic run's link times if ``travel_times_file`` names one, else free flow."""
    crew = config.crew
    name = crew.travel_times_file
    if name:
        path = Path(name)
        travel = read_link_times(path, roads, f"[crew] travel_times_file = {name!r}")
        source = f"time-of-day link times from {path.name}"
    else:
        travel, source = None, "free-flow road speeds"
    depot = None
    if crew.depot != "auto":
        try:
            depot = int(crew.depot)
        except ValueError:
            raise InputError(f"[crew] depot = {crew.depot!r}: expected a road node id or 'auto'") from None
        if depot not in roads:
            raise InputError(f"[crew] depot = {crew.depot!r}: not a node of the road graph")
    return Crew(depot=depot, mobilise_s=crew.mobilise_s, valve_close_s=crew.valve_close_s, travel_times=travel,
                travel_source=source)


def _area_polygon(city, area_id: str) -> shapely.Polygon:
    """The city's area ``area_id`` in EPSG:4549, where ``[burst] pipe = "auto"`` looks."""
    # deferred: shapely and pyproj are slow to import, and the registry imports every kind
    import shapely
    from pyproj import Transformer  # deferred, as above

    areas = city.areas
    match = areas[areas["area_id"] == area_id]
    if match.empty:
        known = ", ".join(sorted(map(str, areas["area_id"])))
        raise InputError(f"[burst] area = {area_id!r}: unknown area (known: {known})")
    to_metric = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    return shapely.transform(
        match.geometry.iloc[0], lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1]))
    )


# ---- the model, and what it did -------------------------------------------------------------------------
def assess_burst(config: PipeBurstFile, engine: Engine, net: CompiledNetwork, valves_frame: pd.DataFrame,
                 tags: dict[str, str], roads: nx.MultiDiGraph, area_xy: shapely.Polygon | None = None) -> RunResult:
    """Run the burst story on ``net`` (compiled, with ``node_xy`` in EPSG:4549) and ``roads``, and
    report it: KPIs, tables, figures and notes."""
    burst = config.burst
    pipe = pick_pipe(net, burst, tags, area_xy)
    leak = Leak(pipe, burst.position, area_fraction=burst.area_fraction,
                discharge_coefficient=burst.discharge_coefficient, exponent=burst.exponent)
    crew = crew_plan(config, roads)
    d = config.detection
    detection = Detection(sensors=d.sensors, pressure_drop_m=d.pressure_drop_m, inflow_jump_pct=d.inflow_jump_pct,
                          scan_interval_s=d.scan_interval_s, confirm_s=d.confirm_s)
    repair = Repair(median_s=config.repair.median_s, sigma=config.repair.sigma)
    outcome = simulate_burst(engine, net, valves_frame, roads, Burst(leak, burst.at_s), detection, crew, repair,
                             config.service.service_head_m, config.service.report_step_s)
    service = _ServiceLoss.of(outcome, config.service.service_head_m, burst.at_s)

    def clock(t: float) -> str:
        return (engine.start + timedelta(seconds=float(t))).strftime("%H:%M")

    kpis = _kpis(config, engine, outcome, service)
    tables = _tables(outcome, service, clock)
    notes = _notes(config, outcome, kpis, crew.travel_source, clock)
    network = outcome.network
    figures = {
        "burst_map": _map(network.service, pipe, network.leak_node, network.cut_nodes,
                          [network.service.link_names[k] for k in network.valve_links], network.sensors,
                          outcome.locator, outcome.route_nodes, tables["junction_service"], roads),
        "pressure_over_time": _pressure_plot(outcome.result, outcome.baseline, network.sensors, outcome.offset_s,
                                             outcome.times, tables["service_over_time"], network.service,
                                             config.service.service_head_m, clock),
    }
    return RunResult(
        kpis=kpis,
        tables={**tables, **cim_tables(network.service, tables["junction_service"], pipe, network.isolated_links)},
        figures=figures,
        notes=notes,
        headline=["time_to_detect_s", "time_to_isolate_s", "time_to_restore_s", "water_lost_m3",
                  "person_hours_below_service_head_person_h", "service_availability_pct"],
    )


@dataclass(frozen=True)
class _ServiceLoss:
    """Who is below the service head when, with and without the burst (reported times)."""

    dt: np.ndarray
    """How long each reported state lasts (s)."""
    below: np.ndarray
    in_window: np.ndarray
    """Reported times from the burst on."""
    pop_below: np.ndarray
    base_pop_below: np.ndarray
    served: np.ndarray
    """Junctions with residents."""
    outside: np.ndarray
    """Junctions outside the isolated segment."""
    pressure: np.ndarray
    """Junction pressures with the burst (m)."""
    start_window_s: float
    """Hydraulic time of the burst."""

    @classmethod
    def of(cls, outcome: BurstOutcome, service_head_m: float, at_s: float) -> _ServiceLoss:
        result, network = outcome.result, outcome.network
        population, nj = network.population, network.service.n_junctions
        below = below_service(result, service_head_m)
        base_below = below_service(outcome.baseline, service_head_m)
        start_window = outcome.offset_s + at_s
        outside = np.ones(nj, dtype=bool)
        cut = network.cut_nodes
        outside[cut[cut < nj]] = False
        return cls(
            dt=np.diff(np.append(result.time_s, outcome.end_s)), below=below,
            in_window=result.time_s >= start_window,
            pop_below=(below * population[None, :]).sum(axis=1),
            base_pop_below=(base_below * population[None, :]).sum(axis=1),
            served=population > 0, outside=outside, pressure=result.pressure_m[:, :nj],
            start_window_s=start_window,
        )


def _kpis(config: PipeBurstFile, engine: Engine, outcome: BurstOutcome, s: _ServiceLoss) -> dict[str, float]:
    """The burst's KPIs; service ones over the time from the burst on."""
    result, baseline, network = outcome.result, outcome.baseline, outcome.network
    times, population, end = outcome.times, network.population, outcome.end_s
    service_head, at_s = config.service.service_head_m, config.burst.at_s
    hours = person_hours_below(result, population, end, service_head, start_s=s.start_window_s)
    base_hours = person_hours_below(baseline, population, end, service_head, start_s=s.start_window_s)
    leak_phase = s.in_window & (result.time_s < outcome.offset_s + times.get("isolated", engine.duration_s))
    kpis: dict[str, float] = {
        "water_lost_m3": float((result.leak_m3_per_s[:, network.leak_node] * s.dt).sum()),
        "time_to_detect_s": times.get("detected", math.nan) - at_s,
        "time_to_isolate_s": times.get("isolated", math.nan) - at_s,
        "time_to_restore_s": times.get("restored", math.nan) - at_s,
        "valves_closed_count": float(len(network.valves_to_close)),
        "population_cut_off_count": float(population[~s.outside].sum()),
        "peak_population_below_service_head_count": float(s.pop_below[s.in_window].max(initial=0.0)),
        "person_hours_below_service_head_person_h": hours,
        "baseline_person_hours_below_service_head_person_h": base_hours,
        "person_hours_lost_person_h": max(hours - base_hours, 0.0),
        "min_pressure_during_leak_m": float(s.pressure[np.ix_(leak_phase, s.served)].min(initial=np.inf)),
        "min_pressure_outside_segment_m": float(
            s.pressure[np.ix_(s.in_window, s.served & s.outside)].min(initial=np.inf)
        ),
        "service_availability_pct": 100.0 * availability(result, end, start_s=s.start_window_s),
        "baseline_service_availability_pct": 100.0 * availability(baseline, end, start_s=s.start_window_s),
    }
    if "on_site" in times:
        kpis["crew_travel_s"] = times["on_site"] - times["dispatched"] - config.crew.mobilise_s
    return kpis


def _tables(outcome: BurstOutcome, s: _ServiceLoss, clock: Callable[[float], str]) -> dict[str, pd.DataFrame]:
    """``timeline``, ``service_over_time`` (from the scenario's start), ``valves`` and
    ``junction_service``."""
    # deferred: pandas is slow to import, and the registry imports every kind to discover it
    import pandas as pd

    result, baseline, network, offset = outcome.result, outcome.baseline, outcome.network, outcome.offset_s
    service, valves, log = network.service, network.valves, outcome.log
    timeline = pd.DataFrame({
        "event": [e[0] for e in log], "time_s": [e[1] for e in log],
        "clock": [clock(e[1]) for e in log], "detail": [e[2] for e in log],
    })
    base_idx = np.searchsorted(baseline.time_s, result.time_s, side="right") - 1
    scenario = result.time_s >= offset  # the spin-up from midnight is not part of the story
    over_time = pd.DataFrame({
        "time_s": result.time_s - offset,
        "clock": [clock(t - offset) for t in result.time_s],
        "population_below_service_head_count": s.pop_below,
        "baseline_population_below_service_head_count": s.base_pop_below[np.clip(base_idx, 0, None)],
        "leak_m3_per_s": result.leak_m3_per_s[:, network.leak_node],
        "min_pressure_m": np.where(s.served, s.pressure, np.inf).min(axis=1),
        "plant_outflow_m3_per_s": -result.demand_m3_per_s[:, network.plants].sum(axis=1),
    })[scenario].reset_index(drop=True)
    close = network.valves_to_close
    valve_table = pd.DataFrame({
        "valve_id": [valves.valve_id[v] for v in close],
        "link": [service.link_names[valves.link[v]] for v in close],
        "node": [service.node_names[valves.node[v]] for v in close],
        "closed_at_s": [outcome.valve_closed_at.get(int(valves.link[v]), math.nan) for v in close],
    })
    hours_below = (s.below[s.in_window] * s.dt[s.in_window, None]).sum(axis=0) / 3600.0
    junctions = pd.DataFrame({
        "junction": service.node_names[: service.n_junctions],
        "population": network.population,
        "hours_below_service_head_h": hours_below,
        "min_pressure_m": s.pressure[s.in_window].min(axis=0) if s.in_window.any() else np.nan,
        "cut_off": ~s.outside,
    })
    return {"timeline": timeline, "service_over_time": over_time, "valves": valve_table,
            "junction_service": junctions}


def _notes(config: PipeBurstFile, outcome: BurstOutcome, kpis: dict[str, float], travel_source: str,
           clock: Callable[[float], str]) -> list[str]:
    burst, service_head = config.burst, config.service.service_head_m
    story = "; ".join(
        f"{name} {clock(t)} ({detail})" if detail else f"{name} {clock(t)}" for name, t, detail in outcome.log
    )
    return [
        f"Pipe {outcome.network.pipe} bursts at {clock(burst.at_s)}: a hole of {burst.area_fraction:.0%} of its "
        f"section (Cd {burst.discharge_coefficient}, exponent {burst.exponent}).",
        story + ".",
        f"Isolation closes {len(outcome.network.valves_to_close)} valves and cuts off "
        f"{kpis['population_cut_off_count']:,.0f} residents; {kpis['water_lost_m3']:,.0f} m³ are lost and "
        f"{kpis['person_hours_lost_person_h']:,.0f} person-hours fall below the {service_head:g} m "
        "service head (beyond what the same day costs without the burst).",
        f"Crew travel uses {travel_source}. Service head: GB 50013 (six storeys); pressure-driven demand "
        f"with full supply from {service_head:g} m and none at 0 m.",
    ]


# ---- figures and the CIM's tables ---------------------------------------------------------------------
def _map(net, pipe, leak_node, cut_nodes, valve_links, sensors, locator, route_nodes, junctions, roads) -> Figure:
    """The burst on the map: isolated segment, valves, sensors, the crew's route and pressures."""
    # deferred: matplotlib is slow to import, and the registry imports every kind to discover it
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred with matplotlib, after choosing its backend
    from matplotlib.collections import LineCollection  # deferred with matplotlib

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



def _pressure_plot(result, baseline, sensors, offset, times, over_time, net, service_head, clock) -> Figure:
    """Pressures at the most affected sensors, and residents below the service head, over time."""
    # deferred: matplotlib is slow to import, and the registry imports every kind to discover it
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred with matplotlib, after choosing its backend

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


def cim_tables(net, junctions: pd.DataFrame, pipe: str, isolated_links: np.ndarray) -> dict[str, pd.DataFrame]:
    """The event on the CIM (viz/results_overlay.py): each junction's least pressure in the window
    and whether the isolation cut it off (``cim_water_nodes``), and the burst pipe with the links
    the isolation closes (``cim_water_links``), named as in the network file (the burst pipe's
    second half, ``<pipe>__b``, is the pipe itself)."""
    # deferred: pandas is slow to import, and the registry imports every kind to discover it
    import pandas as pd

    nodes = pd.DataFrame({
        "node": junctions["junction"], "pressure_m": junctions["min_pressure_m"], "cut_off": junctions["cut_off"],
    })
    names = sorted({net.link_names[int(k)].removesuffix("__b") for k in isolated_links} | {pipe})
    links = pd.DataFrame({"link": names, "burst": [name == pipe for name in names], "isolated": True})
    return {"cim_water_nodes": nodes, "cim_water_links": links}

