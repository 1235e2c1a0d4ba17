"""The ``typhoon_day`` scenario kind (issue 19): a typhoon's rain floods Changle, and on one clock
the roads, the water network and the compute centre respond through named couplings.

This module reads the file (``[storm]``, ``[flood]``, ``[traffic]``, ``[water]``, ``[compute]``,
``[couplings]``), prepares the city once (rain, ponding, road network and trips, water service
network and its facilities, the centre's jobs), runs the coupled day
(:func:`twin.coupled.typhoon.run_day`) and, for every coupling switched on, the day with that
coupling off, so each KPI of the form ``<coupling>_added_...`` states what the coupling added.
The cascade, the people hit by 街道/镇 and the hour that decides the day come from
:mod:`twin.coupled.timeline`. See ``docs/typhoon.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from scenarios.registry import scenario_kind
from scenarios.validation import CheckContext, SizeEstimate
from twin.city.folder import City, load_city
from twin.city.places import nearest_names
from twin.compute.cluster_spec import ClusterSpec
from twin.compute.workload import synthetic
from twin.config import ScenarioFile, StrictModel
from twin.coupled import timeline
from twin.coupled.buses import bus_kpis, bus_setups
from twin.coupled.typhoon import (
    COUPLING_SYSTEM,
    COUPLINGS,
    BurstSetup,
    CityDay,
    DayOutcome,
    DaySettings,
    gpu_hours_unavailable,
    run_day,
)
from twin.coupled.typhoon_figures import timeline_figure
from twin.coupled.water import water_facilities
from twin.engine import Engine
from twin.errors import InputError
from twin.hazards.flood import flood_geometry, simulate_flood
from twin.hazards.ponding import design_drain_capacity_mm_per_h
from twin.hazards.storm import RainSeries, StormFormula, chicago_storm, read_rain_csv
from twin.kpis import LANGS, kpi_info
from twin.plot_style import in_both_languages
from twin.results import Answer, RunResult
from twin.traffic.demand import DemandConfig, gravity_od, sample_trips
from twin.traffic.network import TrafficNetwork, network_from_graph
from twin.traffic.params import TrafficParams
from twin.traffic.trips import Trips
from twin.transit.layer import network_from_city
from twin.water.burst import Burst, BurstOutcome, Crew, Repair, RoadLocator, largest_main
from twin.water.compile import compile_network
from twin.water.epanet_io import link_tags, read_inp
from twin.water.leaks import Leak
from twin.water.network import CompiledNetwork
from twin.water.places import inp_sections
from twin.water.service import person_hours_below, population_served, service_network
from twin.water.town_supply import junction_towns

if TYPE_CHECKING:
    import pandas as pd


class StormTable(StrictModel):
    """The ``[storm]`` table: a Chicago design storm on the Fuzhou formula, or a gauge series."""

    source: Literal["design", "series"] = Field(
        default="design", description="design: a Chicago storm from the formula; series: [storm] rain_csv.")
    return_period_y: float = Field(default=100.0, ge=1, le=1000, description="Return period P (years).")
    duration_min: float = Field(default=1440.0, gt=0, le=2880, description="Storm duration (min).")
    peak_ratio: float = Field(default=0.4, gt=0, lt=1, description="Peak position r (share of the duration).")
    start_s: float = Field(default=0.0, ge=0, description="When the storm starts after the scenario start (s).")
    step_s: float = Field(default=300.0, ge=60, le=3600, description="Hyetograph bin (s).")
    q_a: float = Field(default=2136.312, gt=0, description="Formula q_a (L/(s·ha)); Fuzhou, 给水排水设计手册.")
    c: float = Field(default=0.700, ge=0, description="Formula c (lg P coefficient).")
    b_min: float = Field(default=7.576, ge=0, description="Formula b (min).")
    n: float = Field(default=0.711, gt=0, le=2, description="Formula n (exponent).")
    rain_csv: str | None = Field(
        default=None, description="Gauge series CSV time_s,depth_mm (source = series); path relative to the "
        "working folder or absolute.")


class FloodTable(StrictModel):
    """The ``[flood]`` table: the zone-bucket ponding (assumptions, docs/typhoon.md)."""

    runoff_coefficient: float = Field(default=0.7, gt=0, le=1, description="Runoff coefficient ψ of every zone.")
    drain_return_period_y: float = Field(
        default=2.0, ge=1, le=100, description="Return period the drains were sized for (years; GB 50014: 2-5).")
    drain_duration_min: float = Field(default=30.0, gt=0, le=240, description="Their design duration (min).")
    step_s: float = Field(default=300.0, ge=60, le=3600, description="Ponding step (s).")


class TrafficTable(StrictModel):
    """The ``[traffic]`` table: the window of the day the traffic model runs."""

    begin_s: float = Field(default=28800.0, ge=0, description="Window start after the scenario start (s).")
    duration_s: float = Field(default=10800.0, gt=0, le=86400, description="Window length (s).")
    update_s: float = Field(default=300.0, ge=60, le=3600, description="How often link speeds follow the water (s).")


class WaterTable(StrictModel):
    """The ``[water]`` table: when a flooded facility stops and restarts (assumptions)."""

    flood_depth_m: float = Field(default=0.05, gt=0, le=5, description="Water at the site that stops it (m).")
    restart_delay_s: float = Field(default=7200.0, ge=0, description="Restart after the water falls below (s).")


class ComputeTable(StrictModel):
    """The ``[compute]`` table: the centre's nodes, its jobs and the grid's derate (assumption)."""

    nodes: int = Field(default=256, ge=1, le=20000, description="Nodes (2,048 H100 ≈ the 2000P phase 1).")
    gpus_per_node: int = Field(default=8, ge=1, le=16, description="GPUs per node.")
    gpus_per_job: int = Field(default=8, ge=1, le=1024, description="GPUs per job.")
    jobs_per_h: float = Field(default=100.0, gt=0, le=10000, description="Job arrivals (Poisson, per hour).")
    mean_job_h: float = Field(default=2.0, gt=0, le=1000, description="Mean run time (exponential, h).")
    derate_above_mm_per_h: float = Field(default=30.0, gt=0, description="Rain at or above which the grid derates.")
    available_share: float = Field(default=0.5, ge=0, le=1, description="Share of nodes the derated grid powers.")
    restore_delay_s: float = Field(default=1800.0, ge=0, description="Power back after the rain falls below (s).")


class BurstTable(StrictModel):
    """The ``[burst]`` table: the main that bursts in the storm (``main_burst``) and its crew."""

    pipe: str = Field(default="auto", description="Pipe that bursts; 'auto': the network's largest trunk main.")
    at_s: float = Field(default=34200.0, ge=0, description="Burst time after the scenario start (s).")
    area_fraction: float = Field(default=0.5, gt=0, le=1, description="Hole area / the pipe's section.")
    mobilise_s: float = Field(default=600.0, ge=0, description="From dispatch to leaving the depot (s).")
    valve_close_s: float = Field(default=300.0, ge=0, description="Time to find and close one valve (s).")
    repair_median_s: float = Field(default=14400.0, gt=0, description="Median repair time (lognormal) (s).")
    repair_sigma: float = Field(default=0.4, ge=0, le=2, description="Log standard deviation of the repair time.")


class BusesTable(StrictModel):
    """The ``[buses]`` table: every line of the city's transit layer over the traffic window."""

    pax_per_h_per_line: float = Field(default=120.0, ge=0, le=5000,
                                      description="Riders per hour per line, even over its stop pairs (assumption).")
    patience_s: float = Field(default=1800.0, gt=0, description="A rider gives up after waiting this long (s).")


