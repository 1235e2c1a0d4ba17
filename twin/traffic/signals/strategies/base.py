"""The interface of a signal strategy: how it times a plan, how the kernel runs it, and its hooks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Set
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from twin.traffic.signals.plan import SignalPlan
from twin.traffic.signals.timing import TimingParams

if TYPE_CHECKING:
    from kernels.traffic.layout import State
    from twin.traffic.network import TrafficNetwork


@dataclass(frozen=True)
class PlanDesign:
    """What a strategy may use to time the plans of an area: the network, which controllers it
    runs, the design flows, the timing parameters, and the arterial to coordinate (if any)."""

    network: TrafficNetwork
    controllers: Set[str]  # the controllers the strategy runs
    flows_veh_per_h: np.ndarray  # design flow of every movement of the network
    timing: TimingParams
    arterial: str | None = None  # road name to coordinate (None: the strategy's choice)
    max_coordinated: int = 8  # most junctions coordinated along it


@dataclass
class Coordination:
    """Plans after a strategy has coordinated them across junctions, with what it chose."""

    plans: dict[str, SignalPlan]
    summary: object | None = None  # what the coordination chose (a green wave's GreenWave)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Retiming:
    """A plan re-timed while the model runs, with the critical flow ratio sum it was timed for."""

    plan: SignalPlan
    flow_ratio_sum: float


class SignalStrategy(ABC):
    """One way of running a signal controller: one subclass per module of this package.

    A subclass sets :attr:`name`, :attr:`listed` and :attr:`control`, implements
    :meth:`time_plan`, and is registered with
    :func:`twin.traffic.signals.strategies.registry.register_strategy`. The runtime controller
    makes one instance per controller, so a strategy that re-times while running
    (:meth:`retime`) may keep what it has measured on ``self``.
    """

    name: ClassVar[str]
    """What scenario files and ``--strategy`` call the strategy."""
    listed: ClassVar[int]
    """Place in listings and error messages."""
    control: ClassVar[int]
    """The kernel's controller logic: ``FIXED``, ``ACTUATED`` or ``MAX_PRESSURE``
    (:mod:`kernels.traffic.layout`)."""
    holds_minimum_green: ClassVar[bool] = False
    """Whether the strategy's greens are timed, so a green below its minimum is an error."""
    sumo_type: ClassVar[str] = "static"
    """The ``tlLogic`` type its plans export as (SUMO places its own detectors)."""

    def adopt(self, plan: SignalPlan, timing: TimingParams) -> SignalPlan:
        """``plan`` as it is, run by this strategy (with the settings the strategy needs)."""
        return replace(plan, strategy=self.name)

    @abstractmethod
    def time_plan(
        self, plan: SignalPlan, flows_veh_per_h: np.ndarray, network: TrafficNetwork, timing: TimingParams
    ) -> SignalPlan:
        """The plan this strategy runs at ``plan``'s controller for its movements' design flows
        (veh/h, in the plan's local order)."""

    def coordinate(self, plans: dict[str, SignalPlan], design: PlanDesign) -> Coordination:
        """Plans coordinated across junctions (a green wave's offsets); by default as they are."""
        return Coordination(plans)

    def retime(
        self, plan: SignalPlan, time_s: float, state: State, network: TrafficNetwork, timing: TimingParams
    ) -> Retiming | None:
        """Called after every kernel call while the model runs: a new plan, or ``None`` to keep it."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
