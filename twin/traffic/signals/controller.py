"""The runtime signal controller: every plan of a run as the kernel's arrays, the controllers'
positions at time 0, the strategies' periodic hooks, and transit signal priority.

Transit signal priority: :meth:`SignalController.request_priority` (green extension or early
green for a bus movement), usable both inside a traffic run and stand-alone on a plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from kernels.traffic.layout import ALL_RED_STAGE, GREEN_STAGE, YELLOW_STAGE, Signals, State
from twin.traffic.signals.checks import validate_plan
from twin.traffic.signals.plan import STATE_CODE, SignalPlan
from twin.traffic.signals.strategies.base import Retiming, SignalStrategy
from twin.traffic.signals.strategies.registry import make_strategy
from twin.traffic.signals.timing import TimingParams

if TYPE_CHECKING:
    from twin.traffic.network import TrafficNetwork


@dataclass
class PriorityDecision:
    """What a transit priority request got."""

    controller: str
    movement: int
    time_s: float
    action: Literal["already_green", "extension", "early_green", "none"]
    expected_green_s: float  # when the movement is expected to be green (s, simulated time)


@dataclass
class SignalController:
    """All controllers of a run: their plans, the kernel's signal arrays and runtime hooks.

    Build with :meth:`build`. The traffic model hands :attr:`arrays` to the kernel; changing a
    plan (adaptive control) rewrites the green times in place, so the kernel sees it at the
    next phase.
    """

    plans: list[SignalPlan]
    network: TrafficNetwork
    timing: TimingParams
    arrays: Signals | None = None
    index: dict[str, int] = field(default_factory=dict)
    strategies: list[SignalStrategy] = field(default_factory=list)  # one per plan, in plan order
    requests: list[PriorityDecision] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)  # re-timings while running

    @classmethod
    def build(
        cls, network: TrafficNetwork, plans: list[SignalPlan], timing: TimingParams
    ) -> SignalController:
        """Validate every plan and lay them out as kernel arrays, each run by its strategy."""
        from_sumo = network.sumo is not None  # SUMO's own programmes may hold conflicting greens
        for plan in plans:
            validate_plan(plan, network.conflicts_among(plan.movements), "signal plans", from_sumo)
        strategies = [make_strategy(p.strategy) for p in plans]
        return cls(
            plans=list(plans),
            network=network,
            timing=timing,
            arrays=_kernel_signals(plans, [s.control for s in strategies], timing),
            index={p.controller: i for i, p in enumerate(plans)},
            strategies=strategies,
        )

    # -- positions at time 0 -------------------------------------------------------------------
    def set_initial_positions(self, state: State) -> None:
        """Place each controller in its cycle at time 0 from its offset (fixed-time family)."""
        for j, plan in enumerate(self.plans):
            first = int(self.arrays.phase_ptr[j])
            position = (-plan.offset_s) % plan.cycle_s if plan.cycle_s > 0 else 0.0
            for i, phase in enumerate(plan.phases):
                if position < phase.green_s:
                    stage, time_in = GREEN_STAGE, position
                elif position < phase.green_s + phase.yellow_s:
                    stage, time_in = YELLOW_STAGE, position - phase.green_s
                elif position < phase.duration_s:
                    stage, time_in = ALL_RED_STAGE, position - phase.green_s - phase.yellow_s
                else:
                    position -= phase.duration_s
                    continue
                state.sig_phase[j] = first + i
                state.sig_stage[j] = stage
                state.sig_time_s[j] = time_in
                state.sig_next[j] = first + (i + 1) % len(plan.phases)
                break

    # -- transit signal priority ---------------------------------------------------------------
    def request_priority(
        self, controller: str, movement: int, time_s: float, hold_s: float | None = None, state: State | None = None
    ) -> PriorityDecision:
        """A bus on ``movement`` asks ``controller`` for priority at ``time_s`` (its expected
        arrival at the stop line).

        If the movement's phase is green now (per ``state`` in a run, or the fixed plan
        otherwise) and would end before the bus arrives, the green is extended by up to
        ``timing.tsp_max_extension_s`` (*extension*). If it is red, the phases in between are
        cut to their minimum greens (*early green*). The request stays active for ``hold_s``
        (default: the extension limit) after ``time_s`` and then expires by itself.

        Returns
        -------
        PriorityDecision
            The action and the expected start of green for the bus (simulated s).
        """
        j = self.index[controller]
        plan = self.plans[j]
        phase = plan.phase_of(movement)
        if phase < 0:
            return PriorityDecision(controller, movement, time_s, "none", math.inf)
        hold = self.timing.tsp_max_extension_s if hold_s is None else hold_s
        self.arrays.tsp_phase[j] = int(self.arrays.phase_ptr[j]) + phase
        self.arrays.tsp_until_s[j] = time_s + hold
        current, stage, elapsed = self._position(j, time_s, state)
        if current == phase and stage == 0:
            remaining = plan.phases[phase].green_s - elapsed
            action = "already_green" if remaining > 0 else "extension"
            decision = PriorityDecision(controller, movement, time_s, action, time_s)
        else:
            # Early green: every phase before ours runs only its minimum green.
            t = 0.0
            i = current
            if stage == 0:
                t += (
                    max(plan.phases[i].min_green_s - elapsed, 0.0)
                    + plan.phases[i].yellow_s
                    + plan.phases[i].all_red_s
                )
            else:
                t += plan.phases[i].yellow_s + plan.phases[i].all_red_s  # upper bound of the rest
            i = (i + 1) % len(plan.phases)
            while i != phase:
                p = plan.phases[i]
                t += p.min_green_s + p.yellow_s + p.all_red_s
                i = (i + 1) % len(plan.phases)
            decision = PriorityDecision(controller, movement, time_s, "early_green", time_s + t)
        self.requests.append(decision)
        return decision

    def clear_priority(self, controller: str) -> None:
        """Withdraw ``controller``'s request (the bus has passed)."""
        j = self.index[controller]
        self.arrays.tsp_phase[j] = -1
        self.arrays.tsp_until_s[j] = 0.0

    def _position(self, j: int, time_s: float, state: State | None) -> tuple[int, int, float]:
        """(phase index within the plan, stage, time in stage) now, from the state or the plan."""
        if state is not None:
            return (
                int(state.sig_phase[j] - self.arrays.phase_ptr[j]),
                int(state.sig_stage[j]),
                float(state.sig_time_s[j]),
            )
        plan = self.plans[j]
        position = (time_s - plan.offset_s) % plan.cycle_s
        for i, phase in enumerate(plan.phases):
            if position < phase.green_s:
                return i, 0, position
            if position < phase.duration_s:
                return i, 1, position - phase.green_s
            position -= phase.duration_s
        return 0, 0, 0.0

    # -- strategies that re-time while running -----------------------------------------------
    def after_block(self, time_s: float, state: State) -> None:
        """Give every controller's strategy its periodic hook (adaptive re-timing); a new plan's
        greens take effect at each phase's next start."""
        for j, strategy in enumerate(self.strategies):
            retiming = strategy.retime(self.plans[j], time_s, state, self.network, self.timing)
            if retiming is not None:
                self._apply(j, retiming, time_s)

    def _apply(self, j: int, retiming: Retiming, time_s: float) -> None:
        """Controller ``j`` runs ``retiming.plan`` from now on: its greens go into the kernel's arrays."""
        plan = retiming.plan
        self.plans[j] = plan
        first = int(self.arrays.phase_ptr[j])
        for i, phase in enumerate(plan.phases):
            self.arrays.green_s[first + i] = phase.green_s
        self.history.append(
            {
                "time_s": time_s,
                "controller": plan.controller,
                "cycle_s": plan.cycle_s,
                "flow_ratio_sum": retiming.flow_ratio_sum,
                "greens_s": " ".join(f"{p.green_s:g}" for p in plan.phases),
            }
        )


