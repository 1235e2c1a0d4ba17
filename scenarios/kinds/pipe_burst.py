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
from scenarios.validation import CheckContext, SizeEstimate
from twin.city.folder import City, load_city
from twin.city.places import nearest_names, resolve_area, resolve_point
from twin.city.travel_times import read_link_times
from twin.config import ScenarioFile, StrictModel
from twin.engine import Engine
from twin.errors import InputError
from twin.paths import data_dir
from twin.plot_style import in_both_languages
from twin.results import Answer, RunResult
from twin.water import burst_figures
from twin.water.burst import Burst, BurstOutcome, Crew, Detection, Repair, largest_main, simulate_burst
from twin.water.burst_report import burst_answer, burst_layers, cim_tables, depot_kpis, options_table
from twin.water.compile import compile_network
from twin.water.epanet_io import link_tags, read_inp
from twin.water.leaks import Leak
from twin.water.network import CompiledNetwork
from twin.water.places import (
    OPTIONS_TABLE,
    PEOPLE_TABLE,
    UNPLACED,
    inp_node_tags,
    inp_sections,
    junction_places,
    people_by_place,
)
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
    area: str = Field(
        default="wuhang", description="Area where 'auto' looks for the pipe: an area, town or 街道 of the city by "
        "name (or area_id), or 'bbox:W,S,E,N' in degrees; 'all' for the whole network.",
    )
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
        default="auto", description="Where the crew starts: a place of the city by name (town, landmark, stop, "
        "junction as 'road/road'), 'lon,lat', a road node id, or 'auto': the road nearest the first plant.",
    )
    compare_depots: list[str] = Field(
        default_factory=list, max_length=4,
        description="Other depots to compare (same forms as depot); each is a whole run of the story with the "
        "same burst and repair draw, and the options table ranks them.",
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


def run(config: PipeBurstFile, engine: Engine) -> RunResult:
    """Run the burst story on the city's network and roads; then from every other depot compared."""
    city = load_city()
    city.require("roads", "a pipe_burst scenario (the crew drives on them)")
    net, valves, tags = load_water(config, city)
    area = _area_polygon(city, config.burst.area) if config.burst.pipe == "auto" else None
    result = assess_burst(config, engine, net, valves, tags, city.roads, area, city=city)
    add_depot_options(config, result, lambda depot: _depot_run(config, net, valves, tags, city, area, depot))
    return result


def _depot_run(config: PipeBurstFile, net: CompiledNetwork, valves: pd.DataFrame, tags: dict[str, str], city: City,
               area: shapely.Polygon | None, depot: str) -> dict[str, float]:
    """The KPIs of the same story (same seed: same repair draw) with the crew starting at ``depot``."""
    other = config.model_copy(update={"crew": config.crew.model_copy(update={"depot": depot, "compare_depots": []})})
    header = config.scenario
    engine = Engine(header.seed, header.start, header.duration_s)
    return assess_burst(other, engine, net, valves, tags, city.roads, area, city=city, figures=False).kpis


# ---- inputs -------------------------------------------------------------------------------------------
def network_paths(config: PipeBurstFile, city: City | None = None) -> tuple[Path, Path | None]:
    """The ``.inp`` of ``[network] inp`` (else the city's water layer) and its valve layer (``[network]
    valves``, else the city's, else ``<inp stem>_valves.csv`` beside it; ``None`` if there is none)."""
    if config.network.inp:
        inp = Path(config.network.inp)
    elif city is not None and city.water_inp is not None:
        inp = city.water_inp
    else:
        inp = data_dir() / "water.inp"
    if config.network.valves:
        return inp, Path(config.network.valves)
    beside = inp.with_name(inp.stem + "_valves.csv")
    if not config.network.inp and city is not None and city.layer_file("water_valves") is not None:
        return inp, city.layer_file("water_valves")
    return inp, beside if beside.exists() else None


def load_water(config: PipeBurstFile, city: City | None = None) -> tuple[CompiledNetwork, pd.DataFrame, dict[str, str]]:
    """The network, its valve layer and pipe tags from ``[network]`` (default: the city's water layer).

    A network without a valve layer gets a valve at both ends of every pipe (EPANET models rarely
    carry their valves), which makes the burst pipe its own segment; the notes say so.
    """
    # deferred: pandas is slow to import, and the registry imports every kind to discover it
    import pandas as pd

    inp, valves = network_paths(config, city)
    if not inp.exists():
        raise InputError("[network] inp: water network not found (import one with twin data import-inp)", inp)
    if config.network.valves and (valves is None or not valves.exists()):
        raise InputError("[network] valves: valve layer not found", valves or config.network.valves)
    wn = read_inp(inp)
    net = compile_network(wn, str(inp))
    frame = pd.read_csv(valves) if valves is not None else pipe_end_valves(net)
    return net, frame, link_tags(wn)


def pipe_end_valves(net: CompiledNetwork) -> pd.DataFrame:
    """A valve layer with a valve at both ends of every pipe (``valve_id, link, node``)."""
    # deferred: pandas is slow to import, and the registry imports every kind to discover it
    import pandas as pd

    pipes = np.flatnonzero(net.kind <= PIPE)
    links = [net.link_names[k] for k in pipes for _ in (0, 1)]
    nodes = [net.node_names[n] for k in pipes for n in (net.start[k], net.end[k])]
    return pd.DataFrame({"valve_id": [f"V-{name}-{i % 2}" for i, name in enumerate(links)], "link": links,
                         "node": nodes, "derived": True})


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


def depot_node(city: City, depot: str, key: str, source: object = None) -> int | None:
    """The road node of a depot: ``auto`` → ``None`` (by the first plant), a node id, or a place."""
    if depot == "auto":
        return None
    value: str | int = int(depot) if depot.strip().isdigit() else depot
    node = resolve_point(city, value, key, source).node
    if node is None:
        raise InputError(f"{key} = {depot!r}: the city has no road layer to start a crew from", source)
    return node


def crew_plan(config: PipeBurstFile, roads: nx.MultiDiGraph, city: City | None = None) -> Crew:
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
        if city is not None:
            depot = depot_node(city, crew.depot, "[crew] depot")
        else:
            try:
                depot = int(crew.depot)
            except ValueError:
                raise InputError(f"[crew] depot = {crew.depot!r}: expected a road node id or 'auto'") from None
        if depot not in roads:
            raise InputError(f"[crew] depot = {crew.depot!r}: not a node of the road graph")
    return Crew(depot=depot, mobilise_s=crew.mobilise_s, valve_close_s=crew.valve_close_s, travel_times=travel,
                travel_source=source)


def _area_polygon(city: City, area: str, source: object = None) -> shapely.Polygon | None:
    """The city's area named ``area`` in EPSG:4549, where ``[burst] pipe = "auto"`` looks
    (``None`` for ``all``: the whole network)."""
    # deferred: shapely and pyproj are slow to import, and the registry imports every kind
    import shapely
    from pyproj import Transformer  # deferred, as above

    if area == "all":
        return None
    found = resolve_area(city, area, "[burst] area", source)
    to_metric = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    return shapely.transform(found.geometry, lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1])))