class CouplingsTable(StrictModel):
    """The ``[couplings]`` table: each coupling by name, on or off (off: its system's dry day)."""

    flood_roads: bool = Field(default=True, description="Water on the roads slows and closes links; trips reroute.")
    flood_buses: bool = Field(default=True, description="Buses drive the flooded roads; driverless ones stop at "
                              "0.15 m.")
    pump_outage: bool = Field(default=True, description="Flooded pump stations and plants stop; pressures fall.")
    main_burst: bool = Field(default=True, description="A main bursts in the storm; its crew drives the flooded "
                             "roads when flood_roads is on.")
    grid_derate: bool = Field(default=True, description="The storm derates the grid; the centre loses nodes.")


class TyphoonDayFile(ScenarioFile):
    """A ``typhoon_day`` scenario file."""

    storm: StormTable = StormTable()
    flood: FloodTable = FloodTable()
    traffic: TrafficTable = TrafficTable()
    water: WaterTable = WaterTable()
    compute: ComputeTable = ComputeTable()
    burst: BurstTable = BurstTable()
    buses: BusesTable = BusesTable()
    couplings: CouplingsTable = CouplingsTable()


# ---- the city, prepared once ------------------------------------------------------------------------
def rain_of(storm: StormTable) -> RainSeries:
    """The storm's rain series (s since the scenario start)."""
    if storm.source == "series":
        return read_rain_csv(Path(storm.rain_csv or ""))
    formula = StormFormula(storm.q_a, storm.c, storm.b_min, storm.n)
    return chicago_storm(formula, storm.return_period_y, storm.duration_min, storm.peak_ratio, storm.start_s,
                         storm.step_s)


@dataclass(frozen=True)
class Prepared:
    """The day's inputs and the places the report names."""

    day: CityDay
    settings: DaySettings
    zone_town: np.ndarray
    zone_residents: np.ndarray
    water_town: np.ndarray
    town_names: dict[str, tuple[str, str]]
    drain_capacity_mm_per_h: float


