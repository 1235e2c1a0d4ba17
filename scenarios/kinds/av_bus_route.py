"""Autonomous (or crewed) bus route: fleet, headway, holding and signal priority compared.

The scenario takes one line of the transit layer (the bundled Changle layer, or a synthetic
corridor for quick checks), a passenger demand shaped by the zones along it, and a grid of
operating variants (headways × fleet sizes × holding × signal priority). Every variant runs on
its own engine with the same seed, so all see the same passengers (common random numbers) and
their differences are the operating plan's, not sampling noise (the model:
:mod:`twin.transit.plans`).

It answers the planner's questions for the line: how many buses a target headway needs (cycle
over headway, checked in the simulation by running the fleet and measuring the headway it
achieves), what passengers wait, whether buses bunch and whether holding helps, and what the
service costs per day driverless against crewed. The recommended variant is the cheapest one
that meets the ``[targets]``; its time–space diagram, load profile and wait distribution are in
the report, and its simulated service is exported as GTFS (``gtfs.zip``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from scenarios.registry import scenario_kind
from twin.cim import focus_table
from twin.city.folder import load_city
from twin.city.roads import node_lonlat
from twin.city.travel_times import read_link_times as read_link_table
from twin.config import ScenarioFile, StrictModel
from twin.engine import Engine
from twin.errors import InputError
from twin.generate.roads import arterial_corridor
from twin.progress import progress_bar
from twin.results import Answer, RunResult
from twin.transit.comparison import (
    holding_effect_pct,
    junction_delay_kpis,
    plan_kpis,
    priority_effect,
    priority_pair,
)
from twin.transit.costs import CostModel
from twin.transit.demand import ODMatrix, even_line_od, line_od_from_zone_layer
from twin.transit.gtfs import simulated_feed, write_feed
from twin.transit.layer import network_from_city
from twin.transit.line_answer import line_answer, recommend
from twin.transit.lines import BusLine, TransitNetwork, corridor_line
from twin.transit.metrics import headway_cv, load_profile
from twin.transit.plans import (
    Calibration,
    LineStudy,
    OperatingPlan,
    RunTooShort,
    calibrate,
    line_junctions,
    plan_grid,
    planned_fleet_needed_veh,
    simulate_plan,
)
from twin.transit.priority import JunctionTraffic, SignalsConfig
from twin.transit.records import BusRun
from twin.transit.service import OperationsConfig, ServiceConfig
from twin.transit.vehicles import VehicleType, vehicle_type

if TYPE_CHECKING:
    import pandas as pd

    from twin.city.travel_times import TravelTimes

class RouteTable(StrictModel):
    """The ``[route]`` table: which line, on which network, with which vehicles."""

    source: Literal["city", "corridor"] = Field(
        default="city",
        description="city: a line of the dataset's transit layer; corridor: a synthetic straight line.",
    )
    line_id: str = Field(default="BH-AV1", description="Line of the transit layer (source = city).")
    vehicle_type: str | None = Field(
        default=None, description="Preset vehicle type (see twin.transit.vehicles.VEHICLE_TYPES); default: the line's."
    )
    travel_times_file: str | None = Field(
        default=None,
        description="Parquet of a traffic run's link times (u, v, key, bin_start_s, travel_time_s); "
        "default: free flow. Relative to the working directory.",
    )
    corridor_length_m: float = Field(default=8000.0, gt=0, le=100_000, description="Corridor length.")
    corridor_stop_spacing_m: float = Field(default=500.0, gt=50, le=5000, description="Stop spacing.")
    corridor_speed_kph: float = Field(default=40.0, gt=5, le=120, description="Corridor speed limit.")
    corridor_signal_every_stops: int = Field(
        default=0, ge=0, le=50,
        description="A signalised crossing mid-block after every n-th stop (0: none).",
    )
    corridor_cross_street_m: float = Field(
        default=200.0, gt=0, le=2000, description="Length of each cross street at a signal (m)."
    )


class DemandTable(StrictModel):
    """The ``[demand]`` table: passengers per hour on the line and how they spread over stops."""

    pax_per_h: float = Field(default=400.0, ge=0, le=50_000, description="Passengers per hour (factor 1).")
    profile: list[float] = Field(
        default=[1.0], min_length=1, description="Rate factor for each hour of the run, repeated."
    )
    od: Literal["zones", "uniform"] = Field(
        default="zones", description="zones: gravity between the zones around the stops; uniform."
    )
    access_m: float = Field(default=800.0, gt=0, le=5000, description="Walk catchment of a stop (m).")
    gravity_beta_per_km: float = Field(default=0.15, ge=0, le=5, description="Distance deterrence.")

    @model_validator(mode="after")
    def _profile_non_negative(self) -> DemandTable:
        if any(f < 0 for f in self.profile):
            raise ValueError("profile factors must be >= 0")
        return self


class VariantsTable(StrictModel):
    """The ``[variants]`` table: the grid of operating plans to compare."""

    headways_s: list[float] = Field(default=[600.0], min_length=1, description="Target headways (s).")
    fleet_veh: list[int] = Field(
        default=[], description="Fleet sizes to try; empty: the fleet each headway needs plus margins."
    )
    fleet_margin_veh: list[int] = Field(
        default=[0], min_length=1, description="Buses added to the needed fleet (fleet_veh empty)."
    )
    holding: list[Literal["none", "headway", "schedule"]] = Field(default=["none"], min_length=1)
    priority: list[bool] = Field(default=[False], min_length=1, description="Transit signal priority.")

    @model_validator(mode="after")
    def _positive(self) -> VariantsTable:
        if any(h <= 0 for h in self.headways_s):
            raise ValueError("headways_s must be > 0")
        if any(f < 1 for f in self.fleet_veh):
            raise ValueError("fleet_veh values must be >= 1")
        return self


class TargetsTable(StrictModel):
    """The ``[targets]`` table: what a recommended plan must meet."""

    max_mean_wait_s: float = Field(default=300.0, gt=0, description="Mean passenger wait (s).")
    max_peak_load_factor: float = Field(default=0.9, gt=0, le=2, description="Busiest leg load/capacity.")
    min_on_time_pct: float = Field(default=0.0, ge=0, le=100, description="Departures on time (%).")
    max_left_behind_pct: float = Field(default=1.0, ge=0, le=100, description="Passengers left behind (%).")


class AvBusRouteFile(ScenarioFile):
    """An ``av_bus_route`` scenario file."""

    route: RouteTable = RouteTable()
    vehicle: VehicleType | None = Field(default=None, description="A custom vehicle type (overrides).")
    demand: DemandTable = DemandTable()
    service: ServiceConfig = ServiceConfig()
    operations: OperationsConfig = OperationsConfig()
    signals: SignalsConfig = SignalsConfig()
    costs: CostModel = CostModel()
    variants: VariantsTable = VariantsTable()
    targets: TargetsTable = TargetsTable()


# --------------------------------------------------------------------------------------------
# Inputs: the line, its vehicle, its demand and its junctions
# --------------------------------------------------------------------------------------------


def corridor_network(route: RouteTable, vehicle: str) -> TransitNetwork:
    """A line on a generated arterial corridor: stops on even nodes, signalised crossings between."""
    spacing = route.corridor_stop_spacing_m / 2.0  # stops on even nodes, junctions between
    n_nodes = max(3, int(round(route.corridor_length_m / spacing)) + 1)
    every = route.corridor_signal_every_stops
    signal_nodes = list(range(1, n_nodes - 1, 2 * every)) if every else []
    graph = arterial_corridor(
        n_nodes, spacing, route.corridor_speed_kph, signal_nodes=signal_nodes,
        cross_street_m=route.corridor_cross_street_m if signal_nodes else 0.0,
    )
    return corridor_line(graph, stop_every=2, headway_s=600.0, line_id=route.line_id, vehicle=vehicle)


def load_line(config: AvBusRouteFile) -> tuple[TransitNetwork, Any | None, TravelTimes | None]:
    """The network holding the line, the city (if any) and the travel times to use."""
    route = config.route
    if route.source == "corridor":
        vehicle = route.vehicle_type or (config.vehicle.name if config.vehicle else "av_bus_12m")
        network = corridor_network(route, vehicle)
        return network, None, read_link_times(route.travel_times_file, network.graph)
    city = load_city()
    network = network_from_city(city).subset([route.line_id]) if route.line_id else None
    if network is None:
        raise InputError("[route] line_id: required when source = 'city'")
    return network, city, read_link_times(route.travel_times_file, city.roads)


def read_link_times(name: str | None, graph: Any) -> TravelTimes | None:
    """A traffic run's link times as the buses' travel-time hook (``None``: free flow).

    See :func:`twin.city.travel_times.read_link_times` for the tables accepted.
    """
    if not name:
        return None
    return read_link_table(Path(name), graph, f"[route] travel_times_file = {name!r}")


def pick_vehicle(config: AvBusRouteFile, network: TransitNetwork) -> VehicleType:
    """The custom ``[vehicle]``, else the ``[route] vehicle_type`` preset, else the line's."""
    if config.vehicle is not None:
        return config.vehicle
    name = config.route.vehicle_type or network.line(config.route.line_id).vehicle_type
    try:
        return vehicle_type(name)
    except InputError as exc:
        raise InputError(f"[route] vehicle_type: {exc}") from None


