"""Robotaxis (自动驾驶网约车): how many, and how many chargers, to serve a share of requests in time.

Inputs: the areas the fleet serves and the daily requests between them (``[[flows]]``), the fleet
(``[fleet]``: vehicle types and counts, where they start), the charging stations
(``[[stations]]``: a named place, plugs, kW per plug), the charging rules and the service target
(``[target]``: a share of requests picked up within a wait). Link times come from a traffic run's
time-of-day table (``[roads] travel_times_file``) or, if none is given, free flow (stated in the
report). The model is :func:`twin.robotaxi.fleet.simulate` over the dispatch kernel; the sizing
is :func:`twin.robotaxi.sizing.smallest_fleet` over ``[sizing] fleet_sizes``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from scenarios.registry import scenario_kind
from scenarios.validation import CheckContext, SizeEstimate
from twin.city.folder import load_city
from twin.city.places import resolve_area, resolve_point
from twin.city.travel_times import FreeFlowTravelTimes, read_link_times
from twin.config import ScenarioFile, StrictModel
from twin.engine import Engine
from twin.errors import InputError
from twin.kpis import LANGS, kpi_info
from twin.plot_style import in_both_languages
from twin.results import Answer, RunResult
from twin.robotaxi.fleet import (
    VEHICLE_TYPES,
    ChargingRules,
    Fleet,
    Station,
    VehicleType,
    make_fleet,
    simulate,
    station_load_kw,
)
from twin.robotaxi.forecast import hourly_zone_rates, split_zones, zone_rebalancing
from twin.robotaxi.legs import vehicle_legs
from twin.robotaxi.policies import make_policy
from twin.robotaxi.requests import Flow, Requests, draw_requests, read_table
from twin.robotaxi.service_area import connected_core, pickup_points
from twin.robotaxi.sizing import (
    ServiceTarget,
    TaxiCosts,
    cost_per_trip_cny,
    fewest_plugs,
    share_within,
    smallest_fleet,
)
from twin.robotaxi.tables import place_tables
from twin.robotaxi.trip_file import read_trip_file

BYTES_PER_PLACE_PAIR_BIN = 16.0  # a time and a length per pair of pickup points and time bin
SECONDS_PER_REQUEST_VEHICLE = 2e-9  # the kernel's inner loop, measured on the bundled run
MAX_PLACES = 3000


class FlowConfig(StrictModel):
    """Daily requests from one area to another (both names the city resolves)."""

    origin: str = Field(description="Area of the pickups (e.g. 滨海新城).")
    destination: str = Field(description="Area of the drop-offs (e.g. 福州长乐国际机场).")
    requests_per_day: float = Field(gt=0, le=5e6, description="Requests a day, spread by the hourly profile.")


class DemandConfig(StrictModel):
    """How requests are drawn and how long riders wait."""

    pickup_points_per_area: int = Field(default=60, ge=1, le=1000, description="Road nodes used as pickup points.")
    max_wait_s: float = Field(default=900.0, gt=0, le=7200, description="Longest wait a rider accepts (s).")


class FleetConfig(StrictModel):
    """Vehicles by type, where they start (an area) and their state of charge at the start."""

    vehicles: dict[str, int] = Field(default={"robotaxi_sedan": 100}, description="Count per vehicle type.")
    start_area: str = Field(description="Area where the vehicles are parked at the start.")
    initial_soc: float = Field(default=0.9, gt=0, le=1, description="State of charge at the start (fraction).")
    air_temp_c: float = Field(default=25.0, ge=-40, le=50, description="Air temperature (°C), for consumption.")


class StationConfig(StrictModel):
    """A charging station at a named place (or road-node id)."""

    place: str | int = Field(description="A named place, junction, lon,lat or road-node id.")
    plugs: int = Field(ge=1, le=500, description="Plugs (one vehicle each).")
    power_kw: float = Field(gt=0, le=1000, description="Power per plug (kW).")


class ChargingConfig(StrictModel):
    charge_below: float = Field(default=0.25, gt=0, lt=1, description="Charge after a drop-off below this SoC.")
    charge_to: float = Field(default=0.9, gt=0, lt=1, description="Charge up to this SoC.")
    taper_from: float = Field(default=0.8, gt=0, lt=1, description="Power tapers linearly to 0 at 100 % above this.")


class TargetConfig(StrictModel):
    share: float = Field(default=0.95, gt=0, le=1, description="Share of requests picked up within the wait.")
    wait_s: float = Field(default=600.0, gt=0, le=7200, description="The wait of the target (s).")


class SizingConfig(StrictModel):
    fleet_sizes: list[int] = Field(default=[25, 50, 100, 150, 200], min_length=1,
                                   description="Fleet sizes of the curve (the bisection adds more).")
    chargers: bool = Field(default=False, description=(
        "Also find the least plugs per station that keep the target with the configured fleet "
        "(greedy plug removal)."))


class RequestsConfig(StrictModel):
    """A trip file of requests, instead of (or besides) the ``[[flows]]``."""

    file: str | None = Field(default=None, description=(
        "Parquet/CSV: origin_node, destination_node (or origin_lon, origin_lat, destination_lon, "
        "destination_lat in degrees), request_time_s (s from the start), optional party_size, max_wait_s."))
    max_snap_m: float = Field(default=250.0, gt=0, le=5000, description=(
        "A lon/lat point farther than this from the connected road network is outside it (m)."))


class VehicleTypeConfig(StrictModel):
    """A vehicle type of the scenario's own (or new figures for a built-in one)."""

    battery_kwh: float = Field(gt=0, le=500, description="Usable battery (kWh).")
    kwh_per_km: float = Field(gt=0, le=2, description="Consumption at 18-26 °C (kWh/km).")
    seats: int = Field(ge=1, le=8, description="Rider seats.")


