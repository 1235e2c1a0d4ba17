"""Trips: the vehicles a run simulates, from our demand or a SUMO route file, and what they load.

A trip is an id, a departure time (s, on the model's clock) and a route of link indices of a
:class:`~twin.traffic.network.TrafficNetwork`. Routes are kept as given: the model never
reroutes a vehicle during a run (rerouting between runs is :func:`twin.traffic.demand.msa_reroute`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kernels.traffic.layout import Vehicles
from twin.errors import InputError
from twin.traffic.network import TrafficNetwork
from twin.traffic.routing import LinkRouter

if TYPE_CHECKING:
    from twin.traffic.sumo_io.routes import SumoTrip


@dataclass
class Trips:
    """Vehicles to simulate: ids, departure times (s) and routes (link indices)."""

    ids: list[str]
    depart_s: np.ndarray
    routes: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.ids)

    def kernel_vehicles(self, network: TrafficNetwork) -> Vehicles:
        """Flatten routes into the kernel's arrays (movement at the end of each link)."""
        lengths = np.array([len(r) for r in self.routes], np.int64)
        ptr = np.zeros(len(self.routes), np.int64)
        if len(lengths):
            ptr[1:] = np.cumsum(lengths)[:-1]
        links = np.concatenate(self.routes) if self.routes else np.zeros(0, np.int64)
        movs = np.empty(len(links), np.int64)
        lookup = network.mov_lookup
        for v, route in enumerate(self.routes):
            base = ptr[v]
            for i in range(len(route) - 1):
                key = (int(route[i]), int(route[i + 1]))
                if key not in lookup:
                    raise InputError(
                        f"vehicle {self.ids[v]}: no connection from {network.link_ids[key[0]]} "
                        f"to {network.link_ids[key[1]]}"
                    )
                movs[base + i] = lookup[key]
            movs[base + len(route) - 1] = network.link_sink[route[-1]]
        order = np.argsort(self.depart_s, kind="stable").astype(np.int64)
        return Vehicles(
            depart_s=np.asarray(self.depart_s, float),
            depart_order=order,
            route_ptr=ptr,
            route_len=lengths,
            route_link=links.astype(np.int64),
            route_mov=movs,
        )


def _sorted_by_departure(ids: list[str], departs: list[float], routes: list[np.ndarray]) -> Trips:
    """Trips in order of departure (stable: equal times keep their order)."""
    order = np.argsort(np.array(departs), kind="stable") if departs else np.array([], int)
    return Trips(
        [ids[i] for i in order],
        np.array(departs, float)[order] if departs else np.zeros(0),
        [routes[i] for i in order],
    )


def trips_from_sumo(network: TrafficNetwork, sumo_trips: Iterable[SumoTrip]) -> tuple[Trips, list[str]]:
    """Our trips from SUMO route-file vehicles; ``<trip>`` origins/destinations are routed.

    Returns the trips and the ids of vehicles that could not be used (unknown edge, no route).
    """
    index = {sid: i for i, sid in enumerate(network.link_ids)}
    ids, departs, routes, skipped = [], [], [], []
    pending = []
    for trip in sumo_trips:
        if trip.edges is not None:
            route = _explicit_route(network, index, trip.edges)
            if route is None:
                skipped.append(trip.id)
                continue
            ids.append(trip.id)
            departs.append(trip.depart_s)
            routes.append(route)
        else:
            stops = [trip.from_edge, *trip.via, trip.to_edge]
            if any(s not in index for s in stops):
                skipped.append(trip.id)
                continue
            pending.append((trip, [index[s] for s in stops]))
    for trip, route in zip([t for t, _ in pending], _routes_through(network, [s for _, s in pending]), strict=True):
        if route is None:
            skipped.append(trip.id)
            continue
        ids.append(trip.id)
        departs.append(trip.depart_s)
        routes.append(route)
    return _sorted_by_departure(ids, departs, routes), skipped


def _explicit_route(network: TrafficNetwork, index: dict[str, int], edges: Sequence[str]) -> np.ndarray | None:
    """The links of a SUMO route, or ``None`` if an edge is unknown or a turn is not allowed."""
    try:
        route = np.array([index[e] for e in edges], np.int64)
    except KeyError:
        return None
    if any((int(a), int(b)) not in network.mov_lookup for a, b in zip(route[:-1], route[1:], strict=True)):
        return None
    return route


def _routes_through(network: TrafficNetwork, stops: list[list[int]]) -> list[np.ndarray | None]:
    """For each list of links (origin, vias, destination): the fastest route through them in
    order (free flow), or ``None`` if a leg has no route."""
    if not stops:
        return []
    legs_o, legs_d, owner = [], [], []
    for t, links in enumerate(stops):
        for a, b in zip(links[:-1], links[1:], strict=True):
            legs_o.append(a)
            legs_d.append(b)
            owner.append(t)
    found = LinkRouter(network).routes(np.array(legs_o), np.array(legs_d))
    pieces: dict[int, list] = {}
    for t, piece in zip(owner, found, strict=True):
        pieces.setdefault(t, []).append(piece)
    out: list[np.ndarray | None] = []
    for t in range(len(stops)):
        parts = pieces[t]
        if any(p is None for p in parts):
            out.append(None)
        else:
            out.append(np.concatenate([parts[0]] + [p[1:] for p in parts[1:]]))
    return out


def cut_trips(network: TrafficNetwork, trips: Trips, keep_links: set[int], min_links: int = 2) -> Trips:
    """Trips cut to the part of their route on ``keep_links`` (a sub-area cordon).

    Each trip keeps its first run of consecutive links inside the cordon (if it has at least
    ``min_links``), departing when it would reach the cordon at free flow. Routes stay in
    ``network``'s link indices.
    """
    ids, departs, routes = [], [], []
    for vid, depart, route in zip(trips.ids, trips.depart_s, trips.routes, strict=True):
        inside = np.array([int(link) in keep_links for link in route])
        if not inside.any():
            continue
        first = int(np.argmax(inside))
        last = first
        while last + 1 < len(route) and inside[last + 1]:
            last += 1
        if last - first + 1 < min_links:
            continue
        lead = float(network.link_fft_s[route[:first]].sum())
        if first:
            lead += float(
                sum(
                    network.mov_extra_s[network.mov_lookup[(int(a), int(b))]]
                    for a, b in zip(route[:first], route[1 : first + 1], strict=True)
                )
            )
        ids.append(vid)
        departs.append(float(depart) + lead)
        routes.append(np.asarray(route[first : last + 1], np.int64))
    return _sorted_by_departure(ids, departs, routes)


def movement_counts(network: TrafficNetwork, routes: Iterable[np.ndarray]) -> np.ndarray:
    """Vehicles per movement (``float[M]``) that the routes take through junctions."""
    counts = np.zeros(network.n_movements)
    lookup = network.mov_lookup
    for route in routes:
        for a, b in zip(route[:-1], route[1:], strict=True):
            counts[lookup[(int(a), int(b))]] += 1
    return counts


def design_flows(network: TrafficNetwork, trips: Trips, begin_s: float, end_s: float) -> np.ndarray:
    """Movement flows (veh/h) of the trips departing in [begin_s, end_s): the design volumes."""
    inside = (trips.depart_s >= begin_s) & (trips.depart_s < end_s)
    counts = movement_counts(network, (trips.routes[k] for k in np.nonzero(inside)[0]))
    return counts * 3600.0 / max(end_s - begin_s, 1.0)