def line_demand_od(config: AvBusRouteFile, network: TransitNetwork, city: Any | None) -> ODMatrix:
    """Passengers per hour between the line's stops (at profile factor 1)."""
    demand = config.demand
    line_id = config.route.line_id
    if demand.od == "uniform" or city is None:
        if demand.od == "zones" and city is None:
            raise InputError("[demand] od = 'zones' needs the city's zones; use od = 'uniform' on a corridor")
        return even_line_od(network, line_id, demand.pax_per_h)
    return line_od_from_zone_layer(
        network, line_id, city.zones, demand.pax_per_h, demand.access_m, demand.gravity_beta_per_km
    )


def checked_junctions(
    config: AvBusRouteFile, engine: Engine, network: TransitNetwork
) -> JunctionTraffic | None:
    """The line's signalised junctions with background traffic, if ``[signals] model = "traffic"``."""
    wants_priority = any(config.variants.priority)
    if config.signals.model == "none":
        if wants_priority:
            raise InputError(
                "[variants] priority = true needs [signals] model = \"traffic\" (priority is given by "
                "the traffic model's signal controllers)"
            )
        return None
    line_id = config.route.line_id
    junctions = line_junctions(network, line_id, config.signals, engine)
    if junctions is None and wants_priority:
        raise InputError(f"[variants] priority = true: line {line_id} crosses no signalised junction")
    return junctions