class DispatchConfig(StrictModel):
    """Which dispatch policy serves the requests (twin.robotaxi.policies)."""

    policy: Literal["nearest", "batch"] = Field(default="nearest", description=(
        "nearest: each request at once to the vehicle that reaches the rider first; batch: every batch_s, "
        "waiting requests to idle vehicles by least total pickup time (an assignment solver)."))
    batch_s: float = Field(default=30.0, gt=0, le=600, description="Batch interval of the batch policy (s).")
    rebalance_s: float = Field(default=0.0, ge=0, le=7200, description=(
        "Batch policy: every this many s, idle vehicles move toward the area of largest forecast deficit "
        "(0: no rebalancing)."))
    lookahead_s: float = Field(default=1800.0, gt=0, le=7200, description="Forecast horizon of rebalancing (s).")
    zone_cell_m: float = Field(default=0.0, ge=0, le=50000, description=(
        "Rebalancing zones: each area cut into square cells of this size (m); 0: whole areas."))
    pooling: bool = Field(default=False, description=(
        "Batch policy: a waiting rider may join a vehicle on its way to one rider (insertion)."))
    max_detour_s: float = Field(default=300.0, ge=0, le=3600, description=(
        "Pooling: the most a shared ride may add to either rider's ride time (s)."))


class RoadsConfig(StrictModel):
    travel_times_file: str | None = Field(default=None, description="A traffic run's link times; none: free flow.")


class RobotaxiFile(ScenarioFile):
    """A ``robotaxi_fleet`` scenario file."""

    flows: list[FlowConfig] = Field(default=[], description="Area-to-area demand (or a [requests] file).")
    demand: DemandConfig = DemandConfig()
    requests: RequestsConfig = RequestsConfig()
    vehicle_types: dict[str, VehicleTypeConfig] = Field(default={}, description="Types besides the built-in ones.")
    fleet: FleetConfig
    stations: list[StationConfig] = Field(min_length=1)
    charging: ChargingConfig = ChargingConfig()
    target: TargetConfig = TargetConfig()
    sizing: SizingConfig = SizingConfig()
    dispatch: DispatchConfig = DispatchConfig()
    roads: RoadsConfig = RoadsConfig()
    costs: TaxiCosts = TaxiCosts()