def prepare(config: TyphoonDayFile, movers: bool = True) -> Prepared:  # long: one pass over the city's layers
    """Rain, flood, roads and trips, water and facilities, jobs: everything every run shares.

    ``movers=False`` leaves out the traffic trips and the bus riders (for ``twin brain``, whose
    members run neither)."""
    header, city = config.scenario, load_city()
    city.require("roads", "a typhoon_day scenario")
    rain = rain_of(config.storm)
    network = network_from_graph(city.roads, TrafficParams())
    nodes = city.roads.nodes
    lon = np.array([(nodes[u]["x"] + nodes[v]["x"]) / 2 for u, v, _ in network.link_keys])
    lat = np.array([(nodes[u]["y"] + nodes[v]["y"]) / 2 for u, v, _ in network.link_keys])
    geometry = flood_geometry(city.zones, city.terrain, lon, lat)
    storm, flood_table = config.storm, config.flood
    capacity = design_drain_capacity_mm_per_h(StormFormula(storm.q_a, storm.c, storm.b_min, storm.n),
                                              flood_table.drain_return_period_y, flood_table.drain_duration_min,
                                              flood_table.runoff_coefficient)
    flood = simulate_flood(geometry, rain, flood_table.runoff_coefficient, capacity, header.duration_s,
                           flood_table.step_s)
    streams = Engine(header.seed, header.start, header.duration_s)  # the run's seed streams
    demand = DemandConfig()
    traffic = config.traffic
    trips = Trips([], np.zeros(0), [])
    if movers:
        od = gravity_od(city.zones[["zone_id", "residents", "jobs", "node"]].copy(), city.roads, demand)
        trips = sample_trips(od, network, demand, 0.0, traffic.duration_s, streams.rng("traffic_demand"),
                             day_start_s=-traffic.begin_s)
    wn = read_inp(city.water_inp)
    base = compile_network(wn, str(city.water_inp))
    facilities = water_facilities(base)
    zone, ground = geometry.locate(np.array([f.lon for f in facilities]), np.array([f.lat for f in facilities]))
    compute = config.compute
    n_jobs = max(1, math.ceil(compute.jobs_per_h * header.duration_s / 3600.0))
    jobs = synthetic(n_jobs, compute.gpus_per_job, compute.jobs_per_h, compute.mean_job_h,
                     streams.rng("compute_jobs"))
    day = CityDay(rain, flood, network, trips, service_network(base), facilities,
                  flood.site_depth_m(zone, ground), jobs, ClusterSpec(nodes=compute.nodes,
                                                                      gpus_per_node=compute.gpus_per_node),
                  burst_setup(config.burst, base, wn, city, network),
                  tuple(bus_setups(network_from_city(city), traffic.begin_s, traffic.duration_s,
                                   config.buses.pax_per_h_per_line, config.buses.patience_s,
                                   streams.rng("transit_demand"))) if movers else ())
    settings = DaySettings(
        duration_s=header.duration_s, traffic_begin_s=traffic.begin_s, traffic_duration_s=traffic.duration_s,
        flood_update_s=traffic.update_s, facility_flood_depth_m=config.water.flood_depth_m,
        facility_restart_delay_s=config.water.restart_delay_s,
        derate_above_mm_per_h=compute.derate_above_mm_per_h, derate_available_share=compute.available_share,
        derate_restore_delay_s=compute.restore_delay_s)
    towns = city.towns
    names = {str(r.town_id): (str(r.name_zh), str(r.name_pinyin)) for r in towns.itertuples()} if towns is not None \
        else {}
    return Prepared(day, settings, geometry.zone_town, geometry.zone_residents,
                    np.array(junction_towns(wn, base)), names, capacity)


def burst_setup(table: BurstTable, base: CompiledNetwork, wn: object, city: City,
                network: TrafficNetwork) -> BurstSetup:
    """The burst pipe (or the largest trunk main), the valve layer, the crew by the first plant."""
    pipe = largest_main(base, link_tags(wn), None) if table.pipe == "auto" else table.pipe
    if pipe is None:
        raise InputError("[burst] pipe = 'auto': the water network has no main to burst", city.water_inp)
    return BurstSetup(
        net=base, valves=city.water_valves, roads=city.roads, locator=RoadLocator(city.roads),
        burst=Burst(Leak(pipe, 0.5, area_fraction=table.area_fraction), at_s=table.at_s),
        crew=Crew(mobilise_s=table.mobilise_s, valve_close_s=table.valve_close_s),
        repair=Repair(table.repair_median_s, table.repair_sigma),
        edge_link={tuple(key): k for k, key in enumerate(network.link_keys)})


# ---- the runs ------------------------------------------------------------------------------------------
@dataclass
class Runs:
    """The coupled day and, per system, its run without its coupling (the coupled run if it was off)."""

    main: DayOutcome
    dry: dict[str, DayOutcome]
    crew_dry: DayOutcome | None = None
    """The burst with its crew on dry roads (when both main_burst and flood_roads are on)."""


def run_all(config: TyphoonDayFile, prepared: Prepared) -> Runs:
    """The day with the file's couplings, and each coupling switched on run again switched off."""
    couplings = config.couplings.model_dump()
    header = config.scenario
    main = run_day(prepared.day, prepared.settings, couplings, header.seed, header.start)
    dry = {}
    for name in COUPLINGS:
        system = COUPLING_SYSTEM[name]
        dry[system] = run_day(prepared.day, prepared.settings, {**couplings, name: False}, header.seed,
                              header.start, systems=(system,)) if couplings[name] else main
    crew_dry = None
    if couplings["main_burst"] and couplings["flood_roads"]:
        crew_dry = run_day(prepared.day, prepared.settings, {**couplings, "flood_roads": False}, header.seed,
                           header.start, systems=("burst",))
    return Runs(main, dry, crew_dry)


