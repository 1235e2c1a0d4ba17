"""Passenger demand: who arrives at which stop, for which stop, and when.

A :class:`PassengerDemand` is a list of passengers (origin stop, destination stop, arrival
time), drawn as Poisson flows from a stop-to-stop OD matrix with a time-of-day profile
(:func:`poisson_demand`), or laid out evenly for hand-checkable cases (:func:`uniform_demand`).

The OD matrix of a line comes from the zones along it (:func:`line_od_from_zone_layer`, a
gravity form over the zones' residents and jobs, :func:`line_od_from_zones`), or is spread evenly
over the stop pairs it serves (:func:`even_line_od`). :func:`zone_od_to_stop_od` maps a zone OD
matrix onto stops, and :func:`gravity_zone_od` is the singly constrained gravity model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from twin.crs import METRIC_CRS, to_metric
from twin.errors import InputError
from twin.transit.lines import TransitNetwork, served_pairs

if TYPE_CHECKING:
    import geopandas as gpd

ODMatrix = dict[tuple[str, str], float]
"""Passengers per hour by (origin stop, destination stop)."""


@dataclass(frozen=True)
class PassengerDemand:
    """Passengers in arrival order: origin stop, destination stop and arrival time (s)."""

    origin: np.ndarray  # str stop ids
    destination: np.ndarray  # str stop ids
    arrive_s: np.ndarray

    def __post_init__(self) -> None:
        if not (len(self.origin) == len(self.destination) == len(self.arrive_s)):
            raise ValueError("origin, destination and arrive_s must have one entry per passenger")
        if len(self.arrive_s) > 1 and np.any(np.diff(self.arrive_s) < 0):
            raise ValueError("passengers must be in arrival order")

    def __len__(self) -> int:
        return len(self.arrive_s)

    @classmethod
    def empty(cls) -> PassengerDemand:
        return cls(np.array([], dtype=object), np.array([], dtype=object), np.array([], dtype=float))

    @classmethod
    def concat(cls, parts: Sequence[PassengerDemand]) -> PassengerDemand:
        """Merge several demands into arrival order (stable for equal times)."""
        if not parts:
            return cls.empty()
        arrive = np.concatenate([p.arrive_s for p in parts])
        order = np.argsort(arrive, kind="stable")
        return cls(
            np.concatenate([p.origin for p in parts])[order],
            np.concatenate([p.destination for p in parts])[order],
            arrive[order],
        )


def poisson_demand(
    od_pax_per_h: Mapping[tuple[str, str], float],
    duration_s: float,
    rng: np.random.Generator,
    profile: Sequence[float] = (1.0,),
    profile_bin_s: float = 3600.0,
) -> PassengerDemand:
    """Poisson passenger arrivals for every OD pair, with a piecewise-constant time profile.

    Parameters
    ----------
    od_pax_per_h
        Mean passengers per hour from origin stop to destination stop (at profile factor 1).
    duration_s
        Length of the arrival period (s).
    rng
        The random stream (the run's ``"transit_demand"`` stream).
    profile
        Rate factor for each consecutive bin of ``profile_bin_s`` seconds, repeated cyclically
        (e.g. hourly factors for the AM peak).
    profile_bin_s
        Length of a profile bin (s).

    Notes
    -----
    Within a bin the process is homogeneous, so the count is Poisson and the times are uniform
    order statistics; bins are independent by the memoryless property. Pairs are drawn in
    sorted order so the draw depends only on the OD content, not on dict order.
    """
    pairs = sorted((o, d) for (o, d), rate in od_pax_per_h.items() if rate > 0)
    if any(rate < 0 for rate in od_pax_per_h.values()):
        raise InputError("OD matrix: negative passengers per hour")
    rates_per_s = np.array([od_pax_per_h[p] for p in pairs]) / 3600.0
    n_bins = max(1, math.ceil(duration_s / profile_bin_s))
    origins: list[np.ndarray] = []
    destinations: list[np.ndarray] = []
    times: list[np.ndarray] = []
    pair_origin = np.array([p[0] for p in pairs], dtype=object)
    pair_destination = np.array([p[1] for p in pairs], dtype=object)
    for b in range(n_bins):
        begin_s = b * profile_bin_s
        end_s = min(begin_s + profile_bin_s, duration_s)
        factor = float(profile[b % len(profile)])
        counts = rng.poisson(rates_per_s * factor * (end_s - begin_s))
        total = int(counts.sum())
        if total == 0:
            continue
        index = np.repeat(np.arange(len(pairs)), counts)
        origins.append(pair_origin[index])
        destinations.append(pair_destination[index])
        times.append(rng.uniform(begin_s, end_s, size=total))
    if not times:
        return PassengerDemand.empty()
    arrive = np.concatenate(times)
    order = np.argsort(arrive, kind="stable")
    return PassengerDemand(
        np.concatenate(origins)[order], np.concatenate(destinations)[order], arrive[order]
    )


def uniform_demand(
    od_interval_s: Mapping[tuple[str, str], float],
    duration_s: float,
    phase_s: float = 0.0,
) -> PassengerDemand:
    """Evenly spaced arrivals: one passenger every ``interval`` seconds per OD pair.

    The first passenger of each pair arrives at ``phase_s``; used by the deterministic
    validation case, where waits can be computed by hand.
    """
    parts = []
    for (origin, destination), interval_s in sorted(od_interval_s.items()):
        if interval_s <= 0:
            raise InputError(f"uniform demand {origin}->{destination}: interval must be > 0 s")
        arrive = np.arange(phase_s, duration_s, interval_s, dtype=float)
        parts.append(
            PassengerDemand(
                np.full(len(arrive), origin, dtype=object),
                np.full(len(arrive), destination, dtype=object),
                arrive,
            )
        )
    return PassengerDemand.concat(parts)


def zone_od_to_stop_od(
    zone_od_pax_per_h: Mapping[tuple[str, str], float],
    zone_stop: Mapping[str, str],
    served: set[tuple[str, str]] | None = None,
) -> ODMatrix:
    """Aggregate a zone-to-zone OD matrix onto stops (each zone's access stop).

    Trips whose zones map to the same stop, to no stop, or to a stop pair no line serves
    (when ``served`` is given) are dropped: they walk, or use another mode.
    """
    stop_od: ODMatrix = {}
    for (zone_o, zone_d), rate in zone_od_pax_per_h.items():
        stop_o, stop_d = zone_stop.get(zone_o), zone_stop.get(zone_d)
        if stop_o is None or stop_d is None or stop_o == stop_d:
            continue
        if served is not None and (stop_o, stop_d) not in served:
            continue
        stop_od[(stop_o, stop_d)] = stop_od.get((stop_o, stop_d), 0.0) + float(rate)
    return stop_od


def gravity_zone_od(
    productions_pax_per_h: Mapping[str, float],
    attractions: Mapping[str, float],
    distance_m: Mapping[tuple[str, str], float],
    beta_per_km: float = 0.15,
) -> dict[tuple[str, str], float]:
    """A singly constrained gravity model: ``T_ij = P_i · A_j e^(−β d_ij) / Σ_k A_k e^(−β d_ik)``.

    Parameters
    ----------
    productions_pax_per_h
        Trips produced per hour by each origin zone.
    attractions
        Attraction weight of each destination zone (e.g. jobs).
    distance_m
        Distance between zones (m); pairs absent are not connected.
    beta_per_km
        Deterrence (1/km).
    """
    od: dict[tuple[str, str], float] = {}
    for origin, produced in productions_pax_per_h.items():
        weights = {
            d: attractions[d] * math.exp(-beta_per_km * distance_m[(origin, d)] / 1000.0)
            for d in attractions
            if d != origin and (origin, d) in distance_m
        }
        total = sum(weights.values())
        if total <= 0:
            continue
        for destination, weight in weights.items():
            od[(origin, destination)] = produced * weight / total
    return od


def even_line_od(network: TransitNetwork, line_id: str, pax_per_h: float) -> ODMatrix:
    """``pax_per_h`` spread evenly over the stop pairs ``line_id`` serves without a transfer."""
    pairs = sorted(served_pairs(network.subset([line_id])))
    return {pair: pax_per_h / len(pairs) for pair in pairs} if pairs else {}


def _stop_weights(
    stop_x_m: np.ndarray,
    stop_y_m: np.ndarray,
    zone_x_m: np.ndarray,
    zone_y_m: np.ndarray,
    zone_activity: np.ndarray,
    access_m: float,
) -> np.ndarray:
    """Each stop's weight: the activity of the zones whose nearest stop it is, within ``access_m``."""
    weight = np.zeros(len(stop_x_m))
    if len(zone_x_m):
        dx = np.asarray(zone_x_m)[:, None] - stop_x_m[None, :]
        dy = np.asarray(zone_y_m)[:, None] - stop_y_m[None, :]
        distance = np.hypot(dx, dy)
        nearest = distance.argmin(axis=1)
        reach = distance[np.arange(len(nearest)), nearest] <= access_m
        np.add.at(weight, nearest[reach], np.asarray(zone_activity, dtype=float)[reach])
    return weight


def line_od_from_zones(
    network: TransitNetwork,
    line_id: str,
    zone_x_m: np.ndarray,
    zone_y_m: np.ndarray,
    zone_activity: np.ndarray,
    stop_x_m: Mapping[str, float],
    stop_y_m: Mapping[str, float],
    pax_per_h: float,
    access_m: float = 800.0,
    beta_per_km: float = 0.15,
) -> ODMatrix:
    """A stop-to-stop OD matrix for one line, shaped by the zones it serves.

    Each zone whose centroid lies within ``access_m`` of a stop of the line walks to its nearest
    stop; a stop's weight is the activity (residents + jobs) of its zones. Trips between two
    stops follow a doubly weighted gravity form ``w_o · w_d · exp(−β d_od)`` with ``d`` the
    straight-line distance between the stops, kept only for pairs the line serves without a
    transfer, and scaled so the whole matrix carries ``pax_per_h``. With no activity near the
    line, every served pair gets the same share.

    Coordinates are metric (EPSG:4549); returns passengers per hour by (origin, destination).
    """
    line = network.line(line_id)
    stop_ids = sorted({s for p in line.patterns.values() for s in p.stop_ids})
    sx = np.array([stop_x_m[s] for s in stop_ids])
    sy = np.array([stop_y_m[s] for s in stop_ids])
    weight = _stop_weights(sx, sy, zone_x_m, zone_y_m, zone_activity, access_m)
    index = {s: i for i, s in enumerate(stop_ids)}
    served = sorted(served_pairs(network.subset([line_id])))
    if not served or pax_per_h <= 0:
        return {}
    raw = []
    for origin, destination in served:
        i, j = index[origin], index[destination]
        d_km = math.hypot(sx[i] - sx[j], sy[i] - sy[j]) / 1000.0
        raw.append(weight[i] * weight[j] * math.exp(-beta_per_km * d_km))
    values = np.array(raw)
    if values.sum() <= 0:
        values = np.ones(len(served))
    values *= pax_per_h / values.sum()
    return {pair: float(v) for pair, v in zip(served, values, strict=True) if v > 0}


def line_od_from_zone_layer(
    network: TransitNetwork,
    line_id: str,
    zones: gpd.GeoDataFrame,
    pax_per_h: float,
    access_m: float = 800.0,
    beta_per_km: float = 0.15,
) -> ODMatrix:
    """:func:`line_od_from_zones` over a city's ``zones`` layer (``residents`` + ``jobs`` as activity).

    Zone centroids and stops are taken to EPSG:4549 metres first.
    """
    centroids = zones.geometry.to_crs(METRIC_CRS).centroid
    activity = zones["residents"].to_numpy(float) + zones["jobs"].to_numpy(float)
    stops = network.stops
    xs, ys = to_metric([s.lon for s in stops.values()], [s.lat for s in stops.values()])
    stop_x = dict(zip(stops, np.asarray(xs, dtype=float), strict=True))
    stop_y = dict(zip(stops, np.asarray(ys, dtype=float), strict=True))
    return line_od_from_zones(
        network, line_id, centroids.x.to_numpy(), centroids.y.to_numpy(), activity, stop_x, stop_y,
        pax_per_h, access_m, beta_per_km,
    )


def check_demand_served(demand: PassengerDemand, network: TransitNetwork) -> None:
    """Every passenger's OD pair must be served by a pattern of ``network`` without a transfer.

    An unserved passenger would wait forever, so it is an :class:`InputError`.
    """
    if not len(demand):
        return
    served = served_pairs(network)
    pairs = set(zip(demand.origin.tolist(), demand.destination.tolist(), strict=True))
    unserved = sorted(pairs - served)
    if unserved:
        raise InputError(
            f"demand: {len(unserved)} OD pairs are not served by any running line, e.g. "
            f"{unserved[0][0]} -> {unserved[0][1]}"
        )
