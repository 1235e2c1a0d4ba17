"""The city brain's 1-hour projection (一小时持续推演): an ensemble of the coupled day from a time on.

The state at ``at_s`` is the run's own: every member replays the day deterministically up to
``at_s`` (same rain, same seeds of everything already drawn), so at ``at_s`` all members hold the
scenario's state exactly, and they differ only in what is not yet known:

* **rain to come**: every bin from ``at_s`` on is scaled by ``exp(σ z)``, z standard normal,
  σ = :data:`RAIN_LOG_SD` (assumption: a 1-hour rain forecast is good to about ±30 %);
* **repair time**: each member draws the burst's repair time from its own seed.

An observed state can replace the replay's pump stations and plants at ``at_s``
(:func:`read_pump_states`: ``facility,running``): a facility seen stopped stays stopped over the
horizon, one seen running keeps running. Demand uncertainty is not yet in the members, and traffic
is not projected (a district traffic run per member costs tens of seconds). Each member reports,
every ``sample_s`` over the horizon: links closed by water (roads), people below service pressure
(water), the burst's leak (water utility), GPUs in service (compute).

Hindcast (:func:`coverage`): the share of (KPI, time) points whose realised value lies in the
members' p10–p90 band. Two realised days are offered: the scenario's own day (its rain is the
members' median, so its coverage is optimistic) and a perfect-model truth (a day whose rain
factor and repair draw come from a stream no member uses).
"""

from __future__ import annotations

import csv
import difflib
import math
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

from twin.coupled.roads import CLOSURE_DEPTH_MM
from twin.coupled.typhoon import CityDay, DayOutcome, DaySettings, run_day
from twin.errors import InputError
from twin.hazards.flood import simulate_flood
from twin.hazards.storm import RainSeries
from twin.water.service import below_service, population_served

RAIN_LOG_SD = 0.3
"""Log standard deviation of the rain to come (assumption, see the module docstring)."""
BRAIN_SYSTEMS = ("water", "burst", "compute")
"""The systems a member runs (the roads' closures come from its flood)."""
KPIS = (("roads", "closed_links_count"), ("water", "people_below_service_count"),
        ("water", "burst_leak_m3_per_s"), ("compute", "gpus_in_service_gpus"))
"""What a member reports: (system, KPI name with its unit)."""


def rain_to_come(rain: RainSeries, at_s: float, factor: float) -> RainSeries:
    """``rain`` with every bin that starts at or after ``at_s`` times ``factor``."""
    later = rain.edges_s[:-1] >= at_s - 1e-9
    return RainSeries(rain.edges_s, np.where(later, rain.depth_mm * factor, rain.depth_mm))


def member_day(day: CityDay, rain: RainSeries, runoff: float, drain_mm_per_h: float, end_s: float,
               step_s: float) -> CityDay:
    """The day under another rain: its flood and the water at every facility recomputed."""
    flood = simulate_flood(day.flood.geometry, rain, runoff, drain_mm_per_h, end_s, step_s)
    lon = np.array([f.lon for f in day.facilities])
    lat = np.array([f.lat for f in day.facilities])
    zone, ground = day.flood.geometry.locate(lon, lat)
    return replace(day, rain=rain, flood=flood, facility_depth_m=flood.site_depth_m(zone, ground))


