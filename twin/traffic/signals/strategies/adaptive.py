"""Camera-linked adaptive control (红绿灯与摄像头智能联动): Webster re-run on the counted flows.

Every few cycles the cameras (the model's per-movement counts of arrivals, ``state.mov_joined``)
give the flows of the last window; smoothed exponentially, they feed Webster, and the new greens
take effect at each phase's next start.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from kernels.traffic.layout import FIXED
from twin.traffic.signals.plan import SignalPlan
from twin.traffic.signals.strategies.base import Retiming, SignalStrategy
from twin.traffic.signals.strategies.registry import register_strategy
from twin.traffic.signals.timing import TimingParams
from twin.traffic.signals.webster import retime_webster

if TYPE_CHECKING:
    from kernels.traffic.layout import State
    from twin.traffic.network import TrafficNetwork


@register_strategy
class AdaptiveStrategy(SignalStrategy):
    """Starts from the Webster plan of the design flows and re-times every
    ``adaptive_every_cycles`` cycles on what the cameras counted (one instance per controller)."""

    name = "adaptive"
    listed = 5
    control = FIXED
    holds_minimum_green = True

    def __init__(self) -> None:
        self._last_time_s = 0.0
        self._last_counts: np.ndarray | None = None  # cumulative counts at the last re-timing
        self._smoothed_veh_per_s: np.ndarray | None = None

    def time_plan(
        self, plan: SignalPlan, flows_veh_per_h: np.ndarray, network: TrafficNetwork, timing: TimingParams
    ) -> SignalPlan:
        return self.adopt(retime_webster(plan, flows_veh_per_h, network, timing)[0], timing)

    def retime(
        self, plan: SignalPlan, time_s: float, state: State, network: TrafficNetwork, timing: TimingParams
    ) -> Retiming | None:
        """Webster on the smoothed counts when a re-optimisation is due (else ``None``)."""
        period_s = plan.cycle_s * timing.adaptive_every_cycles
        last_counts = np.zeros(len(plan.movements)) if self._last_counts is None else self._last_counts
        if time_s - self._last_time_s < period_s - 1e-9:
            return None
        counts = state.mov_joined[list(plan.movements)].astype(float)
        flows = (counts - last_counts) / max(time_s - self._last_time_s, 1.0)
        alpha = timing.adaptive_smoothing
        previous = self._smoothed_veh_per_s
        smoothed = flows if previous is None else alpha * flows + (1 - alpha) * previous
        self._smoothed_veh_per_s = smoothed
        self._last_time_s, self._last_counts = time_s, counts
        new_plan, result = retime_webster(plan, smoothed * 3600.0, network, timing)
        return Retiming(replace(new_plan, strategy=self.name), result.flow_ratio_sum)