def check(config: RobotaxiFile, ctx: CheckContext) -> None:
    """Areas and station places resolve in the city; vehicle types exist; charging rules agree;
    the trip file's requests are on the road network and within the horizon."""
    if not config.flows and config.requests.file is None:
        raise ctx.fail("[[flows]]", [], "at least one flow, or a [requests] file")
    for i, flow in enumerate(config.flows):
        resolve_area(ctx.city, flow.origin, f"[[flows]] {i} origin", ctx.source)
        resolve_area(ctx.city, flow.destination, f"[[flows]] {i} destination", ctx.source)
    resolve_area(ctx.city, config.fleet.start_area, "[fleet] start_area", ctx.source)
    for i, station in enumerate(config.stations):
        resolve_point(ctx.city, station.place, f"[[stations]] {i} place", ctx.source)
    for name, count in config.fleet.vehicles.items():
        if name not in _vehicle_types(config):
            raise ctx.fail("[fleet] vehicles", name, f"a vehicle type, one of {sorted(_vehicle_types(config))}")
        if count < 0:
            raise ctx.fail(f"[fleet] vehicles.{name}", count, "a count of 0 or more")
    if sum(config.fleet.vehicles.values()) < 1:
        raise ctx.fail("[fleet] vehicles", config.fleet.vehicles, "at least one vehicle")
    if config.dispatch.rebalance_s > 0 and config.dispatch.policy != "batch":
        raise ctx.fail("[dispatch] rebalance_s", config.dispatch.rebalance_s, 'rebalancing needs policy = "batch"')
    if config.dispatch.rebalance_s > 0 and not config.flows:
        raise ctx.fail("[dispatch] rebalance_s", config.dispatch.rebalance_s,
                       "rebalancing needs [[flows]] (their origin areas are the zones and their rates the forecast)")
    if config.dispatch.pooling and config.dispatch.policy != "batch":
        raise ctx.fail("[dispatch] pooling", config.dispatch.pooling, 'pooling needs policy = "batch"')
    if config.charging.charge_to <= config.charging.charge_below:
        raise ctx.fail("[charging] charge_to", config.charging.charge_to, "above charge_below")
    if any(n < 1 for n in config.sizing.fleet_sizes):
        raise ctx.fail("[sizing] fleet_sizes", config.sizing.fleet_sizes, "sizes of 1 vehicle or more")
    if config.roads.travel_times_file is not None:
        ctx.file("[roads] travel_times_file", config.roads.travel_times_file)
    if config.requests.file is not None:
        _file_requests(config, ctx.city.roads, connected_core(ctx.city.roads),
                       ctx.file("[requests] file", config.requests.file))


def _vehicle_types(config: RobotaxiFile) -> dict[str, VehicleType]:
    """The built-in vehicle types with the scenario's ``[vehicle_types]`` added or replacing them."""
    own = {k: VehicleType(v.battery_kwh, v.kwh_per_km, v.seats) for k, v in config.vehicle_types.items()}
    return {**VEHICLE_TYPES, **own}


def _file_requests(config: RobotaxiFile, graph: Any, core: set[int], path: Path) -> Requests:
    """The ``[requests] file`` requests on the connected road network, at most MAX_PLACES nodes."""
    requests = read_trip_file(path, graph, core, config.scenario.duration_s, config.requests.max_snap_m,
                              config.demand.max_wait_s, "[requests] file")
    distinct = len(np.union1d(requests.origin_node, requests.destination_node))
    if distinct > MAX_PLACES:
        raise InputError(f"[requests] file ({path.name}): {distinct} distinct pickup and drop-off nodes, "
                         f"expected at most {MAX_PLACES} (the run tabulates times between them)")
    return requests


def _n_bins(config: RobotaxiFile) -> int:
    hours = int(np.ceil(config.scenario.duration_s / 3600.0))
    return 1 if config.roads.travel_times_file is None else hours