def typhoon_kpis(prepared: Prepared, runs: Runs) -> dict[str, float]:  # long: one KPI block per system
    """The day's KPIs: the hazard, then per system the coupled value, the dry one and what was added."""
    day, settings, main = prepared.day, prepared.settings, runs.main
    end = settings.duration_s
    closed = timeline.closed_links_over_time(day)
    kpis: dict[str, float] = {
        "rain_total_m": day.rain.total_mm / 1000.0,
        "rain_peak_intensity_m_per_s": float(day.rain.intensity_mm_per_h().max(initial=0.0)) / 3.6e6,
        "flood_peak_link_depth_m": float(day.flood.depth_m.max(initial=0.0)),
        "flood_links_closed_peak_count": float(closed.max(initial=0)),
        "flood_links_closed_ever_count": float((day.flood.depth_m >= 0.3).any(axis=0).sum()),
        "drain_capacity_m_per_s": prepared.drain_capacity_mm_per_h / 3.6e6,
    }
    wet_t, dry_t = main.roads.kpis(), runs.dry["traffic"].roads.kpis()
    kpis.update({
        "typhoon_vehicle_hours_h": wet_t["vehicle_hours_veh_h"],
        "dry_vehicle_hours_h": dry_t["vehicle_hours_veh_h"],
        "flood_added_vehicle_hours_h": wet_t["vehicle_hours_veh_h"] - dry_t["vehicle_hours_veh_h"],
        "flood_rerouted_trips_veh": float(wet_t["rerouted_trips_veh"]),
        "flood_cut_off_trips_veh": float(wet_t["cut_off_trips_veh"]),
        "flood_entries_while_closed_veh": float(wet_t["entries_while_closed_veh"]),
        "traffic_window_trips_veh": float(len(day.trips)),
    })
    water = timeline.water_people_below_added(day, main, runs.dry["water"])
    times, people = (water[0], water[1]) if water is not None else (np.zeros(1), np.zeros(1))
    steps = np.diff(np.append(times, end))
    population = population_served(day.water)
    kpis.update({
        "pump_outage_facilities_count": float(len(main.water.outages)),
        "pump_outage_peak_people_below_service_count": float(people.max(initial=0.0)),
        "pump_outage_hours_below_service_h": float(steps[people > 0].sum() / 3600.0),
        "pump_outage_added_person_hours_person_h": timeline.water_hours_below(main, runs.dry["water"],
                                                                              population, end),
    })
    kpis.update(burst_kpis(main.burst, runs.crew_dry.burst if runs.crew_dry is not None else main.burst))
    kpis.update(_bus_kpis(main, runs.dry["buses"]))
    wet_c, dry_c = main.compute.kpis, runs.dry["compute"].compute.kpis
    kpis.update({
        "derate_gpu_hours_unavailable_h": gpu_hours_unavailable(main.derate, day.cluster,
                                                                settings.derate_available_share, end),
        "derate_lost_gpu_h": wet_c["lost_gpu_h"] - dry_c["lost_gpu_h"],
        "derate_preemptions_count": float(sum(e[3] for e in main.compute_log.events)),
        "typhoon_gpu_mean_wait_s": wet_c["mean_wait_s"],
        "dry_gpu_mean_wait_s": dry_c["mean_wait_s"],
        "derate_added_mean_wait_s": wet_c["mean_wait_s"] - dry_c["mean_wait_s"],
    })
    return kpis


def _bus_kpis(main: DayOutcome, dry: DayOutcome) -> dict[str, float]:
    """Riders' mean wait and those who gave up, on the flooded day and the dry one, all lines and driverless."""
    out: dict[str, float] = {}
    for name, groups in (("typhoon", main.buses), ("dry", dry.buses)):
        measures = [bus_kpis(run) for run in groups.values()]
        riders = sum(m["riders_pax"] for m in measures)
        out[f"{name}_bus_mean_wait_s"] = sum(m["mean_wait_s"] * m["riders_pax"] for m in measures) / max(riders, 1)
        out[f"{name}_bus_riders_gave_up_pax"] = sum(m["gave_up_pax"] for m in measures)
        out[f"{name}_driverless_riders_gave_up_pax"] = bus_kpis(groups[True])["gave_up_pax"] if True in groups \
            else 0.0
    out["bus_riders_pax"] = sum(bus_kpis(run)["riders_pax"] for run in main.buses.values())
    out["flood_added_bus_wait_s"] = out["typhoon_bus_mean_wait_s"] - out["dry_bus_mean_wait_s"]
    out["flood_added_riders_gave_up_pax"] = out["typhoon_bus_riders_gave_up_pax"] - out["dry_bus_riders_gave_up_pax"]
    return out


