"""Fixed time: the plan as given (default phases on the default cycle, or a SUMO programme)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kernels.traffic.layout import FIXED
from twin.traffic.signals.plan import SignalPlan
from twin.traffic.signals.strategies.base import SignalStrategy
from twin.traffic.signals.strategies.registry import register_strategy
from twin.traffic.signals.timing import TimingParams

if TYPE_CHECKING:
    from twin.traffic.network import TrafficNetwork


@register_strategy
class FixedStrategy(SignalStrategy):
    """Today's plans, untimed: the flows do not change them."""

    name = "fixed"
    listed = 0
    control = FIXED

    def time_plan(
        self, plan: SignalPlan, flows_veh_per_h: np.ndarray, network: TrafficNetwork, timing: TimingParams
    ) -> SignalPlan:
        return plan
