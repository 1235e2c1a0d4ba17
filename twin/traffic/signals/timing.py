"""Signal timing parameters: intergreens, minimum and maximum greens, cycle limits, and the
settings of each strategy (the ``[timing]`` table of a scenario; defaults are common Chinese and
HCM practice)."""

from __future__ import annotations

from pydantic import Field

from twin.config import StrictModel


class TimingParams(StrictModel):
    """Signal timing parameters (defaults: common Chinese/HCM practice)."""

    yellow_s: float = Field(default=3.0, ge=0, le=6, description="Yellow (GB 14886: 3 s).")
    all_red_s: float = Field(default=2.0, ge=0, le=6, description="All-red clearance (s).")
    min_green_s: float = Field(
        default=10.0, ge=1, le=60, description="Minimum green (pedestrian crossing) (s)."
    )
    max_green_s: float = Field(
        default=60.0, ge=5, le=180, description="Maximum green for actuated control (s)."
    )
    min_cycle_s: float = Field(default=40.0, ge=10, le=300, description="Shortest Webster cycle (s).")
    max_cycle_s: float = Field(
        default=150.0, ge=30, le=300, description="Longest cycle; used when Y ≥ 0.9 (s)."
    )
    default_cycle_s: float = Field(
        default=90.0, ge=20, le=300, description="Cycle of the untimed default plans (s)."
    )
    oversaturation_y: float = Field(
        default=0.9, gt=0, lt=1, description="Y at which a junction is oversaturated."
    )
    passage_s: float = Field(default=3.0, gt=0, le=10, description="Actuated gap (passage) time (s).")
    actuated_min_green_s: float = Field(default=6.0, ge=1, le=30, description="Actuated minimum green (s).")
    decision_s: float = Field(default=5.0, gt=0, le=30, description="Max-pressure decision interval (s).")
    adaptive_every_cycles: int = Field(
        default=2, ge=1, le=20, description="Adaptive: re-optimise every N cycles."
    )
    adaptive_smoothing: float = Field(
        default=0.5, gt=0, le=1, description="Adaptive: weight of the newest counts."
    )
    tsp_max_extension_s: float = Field(
        default=15.0, ge=0, le=60, description="Transit priority: longest extension (s)."
    )
    progression_speed_factor: float = Field(
        default=1.0,
        gt=0.3,
        le=1.5,
        description="Green wave: progression speed as a share of free-flow speed.",
    )