def estimate(config: RobotaxiFile) -> SizeEstimate:
    """Tables (pickup points² × bins) as memory; requests × vehicles × runs as time."""
    areas = {f.origin for f in config.flows} | {f.destination for f in config.flows}
    places = len(areas) * config.demand.pickup_points_per_area + len(config.stations) + 1
    days = config.scenario.duration_s / 86400.0
    requests = sum(f.requests_per_day for f in config.flows) * days
    if config.requests.file is not None:  # at most MAX_PLACES nodes (checked); rows from the file
        places += MAX_PLACES
        path = Path(config.requests.file)
        requests += len(read_table(path, "[requests] file")) if path.is_file() else 0.0
    runs = 1 + len(config.sizing.fleet_sizes) + 8
    vehicles = max([sum(config.fleet.vehicles.values()), *config.sizing.fleet_sizes])
    return SizeEstimate(min(places, MAX_PLACES) ** 2 * _n_bins(config) * BYTES_PER_PLACE_PAIR_BIN,
                        requests * vehicles * runs * SECONDS_PER_REQUEST_VEHICLE,
                        "[[flows]] requests_per_day, [sizing] fleet_sizes")


TEXT = {
    "question": {"zh": "自动驾驶网约车：要多少辆车，才能让{share:.0%}的乘客在{wait:.0f}分钟内上车？",
                 "en": "Robotaxis: how many vehicles serve {share:.0%} of riders within {wait:.0f} min?"},
    "answer": {"zh": "{verdict}：{fleet}辆车时{within}的请求在{wait:.0f}分钟内接到（目标{share:.0%}），"
                     "95%分位候车{p95}。"
                     "满足目标的最小车队为{smallest}；每单成本无人驾驶{robo}，有人驾驶{crewed}。{caveat}",
               "en": "{verdict}: with {fleet} vehicles {within} of requests are picked up within {wait:.0f} min "
                     "(target {share:.0%}), 95th percentile wait {p95}. The smallest fleet meeting the target is "
                     "{smallest}; cost per trip {robo} driverless against {crewed} crewed. {caveat}"},
    "yes": {"zh": "达标", "en": "Meets the target"},
    "no": {"zh": "未达标", "en": "Misses the target"},
    "none": {"zh": "所试规模中没有", "en": "none of the sizes tried"},
    "veh": {"zh": "{n:.0f}辆", "en": "{n:.0f} vehicles"},
    "free_flow": {"zh": "（路段时间按自由流计，未计拥堵。）", "en": "(Link times at free flow: no congestion.)"},
    "tod": {"zh": "（路段时间取自交通模型分时结果。）", "en": "(Link times by time of day from the traffic model.)"},
    "curve_title": {"zh": "车队规模与服务水平", "en": "Fleet size against service"},
    "fleet_axis": {"zh": "车队规模 (辆)", "en": "fleet (vehicles)"},
    "share_axis": {"zh": "目标时间内接到的比例 (%)", "en": "picked up within the wait (%)"},
    "load_title": {"zh": "充电站负荷", "en": "Charging load by station"},
    "hours": {"zh": "开始后小时数", "en": "hours since start"},
    "kw": {"zh": "功率 (kW)", "en": "power (kW)"},
    "target": {"zh": "目标", "en": "target"},
    "plugs": {"zh": "在配置车队下，保持目标的最少充电桩为{least:.1f}个（现配置{configured:.0f}个）。",
              "en": " With the configured fleet, the fewest plugs that keep the target are {least:.1f} "
                    "(of {configured:.0f} configured)."},
}


def road_times(config: RobotaxiFile, graph: Any) -> tuple[Any, np.ndarray]:
    """The link times a run uses (``[roads] travel_times_file`` or free flow) and their bins (s)."""
    file = config.roads.travel_times_file
    times = FreeFlowTravelTimes(graph) if file is None else read_link_times(
        Path(file), graph, f"[roads] travel_times_file = {file!r}")
    return times, np.arange(_n_bins(config)) * 3600.0


