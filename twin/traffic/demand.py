"""Travel demand: a gravity-model OD matrix from the zones, a time-of-day profile, and routes.

* **Trip ends.** Zone *i* produces ``rate × residents_i`` vehicle trips a day and attracts in
  proportion to its jobs (home → work), and the reverse flow (work → home) is the transpose.
* **Distribution.** A doubly constrained gravity model with deterrence ``exp(−β t_ij)`` on
  free-flow zone-to-zone times, balanced by Furness iterations.
* **Time of day.** Each hour takes a share of the daily trips (the AM peak 07–09 is the
  peak) and splits it between home → work and work → home (mostly outbound in the morning).
* **Trips.** Poisson counts per OD pair and hour inside the simulated window, uniform
  departure times, from a link leaving the origin zone's node to a link entering the
  destination zone's node, on fastest free-flow routes.
* **Rerouting (optional).** The method of successive averages (MSA): after each run, a share
  1/(k+1) of the vehicles switch to the fastest route under the measured time-of-day link times;
  the relative gap ``(Σ experienced − Σ shortest) / Σ shortest`` is reported per iteration.

Defaults (documented in ``docs/traffic.md``) are assumptions for a Chinese county-level district
of about 0.75 million people: 0.5 vehicle trips per resident per day, about 10 % of them in the
07–08 hour.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, model_validator
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from twin.city.travel_times import free_flow_time_s
from twin.config import StrictModel
from twin.errors import InputError
from twin.traffic.network import TrafficNetwork
from twin.traffic.routing import LinkRouter
from twin.traffic.trips import Trips

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

    from twin.traffic.model import TrafficModel

log = logging.getLogger(__name__)

DEFAULT_HOURLY_SHARE = [
    0.004,
    0.002,
    0.002,
    0.002,
    0.005,
    0.015,
    0.045,
    0.100,  # 00–08: AM peak 07–08
    0.085,
    0.055,
    0.050,
    0.055,
    0.050,
    0.050,
    0.050,
    0.055,  # 08–16
    0.070,
    0.095,
    0.080,
    0.055,
    0.040,
    0.030,
    0.020,
    0.010,  # 16–24: PM peak 17–18
]
"""Share of daily vehicle trips starting in each hour (sums to 0.975 + rounding; normalised)."""

DEFAULT_OUTBOUND_SHARE = [
    0.5,
    0.5,
    0.5,
    0.5,
    0.7,
    0.8,
    0.85,
    0.85,
    0.8,
    0.6,
    0.5,
    0.45,
    0.45,
    0.5,
    0.5,
    0.45,
    0.3,
    0.2,
    0.2,
    0.3,
    0.4,
    0.4,
    0.4,
    0.4,
]
"""Share of each hour's trips going home → work (the rest work → home)."""


class DemandConfig(StrictModel):
    """The ``[demand]`` table: trip generation, distribution, time of day and rerouting."""

    vehicle_trips_per_resident_per_day: float = Field(
        default=0.5, ge=0, le=3, description="Daily car trips per resident (assumption; see docs)."
    )
    scale: float = Field(default=1.0, gt=0, le=10, description="Multiplier on all trips (what-if demand).")
    beta_per_min: float = Field(
        default=0.10, ge=0, le=2, description="Gravity deterrence exp(−β·t), t in min."
    )
    furness_iterations: int = Field(default=30, ge=1, le=500, description="Doubly-constrained balancing.")
    hourly_share: list[float] = Field(
        default=DEFAULT_HOURLY_SHARE,
        min_length=24,
        max_length=24,
        description="Share of daily trips per hour, 00–23 (normalised).",
    )
    outbound_share: list[float] = Field(
        default=DEFAULT_OUTBOUND_SHARE,
        min_length=24,
        max_length=24,
        description="Home → work share of each hour's trips.",
    )
    min_trip_time_s: float = Field(
        default=60.0, ge=0, description="OD pairs closer than this make no car trips."
    )
    msa_iterations: int = Field(
        default=0, ge=0, le=50, description="MSA rerouting iterations (0: free-flow routes)."
    )

    @model_validator(mode="after")
    def _check_shares(self) -> DemandConfig:
        if any(v < 0 for v in self.hourly_share) or sum(self.hourly_share) <= 0:
            raise ValueError("hourly_share must be non-negative with a positive sum")
        if any(not 0 <= v <= 1 for v in self.outbound_share):
            raise ValueError("outbound_share values must be in [0, 1]")
        return self


@dataclass
class OdMatrix:
    """Daily home → work vehicle trips between zones (``trips[i, j]``), with zone metadata."""

    zone_ids: list
    nodes: list
    trips: np.ndarray
    time_s: np.ndarray  # free-flow zone-to-zone time used for the deterrence


