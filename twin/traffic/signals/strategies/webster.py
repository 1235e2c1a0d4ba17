"""Webster fixed time: cycle and split by Webster (1958) on the design flows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kernels.traffic.layout import FIXED
from twin.traffic.signals.plan import SignalPlan
from twin.traffic.signals.strategies.base import SignalStrategy
from twin.traffic.signals.strategies.registry import register_strategy
from twin.traffic.signals.timing import TimingParams
from twin.traffic.signals.webster import retime_webster

if TYPE_CHECKING:
    from twin.traffic.network import TrafficNetwork


@register_strategy
class WebsterStrategy(SignalStrategy):
    """C0 = (1.5 L + 5) / (1 − Y), effective greens ∝ y_i, minimum greens respected; Y ≥ 0.9
    flags the junction oversaturated and uses the maximum cycle (:mod:`twin.traffic.signals.webster`)."""

    name = "webster"
    listed = 1
    control = FIXED
    holds_minimum_green = True

    def time_plan(
        self, plan: SignalPlan, flows_veh_per_h: np.ndarray, network: TrafficNetwork, timing: TimingParams
    ) -> SignalPlan:
        return self.adopt(retime_webster(plan, flows_veh_per_h, network, timing)[0], timing)