def line_study(config: AvBusRouteFile, engine: Engine) -> tuple[LineStudy, Any | None]:
    """The line, its vehicle, demand, link times and junctions as a :class:`LineStudy`; the city."""
    network, city, times = load_line(config)
    network.line(config.route.line_id)
    study = LineStudy(
        network=network, line_id=config.route.line_id, vehicle=pick_vehicle(config, network),
        od_pax_per_h=line_demand_od(config, network, city), demand_profile=config.demand.profile,
        service=config.service, operations=config.operations, travel_times=times,
        junctions=checked_junctions(config, engine, network),
    )
    return study, city


# --------------------------------------------------------------------------------------------
# Calling the model: calibration runs, then every variant
# --------------------------------------------------------------------------------------------


def calibrations_of(
    config: AvBusRouteFile, study: LineStudy, engine: Engine
) -> dict[tuple[float, bool], Calibration]:
    """One calibration run per headway and priority setting."""
    try:
        return {
            (h, p): calibrate(study, engine, h, p)
            for h in config.variants.headways_s for p in config.variants.priority
        }
    except RunTooShort as exc:
        raise InputError(f"[scenario] {exc.reason}") from None


def simulate_variants(
    study: LineStudy, engine: Engine, variants: list[OperatingPlan]
) -> tuple[list[BusRun], list[dict[str, float]]]:
    """Every variant's run and its junctions' background delays, with a progress bar."""
    runs, delays = [], []
    with progress_bar(len(variants), f"{study.line_id}: variants") as bar:
        for variant in variants:
            run_, delay = simulate_plan(study, engine, variant)
            runs.append(run_)
            delays.append(delay)
            bar.advance()
    return runs, delays


# --------------------------------------------------------------------------------------------
# KPIs and tables
# --------------------------------------------------------------------------------------------