# ---- the model, and what it did -------------------------------------------------------------------------
def assess_burst(config: PipeBurstFile, engine: Engine, net: CompiledNetwork, valves_frame: pd.DataFrame,
                 tags: dict[str, str], roads: nx.MultiDiGraph, area_xy: shapely.Polygon | None = None,
                 city: City | None = None, figures: bool = True) -> RunResult:
    """Run the burst story on ``net`` (compiled, with ``node_xy`` in EPSG:4549) and ``roads``, and
    report it: KPIs, tables (people by town or 街道 of ``city``), map layers, figures and notes."""
    burst = config.burst
    pipe = pick_pipe(net, burst, tags, area_xy)
    leak = Leak(pipe, burst.position, area_fraction=burst.area_fraction,
                discharge_coefficient=burst.discharge_coefficient, exponent=burst.exponent)
    crew = crew_plan(config, roads, city)
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
    if not figures:  # another depot's run: only its KPIs are compared
        return RunResult(kpis=kpis)
    network = outcome.network
    places = junction_places(network.service, node_tags(config, city, list(network.service.node_names)), city)
    tables = _tables(outcome, service, clock, places)
    notes = _notes(config, outcome, kpis, crew.travel_source, clock)
    if "derived" in valves_frame:
        notes.append("The network has no valve layer: a valve is assumed at both ends of every pipe, so the "
                     "burst pipe alone is isolated.")
    return RunResult(
        kpis=kpis,
        tables={**tables, **cim_tables(network.service, tables["junction_service"], pipe, network.isolated_links)},
        figures=_figures(config, outcome, tables, roads, clock),
        notes=notes,
        headline=["time_to_detect_s", "time_to_isolate_s", "time_to_restore_s", "water_lost_m3",
                  "person_hours_below_service_head_person_h", "service_availability_pct"],
        layers=burst_layers(outcome, tables),
    )