class Study:
    """Everything a run needs from the city: pickup points, tables, stations, demand flows."""

    def __init__(self, config: RobotaxiFile, engine: Engine) -> None:

        city = load_city()
        graph = city.roads
        core = connected_core(graph)
        rng = engine.rng("robotaxi.places")
        n = config.demand.pickup_points_per_area
        points: dict[str, np.ndarray] = {}
        for name in sorted({f.origin for f in config.flows} | {f.destination for f in config.flows}
                           | {config.fleet.start_area}):
            area = resolve_area(city, name, f"area {name!r}")
            points[name] = pickup_points(graph, core, area.geometry, n, rng, f"area {name!r}")
        self.stations = []
        for i, s in enumerate(config.stations):
            place = resolve_point(city, s.place, f"[[stations]] {i} place")
            if place.node not in core:
                raise InputError(f"[[stations]] {i} place = {s.place!r}: its road node {place.node} is not on "
                                 "the connected road network")
            self.stations.append(Station(place.name, int(place.node), s.plugs, s.power_kw))
        self.points, self.graph = points, graph
        self.flows = [Flow(points[f.origin], points[f.destination], f.requests_per_day) for f in config.flows]
        self.file_requests = None if config.requests.file is None else _file_requests(
            config, graph, core, Path(config.requests.file))
        times, bins = road_times(config, graph)
        self.free_flow = config.roads.travel_times_file is None
        nodes = np.concatenate([*points.values(), [s.node for s in self.stations]]).astype(np.int64)
        if self.file_requests is not None:
            nodes = np.concatenate([nodes, self.file_requests.origin_node, self.file_requests.destination_node])
        self.tables = place_tables(graph, times, nodes, bins)
        self.rebalancing = None
        if config.dispatch.rebalance_s > 0 and config.flows:  # zones: the areas the flows leave from
            zones = sorted({f.origin for f in config.flows})
            start = config.scenario.start
            rate = hourly_zone_rates([zones.index(f.origin) for f in config.flows],
                                     [f.requests_per_day for f in config.flows], len(zones),
                                     start.hour + start.minute / 60.0, config.scenario.duration_s)
            zone_nodes = [points[z] for z in zones]
            if config.dispatch.zone_cell_m > 0:
                zone_nodes, rate = split_zones(graph, zone_nodes, rate, config.dispatch.zone_cell_m)
            self.rebalancing = zone_rebalancing(self.tables, zone_nodes, rate, config.dispatch.rebalance_s,
                                                config.dispatch.lookahead_s)


def _merged(a: Requests, b: Requests) -> Requests:
    """Both sets of requests, sorted by request time."""
    return Requests(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in Requests.__dataclass_fields__)).sorted()


def _run_fleet(config: RobotaxiFile, study: Study, requests: Any, n_veh: int | None, engine: Engine,
               plugs: list[int] | None = None):

    counts = dict(config.fleet.vehicles)
    if n_veh is not None:  # the sizing scales the configured mix to n_veh vehicles
        total = sum(counts.values())
        names = list(counts)
        shares = np.array([counts[k] for k in names], float) / total
        scaled = np.floor(shares * n_veh).astype(int)
        scaled[int(np.argmax(shares))] += n_veh - scaled.sum()
        counts = dict(zip(names, scaled.tolist(), strict=True))
    fleet: Fleet = make_fleet(counts, study.points[config.fleet.start_area], config.fleet.air_temp_c,
                              config.fleet.initial_soc, np.random.default_rng(engine.seed_sequence("robotaxi.fleet")),
                              _vehicle_types(config))
    rules = ChargingRules(config.charging.charge_below, config.charging.charge_to, config.charging.taper_from)
    policy = make_policy(config.dispatch.policy, config.dispatch.batch_s, study.rebalancing, config.dispatch.pooling,
                         config.dispatch.max_detour_s)
    # A station the charger sizing closes (no plug left) is left out of the run.
    stations = study.stations if plugs is None else [
        replace(s, plugs=p) for s, p in zip(study.stations, plugs, strict=True) if p > 0]
    return simulate(study.tables, requests, fleet, stations, rules, config.scenario.duration_s, policy), rules