def burst_kpis(burst: BurstOutcome | None, dry_roads: BurstOutcome | None) -> dict[str, float]:
    """The burst's water lost, times, crew travel and person-hours lost; and what the flood added to them."""
    wet, dry = _burst_measures(burst), _burst_measures(dry_roads)
    return {**{f"burst_{k}": v for k, v in wet.items()},
            "flood_added_crew_travel_s": wet["crew_travel_s"] - dry["crew_travel_s"],
            "flood_added_burst_water_lost_m3": wet["water_lost_m3"] - dry["water_lost_m3"]}


def _burst_measures(outcome: BurstOutcome | None) -> dict[str, float]:
    names = ("water_lost_m3", "time_to_isolate_s", "crew_travel_s", "person_hours_lost_person_h")
    if outcome is None:
        return dict.fromkeys(names, 0.0)
    result, network, times = outcome.result, outcome.network, outcome.times
    dt = np.diff(np.append(result.time_s, outcome.end_s))
    start = outcome.offset_s + times["burst"]
    hours = person_hours_below(result, network.population, outcome.end_s, start_s=start)
    base = person_hours_below(outcome.baseline, network.population, outcome.end_s, start_s=start)
    travel = times["on_site"] - times["dispatched"] if "on_site" in times else math.nan
    return {"water_lost_m3": float((result.leak_m3_per_s[:, network.leak_node] * dt).sum()),
            "time_to_isolate_s": times.get("isolated", math.nan) - times["burst"],
            "crew_travel_s": travel, "person_hours_lost_person_h": max(hours - base, 0.0)}


# ---- the run -------------------------------------------------------------------------------------------
def run(config: TyphoonDayFile, engine: Engine) -> RunResult:
    """Prepare the city, run the coupled day and its counterfactuals, and report."""
    prepared = prepare(config)
    runs = run_all(config, prepared)
    kpis = typhoon_kpis(prepared, runs)
    tables = _tables(config, prepared, runs, engine, kpis)
    worst = tables["town_impact"]
    kpis["decisive_hour_start_s"] = float(tables["hourly_impact"].attrs["decisive_hour_s"])
    kpis["typhoon_person_hours_hit_person_h"] = float(worst["total_person_h"].sum())
    clock = _clock(engine)
    figures = in_both_languages("typhoon_timeline", lambda lang: timeline_figure(
        lang, tables["systems_over_time"], tables["timeline"], kpis["decisive_hour_start_s"], clock))
    return RunResult(kpis=kpis, tables=tables, figures=figures, notes=_notes(config, prepared, kpis),
                     layers=_layers(prepared, runs),
                     headline=["flood_added_vehicle_hours_h", "pump_outage_added_person_hours_person_h",
                               "derate_gpu_hours_unavailable_h"])


def _clock(engine: Engine):  # noqa: ANN202 - Callable[[float], str]
    return lambda t: engine.clock(t).strftime("%H:%M")


def _tables(config: TyphoonDayFile, prepared: Prepared, runs: Runs, engine: Engine,
            kpis: dict[str, float]) -> dict[str, pd.DataFrame]:
    """``timeline``, ``systems_over_time``, ``town_impact``, ``hourly_impact`` and ``coupling_effects``."""
    # deferred: pandas is slow to import, and the registry imports every kind to discover it
    import pandas as pd

    day, end, clock = prepared.day, prepared.settings.duration_s, _clock(engine)
    events = timeline.cascade_events(day, runs.main, end)
    table = pd.DataFrame(events, columns=["time_s", "system", "event", "coupling", "detail"])
    table.insert(1, "clock", [clock(t) for t in table["time_s"]])
    hit = timeline.impact(day, runs.main, runs.dry["water"], prepared.zone_town, prepared.zone_residents,
                          prepared.water_town, end)
    towns = pd.DataFrame({
        "town_id": hit["towns"], "name_zh": [prepared.town_names.get(t, (t, t))[0] for t in hit["towns"]],
        "name_en": [prepared.town_names.get(t, (t, t))[1] for t in hit["towns"]],
        "road_person_h": hit["road_town_h"], "water_person_h": hit["water_town_h"],
        "burst_person_h": hit["burst_town_h"],
    })
    towns["total_person_h"] = towns["road_person_h"] + towns["water_person_h"] + towns["burst_person_h"]
    towns = towns.sort_values(["total_person_h", "town_id"], ascending=[False, True]).reset_index(drop=True)
    hours = pd.DataFrame({"hour_start_s": np.arange(len(hit["road_hour_h"])) * 3600.0,
                          "road_person_h": hit["road_hour_h"], "water_person_h": hit["water_hour_h"],
                          "burst_person_h": hit["burst_hour_h"]})
    hours.insert(1, "clock", [clock(t) for t in hours["hour_start_s"]])
    total = hours["road_person_h"] + hours["water_person_h"] + hours["burst_person_h"]
    hours.attrs["decisive_hour_s"] = float(hours["hour_start_s"][int(np.argmax(total.to_numpy()))])
    return {"timeline": table, "systems_over_time": _over_time(config, prepared, runs), "town_impact": towns,
            "hourly_impact": hours, "coupling_effects": _effects(kpis)}


