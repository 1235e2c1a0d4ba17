"""Signal plans: a controller's phases over a cycle.

A :class:`SignalPlan` belongs to one *controller* (a signalised node of the road graph, or a
SUMO ``tlLogic``) and lists its movements and its phases. Each :class:`Phase` shows protected
(``G``) or permitted (``g``, gives way) green to some movements and red to the rest, for a green
time, followed by yellow and all-red for the movements that lose green. Cycle = Σ (green +
yellow + all-red). :func:`twin.traffic.signals.checks.validate_plan` checks every plan before it
runs; its ``strategy`` names how it runs (:mod:`twin.traffic.signals.strategies`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

STATE_CODE = {"r": 0, "y": 1, "g": 2, "G": 3}
"""Kernel state code of each phase letter (red, yellow, permitted green, protected green)."""


@dataclass(frozen=True)
class Phase:
    """One phase: green to some movements, then its transition (yellow, all-red).

    ``states`` has one letter per movement of the plan: ``G`` protected green, ``g`` permitted
    green (gives way to conflicting ``G``), ``r`` red.
    """

    states: str
    green_s: float
    yellow_s: float = 3.0
    all_red_s: float = 2.0
    min_green_s: float = 5.0
    max_green_s: float = 60.0

    @property
    def duration_s(self) -> float:
        """Green plus intergreen (s)."""
        return self.green_s + self.yellow_s + self.all_red_s

    def green(self, k: int) -> bool:
        """Whether local movement ``k`` is green (protected or permitted)."""
        return self.states[k] in "Gg"


@dataclass(frozen=True)
class SignalPlan:
    """A controller's phases over a cycle.

    Attributes
    ----------
    controller
        Controller id (the node id as text, or the SUMO ``tlLogic`` id).
    movements
        Global movement ids (of the :class:`twin.traffic.network.TrafficNetwork`) in local order.
    phases
        The phases in their fixed-time order.
    cycle_s
        Declared cycle length; must equal Σ phase durations (checked).
    offset_s
        Start of the first phase's green relative to simulated time 0 (s).
    strategy
        How the controller runs: the name of a registered strategy
        (:func:`twin.traffic.signals.strategies.registry.strategy_names`).
    oversaturated
        Set by Webster when the critical flow ratio sum Y ≥ 0.9.
    """

    controller: str
    movements: tuple[int, ...]
    phases: tuple[Phase, ...]
    cycle_s: float
    offset_s: float = 0.0
    strategy: str = "fixed"
    oversaturated: bool = False
    passage_s: float = 3.0
    decision_s: float = 5.0

    @classmethod
    def from_phases(cls, controller: str, movements, phases, offset_s: float = 0.0, **kw) -> SignalPlan:
        """A plan whose cycle is the sum of its phases."""
        phases = tuple(phases)
        return cls(
            controller,
            tuple(int(m) for m in movements),
            phases,
            float(sum(p.duration_s for p in phases)),
            offset_s,
            **kw,
        )

    def with_greens(self, greens_s: list[float], **kw) -> SignalPlan:
        """A copy with new green times (and the cycle that follows from them)."""
        phases = tuple(replace(p, green_s=float(g)) for p, g in zip(self.phases, greens_s, strict=True))
        return replace(self, phases=phases, cycle_s=float(sum(p.duration_s for p in phases)), **kw)

    def green_window_s(self, phase_index: int) -> tuple[float, float]:
        """Start and end of phase ``phase_index``'s green within the cycle, from the offset."""
        start = sum(p.duration_s for p in self.phases[:phase_index])
        return start, start + self.phases[phase_index].green_s

    def phase_of(self, movement: int) -> int:
        """The first phase in which ``movement`` (global id) is green; -1 if never."""
        k = self.movements.index(movement)
        for i, phase in enumerate(self.phases):
            if phase.green(k):
                return i
        return -1