def _kernel_signals(plans: list[SignalPlan], controls: list[int], timing: TimingParams) -> Signals:
    """The plans as the kernel's :class:`~kernels.traffic.layout.Signals` arrays."""
    phase_ptr, jmov_ptr, jmov, state_ptr, phase_state = [0], [0], [], [], []
    green, min_green, max_green, yellow, all_red = [], [], [], [], []
    for plan in plans:
        for phase in plan.phases:
            state_ptr.append(len(phase_state))
            phase_state += [STATE_CODE[c] for c in phase.states]
            green.append(phase.green_s)
            min_green.append(phase.min_green_s)
            max_green.append(max(phase.max_green_s, phase.min_green_s))
            yellow.append(phase.yellow_s)
            all_red.append(phase.all_red_s)
        phase_ptr.append(phase_ptr[-1] + len(plan.phases))
        jmov += list(plan.movements)
        jmov_ptr.append(len(jmov))
    n = len(plans)
    return Signals(
        ctrl_type=np.array(controls, np.int64),
        phase_ptr=np.array(phase_ptr, np.int64),
        jmov_ptr=np.array(jmov_ptr, np.int64),
        jmov=np.array(jmov, np.int64),
        state_ptr=np.array(state_ptr, np.int64),
        phase_state=np.array(phase_state, np.int64),
        green_s=np.array(green, float),
        min_green_s=np.array(min_green, float),
        max_green_s=np.array(max_green, float),
        yellow_s=np.array(yellow, float),
        all_red_s=np.array(all_red, float),
        passage_s=np.array([p.passage_s for p in plans], float),
        decision_s=np.array([p.decision_s for p in plans], float),
        tsp_phase=np.full(n, -1, np.int64),
        tsp_until_s=np.zeros(n),
        tsp_max_ext_s=np.full(n, timing.tsp_max_extension_s),
    )