def _step_at(times_s: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    k = np.clip(np.searchsorted(times_s, at, side="right") - 1, 0, len(times_s) - 1)
    return values[k]


def sample(day: CityDay, outcome: DayOutcome, settings: DaySettings, times_s: np.ndarray) -> dict[str, np.ndarray]:
    """The member's KPIs (:data:`KPIS`) at ``times_s``."""
    closed = (day.flood.depth_m * 1000.0 >= CLOSURE_DEPTH_MM).sum(axis=1)
    out = {"closed_links_count": _step_at(day.flood.time_s, closed.astype(float), times_s)}
    people = np.zeros(len(times_s))
    if outcome.water_results is not None:
        res = outcome.water_results
        per_time = (below_service(res) * population_served(day.water)[None, :]).sum(axis=1)
        people = _step_at(res.time_s, per_time, times_s)
    out["people_below_service_count"] = people
    leak = np.zeros(len(times_s))
    if outcome.burst is not None:
        burst = outcome.burst
        leak = _step_at(burst.result.time_s - burst.offset_s, burst.result.leak_m3_per_s[:, burst.network.leak_node],
                        times_s)
    out["burst_leak_m3_per_s"] = leak
    gpus = day.cluster.nodes * day.cluster.gpus_per_node
    off = (day.cluster.nodes - math.floor(settings.derate_available_share * day.cluster.nodes)) \
        * day.cluster.gpus_per_node
    out["gpus_in_service_gpus"] = np.array([gpus - off if any(a <= t < b for a, b in outcome.derate) else gpus
                                            for t in times_s], dtype=float)
    return out


def run_member(day: CityDay, settings: DaySettings, couplings: dict[str, bool], seed: int, start: datetime,
               factor: float, at_s: float, horizon_s: float, runoff: float, drain_mm_per_h: float,
               sample_s: float = 300.0, observed_running: dict[str, bool] | None = None) -> dict[str, np.ndarray]:
    """One member: the day to ``at_s`` as it was, then the rain to come × ``factor``; KPIs every ``sample_s``.

    ``observed_running`` (facility → running at ``at_s``) is an observed state that overrides the
    replay's facilities from ``at_s`` on."""
    end_s = math.ceil((at_s + horizon_s) / settings.water_step_s) * settings.water_step_s
    short = replace(settings, duration_s=end_s)
    member = member_day(day, rain_to_come(day.rain, at_s, factor), runoff, drain_mm_per_h, end_s,
                        float(np.diff(day.flood.time_s[:2])[0]))
    observed = {name: (at_s, running) for name, running in (observed_running or {}).items()}
    outcome = run_day(member, short, couplings, seed, start, systems=BRAIN_SYSTEMS, observed=observed)
    return sample(member, outcome, short, at_s + np.arange(0.0, horizon_s + 1e-9, sample_s))


def member_factors(members: int, rng: np.random.Generator) -> np.ndarray:
    """The members' rain factors exp(σ z)."""
    return np.exp(RAIN_LOG_SD * rng.standard_normal(members))


def bands(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p10, p50, p90 over members (axis 0)."""
    p10, p50, p90 = np.percentile(values, [10.0, 50.0, 90.0], axis=0)
    return p10, p50, p90


def coverage(member_values: dict[str, np.ndarray], realised: dict[str, np.ndarray]) -> dict[str, float]:
    """Per KPI, the share of horizon times whose realised value lies in the members' p10–p90 (inclusive)."""
    out = {}
    for kpi, values in member_values.items():
        p10, _, p90 = bands(values)
        truth = realised[kpi]
        out[kpi] = float(np.mean((truth >= p10 - 1e-9) & (truth <= p90 + 1e-9)))
    return out


def read_pump_states(path: Path, facilities: list[str]) -> dict[str, bool]:
    """An observed state of the pump stations and plants: CSV ``facility,running`` (``true``/``false``,
    ``1``/``0``). An unknown facility or a bad value is an :class:`InputError` naming the file and row."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise InputError("observed pump states: file not found", path) from None
    if not rows or not {"facility", "running"} <= set(rows[0]):
        raise InputError("expected a CSV with columns facility,running and at least one row", path)
    known = set(facilities)
    out = {}
    for k, row in enumerate(rows, start=2):  # row 1 is the header
        name, value = (row["facility"] or "").strip(), (row["running"] or "").strip().lower()
        if name not in known:
            near = difflib.get_close_matches(name, facilities, n=3)
            raise InputError(f"row {k}: facility = {name!r}: not a pump station or plant of the network "
                             f"(nearest: {', '.join(repr(n) for n in near) or 'none'})", path)
        if value not in RUNNING_VALUES:
            raise InputError(f"row {k}: running = {row['running']!r}: expected true or false", path)
        out[name] = RUNNING_VALUES[value]
    return out


RUNNING_VALUES = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
"""How a pump state may be written."""