def meets_targets(row: dict[str, float], targets: TargetsTable) -> bool:
    """Whether a variant's KPIs meet every ``[targets]`` value."""
    return bool(
        row["mean_wait_s"] <= targets.max_mean_wait_s
        and row["peak_load_factor_ratio"] <= targets.max_peak_load_factor
        and row["on_time_pct"] >= targets.min_on_time_pct
        and row["left_behind_pct"] <= targets.max_left_behind_pct
    )


def variant_table(
    config: AvBusRouteFile, variants: list[OperatingPlan], runs: list[BusRun],
    delays: list[dict[str, float]],
) -> pd.DataFrame:
    """One row per variant with its KPIs and whether it meets the targets."""
    # Deferred: pandas is heavy, and the registry imports every kind module to discover kinds.
    import pandas as pd

    rows = []
    for variant, run, delay in zip(variants, runs, delays, strict=True):
        row = plan_kpis(variant, run, config.route.line_id, config.costs)
        rows.append({**row, "meets_targets": meets_targets(row, config.targets), **junction_delay_kpis(delay)})
    return pd.DataFrame(rows)


def calibration_table(study: LineStudy, calibrations: dict[tuple[float, bool], Calibration]) -> pd.DataFrame:
    """One row per calibration run: its running cycle and the fleets it and the timetable imply."""
    # Deferred: pandas is heavy, and the registry imports every kind module to discover kinds.
    import pandas as pd

    return pd.DataFrame([
        {"headway_s": c.headway_s, "priority": c.priority, "running_cycle_s": c.cycle_s,
         "fleet_needed_veh": c.fleet_needed_veh,
         "planned_fleet_needed_veh": planned_fleet_needed_veh(study, c.headway_s)}
        for c in calibrations.values()
    ])


def recommended_kpis(study: LineStudy, table: pd.DataFrame, best: int) -> dict[str, float]:
    """The recommended variant's KPIs, named for the answer (recommended headway and fleet, ...)."""
    row = table.loc[best]
    line = study.network.line(study.line_id)
    return {
        "variants_count": len(table),
        "recommended_headway_s": float(row["headway_s"]),
        "recommended_fleet_veh": int(row["fleet_veh"]),
        "fleet_needed_veh": float(row["fleet_needed_veh"]),
        "planned_fleet_needed_veh": int(row["planned_fleet_needed_veh"]),
        "calibrated_fleet_needed_veh": int(row["calibrated_fleet_needed_veh"]),
        "cycle_time_s": float(row["cycle_time_s"]),
        "achieved_headway_s": float(row["achieved_headway_s"]),
        "mean_wait_s": float(row["mean_wait_s"]),
        "p95_wait_s": float(row["p95_wait_s"]),
        "mean_in_vehicle_time_s": float(row["mean_in_vehicle_time_s"]),
        "mean_load_factor_ratio": float(row["mean_load_factor_ratio"]),
        "peak_load_factor_ratio": float(row["peak_load_factor_ratio"]),
        "left_behind_pax": int(row["left_behind_pax"]),
        "headway_cv_ratio": float(row["headway_cv_ratio"]),
        "on_time_pct": float(row["on_time_pct"]),
        "vehicle_km": float(row["vehicle_km"]),
        "vehicle_hours_h": float(row["vehicle_hours_h"]),
        "boarded_pax": int(row["boarded_pax"]),
        "autonomous_cost_cny_per_day": float(row["autonomous_cost_cny_per_day"]),
        "crewed_cost_cny_per_day": float(row["crewed_cost_cny_per_day"]),
        "driverless_saving_pct": 100.0 * (
            1.0 - row["autonomous_cost_cny_per_day"] / row["crewed_cost_cny_per_day"]
        ),
        "line_length_km": line.pattern(0).length_m / 1000.0,
        "stops_count": len(study.network.stops),
        "variants_meeting_targets_count": int(table["meets_targets"].sum()),
    }


