"""The parameters of the traffic model, with their sources (see ``docs/traffic.md``).

The ``[traffic]`` table of a scenario file; defaults are SUMO's default car and HCM 6 practice.
"""

from __future__ import annotations

from pydantic import Field

from twin.config import StrictModel


class TrafficParams(StrictModel):
    """Parameters of the traffic model, with their sources (see ``docs/traffic.md``)."""

    step_s: float = Field(default=1.0, gt=0, le=5, description="Kernel time step (s).")
    saturation_flow_veh_per_h_per_lane: float = Field(
        default=1800.0,
        ge=600,
        le=2600,
        description="Saturation flow per through lane (veh/h/lane); HCM base 1900 pc/h/ln, mixed traffic.",
    )
    left_turn_factor: float = Field(default=0.95, gt=0, le=1, description="HCM protected left-turn factor.")
    right_turn_factor: float = Field(default=0.85, gt=0, le=1, description="HCM right-turn factor.")
    uturn_factor: float = Field(default=0.8, gt=0, le=1, description="U-turn saturation factor.")
    jam_spacing_m: float = Field(
        default=7.5, gt=3, le=20, description="Space per stopped car (5 m + 2.5 m gap, SUMO's default car)."
    )
    startup_lost_s: float = Field(
        default=2.0, ge=0, le=6, description="Start-up lost time per green (HCM 6 default 2 s)."
    )
    yellow_extension_s: float = Field(
        default=2.0, ge=0, le=5, description="Yellow still used by drivers (HCM 6 default 2 s)."
    )
    critical_gap_s: float = Field(
        default=4.0,
        gt=0,
        le=10,
        description="Time to the next priority vehicle a yielding movement needs (s).",
    )
    clearance_s: float = Field(
        default=2.0, ge=0, le=10, description="Time a crossing vehicle keeps the conflict area busy (s)."
    )
    lookout_speed_m_per_s: float = Field(
        default=5.0,
        gt=0,
        le=30,
        description="Speed drivers who must give way at an unsignalised junction slow to, to look (m/s).",
    )
    stop_delay_s: float = Field(
        default=5.0, ge=0, le=30, description="Stop-line delay counted as a stop (s)."
    )
    detector_lead_s: float = Field(
        default=3.0, ge=0, le=20, description="Actuated detector set-back (s of travel)."
    )
    accel_m_per_s2: float = Field(default=2.6, gt=0, le=6, description="Acceleration (SUMO default car).")
    decel_m_per_s2: float = Field(
        default=4.5, gt=0, le=9, description="Comfortable deceleration (SUMO default car)."
    )
    lateral_accel_m_per_s2: float = Field(
        default=5.5,
        gt=0,
        le=10,
        description="Lateral acceleration limiting turn speeds (netconvert default).",
    )
    lane_width_m: float = Field(default=3.2, gt=2, le=5, description="Lane width for junction sizes (m).")
    depart_from_rest: bool = Field(
        default=True, description="Trips start at speed 0 (SUMO's default departSpeed)."
    )
    sync_interval_s: float = Field(
        default=10.0, gt=0, le=600, description="Simulated time per kernel call (s)."
    )
    stats_bin_s: float = Field(
        default=900.0, gt=0, le=7200, description="Time-of-day bin of link results (s)."
    )
    gridlock_after_s: float = Field(
        default=300.0, gt=0, description="A spillback cycle blocked this long is gridlock (s)."
    )