def _over_time(config: TyphoonDayFile, prepared: Prepared, runs: Runs) -> pd.DataFrame:
    """Per flood step: rain, closed links, people below service added, GPUs in service."""
    # deferred: pandas is slow to import, and the registry imports every kind to discover it
    import pandas as pd

    day, main = prepared.day, runs.main
    t = day.flood.time_s
    rain = np.array([day.rain.depth_between_mm(a, b) for a, b in zip(t[:-1], t[1:], strict=True)] + [0.0])
    rain_mm_per_h = rain / np.append(np.diff(t), 1.0) * 3600.0
    water = timeline.water_people_below_added(day, main, runs.dry["water"])
    people = np.zeros(len(t))
    if water is not None:
        k = np.clip(np.searchsorted(water[0], t, side="right") - 1, 0, None)
        people = water[1][k]
    gpus = day.cluster.nodes * day.cluster.gpus_per_node
    off = (day.cluster.nodes - math.floor(config.compute.available_share * day.cluster.nodes)) \
        * day.cluster.gpus_per_node
    derated = np.array([any(a <= x < b for a, b in main.derate) for x in t])
    return pd.DataFrame({"time_s": t, "rain_mm_per_h": rain_mm_per_h,
                         "closed_links": timeline.closed_links_over_time(day) if config.couplings.flood_roads
                         else np.zeros(len(t), int),
                         "people_below_service_added": people, "gpus_in_service": np.where(derated, gpus - off, gpus)})


FLOODED_LINK_M = 0.15
"""Links with at least this much water at some time are drawn (half the closure depth)."""


def _layers(prepared: Prepared, runs: Runs) -> dict[str, object]:
    """``results.gpkg``: road links under water (deepest depth, closed or not, when deepest) and the
    water facilities (how deep their site got, when they stopped and restarted)."""
    # deferred: geopandas and shapely are slow to import, and only the map layers need them
    import geopandas as gpd
    from shapely import LineString, Point  # deferred, as above

    day = prepared.day
    depth = day.flood.depth_m
    deepest = depth.max(axis=0)
    wet = np.flatnonzero(deepest >= FLOODED_LINK_M)
    nodes = load_city().roads.nodes
    lines = [LineString([(nodes[u]["x"], nodes[u]["y"]), (nodes[v]["x"], nodes[v]["y"])])
             for u, v, _ in (day.network.link_keys[k] for k in wet)]
    links = gpd.GeoDataFrame({
        "link": wet, "max_depth_m": deepest[wet], "closed": deepest[wet] >= 0.3,
        "deepest_at_s": day.flood.time_s[np.argmax(depth[:, wet], axis=0)] if len(wet) else np.zeros(0),
    }, geometry=lines, crs="EPSG:4490")
    outages = runs.main.water.outages if runs.main.water is not None else {}
    facilities = gpd.GeoDataFrame({
        "facility": [f.name for f in day.facilities], "kind": [f.kind for f in day.facilities],
        "max_site_depth_m": day.facility_depth_m.max(axis=0),
        "stopped_at_s": [outages[f.name][0][0] if f.name in outages else np.nan for f in day.facilities],
        "restarted_at_s": [outages[f.name][-1][1] if f.name in outages else np.nan for f in day.facilities],
    }, geometry=[Point(f.lon, f.lat) for f in day.facilities], crs="EPSG:4490")
    return {"flooded_links": links, "water_facilities": facilities}


EFFECTS = [
    ("flood_roads", "traffic", "vehicle_hours_h", "typhoon_vehicle_hours_h", "flood_added_vehicle_hours_h"),
    ("flood_buses", "buses", "mean_wait_s", "typhoon_bus_mean_wait_s", "flood_added_bus_wait_s"),
    ("flood_buses", "buses", "riders_gave_up_pax", "typhoon_bus_riders_gave_up_pax", "flood_added_riders_gave_up_pax"),
    ("pump_outage", "water", "person_hours_below_service_person_h", "pump_outage_added_person_hours_person_h",
     "pump_outage_added_person_hours_person_h"),
    ("main_burst", "water", "person_hours_below_service_person_h", "burst_person_hours_lost_person_h",
     "burst_person_hours_lost_person_h"),
    ("flood_roads", "burst crew", "crew_dispatch_to_site_s", "burst_crew_travel_s", "flood_added_crew_travel_s"),
    ("flood_roads", "burst crew", "water_lost_m3", "burst_water_lost_m3", "flood_added_burst_water_lost_m3"),
    ("grid_derate", "compute", "gpu_mean_wait_s", "typhoon_gpu_mean_wait_s", "derate_added_mean_wait_s"),
    ("grid_derate", "compute", "lost_gpu_h", "derate_lost_gpu_h", "derate_lost_gpu_h"),
]
"""What each coupling added: (coupling, system, measure, KPI with the coupling, KPI of what it added)."""