def answer_kpis(study: LineStudy, table: pd.DataFrame, best: int, best_run: BusRun) -> dict[str, float]:
    """The scenario's KPIs: the recommended variant's, holding's and priority's effects, bunching."""
    kpis = recommended_kpis(study, table, best)
    kpis.update(holding_effect_pct(table, best))
    if study.junctions is not None:
        kpis["signalised_junctions_count"] = len(study.junctions.nodes)
        kpis["connected_junctions_count"] = len(study.junctions.connected)
        kpis.update(priority_effect(table, best))
    cv_rows = [headway_cv(best_run, study.line_id, d) for d in study.network.line(study.line_id).directions]
    kpis["headway_cv_direction_1_ratio"] = float(cv_rows[1]) if len(cv_rows) > 1 else float("nan")
    return kpis


def result_tables(
    study: LineStudy, city: Any | None, table: pd.DataFrame, best: int, best_run: BusRun,
    calibrations: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """The run's tables: variants, calibration, the recommended run's visits, loads, passengers
    and trips, and (on the city) its route and focus for the CIM render."""
    pax = best_run.passengers.copy()
    pax["wait_s"] = pax["board_s"] - pax["arrive_s"]
    tables = {"variants": table, "calibration": calibrations, "stop_visits": best_run.stop_visits.copy(),
              "load_profile": load_profile(best_run, study.vehicle.capacity_pax), "passengers": pax,
              "trips": best_run.trips}
    if city is not None:  # a line on the Changle roads: draw it on the CIM (viz/results_overlay.py)
        row = table.loc[best]
        tables["cim_routes"] = cim_routes_table(study.network.line(study.line_id), study.vehicle)
        caption = (f"{study.line_id} {'driverless ' if study.vehicle.autonomous else ''}line: every "
                   f"{row['headway_s'] / 60:g} min with {int(row['fleet_veh'])} vehicles")
        route_nodes = tables["cim_routes"]["node"].unique()
        tables["cim_focus"] = focus_table(*node_lonlat(city.roads, route_nodes), caption,
                                          min_radius_m=800.0, margin_m=300.0)
    return tables


def cim_routes_table(line: BusLine, vehicle: VehicleType) -> pd.DataFrame:
    """The line's road nodes per direction in the CIM ``cim_routes`` form (route_id, seq, node)."""
    # Deferred: pandas is heavy, and the registry imports every kind module to discover kinds.
    import pandas as pd

    rows = [
        {"route_id": f"{line.line_id} dir {d}", "seq": seq, "node": int(node),
         "autonomous": bool(vehicle.autonomous)}
        for d in line.directions
        for seq, node in enumerate(line.pattern(d).route_nodes())
    ]
    return pd.DataFrame(rows)


def gtfs_bytes(run: BusRun, engine: Engine) -> bytes:
    """The simulated service of ``run`` as a GTFS zip, in memory (the run folder keeps the bytes)."""
    with tempfile.TemporaryDirectory(prefix="gtfs-") as feed_dir:
        return write_feed(simulated_feed(run, engine.start), Path(feed_dir) / "gtfs.zip").read_bytes()


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def _plt():  # noqa: ANN202 - matplotlib.pyplot
    """pyplot on the Agg backend (draws without a display)."""
    import matplotlib  # deferred: heavy, and only the figures need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred, after choosing the backend

    return plt


def time_space_figure(run: BusRun, line_id: str, title: str):  # noqa: ANN201
    """Bus trajectories: distance along direction 0 against time (direction 1 runs back down)."""
    plt = _plt()
    line = run.network.line(line_id)
    total_km = line.pattern(0).length_m / 1000.0
    fig, ax = plt.subplots(figsize=(11, 5))
    visits = run.stop_visits[run.stop_visits["line_id"] == line_id]
    buses = sorted(visits["bus_id"].unique())
    colours = plt.get_cmap("tab20")
    for _, trip in visits.groupby("trip_index"):
        trip = trip.sort_values("seq")
        pos_km = trip["position_m"].to_numpy() / 1000.0
        if int(trip["direction"].iloc[0]) == 1:
            back_km = run.network.line(line_id).pattern(1).length_m / 1000.0
            pos_km = total_km - pos_km * (total_km / back_km if back_km else 1.0)
        t = []
        y = []
        for (_, row), p in zip(trip.iterrows(), pos_km, strict=True):
            t += [row["arrive_s"], row["depart_s"]]
            y += [p, p]
        colour = colours(buses.index(trip["bus_id"].iloc[0]) % 20)
        ax.plot([x / 3600.0 for x in t], y, color=colour, lw=1.0)
    ax.set_xlabel("hours since start")
    ax.set_ylabel(f"distance along {line_id} direction 0 (km)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def load_profile_figure(run: BusRun, line_id: str, capacity_pax: int, title: str):  # noqa: ANN201
    """Mean load leaving each stop, with mean boardings and alightings, per direction."""
    plt = _plt()
    line = run.network.line(line_id)
    fig, axes = plt.subplots(len(line.directions), 1, figsize=(11, 3.6 * len(line.directions)), squeeze=False)
    visits = run.stop_visits[run.stop_visits["line_id"] == line_id]
    for ax, direction in zip(axes[:, 0], line.directions, strict=True):
        v = visits[visits["direction"] == direction].groupby("seq")
        seqs = list(v.groups)
        load = v["load_pax"].mean()
        left = [s - 0.2 for s in seqs]
        right = [s + 0.2 for s in seqs]
        ax.bar(left, v["boardings"].mean(), width=0.4, color="tab:green", label="boardings")
        ax.bar(right, v["alightings"].mean(), width=0.4, color="tab:orange", label="alightings")
        ax.step(seqs, load, where="post", color="tab:blue", lw=2, label="load leaving stop")
        ax.axhline(capacity_pax, color="tab:red", ls="--", lw=1, label="capacity")
        names = line.pattern(direction).stop_ids
        ax.set_xticks(seqs)
        ax.set_xticklabels([names[s] for s in seqs], rotation=60, fontsize=7)
        ax.set_ylabel("passengers per bus")
        ax.set_title(f"{title}: direction {direction}")
        ax.legend(fontsize=8, ncols=4)
    fig.tight_layout()
    return fig


def wait_figure(table: pd.DataFrame, runs: list[BusRun], chosen: list[int]):  # noqa: ANN201
    """Passenger wait distributions of a few variants."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i in chosen:
        pax = runs[i].passengers
        boarded = pax[pax["board_s"].notna()]
        waits_min = (boarded["board_s"] - boarded["arrive_s"]).to_numpy() / 60.0
        if len(waits_min):
            ax.hist(waits_min, bins=40, histtype="step", lw=1.5, density=True,
                    label=f"{table.loc[i, 'variant']} (mean {waits_min.mean():.1f} min)")
    ax.set_xlabel("wait (min)")
    ax.set_ylabel("share of passengers per minute")
    ax.set_title("Passenger wait distributions")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def comparison_figure(table: pd.DataFrame):  # noqa: ANN201
    """Mean wait, headway CV and daily cost (driverless and crewed) of every variant."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.5))
    labels = table["variant"].tolist()
    x = range(len(labels))
    colours = ["tab:green" if m else "tab:grey" for m in table["meets_targets"]]
    axes[0].bar(x, table["mean_wait_s"] / 60.0, color=colours)
    axes[0].set_ylabel("mean wait (min)")
    axes[1].bar(x, table["headway_cv_ratio"], color="tab:purple")
    axes[1].set_ylabel("headway CV (bunching)")
    left = [i - 0.2 for i in x]
    right = [i + 0.2 for i in x]
    axes[2].bar(left, table["autonomous_cost_cny_per_day"] / 1000.0, width=0.4, label="driverless")
    axes[2].bar(right, table["crewed_cost_cny_per_day"] / 1000.0, width=0.4, label="crewed")
    axes[2].set_ylabel("operating cost (thousand CNY/day)")
    axes[2].legend(fontsize=8)
    for ax in axes:
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels, rotation=70, fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_title("green: meets targets")
    fig.tight_layout()
    return fig
def priority_figure(table: pd.DataFrame, off: int, on: int):  # noqa: ANN201
    """Delay with and without transit signal priority: the buses' and everyone else's."""
    plt = _plt()
    fig, (ax_bus, ax_traffic) = plt.subplots(1, 2, figsize=(11, 4.2))
    rows = table.loc[[off, on]]
    labels = ["no priority", "priority"]
    ax_bus.bar(labels, rows["mean_signal_delay_s"], color=["tab:grey", "tab:green"])
    ax_bus.set_ylabel("bus signal delay per trip (s)")
    ax_bus.set_title("Buses")
    kinds = [("traffic_main_road_delay_s_per_veh", "main road"),
             ("traffic_cross_street_delay_s_per_veh", "cross streets"),
             ("traffic_general_delay_s_per_veh", "all")]
    for k, (column, _) in enumerate(kinds):
        ax_traffic.bar([k - 0.2, k + 0.2], rows[column], width=0.4, color=["tab:grey", "tab:green"])
    ax_traffic.set_xticks(range(len(kinds)))
    ax_traffic.set_xticklabels([label for _, label in kinds])
    ax_traffic.set_ylabel("stop-line delay per vehicle (s)")
    ax_traffic.set_title("General traffic at the line's junctions (grey: no priority)")
    for ax in (ax_bus, ax_traffic):
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def figures_of(study: LineStudy, table: pd.DataFrame, runs: list[BusRun], best: int) -> dict[str, Any]:
    """The report's figures: the recommended run's trajectories and loads, waits, the variants,
    signal priority's two sides and the same plan without holding (when the grid has them)."""
    line_id = study.line_id
    best_run = runs[best]
    title = f"{line_id} {table.loc[best, 'variant']}"
    figures = {
        "time_space": time_space_figure(best_run, line_id, f"{title}: bus trajectories"),
        "load_profile": load_profile_figure(best_run, line_id, study.vehicle.capacity_pax, title),
        "wait_distribution": wait_figure(table, runs, _wait_variants(table, best)),
        "variants": comparison_figure(table),
    }
    pair = priority_pair(table, best)
    if pair is not None:
        figures["signal_priority"] = priority_figure(table, *pair)
    unheld = _unheld_twin(table, best)
    if unheld is not None:
        figures["time_space_no_holding"] = time_space_figure(
            runs[unheld], line_id, f"{line_id} {table.loc[unheld, 'variant']}: without holding")
    return figures


def _wait_variants(table: pd.DataFrame, best: int) -> list[int]:
    """The recommended variant and, for contrast, the best variant at each other headway."""
    chosen = [best]
    for headway, group in table.groupby("headway_s"):
        if headway == table.loc[best, "headway_s"]:
            continue
        chosen.append(int(group["mean_wait_s"].idxmin()))
    return chosen[:5]


def _unheld_twin(table: pd.DataFrame, best: int) -> int | None:
    """The same plan as ``best`` without holding, if the grid has it and ``best`` holds."""
    row = table.loc[best]
    if row["holding"] == "none":
        return None
    same = table[(table["headway_s"] == row["headway_s"]) & (table["fleet_veh"] == row["fleet_veh"])
                 & (table["priority"] == row["priority"]) & (table["holding"] == "none")]
    return int(same.index[0]) if len(same) else None



def answer_notes(
    config: AvBusRouteFile, row: pd.Series, kpis: dict[str, float], vehicle: VehicleType,
    table: pd.DataFrame,
) -> list[str]:
    """The planner's answer in words: fleet, headway, wait and cost, and what was assumed."""
    t = config.targets
    meets = "meets" if row["meets_targets"] else "does NOT meet (no variant did; shortest wait shown)"
    notes = [
        f"**Answer for {config.route.line_id}** ({vehicle.name}, {vehicle.capacity_pax} places, "
        f"{'driverless' if vehicle.autonomous else 'crewed'}): run every "
        f"{row['headway_s'] / 60:.1f} min with {int(row['fleet_veh'])} buses "
        f"(running cycle {row['cycle_time_s'] / 60:.1f} min → {int(row['fleet_needed_veh'])} needed in "
        f"this run, {int(row['calibrated_fleet_needed_veh'])} by the calibration run, "
        f"{int(row['planned_fleet_needed_veh'])} by a free-flow timetable), holding "
        f"{row['holding']}, signal priority {'on' if row['priority'] else 'off'}. "
        f"Passengers wait {row['mean_wait_s'] / 60:.1f} min on average "
        f"(p95 {row['p95_wait_s'] / 60:.1f} min) and ride {row['mean_in_vehicle_time_s'] / 60:.1f} min; "
        f"the busiest leg runs at {100 * row['peak_load_factor_ratio']:.0f}% of capacity. "
        f"Operating cost {row['autonomous_cost_cny_per_day']:,.0f} CNY/day driverless against "
        f"{row['crewed_cost_cny_per_day']:,.0f} CNY/day crewed "
        f"({kpis['driverless_saving_pct']:.0f}% saving). This plan {meets} the targets "
        f"(mean wait ≤ {t.max_mean_wait_s:.0f} s, peak load ≤ {100 * t.max_peak_load_factor:.0f}%, "
        f"left behind ≤ {t.max_left_behind_pct:g}%).",
        f"{len(table)} variants compared with the same passengers (common random numbers, seed "
        f"{config.scenario.seed}); {int(table['meets_targets'].sum())} meet the targets. Fleets are "
        "sized from calibration runs (an ample fleet at each headway, measuring the running cycle "
        "and the running times that become the timetable; calibration.csv). See variants.csv for "
        "every KPI of every variant.",
        "Costs are per service day of "
        f"{config.costs.service_hours_per_day:g} h at the simulated vehicle-km rate, and include "
        "energy, maintenance, depreciation and (driverless) remote supervision and AV system fees; "
        "all cost parameters are assumptions listed in docs/transit.md.",
    ]
    if "holding_headway_cv_change_pct" in kpis:
        notes.append(
            f"Holding changes the headway CV by {kpis['holding_headway_cv_change_pct']:+.0f}% at the "
            "recommended headway and fleet (negative: less bunching)."
        )
    if "tsp_bus_signal_delay_change_s" in kpis:
        notes.append(
            f"Transit signal priority at {kpis['connected_junctions_count']} connected junctions "
            f"(of {kpis['signalised_junctions_count']} signalised on the line), measured in the traffic "
            f"model with background traffic: bus signal delay per trip "
            f"{kpis['bus_signal_delay_no_tsp_s']:.0f} s → {kpis['bus_signal_delay_tsp_s']:.0f} s; "
            f"general traffic's stop-line delay changes by "
            f"{kpis['tsp_main_road_delay_change_s_per_veh']:+.1f} s/veh on the main road and "
            f"{kpis['tsp_cross_street_delay_change_s_per_veh']:+.1f} s/veh on the cross streets "
            f"({kpis['tsp_general_delay_change_s_per_veh']:+.1f} s/veh overall)."
        )
    if config.route.travel_times_file is None:
        notes.append("Link times are free flow (no traffic run given in [route] travel_times_file).")
    return notes


# --------------------------------------------------------------------------------------------
# The scenario
# --------------------------------------------------------------------------------------------


def answer(config: AvBusRouteFile, kpis: dict[str, float], result: RunResult) -> Answer:
    """The recommended plan named, its wait and the driverless saving (twin.transit.line_answer)."""
    return line_answer(config.route.line_id or "?", kpis, result.tables["variants"])


@scenario_kind("av_bus_route", AvBusRouteFile, "bus line: fleet × headway × holding × signal priority, cost",
               answer=answer)
def run(config: AvBusRouteFile, engine: Engine) -> RunResult:
    """Simulate every variant of the line and report the recommended operating plan."""
    study, city = line_study(config, engine)
    calibrations = calibrations_of(config, study, engine)
    v = config.variants
    variants = plan_grid(study, v.headways_s, v.priority, v.holding, calibrations, v.fleet_veh, v.fleet_margin_veh)
    runs, delays = simulate_variants(study, engine, variants)
    table = variant_table(config, variants, runs, delays)
    best = recommend(table)
    kpis = answer_kpis(study, table, best, runs[best])
    return RunResult(
        kpis={k: (float(v) if isinstance(v, np.floating) else v) for k, v in kpis.items()},
        tables=result_tables(study, city, table, best, runs[best], calibration_table(study, calibrations)),
        figures=figures_of(study, table, runs, best),
        notes=answer_notes(config, table.loc[best], kpis, study.vehicle, table),
        files={"gtfs.zip": gtfs_bytes(runs[best], engine)},
        headline=["recommended_headway_s", "recommended_fleet_veh", "mean_wait_s", "p95_wait_s",
                  "autonomous_cost_cny_per_day", "crewed_cost_cny_per_day"]
        + [k for k in ("tsp_bus_signal_delay_change_s", "tsp_cross_street_delay_change_s_per_veh")
           if k in kpis],
    )
