"""KPIs of a bus run: plain functions over a finished :class:`~twin.transit.records.BusRun`.

* :func:`passenger_counts`: the conservation ledger (arrived = boarded + waiting + abandoned);
* :func:`headway_cv`, :func:`achieved_headway_s`: bunching and the headway actually run;
* :func:`running_cycle_s`, :func:`mean_offsets_s`: the cycle and running times as simulated
  (the fleet a headway needs, and a timetable from observed running times);
* :func:`line_kpis`: one line's waits, riding, loads, punctuality, fleet, work and daily cost,
  built from :func:`wait_and_ride_s`, :func:`load_factors`, :func:`on_time_pct`,
  :func:`fleet_kpis` and :func:`cost_kpis`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from twin.transit.costs import CostModel, daily_operating_cost_cny
from twin.transit.fleet import fleet_needed_veh
from twin.transit.records import BusRun

if TYPE_CHECKING:
    import pandas as pd


def passenger_counts(run: BusRun) -> dict[str, int]:
    """Conservation ledger: arrived = boarded + waiting + abandoned; left-behind counted once."""
    pax = run.passengers[run.passengers["arrived"]]
    boarded = int(pax["board_s"].notna().sum())
    abandoned = int(pax["abandon_s"].notna().sum())
    return {
        "arrived_pax": len(pax),
        "boarded_pax": boarded,
        "abandoned_pax": abandoned,
        "waiting_pax": len(pax) - boarded - abandoned,
        "left_behind_pax": int(pax["left_behind"].sum()),
    }


def headway_cv(run: BusRun, line_id: str, direction: int = 0, skip_first_trips: int = 0) -> float:
    """Mean over stops (all but the last) of the CV of departure headways: bunching (0 = even)."""
    visits = run.stop_visits
    v = visits[(visits["line_id"] == line_id) & (visits["direction"] == direction)]
    pattern = run.network.line(line_id).pattern(direction)
    cvs = []
    weights = []
    for seq, group in v.groupby("seq"):
        if seq >= pattern.n_stops - 1:
            continue
        times = np.sort(group["depart_s"].dropna().to_numpy())[skip_first_trips:]
        if len(times) < 3:
            continue
        gaps = np.diff(times)
        if gaps.mean() <= 0:
            continue
        cvs.append(gaps.std() / gaps.mean())
        weights.append(len(gaps))
    return float(np.average(cvs, weights=weights)) if cvs else math.nan


def achieved_headway_s(run: BusRun, line_id: str, direction: int = 0) -> float:
    """Mean interval between dispatches from the terminal of ``direction`` (s)."""
    trips = run.trips
    t = np.sort(trips[(trips["line_id"] == line_id) & (trips["direction"] == direction)
                      & ~trips["extra"]]["dispatch_s"].to_numpy())
    return float(np.diff(t).mean()) if len(t) > 1 else math.nan


def running_cycle_s(run: BusRun, line_id: str) -> float:
    """The line's running cycle as simulated (s): for each direction, the mean time from
    dispatch to leaving the last stop of its completed scheduled trips (plus the empty run back
    of a one-direction line), plus the terminal layover; idle time waiting for a timetable slot
    is not part of it. ``ceil(cycle / headway)`` buses hold the headway."""
    trips = run.trips
    mine = trips[(trips["line_id"] == line_id) & ~trips["extra"] & trips["end_s"].notna()]
    layover_s = run.services[line_id].min_layover_s
    cycle = 0.0
    for direction in run.network.line(line_id).directions:
        done = mine[mine["direction"] == direction]
        if done.empty:
            return math.nan
        cycle += float((done["end_s"] - done["dispatch_s"] + done["deadhead_s"]).mean()) + layover_s
    return cycle


def mean_offsets_s(run: BusRun, line_id: str, direction: int) -> list[float] | None:
    """Mean departure offset from the dispatch at each stop over completed scheduled trips, made
    non-decreasing (s); ``None`` if no trip completed. A timetable built from observed running
    times, as operators build theirs from AVL data."""
    trips = run.trips
    done = trips[(trips["line_id"] == line_id) & (trips["direction"] == direction) & ~trips["extra"]
                 & trips["end_s"].notna()]
    if done.empty:
        return None
    visits = run.stop_visits[run.stop_visits["trip_index"].isin(done["trip_index"])]
    dispatch = done.set_index("trip_index")["dispatch_s"]
    offsets = (visits["depart_s"] - visits["trip_index"].map(dispatch)).groupby(visits["seq"]).mean()
    return np.maximum.accumulate(offsets.sort_index().to_numpy()).tolist()


def riders(run: BusRun, line_id: str) -> pd.DataFrame:
    """The passengers (arrived during the run) who boarded a trip of ``line_id``."""
    trip_ids = set(run.trips[run.trips["line_id"] == line_id]["trip_id"])
    pax_all = run.passengers[run.passengers["arrived"]]
    return pax_all[pax_all["trip_id"].isin(trip_ids)]


def wait_and_ride_s(on_line: pd.DataFrame) -> dict[str, float]:
    """Mean and 95th-percentile wait of those who boarded, and the mean ride of those who got off (s).

    Passengers still waiting at the end have censored waits and are left out (they are
    counted in ``waiting_pax`` of :func:`passenger_counts`).
    """
    waits = (on_line["board_s"] - on_line["arrive_s"]).to_numpy()
    done = on_line[on_line["alight_s"].notna()]
    ride = (done["alight_s"] - done["board_s"]).to_numpy()
    return {
        "mean_wait_s": float(waits.mean()) if len(waits) else math.nan,
        "p95_wait_s": float(np.percentile(waits, 95)) if len(waits) else math.nan,
        "mean_in_vehicle_time_s": float(ride.mean()) if len(ride) else math.nan,
    }


def load_factors(run: BusRun, line_id: str) -> dict[str, float]:
    """Mean load factor (passenger-km over place-km, over legs actually run) and the peak one
    (the busiest leg's mean load over capacity)."""
    line = run.network.line(line_id)
    capacity_pax = run.vehicles[line_id].capacity_pax
    visits = run.stop_visits[run.stop_visits["line_id"] == line_id]
    loads = visits.sort_values(["trip_index", "seq"])
    pax_km = 0.0
    place_km = 0.0
    peak_load = 0.0
    for direction in line.directions:
        lengths_km = np.array(line.pattern(direction).leg_length_m) / 1000.0
        v = loads[(loads["direction"] == direction) & (loads["seq"] < len(lengths_km))]
        if v.empty:
            continue
        by_seq = v.groupby("seq")["load_pax"].mean()
        peak_load = max(peak_load, float(by_seq.max()) / capacity_pax)
        legs_km = lengths_km[v["seq"].to_numpy()]
        pax_km += float((v["load_pax"].to_numpy() * legs_km).sum())
        place_km += float(legs_km.sum()) * capacity_pax
    return {
        "mean_load_factor_ratio": pax_km / place_km if place_km else math.nan,
        "peak_load_factor_ratio": peak_load,
    }


def on_time_pct(run: BusRun, line_id: str) -> float:
    """Share of scheduled trips' stop departures within the on-time window of the timetable (%)."""
    visits = run.stop_visits[run.stop_visits["line_id"] == line_id]
    scheduled = visits[~visits["extra"] & visits["depart_s"].notna()]
    lateness = (scheduled["depart_s"] - scheduled["scheduled_s"]).to_numpy()
    ops = run.operations
    on_time = (lateness >= -ops.on_time_early_s) & (lateness <= ops.on_time_late_s)
    return 100.0 * float(on_time.mean()) if len(on_time) else math.nan


def fleet_kpis(run: BusRun, line_id: str) -> dict[str, float]:
    """Dispatch delay, headway achieved, running cycle, fleet (assigned, used, needed) and trips.

    The running cycle is dispatch from terminal 0 to ready there again (trips plus minimum
    layovers), so the fleet needed is ``ceil(cycle / headway)``; compare with ``fleet_veh``.
    """
    service = run.services[line_id]
    trips = run.trips[run.trips["line_id"] == line_id]
    scheduled = trips[~trips["extra"]]
    lateness_dispatch = scheduled["dispatch_s"] - scheduled["scheduled_s"]
    cycle_s = running_cycle_s(run, line_id)
    return {
        "mean_dispatch_delay_s": float(lateness_dispatch.mean()) if len(lateness_dispatch) else math.nan,
        "achieved_headway_s": achieved_headway_s(run, line_id, 0),
        "cycle_time_s": cycle_s,
        "fleet_veh": service.fleet_veh,
        "fleet_used_veh": int(scheduled["bus_id"].nunique()),
        "fleet_needed_veh": fleet_needed_veh(cycle_s, service.headway_s) if math.isfinite(cycle_s) else math.nan,
        "trips_count": int((~trips["extra"]).sum()),
        "extra_trips_count": int(trips["extra"].sum()),
    }


def work_kpis(run: BusRun, line_id: str) -> dict[str, float]:
    """Vehicle-km and vehicle-hours run (trips still running count up to the end), and the mean
    signal delay per trip (s)."""
    trips = run.trips[run.trips["line_id"] == line_id]
    ends = trips["end_s"].fillna(run.duration_s)
    return {
        "vehicle_km": float(trips["length_m"].sum()) / 1000.0,
        "vehicle_hours_h": float((ends - trips["dispatch_s"]).sum()) / 3600.0,
        "mean_signal_delay_s": float(trips["signal_delay_s"].mean()) if len(trips) else 0.0,
    }


def cost_kpis(run: BusRun, line_id: str, vehicle_km: float, costs: CostModel) -> dict[str, float]:
    """Cost per day as run, crewed and driverless (CNY/day): the run's vehicle-km per hour over a
    service day, with the assigned fleet and its reserve."""
    service = run.services[line_id]
    vehicle = run.vehicles[line_id]
    km_per_h = vehicle_km / (run.duration_s / 3600.0) if run.duration_s > 0 else 0.0
    fleet_costed = service.fleet_veh + service.extra_buses_veh
    as_run = daily_operating_cost_cny(vehicle, costs, fleet_costed, km_per_h)
    crewed = daily_operating_cost_cny(vehicle, costs, fleet_costed, km_per_h, autonomous=False)
    driverless = daily_operating_cost_cny(vehicle, costs, fleet_costed, km_per_h, autonomous=True)
    return {
        "cost_cny_per_day": as_run["total_cny_per_day"],
        "crewed_cost_cny_per_day": crewed["total_cny_per_day"],
        "autonomous_cost_cny_per_day": driverless["total_cny_per_day"],
    }


def line_kpis(run: BusRun, line_id: str, costs: CostModel | None = None) -> dict[str, float]:
    """KPIs of one line: waits, riding, loads, bunching, punctuality, fleet, vehicle-km and cost.

    Waits and in-vehicle times are over passengers who boarded (those still waiting at the end
    have censored waits, counted in ``waiting_pax`` instead). Cycle time is the running cycle:
    dispatch from terminal 0 to ready there again (trips plus minimum layovers), so fleet needed
    is ``ceil(cycle / headway)``; compare with ``fleet_veh``. With one line in the run, the
    run's abandoned and still-waiting passengers are the line's too.
    """
    on_line = riders(run, line_id)
    work = work_kpis(run, line_id)
    result = {
        "boarded_pax": len(on_line),
        **wait_and_ride_s(on_line),
        **load_factors(run, line_id),
        "left_behind_pax": int(on_line["left_behind"].sum()),
        "headway_cv_ratio": headway_cv(run, line_id, 0),
        "on_time_pct": on_time_pct(run, line_id),
        **fleet_kpis(run, line_id),
        **work,
    }
    if len(run.services) == 1:
        counts = passenger_counts(run)
        result["abandoned_pax"] = counts["abandoned_pax"]
        result["waiting_at_end_pax"] = counts["waiting_pax"]
    result.update(cost_kpis(run, line_id, work["vehicle_km"], costs or CostModel()))
    return result


def load_profile(run: BusRun, capacity_pax: int) -> pd.DataFrame:
    """Per direction and stop: mean and peak load leaving it, boardings, alightings and the mean
    load factor (mean load over ``capacity_pax``)."""
    visits = run.stop_visits
    profile = (visits.groupby(["direction", "seq", "stop_id"])
               .agg(mean_load_pax=("load_pax", "mean"), max_load_pax=("load_pax", "max"),
                    boardings=("boardings", "sum"), alightings=("alightings", "sum"))
               .reset_index())
    profile["mean_load_factor"] = profile["mean_load_pax"] / capacity_pax
    return profile