def node_tags(config: PipeBurstFile, city: City | None, names: list[str]) -> list[str | None]:
    """Each of the nodes ``names``' ``[TAGS]`` tag in the network's ``.inp`` (its town on the
    bundled network); the hole's node takes no tag, and finds its town by place."""
    inp, _ = network_paths(config, city)
    tags = inp_node_tags(inp)
    return [tags.get(name) for name in names]


def _figures(config: PipeBurstFile, outcome: BurstOutcome, tables: dict[str, pd.DataFrame], roads: nx.MultiDiGraph,
             clock: Callable[[float], str]) -> dict[str, Figure]:
    """The burst map and the pressures over time, each in Chinese and English."""
    network = outcome.network
    valve_links = [network.service.link_names[k] for k in network.valve_links]
    return {
        **in_both_languages("burst_map", lambda lang: burst_figures.burst_map(
            lang, network.service, network.pipe, network.leak_node, network.cut_nodes, valve_links,
            network.sensors, outcome.locator, outcome.route_nodes, tables["junction_service"], roads)),
        **in_both_languages("pressure_over_time", lambda lang: burst_figures.pressure_plot(
            lang, outcome.result, outcome.baseline, network.sensors, outcome.offset_s, outcome.times,
            tables["service_over_time"], network.service, config.service.service_head_m, clock)),
    }


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


def _tables(outcome: BurstOutcome, s: _ServiceLoss, clock: Callable[[float], str],
            places: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """``timeline``, ``service_over_time`` (from the scenario's start), ``valves``,
    ``junction_service`` and the people affected by town or 街道 (``affected_population``)."""
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
        "place": places if places is not None else [UNPLACED["zh"]] * service.n_junctions,
    })
    population = network.population
    ever_below = hours_below > 0
    people = people_by_place(junctions["place"].tolist(), {
        "population_cut_off_count": np.where(~s.outside, population, 0.0),
        "population_below_service_head_count": np.where(ever_below | ~s.outside, population, 0.0),
        "person_hours_below_service_head_person_h": population * hours_below,
    }, "population_below_service_head_count")
    return {"timeline": timeline, "service_over_time": over_time, "valves": valve_table,
            "junction_service": junctions, PEOPLE_TABLE: people}


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




# ---- options: the depots compared, and the answer ---------------------------------------------------
def depot_labels(config: PipeBurstFile) -> list[str]:
    """The depots compared, as written (``[crew] depot`` first)."""
    return [config.crew.depot, *config.crew.compare_depots]


def add_depot_options(config: PipeBurstFile, result: RunResult, run_from: Callable[[str], dict[str, float]]) -> None:
    """Run the story from every depot of ``[crew] compare_depots`` and put each depot's KPIs
    (``depot_<k>_<metric>``, k from 1 = ``[crew] depot``) and the ``options`` table in ``result``."""
    depots = depot_labels(config)
    result.kpis.update(depot_kpis([result.kpis] + [run_from(depot) for depot in depots[1:]]))
    result.tables[OPTIONS_TABLE] = options_table(depots, result.kpis)


def answer(config: PipeBurstFile, kpis: dict[str, float], result: RunResult) -> Answer:
    """Which valves to close, the crew, hours and people without water by place; the best depot."""
    return burst_answer(depot_labels(config), kpis, result.tables)


# ---- validation: places, files and size -----------------------------------------------------------------
BYTES_PER_VALUE = 8.0 * 12
"""Memory per node or link and reported step: pressures, heads, demands, flows and the like, for the
burst run and its baseline (float64), measured on the bundled run with margin."""
SECONDS_PER_NODE_STEP = 2e-5
"""Wall time per node and hydraulic step (both runs) on this machine, from the bundled run."""


