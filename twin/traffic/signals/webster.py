"""Webster's (1958) signal timing: the optimum cycle, the green split and the delay formula.

C0 = (1.5 L + 5) / (1 − Y), effective greens in proportion to the critical flow ratios y_i,
minimum greens respected; Y ≥ 0.9 flags the junction oversaturated and uses the maximum cycle.
:func:`retime_webster` applies it to a plan for its movements' flows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from twin.traffic.signals.plan import SignalPlan
from twin.traffic.signals.timing import TimingParams

if TYPE_CHECKING:
    from twin.traffic.network import TrafficNetwork


@dataclass(frozen=True)
class WebsterResult:
    """Webster timing of one controller."""

    cycle_s: float
    greens_s: list[float]
    flow_ratio_sum: float  # Y
    lost_time_s: float  # L
    oversaturated: bool
    critical_ratios: list[float]


def webster_timing(
    critical_ratios: list[float],
    lost_time_per_phase_s: list[float],
    startup_lost_s: float,
    yellow_extension_s: float,
    timing: TimingParams,
    cycle_s: float | None = None,
) -> WebsterResult:
    """Webster's optimum cycle and green split (or the split alone, for a given cycle).

    Parameters
    ----------
    critical_ratios
        y_i = max over the phase's movements of flow / saturation flow.
    lost_time_per_phase_s
        Lost time of each phase: start-up lost + (yellow + all-red − yellow used).
    startup_lost_s, yellow_extension_s
        To turn effective greens g_i back into displayed greens: G_i = g_i + l1 − e.
    cycle_s
        A common cycle imposed from outside (green wave); only the split is Webster's then.

    Notes
    -----
    C0 = (1.5 L + 5) / (1 − Y), limited to [min_cycle, max_cycle]; when Y ≥ 0.9 the junction
    is oversaturated and the maximum cycle is used. Effective greens share C − L in proportion
    to y_i; displayed greens are whole seconds, and those below the minimum are raised to it
    (the cycle then grows to match).
    """
    y = [max(0.0, float(v)) for v in critical_ratios]
    big_y = sum(y)
    lost = float(sum(lost_time_per_phase_s))
    oversaturated = big_y >= timing.oversaturation_y
    if cycle_s is not None:
        cycle = float(cycle_s)
    elif oversaturated:
        cycle = timing.max_cycle_s
    else:
        cycle = (1.5 * lost + 5.0) / (1.0 - big_y)
        cycle = min(max(cycle, timing.min_cycle_s), timing.max_cycle_s)
    effective_total = max(cycle - lost, 0.0)
    shares = [v / big_y for v in y] if big_y > 0 else [1.0 / len(y)] * len(y)
    greens = [
        max(timing.min_green_s, float(round(s * effective_total + startup_lost_s - yellow_extension_s)))
        for s in shares
    ]
    # Whole seconds must still add up to the cycle: the rounding residue goes to the phase with
    # the largest share (unless that would cut it below its minimum).
    residue = round(cycle - lost + len(greens) * (startup_lost_s - yellow_extension_s) - sum(greens))
    biggest = max(range(len(greens)), key=lambda i: shares[i])
    greens[biggest] = max(timing.min_green_s, greens[biggest] + residue)
    # Displayed cycle = Σ G + Σ (yellow + all-red) = Σ G + L − n (l1 − e); larger than C0 only
    # when minimum greens had to be raised.
    return WebsterResult(
        cycle_s=float(
            sum(greens) + sum(lost_time_per_phase_s) - len(greens) * (startup_lost_s - yellow_extension_s)
        ),
        greens_s=greens,
        flow_ratio_sum=big_y,
        lost_time_s=lost,
        oversaturated=oversaturated,
        critical_ratios=y,
    )


def webster_delay_s(
    cycle_s: float, effective_green_s: float, flow_veh_per_s: float, sat_flow_veh_per_s: float
) -> float:
    """Webster's (1958) mean delay per vehicle at a fixed-time approach with random arrivals.

    d = C(1−λ)² / (2(1−λx)) + x² / (2q(1−x)) − 0.65 (C/q²)^(1/3) x^(2+5λ), with λ = g/C,
    x = q/(λs). Valid for x < 1.
    """
    lam = effective_green_s / cycle_s
    x = flow_veh_per_s / (lam * sat_flow_veh_per_s)
    if x >= 1.0:
        return math.inf
    q = flow_veh_per_s
    uniform = cycle_s * (1.0 - lam) ** 2 / (2.0 * (1.0 - lam * x))
    random = x * x / (2.0 * q * (1.0 - x))
    correction = 0.65 * (cycle_s / q**2) ** (1.0 / 3.0) * x ** (2.0 + 5.0 * lam)
    return uniform + random - correction


def critical_ratios(plan: SignalPlan, flows_veh_per_h: np.ndarray, network: TrafficNetwork) -> list[float]:
    """y_i of each phase: the largest flow / saturation flow among its green movements."""
    ratios = []
    for phase in plan.phases:
        y = 0.0
        for k, m in enumerate(plan.movements):
            if phase.green(k):
                sat = network.mov_cap_veh_per_s[m] * 3600.0
                if phase.states[k] == "g":
                    sat *= 0.5  # a permitted movement gets about half its saturation flow
                y = max(y, flows_veh_per_h[k] / sat if sat > 0 else 0.0)
        ratios.append(y)
    return ratios


def retime_webster(
    plan: SignalPlan,
    flows_veh_per_h: np.ndarray,
    network: TrafficNetwork,
    timing: TimingParams,
    cycle_s: float | None = None,
) -> tuple[SignalPlan, WebsterResult]:
    """``plan`` with Webster's cycle (or ``cycle_s``) and split for movement flows (local order)."""
    params = network.params
    lost = [params.startup_lost_s + p.yellow_s + p.all_red_s - params.yellow_extension_s for p in plan.phases]
    result = webster_timing(
        critical_ratios(plan, flows_veh_per_h, network),
        lost,
        params.startup_lost_s,
        params.yellow_extension_s,
        timing,
        cycle_s=cycle_s,
    )
    new = plan.with_greens(result.greens_s, strategy="webster", oversaturated=result.oversaturated)
    new = replace(new, phases=tuple(replace(p, min_green_s=timing.min_green_s) for p in new.phases))
    return new, result
