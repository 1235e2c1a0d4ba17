"""Dispatch policies, one class each, swappable in :func:`twin.robotaxi.fleet.simulate`.

* :class:`NearestVehicle`: each request, in order of arrival, goes to the vehicle that reaches the
  rider first (busy vehicles counted from when they are free): :func:`kernels.dispatch.loop.dispatch`;
* :class:`BatchAssignment`: every ``batch_s`` seconds the waiting requests are matched to the idle
  vehicles by an assignment solver over pickup times: :func:`kernels.dispatch.batch.batch_dispatch`,
  optionally with :class:`Rebalancing` of idle vehicles toward forecast demand.

A policy takes the kernel's arrays as keywords (see :func:`kernels.dispatch.loop.dispatch`) and
returns the kernel's outputs, so the fleet and the tables around it do not change with the policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from kernels.dispatch.batch import batch_dispatch
from kernels.dispatch.loop import dispatch
from kernels.dispatch.rebalance import N_MOVE_INT, N_MOVE_OUT
from twin.errors import InputError


class DispatchPolicy:
    """Base of the dispatch policies: ``name`` as a scenario file writes it, and :meth:`run`."""

    name: ClassVar[str] = ""

    def run(self, place_nodes: np.ndarray, **arrays: Any) -> tuple:
        """The kernel outputs (``req_vehicle, req_out, ses_out, ses_int, soc, pos, free, mov_out,
        mov_int, pool_with``); ``place_nodes`` are the road nodes of the places the arrays index."""
        raise NotImplementedError


@dataclass(frozen=True)
class NearestVehicle(DispatchPolicy):
    """Each request to the vehicle that can reach the rider first, in order of arrival."""

    name: ClassVar[str] = "nearest"

    def run(self, place_nodes: np.ndarray, **arrays: Any) -> tuple:
        no_pool = np.full(len(arrays["req_time_s"]), -1, np.int64)
        return (*dispatch(**arrays), np.zeros((0, N_MOVE_OUT)), np.zeros((0, N_MOVE_INT), np.int64), no_pool)


@dataclass(frozen=True)
class Rebalancing:
    """Where idle vehicles go between requests: zones of road nodes, each with an anchor node, and
    the forecast requests per second from each zone in each ``forecast_bin_s`` of the run.

    Every ``every_s`` seconds idle vehicles move from zones with a surplus toward the zone whose
    forecast requests over ``lookahead_s`` most exceed the vehicles there
    (:mod:`kernels.dispatch.rebalance`).
    """

    zone_nodes: list[np.ndarray]
    anchor_node: np.ndarray
    forecast_rate_per_s: np.ndarray  # (forecast bins, zones)
    forecast_bin_s: float = 3600.0
    every_s: float = 300.0
    lookahead_s: float = 1800.0

    def arrays(self, place_nodes: np.ndarray) -> dict[str, Any]:
        """The kernel's rebalancing inputs for the run's places."""
        index = {int(n): i for i, n in enumerate(place_nodes)}
        place_zone = np.full(len(place_nodes), -1, np.int64)
        for z, nodes in enumerate(self.zone_nodes):
            place_zone[[index[int(n)] for n in nodes if int(n) in index]] = z
        anchor = np.array([index[int(n)] for n in self.anchor_node], np.int64)
        place_zone[anchor] = np.arange(len(anchor))
        return {"rebalance_s": float(self.every_s), "lookahead_s": float(self.lookahead_s),
                "place_zone": place_zone, "zone_anchor": anchor, "forecast_bin_s": float(self.forecast_bin_s),
                "forecast_rate": np.asarray(self.forecast_rate_per_s, float).reshape(-1, len(anchor))}


@dataclass(frozen=True)
class BatchAssignment(DispatchPolicy):
    """Every ``batch_s`` seconds, waiting requests to idle vehicles by least total pickup time;
    with ``pooling``, a request left waiting may join a vehicle on its way to one rider, if
    neither rider's ride grows by more than ``max_detour_s`` (:mod:`kernels.dispatch.pooling`)."""

    batch_s: float = 30.0
    rebalancing: Rebalancing | None = field(default=None, compare=False)
    pooling: bool = False
    max_detour_s: float = 300.0
    name: ClassVar[str] = "batch"

    def __post_init__(self) -> None:
        if not self.batch_s > 0:
            raise InputError(f"batch_s = {self.batch_s}: expected a batch interval above 0 s")

    def run(self, place_nodes: np.ndarray, **arrays: Any) -> tuple:
        extra = {} if self.rebalancing is None else self.rebalancing.arrays(place_nodes)
        return batch_dispatch(**arrays, batch_s=float(self.batch_s), pooling=bool(self.pooling),
                              max_detour_s=float(self.max_detour_s), **extra)


POLICIES: dict[str, type[DispatchPolicy]] = {p.name: p for p in (NearestVehicle, BatchAssignment)}
"""The policies by the name a scenario file or ``twin robotaxi --policy`` uses."""


def make_policy(name: str, batch_s: float = 30.0, rebalancing: Rebalancing | None = None, pooling: bool = False,
                max_detour_s: float = 300.0) -> DispatchPolicy:
    """The policy called ``name`` (the other arguments are batch assignment's)."""
    if name == BatchAssignment.name:
        return BatchAssignment(batch_s, rebalancing, pooling, max_detour_s)
    if name == NearestVehicle.name:
        return NearestVehicle()
    raise InputError(f"policy = {name!r}: expected one of {sorted(POLICIES)}")