def _kpis(config: RobotaxiFile, run: Any, load: Any, smallest: int | None) -> dict[str, float]:
    """The run's KPIs (names end in their unit)."""

    trips, sessions = run.trips, run.sessions
    served = trips[trips["vehicle"] >= 0]
    moved_km = float(run.moves["km"].sum()) if len(run.moves) else 0.0
    km = served["pickup_km"].sum() + served["trip_km"].sum() + moved_km
    empty_km = served["pickup_km"].sum() + moved_km
    costs = cost_per_trip_cny(run, config.costs, config.scenario.duration_s / 3600.0)
    extra = {}
    if config.dispatch.rebalance_s > 0:  # only then: a run without it keeps its KPI set
        extra = {"robotaxi_rebalancing_distance_m": 1000.0 * moved_km,
                 "robotaxi_rebalancing_moves_count": float(len(run.moves))}
    if config.dispatch.pooling:
        extra["robotaxi_pooled_pct"] = 100.0 * float((served["pooled_with"] >= 0).mean()) if len(served) else 0.0
    return extra | {
        "robotaxi_requests_count": float(len(trips)),
        "robotaxi_served_pct": 100.0 * len(served) / max(len(trips), 1),
        "robotaxi_within_target_pct": 100.0 * share_within(run, config.target.wait_s),
        "robotaxi_mean_wait_s": float(served["wait_s"].mean()) if len(served) else 0.0,
        "robotaxi_p95_wait_s": float(served["wait_s"].quantile(0.95)) if len(served) else 0.0,
        "robotaxi_mean_trip_time_s": float(served["trip_time_s"].mean()) if len(served) else 0.0,
        "robotaxi_empty_km_pct": 100.0 * float(empty_km / km) if km > 0 else 0.0,
        "robotaxi_fleet_veh": float(len(run.fleet)),
        "robotaxi_smallest_fleet_veh": float(smallest) if smallest is not None else float("nan"),
        "robotaxi_charged_mwh": float(sessions["charged_kwh"].sum()) / 1000.0,
        "robotaxi_charging_sessions_count": float(len(sessions)),
        "robotaxi_mean_charger_queue_s": float(sessions["queue_s"].mean()) if len(sessions) else 0.0,
        "robotaxi_max_charger_queue_s": float(sessions["queue_s"].max()) if len(sessions) else 0.0,
        "robotaxi_peak_station_load_mw": float(load["power_kw"].max()) / 1000.0 if len(load) else 0.0,
        "robotaxi_trip_cost_cny": costs["robotaxi_cost_per_trip_cny"],
        "crewed_taxi_trip_cost_cny": costs["crewed_cost_per_trip_cny"],
    }


def _layers(study: Study, run: Any) -> dict[str, Any]:
    """Unserved requests by pickup point, and each station's queue and load, as map layers."""
    import geopandas as gpd  # deferred: heavy

    unserved = run.trips[run.trips["vehicle"] < 0].groupby("origin_node").size()
    nodes = study.graph.nodes
    demand = run.trips.groupby("origin_node").size()
    points = gpd.GeoDataFrame(
        {"node": demand.index.to_numpy(), "requests": demand.to_numpy(),
         "unserved": unserved.reindex(demand.index, fill_value=0).to_numpy()},
        geometry=gpd.points_from_xy([nodes[n]["x"] for n in demand.index], [nodes[n]["y"] for n in demand.index]),
        crs="EPSG:4490")
    points["unserved_pct"] = 100.0 * points["unserved"] / points["requests"]
    sessions = run.sessions
    rows = []
    for c, station in enumerate(study.stations):
        mine = sessions[sessions["station"] == c]
        rows.append({"station": station.name, "node": station.node, "plugs": station.plugs,
                     "power_kw": station.power_kw, "sessions": len(mine),
                     "mean_queue_s": float(mine["queue_s"].mean()) if len(mine) else 0.0,
                     "max_queue_s": float(mine["queue_s"].max()) if len(mine) else 0.0})
    stations = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(
        [nodes[s.node]["x"] for s in study.stations], [nodes[s.node]["y"] for s in study.stations]), crs="EPSG:4490")
    return {"unserved_demand": points, "charger_queues": stations}