def _effects(kpis: dict[str, float]) -> pd.DataFrame:
    """What each coupling added: the system's measure with the coupling, without it, and the difference."""
    # deferred: pandas is slow to import, and the registry imports every kind to discover it
    import pandas as pd

    rows = [{"coupling": coupling, "system": system, "measure": measure, "with_coupling": kpis[with_name],
             "without_coupling": kpis[with_name] - kpis[added], "added": kpis[added]}
            for coupling, system, measure, with_name, added in EFFECTS]
    return pd.DataFrame(rows)


# ---- notes and the answer ------------------------------------------------------------------------------
def _notes(config: TyphoonDayFile, prepared: Prepared, kpis: dict[str, float]) -> list[str]:
    storm, traffic = config.storm, config.traffic
    rain = (f"a Chicago storm of P = {storm.return_period_y:g} y over {storm.duration_min:g} min (peak ratio "
            f"{storm.peak_ratio:g}) on the Fuzhou storm-intensity formula quoted in the 给水排水设计手册 (not checked "
            "against DBJ13-52-2003)") if storm.source == "design" else f"the gauge series {storm.rain_csv}"
    on = [name for name in COUPLINGS if getattr(config.couplings, name)]
    return [
        f"Rain: {rain}; {kpis['rain_total_m'] * 1000:.0f} mm in all. Ponding: zone buckets (runoff coefficient "
        f"{config.flood.runoff_coefficient:g}, drains sized for P = {config.flood.drain_return_period_y:g} y, "
        f"{prepared.drain_capacity_mm_per_h:.1f} mm/h: assumptions); no spill between zones.",
        f"Couplings on: {', '.join(on) or 'none'}. Each one switched on is also run switched off; the "
        "difference is what it added. No system feeds another here, so each counterfactual runs only the "
        "system its coupling drives (tests/coupled/test_typhoon_day.py checks that a coupling changes only "
        "its system).",
        f"Traffic runs {traffic.duration_s / 3600:g} h from {traffic.begin_s / 3600:g} h after the start (the "
        "hours around the peak; a whole day of the district's traffic would take minutes): "
        f"{kpis['traffic_window_trips_veh']:,.0f} trips, speeds after Pregnolato et al. (2017), links closed at "
        "300 mm, trips routed round the water at departure.",
        "People hit (town ranking, decisive hour): residents of a zone while one of its road links is closed, "
        "plus people the outages and the burst put below the 28 m service head (GB 50013), in person-hours. The "
        "burst runs its own hydraulics (the network split at the hole), so the pump outages and the burst are "
        "not solved together and a junction short in both counts twice. Buses: every line of the transit layer "
        f"over the traffic window, {config.buses.pax_per_h_per_line:g} riders/h per line (assumption), riders give "
        f"up after {config.buses.patience_s / 60:g} min; crewed buses wait at 300 mm, driverless ones at 0.15 m "
        "(assumption); lines keep their routes (no detours). One seeded run: no intervals over replications.",
    ]


TEXT = {
    "question": {"zh": "台风日：哪里受灾最重、哪一小时决定全天、各耦合分别增加了多少损失？",
                 "en": "The typhoon day: where is hit worst, which hour decides the day, and what does each "
                       "coupling add?"},
    "answer": {"zh": "受灾最重的街道/镇：{towns}；决定全天的是{hour}这一小时。积水使道路在研究时段内增加{veh}车辆延误"
                     "（{closed}条路段曾封闭），公交候车多{bus}、多{gaveup}名乘客放弃候车；泵站停运使{people}水压不足、"
                     "持续{hours}（{ph}）；暴雨中爆管增加{bph}，积水使抢修队多走{crew}；"
                     "电网降容使算力中心少了{gpu} GPU时。",
               "en": "Worst hit: {towns}; the hour that decides the day is {hour}. Flooding added {veh} of vehicle "
                     "delay in the traffic window ({closed} links closed at some time), bus riders waited {bus} "
                     "longer and {gaveup} more gave up; the pump outages left {people} below service pressure for "
                     "{hours} ({ph}); the main that burst in the storm added {bph} and the flooded roads added "
                     "{crew} to its crew's drive; the grid derate took {gpu} GPU-hours from the compute centre."},
}


