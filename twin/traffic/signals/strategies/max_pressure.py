"""Max-pressure control (Varaiya): the phase with the most normalised pressure gets the green."""

from __future__ import annotations

from kernels.traffic.layout import MAX_PRESSURE
from twin.traffic.signals.strategies.actuated import ActuatedStrategy
from twin.traffic.signals.strategies.registry import register_strategy


@register_strategy
class MaxPressureStrategy(ActuatedStrategy):
    """After the minimum green, every decision interval, switch to the phase with the largest
    Σ saturation flow × (queue in / storage in − vehicles out / storage out) if it beats the
    current one. Timed and configured as actuated control (its minimum and maximum greens), but
    run by the kernel's max-pressure logic."""

    name = "max_pressure"
    listed = 3
    control = MAX_PRESSURE
    sumo_type = "static"