def _figure(curve: dict[int, float], load: Any, config: RobotaxiFile, lang: str) -> Any:
    """The fleet-size against service curve, and each station's load over the run."""
    import matplotlib  # deferred: heavy, and only the figure needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred, after choosing the backend

    fig, (ax_curve, ax_load) = plt.subplots(1, 2, figsize=(11, 4))
    sizes = sorted(curve)
    ax_curve.plot(sizes, [100.0 * curve[n] for n in sizes], marker="o")
    ax_curve.axhline(100.0 * config.target.share, color="tab:red", ls="--", label=TEXT["target"][lang])
    ax_curve.set_xlabel(TEXT["fleet_axis"][lang])
    ax_curve.set_ylabel(TEXT["share_axis"][lang])
    ax_curve.set_title(TEXT["curve_title"][lang])
    ax_curve.legend()
    for station, rows in load.groupby("station"):
        ax_load.plot(rows["bin_start_s"].astype(float) / 3600.0, rows["power_kw"], label=str(station))
    ax_load.set_xlabel(TEXT["hours"][lang])
    ax_load.set_ylabel(TEXT["kw"][lang])
    ax_load.set_title(TEXT["load_title"][lang])
    ax_load.legend(fontsize=7)
    fig.tight_layout()
    return fig


def answer(config: RobotaxiFile, kpis: dict[str, float], result: RunResult) -> Answer:
    """Whether the fleet meets the target, the smallest that does, and the cost per trip."""
    target = config.target
    fleet = kpis["robotaxi_fleet_veh"]
    smallest = kpis.get("robotaxi_smallest_fleet_veh")
    smallest = float("nan") if smallest is None else float(smallest)
    free_flow = config.roads.travel_times_file is None
    text = {}
    for lang in LANGS:
        meets = kpis["robotaxi_within_target_pct"] >= 100.0 * target.share
        values = {
            "verdict": TEXT["yes" if meets else "no"][lang], "fleet": f"{fleet:.0f}",
            "within": kpi_info("robotaxi_within_target_pct").format(kpis["robotaxi_within_target_pct"], lang),
            "wait": target.wait_s / 60.0, "share": target.share,
            "p95": kpi_info("robotaxi_p95_wait_s").format(kpis["robotaxi_p95_wait_s"], lang),
            "smallest": TEXT["none"][lang] if not np.isfinite(smallest) else TEXT["veh"][lang].format(n=smallest),
            "robo": kpi_info("robotaxi_trip_cost_cny").format(kpis["robotaxi_trip_cost_cny"], lang),
            "crewed": kpi_info("crewed_taxi_trip_cost_cny").format(kpis["crewed_taxi_trip_cost_cny"], lang),
            "caveat": TEXT["free_flow" if free_flow else "tod"][lang],
        }
        text[lang] = TEXT["answer"][lang].format(**values)
        least = kpis.get("robotaxi_least_plugs_count")
        if least is not None and np.isfinite(least):
            text[lang] += TEXT["plugs"][lang].format(least=least, configured=kpis["robotaxi_configured_plugs_count"])
    question = {lang: TEXT["question"][lang].format(share=target.share, wait=target.wait_s / 60.0) for lang in LANGS}
    recommendation = ({"zh": f"{smallest:.0f}辆", "en": f"{smallest:.0f} vehicles"} if np.isfinite(smallest) else {})
    return Answer(text=text, question=question, recommendation=recommendation)


@scenario_kind("robotaxi_fleet", RobotaxiFile, "Robotaxi fleet with charging: service, sizing, cost per trip",
               check=check, estimate=estimate, answer=answer, replications=3)