def zone_times_s(graph: nx.MultiDiGraph, nodes: list) -> np.ndarray:
    """Free-flow shortest times between zone nodes (s), on the graph's ``travel_time``."""
    index = {n: i for i, n in enumerate(graph.nodes)}
    rows, cols, costs = [], [], []
    for u, v, data in graph.edges(data=True):
        rows.append(index[u])
        cols.append(index[v])
        costs.append(free_flow_time_s(data) + 1e-6)
    matrix = csr_matrix((costs, (rows, cols)), shape=(len(index), len(index)))
    # Parallel edges: csr sums duplicates, so keep the minimum explicitly.
    pairs: dict[tuple[int, int], float] = {}
    for r, c, w in zip(rows, cols, costs, strict=True):
        pairs[(r, c)] = min(w, pairs.get((r, c), math.inf))
    keys = list(pairs)
    matrix = csr_matrix(
        ([pairs[k] for k in keys], ([k[0] for k in keys], [k[1] for k in keys])),
        shape=(len(index), len(index)),
    )
    sources = [index[n] for n in nodes]
    dist = dijkstra(matrix, indices=sources)
    return dist[:, sources]


def gravity_od(zones: pd.DataFrame, graph: nx.MultiDiGraph, config: DemandConfig) -> OdMatrix:
    """Daily home → work vehicle trips between zones by a doubly constrained gravity model.

    ``zones`` needs ``zone_id``, ``residents``, ``jobs`` and ``node`` (a road node).
    """
    for column in ("zone_id", "residents", "jobs", "node"):
        if column not in zones.columns:
            raise InputError(f"zones table has no column {column!r}")
    zones = zones[zones["node"].isin(list(graph.nodes))]
    nodes = list(zones["node"])
    times = zone_times_s(graph, nodes)
    productions = (
        zones["residents"].to_numpy(float) * config.vehicle_trips_per_resident_per_day * config.scale / 2
    )
    jobs = zones["jobs"].to_numpy(float)
    attractions = jobs / jobs.sum() * productions.sum() if jobs.sum() > 0 else productions.copy()
    deterrence = np.exp(-config.beta_per_min * times / 60.0)
    deterrence[~np.isfinite(times)] = 0.0
    deterrence[times < config.min_trip_time_s] = 0.0
    trips = furness(productions, attractions, deterrence, config.furness_iterations)
    return OdMatrix(list(zones["zone_id"]), nodes, trips, times)


def furness(
    productions: np.ndarray, attractions: np.ndarray, deterrence: np.ndarray, iterations: int
) -> np.ndarray:
    """Doubly constrained balancing: T_ij = a_i b_j P_i A_j f_ij with row and column sums P and A."""
    a = np.ones(len(productions))
    b = np.ones(len(attractions))
    for _ in range(iterations):
        a = 1.0 / np.maximum(deterrence @ (b * attractions), 1e-300)
        b = 1.0 / np.maximum(deterrence.T @ (a * productions), 1e-300)
    trips = (a * productions)[:, None] * (b * attractions)[None, :] * deterrence
    reachable = trips.sum(axis=1)
    # Zones that reach nobody produce nothing rather than an error.
    trips[reachable == 0] = 0.0
    return trips


def hourly_od(od: OdMatrix, config: DemandConfig, hour: int) -> np.ndarray:
    """Vehicle trips in hour ``hour`` (0–23): its share of the day, split by direction."""
    share = np.asarray(config.hourly_share, float)
    share = share / share.sum()
    outbound = config.outbound_share[hour % 24]
    daily_both_ways = od.trips  # home → work; work → home is its transpose
    return share[hour % 24] * 2.0 * (outbound * daily_both_ways + (1.0 - outbound) * daily_both_ways.T)