def answer(config: TyphoonDayFile, kpis: dict[str, float], result: RunResult) -> Answer:
    """The three worst-hit 街道/镇, the hour that decides the day, and what each coupling added."""
    towns = result.tables["town_impact"]
    hit = towns[towns["total_person_h"] > 0].head(3)
    hour_s = kpis["decisive_hour_start_s"]
    start = config.scenario.start
    h0 = (start.hour * 3600 + start.minute * 60 + hour_s) / 3600.0
    hour = f"{int(h0) % 24:02d}:00–{(int(h0) + 1) % 24:02d}:00"
    text = {}
    for lang in LANGS:
        column = "name_zh" if lang == "zh" else "name_en"
        names = ("、" if lang == "zh" else ", ").join(hit[column]) or ("无" if lang == "zh" else "none")
        text[lang] = TEXT["answer"][lang].format(
            towns=names, hour=hour,
            veh=kpi_info("flood_added_vehicle_hours_h").format(kpis["flood_added_vehicle_hours_h"], lang),
            closed=f"{kpis['flood_links_closed_ever_count']:,.0f}",
            bus=kpi_info("flood_added_bus_wait_s").format(kpis["flood_added_bus_wait_s"], lang),
            gaveup=f"{kpis['flood_added_riders_gave_up_pax']:,.0f}",
            people=kpi_info("pump_outage_peak_people_below_service_count").format(
                kpis["pump_outage_peak_people_below_service_count"], lang),
            hours=kpi_info("pump_outage_hours_below_service_h").format(kpis["pump_outage_hours_below_service_h"],
                                                                        lang),
            ph=kpi_info("pump_outage_added_person_hours_person_h").format(
                kpis["pump_outage_added_person_hours_person_h"], lang),
            bph=kpi_info("burst_person_hours_lost_person_h").format(kpis["burst_person_hours_lost_person_h"], lang),
            crew=kpi_info("flood_added_crew_travel_s").format(kpis["flood_added_crew_travel_s"], lang),
            gpu=f"{kpis['derate_gpu_hours_unavailable_h']:,.0f}")
    recommendation = {"zh": "、".join(hit["name_zh"]), "en": ", ".join(hit["name_en"])}
    return Answer(text=text, question=TEXT["question"], recommendation=recommendation)


# ---- validation -------------------------------------------------------------------------------------------
SECONDS_PER_TRIP = 4e-4
"""Wall time per traffic trip and run (two runs: with and without the flood), measured on the bundled day."""
SECONDS_FIXED = 40.0
"""City loading, flood, water and compute runs of the bundled day (measured, with margin)."""
BYTES_PER_TRIP = 2_000.0
"""Memory per trip (routes, vehicle arrays), with margin."""
TRIPS_PER_HOUR = 25_000.0
"""Trips the default demand gives per hour of the bundled city's daytime (measured: 71,487 in 08-11 h)."""


def check(config: TyphoonDayFile, ctx: CheckContext) -> None:
    """The clock (starts at midnight, the water's demand patterns do), the windows, the rain file, the city."""
    header = config.scenario
    start = header.start
    if (start.hour, start.minute, start.second) != (0, 0, 0):
        raise ctx.fail("[scenario] start", start.isoformat(), "a start at 00:00:00 (the water network's demand "
                       "patterns start at midnight)")
    if config.traffic.begin_s + config.traffic.duration_s > header.duration_s:
        raise ctx.fail("[traffic] duration_s", config.traffic.duration_s,
                       f"a window that ends within [scenario] duration_s = {header.duration_s:g} "
                       f"([traffic] begin_s = {config.traffic.begin_s:g})")
    if config.storm.source == "series":
        if not config.storm.rain_csv:
            raise ctx.fail("[storm] rain_csv", None, "a CSV time_s,depth_mm when [storm] source = 'series'")
        read_rain_csv(ctx.file("[storm] rain_csv", config.storm.rain_csv))
    elif config.storm.rain_csv:
        raise ctx.fail("[storm] rain_csv", config.storm.rain_csv, "no file with [storm] source = 'design' (set "
                       "source = 'series' to use it)")
    city = ctx.city
    for layer in ("roads", "zones", "terrain"):
        if getattr(city, layer) is None:
            raise ctx.fail("[scenario] kind", "typhoon_day", f"a city with a {layer} layer")
    if city.water_inp is None:
        raise ctx.fail("[scenario] kind", "typhoon_day", "a city with a water layer")
    if config.couplings.main_burst:
        if city.water_valves is None:
            raise ctx.fail("[couplings] main_burst", True, "a city with a water_valves layer (the crew closes them)")
        pipes = [row[0] for row in inp_sections(city.water_inp).get("PIPES", [])]
        if config.burst.pipe != "auto" and config.burst.pipe not in pipes:
            raise ctx.fail("[burst] pipe", config.burst.pipe, f"a pipe of {city.water_inp.name} or 'auto' (nearest: "
                           f"{', '.join(repr(n) for n in nearest_names(config.burst.pipe, pipes))})")
        if config.burst.at_s >= header.duration_s:
            raise ctx.fail("[burst] at_s", config.burst.at_s, f"a time before [scenario] duration_s = "
                           f"{header.duration_s:g}")


def estimate(config: TyphoonDayFile) -> SizeEstimate:
    """Time and memory from the traffic window's trips (the runs' largest part)."""
    trips = TRIPS_PER_HOUR * config.traffic.duration_s / 3600.0
    runs = 2 if config.couplings.flood_roads else 1
    return SizeEstimate(trips * BYTES_PER_TRIP + 2e9, SECONDS_FIXED + trips * SECONDS_PER_TRIP * runs,
                        "[traffic] duration_s")


scenario_kind(
    "typhoon_day", TyphoonDayFile, "typhoon day: rain floods roads, pump stations and the grid on one clock",
    check=check, estimate=estimate, answer=answer, replications=1,
)(run)
