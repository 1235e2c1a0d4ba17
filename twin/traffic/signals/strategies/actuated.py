"""Actuated control: gap-out / max-out on stop-line approach detectors, from Webster's greens."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from kernels.traffic.layout import ACTUATED
from twin.traffic.signals.plan import SignalPlan
from twin.traffic.signals.strategies.base import SignalStrategy
from twin.traffic.signals.strategies.registry import register_strategy
from twin.traffic.signals.timing import TimingParams
from twin.traffic.signals.webster import retime_webster

if TYPE_CHECKING:
    from twin.traffic.network import TrafficNetwork


@register_strategy
class ActuatedStrategy(SignalStrategy):
    """After the actuated minimum green, a phase ends when no vehicle of its movements has been
    within the detector set-back for the passage time, or at its maximum green (at least its
    Webster green); phases without calls are skipped, and with no calls elsewhere it rests in
    green. The kernel decides every step."""

    name = "actuated"
    listed = 2
    control = ACTUATED
    sumo_type = "actuated"

    def adopt(self, plan: SignalPlan, timing: TimingParams) -> SignalPlan:
        """``plan`` with the actuated minimum green, a maximum green of at least its green, and
        the detector's passage time and the decision interval of the timing parameters."""
        phases = tuple(
            replace(
                p, min_green_s=timing.actuated_min_green_s, max_green_s=max(timing.max_green_s, p.green_s)
            )
            for p in plan.phases
        )
        return replace(
            plan, phases=phases, strategy=self.name, passage_s=timing.passage_s, decision_s=timing.decision_s
        )

    def time_plan(
        self, plan: SignalPlan, flows_veh_per_h: np.ndarray, network: TrafficNetwork, timing: TimingParams
    ) -> SignalPlan:
        return self.adopt(retime_webster(plan, flows_veh_per_h, network, timing)[0], timing)