def run(config: RobotaxiFile, engine: Engine) -> RunResult:
    """Serve the day's requests with the configured fleet, then size the fleet for the target."""
    import pandas as pd  # deferred: heavy, and the registry imports every kind module


    study = Study(config, engine)
    start = config.scenario.start
    requests = draw_requests(engine.rng("robotaxi.requests"), study.flows, start.hour + start.minute / 60.0,
                             config.scenario.duration_s, config.demand.max_wait_s)
    if study.file_requests is not None:  # the trip file's requests, with any drawn from the flows
        requests = _merged(study.file_requests, requests)
    fleet_run, rules = _run_fleet(config, study, requests, None, engine)
    target = ServiceTarget(config.target.share, config.target.wait_s)
    sizing = smallest_fleet(lambda n: _run_fleet(config, study, requests, n, engine)[0], target,
                            config.sizing.fleet_sizes)
    load = station_load_kw(fleet_run, rules)
    kpis = _kpis(config, fleet_run, load, sizing.smallest)
    tables = {"trips": fleet_run.trips, "charging_sessions": fleet_run.sessions, "station_load": load,
              "vehicle_legs": vehicle_legs(fleet_run)}
    if len(fleet_run.moves):
        tables["rebalancing_moves"] = fleet_run.moves
    if config.sizing.chargers:
        plugs = fewest_plugs(lambda p: _run_fleet(config, study, requests, None, engine, p)[0], target,
                             [s.plugs for s in study.stations])
        kpis["robotaxi_least_plugs_count"] = float(sum(plugs.plugs)) if plugs.plugs is not None else float("nan")
        kpis["robotaxi_configured_plugs_count"] = float(sum(s.plugs for s in study.stations))
        tables["charger_sizing"] = pd.DataFrame({
            "station": [s.name for s in study.stations], "plugs": [s.plugs for s in study.stations],
            "least_plugs": plugs.plugs if plugs.plugs is not None else [np.nan] * len(study.stations),
            "power_kw": [s.power_kw for s in study.stations]})
    curve = pd.DataFrame({"fleet_veh": list(sizing.curve),
                          "within_target_pct": [100 * v for v in sizing.curve.values()]})
    notes = [
        f"{len(requests):,} requests, {len(fleet_run.fleet)} vehicles, {len(study.stations)} stations; "
        f"{kpis['robotaxi_within_target_pct']:.1f}% picked up within {config.target.wait_s / 60:.0f} min.",
        "Link times: free flow (no traffic-model table given)." if study.free_flow
        else "Link times: the traffic model's time-of-day table.",
        ("Dispatch: each request goes to the vehicle that can reach the rider first" if config.dispatch.policy
         == "nearest" else f"Dispatch: every {config.dispatch.batch_s:g} s, waiting requests are matched to idle "
         "vehicles by least total pickup time") + ("; idle vehicles wait where they dropped off" if study.rebalancing
         is None else f"; every {config.dispatch.rebalance_s:g} s idle vehicles move toward the area of largest "
         "forecast deficit") + (f"; pooling by insertion (detour up to {config.dispatch.max_detour_s:g} s)."
                                if config.dispatch.pooling else "; no pooling."),
    ]
    if config.sizing.chargers:
        configured = [s.plugs for s in study.stations]
        notes.append(f"Chargers: greedy plug removal with the configured fleet; least plugs per station {plugs.plugs} "
                     f"against {configured} configured." if plugs.plugs is not None else
                     f"Chargers: the configured plugs {configured} already miss the target; no plug sizing.")
    return RunResult(
        kpis=kpis,
        tables=tables | {"fleet_curve": curve},
        figures=in_both_languages("fleet_and_chargers", lambda lang: _figure(sizing.curve, load, config, lang)),
        notes=notes,
        headline=["robotaxi_within_target_pct", "robotaxi_smallest_fleet_veh", "robotaxi_trip_cost_cny"],
        layers=_layers(study, fleet_run),
    )
