"""Operating plans side by side: one KPI row per plan, and what holding and priority change.

The rows (:func:`plan_kpis` plus :func:`junction_delay_kpis`) form a table with one row per
:class:`~twin.transit.plans.OperatingPlan`. Over that table, :func:`holding_effect_pct` and
:func:`priority_effect` compare the recommended plan with its twin that differs only in
holding, or only in signal priority, all plans having seen the same passengers and background
traffic (common random numbers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twin.transit.costs import CostModel
from twin.transit.metrics import line_kpis, passenger_counts
from twin.transit.plans import OperatingPlan
from twin.transit.records import BusRun

if TYPE_CHECKING:
    import pandas as pd

TRAFFIC_PREFIX = "traffic_"
"""Prefix of the columns holding the background traffic's delays at the line's junctions."""


def plan_kpis(plan: OperatingPlan, run: BusRun, line_id: str, costs: CostModel) -> dict[str, float]:
    """A plan's settings, its line's KPIs (:func:`twin.transit.metrics.line_kpis`), the share of
    passengers left behind at least once (%) and the passengers who arrived."""
    k = line_kpis(run, line_id, costs)
    counts = passenger_counts(run)
    left_pct = 100.0 * counts["left_behind_pax"] / counts["arrived_pax"] if counts["arrived_pax"] else 0.0
    return {
        "variant": plan.name, "headway_s": plan.headway_s, "fleet_veh": plan.fleet_veh,
        "planned_fleet_needed_veh": plan.fleet_needed_veh,
        "calibrated_fleet_needed_veh": plan.calibrated_fleet_needed_veh, "holding": plan.holding,
        "priority": plan.priority, **k, "left_behind_pct": left_pct, "arrived_pax": counts["arrived_pax"],
    }


def junction_delay_kpis(delays: dict[str, float]) -> dict[str, float]:
    """The junctions' background delays (:meth:`twin.transit.priority.JunctionTraffic.delays`) as
    plan columns."""
    return {f"{TRAFFIC_PREFIX}{name}": value for name, value in delays.items()}


def holding_effect_pct(table: pd.DataFrame, best: int) -> dict[str, float]:
    """Holding's effect on bunching: the headway CV at the plan ``best``'s headway, fleet and
    priority, holding against none (%); empty unless the table has both."""
    row = table.loc[best]
    twins = table[(table["headway_s"] == row["headway_s"]) & (table["fleet_veh"] == row["fleet_veh"])
                  & (table["priority"] == row["priority"])]
    cv_none = twins[twins["holding"] == "none"]["headway_cv_ratio"]
    cv_held = twins[twins["holding"] != "none"]["headway_cv_ratio"]
    if not (len(cv_none) and len(cv_held)):
        return {}
    return {"holding_headway_cv_change_pct": 100.0 * (float(cv_held.mean()) / float(cv_none.mean()) - 1.0)}


def priority_pair(table: pd.DataFrame, best: int) -> tuple[int, int] | None:
    """Rows (without, with) priority at the plan ``best``'s headway, holding and fleet margin."""
    if f"{TRAFFIC_PREFIX}general_delay_s_per_veh" not in table:
        return None
    row = table.loc[best]
    # Priority changes the running cycle, so each setting has its own calibrated fleet: compare
    # plans with the same margin over their need (e.g. both at exactly the fleet they need).
    margin = table["fleet_veh"] - table["calibrated_fleet_needed_veh"]
    same = table[(table["headway_s"] == row["headway_s"]) & (table["holding"] == row["holding"])
                 & (margin == margin.loc[best])]
    off = same[~same["priority"]]
    on = same[same["priority"]]
    if off.empty or on.empty:
        return None
    return int(off.index[0]), int(on.index[0])


def priority_effect(table: pd.DataFrame, best: int) -> dict[str, float]:
    """What transit signal priority changes, measured: buses' signal delay, ride and cycle, and
    the background traffic's stop-line delay at the line's junctions (main road and cross street)."""
    pair = priority_pair(table, best)
    if pair is None:
        return {}
    off, on = table.loc[pair[0]], table.loc[pair[1]]
    return {
        "bus_signal_delay_no_tsp_s": float(off["mean_signal_delay_s"]),
        "bus_signal_delay_tsp_s": float(on["mean_signal_delay_s"]),
        "tsp_bus_signal_delay_change_s": float(on["mean_signal_delay_s"] - off["mean_signal_delay_s"]),
        "tsp_in_vehicle_time_change_s": float(on["mean_in_vehicle_time_s"] - off["mean_in_vehicle_time_s"]),
        "tsp_cycle_time_change_s": float(on["cycle_time_s"] - off["cycle_time_s"]),
        "tsp_main_road_delay_change_s_per_veh": float(
            on["traffic_main_road_delay_s_per_veh"] - off["traffic_main_road_delay_s_per_veh"]),
        "tsp_cross_street_delay_change_s_per_veh": float(
            on["traffic_cross_street_delay_s_per_veh"] - off["traffic_cross_street_delay_s_per_veh"]),
        "tsp_general_delay_change_s_per_veh": float(
            on["traffic_general_delay_s_per_veh"] - off["traffic_general_delay_s_per_veh"]),
        "priority_requests_count": float(on["traffic_priority_requests_count"]),
        "tsp_fleet_change_veh": float(on["fleet_veh"] - off["fleet_veh"]),
    }