def check(config: PipeBurstFile, ctx: CheckContext) -> None:
    """Resolve the network, the valve layer, the pipe, the area and every depot against the city."""
    city = ctx.city
    if config.network.inp:
        ctx.file("[network] inp", config.network.inp)
    elif city.water_inp is None:
        raise ctx.fail("[network] inp", None, "the city has no water layer; add one with twin data import-inp")
    if config.network.valves:
        ctx.file("[network] valves", config.network.valves)
    if config.crew.travel_times_file:
        ctx.file("[crew] travel_times_file", config.crew.travel_times_file)
    if city.roads is None:
        raise ctx.fail("[crew] depot", config.crew.depot, "the city has no road layer for the crew; add one with "
                       "twin data import-osm")
    inp, _ = network_paths(config, city)
    if config.burst.pipe != "auto":
        pipes = [row[0] for row in inp_sections(inp).get("PIPES", [])]
        if config.burst.pipe not in pipes:
            raise InputError(f"[burst] pipe = {config.burst.pipe!r}: not a pipe of {inp.name} (nearest: "
                             f"{', '.join(repr(n) for n in nearest_names(config.burst.pipe, pipes))})", ctx.source)
    else:
        _area_polygon(city, config.burst.area, ctx.source)
    for key, depot in [("[crew] depot", config.crew.depot)] + [
            (f"[crew] compare_depots[{i}]", d) for i, d in enumerate(config.crew.compare_depots)]:
        depot_node(city, depot, key, ctx.source)


def estimate(config: PipeBurstFile) -> SizeEstimate:
    """Memory and time from the network's size, the hours simulated and the report step."""
    inp, _ = network_paths(config, load_city())
    size = 1000.0
    if inp.exists():
        sections = inp_sections(inp)
        size = float(sum(len(sections.get(k, [])) for k in ("JUNCTIONS", "PIPES", "PUMPS", "VALVES")))
    hours_s = 24 * 3600.0 + config.scenario.duration_s  # the hydraulics start at midnight
    steps = hours_s / config.service.report_step_s
    runs = 1 + len(config.crew.compare_depots)
    return SizeEstimate(steps * size * BYTES_PER_VALUE * 2, steps * size * SECONDS_PER_NODE_STEP * 2 * runs,
                        "[scenario] duration_s")


def starter(city: City) -> str:
    """A burst of the city's largest main, the crew by the first plant, compared with a town's depot."""
    net, _, tags = load_water(PipeBurstFile.model_validate({"scenario": {"kind": "pipe_burst", "name": "x"}}), city)
    pipe = largest_main(net, tags, None)
    if pipe is None:
        raise InputError("the water layer has no pipe to burst", city.water_inp)
    k = net.link_index(pipe)
    towns = city.towns
    town = None
    if towns is not None and len(towns) and "population" in towns:
        town = str(towns.sort_values("population", ascending=False).iloc[0]["name_zh"])
    compare = f'compare_depots = ["{town}"]   # a second depot in the most populous town, to compare\n' if town \
        else ""
    return STARTER.format(city=city.name, pipe=pipe, dn=round(1000 * float(net.diameter_m[k])),
                          length=float(net.length_m[k]), compare=compare)


STARTER = """# A burst of the largest main of {city}'s water network (管网爆管), written by `twin scenarios new`.
[scenario]
kind = "pipe_burst"
name = "burst_{pipe}"
description = "Burst of main {pipe} (DN{dn}, {length:,.0f} m): valves to close, crew, people without water."
start = 2025-06-03T06:30:00   # a weekday morning, as the peak builds
duration_s = 43200            # 12 h: detection, isolation, repair and restoration fit in

[burst]
pipe = "{pipe}"               # the largest main (by diameter, then length) that is not a plant outlet
at_s = 1800
area_fraction = 0.5           # a longitudinal split of half the pipe's section

[crew]
depot = "auto"                # the road nearest the first plant, where utilities keep their crews
{compare}
[service]
service_head_m = 28.0         # GB 50013, six storeys
"""

scenario_kind(
    "pipe_burst", PipeBurstFile, "water main burst: detection, crew, valve isolation, repair, service lost",
    check=check, estimate=estimate, answer=answer, replications=3, starter=starter,
)(run)
