"""Dispatch policies, one class each, swappable in :func:`twin.robotaxi.fleet.simulate`.

* :class:`NearestVehicle`: each request, in order of arrival, goes to the vehicle that reaches the
  rider first (busy vehicles counted from when they are free): :func:`kernels.dispatch.loop.dispatch`;
* :class:`BatchAssignment`: every ``batch_s`` seconds the waiting requests are matched to the idle
  vehicles by an assignment solver over pickup times: :func:`kernels.dispatch.batch.batch_dispatch`.

A policy takes the kernel's arrays as keywords (see :func:`kernels.dispatch.loop.dispatch`) and
returns the kernel's outputs, so the fleet and the tables around it do not change with the policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from kernels.dispatch.batch import batch_dispatch
from kernels.dispatch.loop import dispatch
from twin.errors import InputError


class DispatchPolicy:
    """Base of the dispatch policies: ``name`` as a scenario file writes it, and :meth:`run`."""

    name: ClassVar[str] = ""

    def run(self, **arrays: Any) -> tuple:
        """The kernel outputs (``req_vehicle, req_out, ses_out, ses_int, soc, pos, free``)."""
        raise NotImplementedError


@dataclass(frozen=True)
class NearestVehicle(DispatchPolicy):
    """Each request to the vehicle that can reach the rider first, in order of arrival."""

    name: ClassVar[str] = "nearest"

    def run(self, **arrays: Any) -> tuple:
        return dispatch(**arrays)


@dataclass(frozen=True)
class BatchAssignment(DispatchPolicy):
    """Every ``batch_s`` seconds, waiting requests to idle vehicles by least total pickup time."""

    batch_s: float = 30.0
    name: ClassVar[str] = "batch"

    def __post_init__(self) -> None:
        if not self.batch_s > 0:
            raise InputError(f"batch_s = {self.batch_s}: expected a batch interval above 0 s")

    def run(self, **arrays: Any) -> tuple:
        return batch_dispatch(**arrays, batch_s=float(self.batch_s))


POLICIES: dict[str, type[DispatchPolicy]] = {p.name: p for p in (NearestVehicle, BatchAssignment)}
"""The policies by the name a scenario file or ``twin robotaxi --policy`` uses."""


def make_policy(name: str, batch_s: float = 30.0) -> DispatchPolicy:
    """The policy called ``name`` (``batch_s`` for batch assignment)."""
    if name == BatchAssignment.name:
        return BatchAssignment(batch_s)
    if name == NearestVehicle.name:
        return NearestVehicle()
    raise InputError(f"policy = {name!r}: expected one of {sorted(POLICIES)}")