def sample_trips(
    od: OdMatrix,
    network: TrafficNetwork,
    config: DemandConfig,
    begin_s: float,
    end_s: float,
    rng: np.random.Generator,
    day_start_s: float = 0.0,
) -> Trips:
    """Poisson trips of the window [begin_s, end_s) (simulated seconds; ``day_start_s`` is
    midnight on that clock), routed on fastest free-flow paths."""
    out_link, in_link = zone_links(network, od.nodes)
    origins, destinations, departs, labels = [], [], [], []
    hour0 = int(math.floor((begin_s - day_start_s) / 3600.0))
    hour1 = int(math.ceil((end_s - day_start_s) / 3600.0))
    for hour in range(hour0, hour1):
        lo = max(begin_s, day_start_s + hour * 3600.0)
        hi = min(end_s, day_start_s + (hour + 1) * 3600.0)
        if hi <= lo:
            continue
        expected = hourly_od(od, config, hour) * (hi - lo) / 3600.0
        counts = rng.poisson(expected)
        i_idx, j_idx = np.nonzero(counts)
        for i, j in zip(i_idx, j_idx, strict=True):
            n = int(counts[i, j])
            if out_link[i] < 0 or in_link[j] < 0:
                continue
            origins += [out_link[i]] * n
            destinations += [in_link[j]] * n
            departs.append(rng.uniform(lo, hi, n))
            labels += [f"{od.zone_ids[i]}-{od.zone_ids[j]}"] * n
    if not origins:
        return Trips([], np.zeros(0), [])
    depart = np.concatenate(departs)
    routes = LinkRouter(network).routes(np.array(origins), np.array(destinations))
    keep = [k for k, r in enumerate(routes) if r is not None]
    if len(keep) < len(routes):
        log.warning("%d of %d trips have no route and were dropped", len(routes) - len(keep), len(routes))
    order = sorted(keep, key=lambda k: (depart[k], k))
    return Trips([f"{labels[k]}.{n}" for n, k in enumerate(order)], depart[order], [routes[k] for k in order])


def zone_links(network: TrafficNetwork, nodes: list) -> tuple[np.ndarray, np.ndarray]:
    """For each zone node: a link leaving it (trip start) and a link entering it (trip end).

    The widest link wins (then the first by id), so trips load onto the main road at the
    zone's connector node. -1 where the node has none.
    """
    out_link = np.full(len(nodes), -1, np.int64)
    in_link = np.full(len(nodes), -1, np.int64)
    by_from: dict = {}
    by_to: dict = {}
    for i, (u, v, _) in enumerate(network.link_keys):
        by_from.setdefault(u, []).append(i)
        by_to.setdefault(v, []).append(i)
    for z, node in enumerate(nodes):
        for table, target in ((by_from, out_link), (by_to, in_link)):
            links = table.get(node, [])
            if links:
                target[z] = max(links, key=lambda k: (network.link_lanes[k], -k))
    return out_link, in_link


# --------------------------------------------------------------------------------------------
# MSA rerouting
# --------------------------------------------------------------------------------------------


@dataclass
class MsaResult:
    """Routes after rerouting, and the relative gap of each iteration."""

    trips: Trips
    relative_gaps: list[float] = field(default_factory=list)
    switched: list[int] = field(default_factory=list)


def relative_gap(model: TrafficModel, trips: Trips) -> tuple[float, list[np.ndarray]]:
    """Relative gap of the run in ``model`` and each vehicle's fastest route under its times.

    Costs are the measured time-of-day link times (the bin of each vehicle's departure) plus
    the junction crossing times.
    """
    network = model.network
    tables = model.travel_times()
    bins = tables.bin_start_s
    column = np.clip(np.searchsorted(bins, trips.depart_s, side="right") - 1, 0, len(bins) - 1)
    experienced = 0.0
    shortest = 0.0
    best: list[np.ndarray] = [None] * len(trips)  # type: ignore[list-item]
    for c in np.unique(column):
        router = LinkRouter(network, tables.time_s[:, c])
        members = np.nonzero(column == c)[0]
        found = router.routes(
            np.array([trips.routes[k][0] for k in members]), np.array([trips.routes[k][-1] for k in members])
        )
        for k, route in zip(members, found, strict=True):
            best[k] = route if route is not None else trips.routes[k]
            experienced += router.route_time_s(trips.routes[k])
            shortest += router.route_time_s(best[k])
    gap = (experienced - shortest) / shortest if shortest > 0 else 0.0
    return gap, best


def msa_reroute(
    run: Callable[[Trips], TrafficModel], trips: Trips, iterations: int, rng: np.random.Generator
) -> MsaResult:
    """Method of successive averages: ``run(trips) -> TrafficModel`` is called each iteration.

    In iteration k (1-based) a random 1/(k+1) of the vehicles take their fastest route under
    the times of the previous run. The gap of the final routes is measured with one more run.
    """
    result = MsaResult(trips)
    current = trips
    for k in range(1, iterations + 1):
        model = run(current)
        gap, best = relative_gap(model, current)
        result.relative_gaps.append(gap)
        switch = rng.random(len(current)) < 1.0 / (k + 1)
        routes = [best[i] if switch[i] else current.routes[i] for i in range(len(current))]
        result.switched.append(
            int(sum(not np.array_equal(routes[i], current.routes[i]) for i in range(len(current))))
        )
        current = Trips(current.ids, current.depart_s, routes)
        log.info("MSA iteration %d: relative gap %.4f, %d vehicles switched", k, gap, result.switched[-1])
    if iterations:
        gap, _ = relative_gap(run(current), current)
        result.relative_gaps.append(gap)
    result.trips = current
    return result
