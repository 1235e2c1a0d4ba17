"""How a line is operated (:class:`ServiceConfig`) and the bus model's options (:class:`OperationsConfig`).

Both are scenario-file tables (``[service]``, ``[operations]``): pydantic models whose every
field has a unit and a documented default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from twin.config import StrictModel


class ServiceConfig(StrictModel):
    """How one line is operated: headway, fleet, dispatch rule and holding control."""

    headway_s: float = Field(default=600.0, gt=0, le=14_400, description="Target headway (s).")
    fleet_veh: int = Field(default=6, ge=1, le=500, description="Buses assigned to the line.")
    dispatch: Literal["timetable", "headway"] = Field(
        default="timetable",
        description="timetable: depart at first + k·headway; headway: one headway after the last "
        "departure from the same terminal.",
    )
    holding: Literal["none", "headway", "schedule"] = Field(
        default="none",
        description="Holding at control stops: threshold headway holding, schedule holding, or none.",
    )
    holding_every_n_stops: int = Field(
        default=4, ge=1, le=100, description="Every n-th stop (after the first) is a control stop."
    )
    holding_threshold_ratio: float = Field(
        default=0.8, ge=0, le=1.5,
        description="Headway holding: leave no earlier than ratio × headway after the previous bus.",
    )
    max_holding_s: float = Field(default=180.0, ge=0, description="Longest hold at one stop (s).")
    min_layover_s: float = Field(default=180.0, ge=0, description="Layover at each terminal (s).")
    start_at: Literal["both_terminals", "first_terminal"] = Field(
        default="both_terminals",
        description="Where the fleet starts: shared between the two terminals (both directions run "
        "from the first departure), or all at the first terminal.",
    )
    planned_dwell_s: float = Field(
        default=15.0, ge=0, description="Dwell allowance per stop in the timetable (s)."
    )
    first_departure_s: float = Field(default=0.0, ge=0, description="First dispatch (s after start).")
    last_departure_s: float | None = Field(
        default=None, ge=0, description="Last dispatch from a terminal (s); default: end of run."
    )
    extra_buses_veh: int = Field(default=0, ge=0, le=100, description="Reserve buses for extra runs.")
    extra_trigger_pax: int = Field(
        default=60, ge=1, description="Waiting passengers on direction 0 that trigger an extra run."
    )
    extra_check_interval_s: float = Field(default=60.0, gt=0, description="Check period (s).")

    def last_dispatch_s(self, run_duration_s: float) -> float:
        """The last dispatch from a terminal (s): ``last_departure_s``, else the end of the run."""
        return self.last_departure_s if self.last_departure_s is not None else run_duration_s


class OperationsConfig(StrictModel):
    """Model options shared by every line of a run."""

    skip_empty_stops: bool = Field(
        default=True, description="Pass a stop without dwelling when nobody boards or alights."
    )
    dwell_cv: float = Field(default=0.0, ge=0, le=3, description="Lognormal noise on each dwell (CV).")
    link_time_cv: float = Field(
        default=0.0, ge=0, le=3, description="Lognormal noise on each leg's running time (CV)."
    )
    allow_overtaking: bool = Field(
        default=False, description="Let buses of one line pass each other between and at stops."
    )
    min_spacing_s: float = Field(
        default=1.0, ge=0, le=120, description="Least time between two buses of a line at a stop (s)."
    )
    patience_s: float | None = Field(
        default=None, gt=0, description="Passengers leave after waiting this long (s); none: never."
    )
    on_time_early_s: float = Field(default=60.0, ge=0, description="On time: at most this early (s).")
    on_time_late_s: float = Field(default=300.0, ge=0, description="On time: at most this late (s).")
