"""The cascade of the typhoon day: what happened, when, in which system and through which coupling;
and who was hit where (街道/镇) and in which hour.

Events (:func:`cascade_events`), as ``(time_s, system, event, coupling, detail)``:

* **rain**: the rain starts, peaks (the bin of highest intensity) and ends (hazard: no coupling);
* **roads** (flood_roads): the first link reaches the closure depth, the most links closed at
  once, the last closed link reopens, from the flood on every link over the whole day;
* **water** (pump_outage): each facility's stop and restart, and the peak of people below service;
  (main_burst): the burst story's events (burst, detected, dispatched, on site, isolated, restored),
  the crew's arrival marked ``main_burst+flood_roads`` when it drove the flooded roads;
* **compute** (grid_derate): each derate (nodes out, jobs preempted) and restore.

The people hit (:func:`impact_by_hour`, :func:`impact_by_town`), a stated measure: the residents
of every zone while one of its road links is closed (cut off by water in the street), plus the
people the pump outages put below service pressure (those below it on the dry day do not count),
in person-hours. The **hour that decides the day** is the clock hour with the most person-hours
hit; the **worst-hit towns** are those with the most.
"""

from __future__ import annotations

import numpy as np

from twin.coupled.roads import CLOSURE_DEPTH_MM
from twin.coupled.typhoon import CityDay, DayOutcome
from twin.water.service import below_service, population_served, step_durations

Event = tuple[float, str, str, str, str]
"""``(time_s, system, event, coupling, detail)``."""


def cascade_events(day: CityDay, outcome: DayOutcome, duration_s: float) -> list[Event]:
    """The day's events in time order (see the module docstring)."""
    events = _rain_events(day)
    if outcome.couplings["flood_roads"]:
        events += _road_events(day)
    if outcome.couplings["pump_outage"] and outcome.water is not None:
        events += [(t, "water", f"{name} {what}", "pump_outage", "") for t, name, what in outcome.water.log.events]
        people = water_people_below_added(day, outcome, None)
        if people is not None and people[1].max(initial=0.0) > 0:
            k = int(np.argmax(people[1]))
            events.append((float(people[0][k]), "water", "most people below service pressure", "pump_outage",
                           f"{people[1][k]:,.0f} people"))
    if outcome.couplings["main_burst"] and outcome.burst is not None:
        crew = "main_burst+flood_roads" if outcome.couplings["flood_roads"] else "main_burst"
        for name, t, detail in outcome.burst.log:
            coupling = crew if name == "on_site" else "main_burst"
            events.append((t, "water", f"main burst: {name.replace('_', ' ')}", coupling, detail))
    if outcome.couplings["grid_derate"]:
        for t, what, nodes, preempted in outcome.compute_log.events:
            detail = f"{nodes} nodes, {preempted} jobs preempted" if what == "derate" else f"{nodes} nodes"
            events.append((t, "compute", f"grid {what}", "grid_derate", detail))
    return sorted((e for e in events if e[0] <= duration_s), key=lambda e: (e[0], e[1], e[2]))


def _rain_events(day: CityDay) -> list[Event]:
    rain = day.rain
    wet = np.nonzero(rain.depth_mm > 0)[0]
    if not len(wet):
        return []
    peak = int(np.argmax(rain.intensity_mm_per_h()))
    return [
        (float(rain.edges_s[wet[0]]), "rain", "rain starts", "", ""),
        (float(rain.edges_s[peak]), "rain", "rain peaks", "", f"{rain.intensity_mm_per_h()[peak]:.0f} mm/h"),
        (float(rain.edges_s[wet[-1] + 1]), "rain", "rain ends", "", f"{rain.total_mm:.0f} mm in all"),
    ]


def closed_links_over_time(day: CityDay) -> np.ndarray:
    """Links at or above the closure depth at each flood time."""
    return (day.flood.depth_m * 1000.0 >= CLOSURE_DEPTH_MM).sum(axis=1)


def _road_events(day: CityDay) -> list[Event]:
    closed = closed_links_over_time(day)
    times = day.flood.time_s
    if not closed.any():
        return []
    on = np.nonzero(closed)[0]
    peak = int(np.argmax(closed))
    out = [
        (float(times[on[0]]), "roads", "first road closed by water", "flood_roads", f"{closed[on[0]]} links"),
        (float(times[peak]), "roads", "most roads closed", "flood_roads", f"{closed[peak]} links"),
    ]
    if on[-1] + 1 < len(times):
        out.append((float(times[on[-1] + 1]), "roads", "last closed road reopens", "flood_roads", ""))
    return out


def water_people_below_added(day: CityDay, outcome: DayOutcome, dry: DayOutcome | None
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Reported times, people below service beyond the dry run's, and per junction and time the
    added indicator (a junction below service now that is not on the dry day)."""
    if outcome.water_results is None:
        return None
    wet = below_service(outcome.water_results)
    if dry is not None and dry.water_results is not None:
        wet = wet & ~below_service(dry.water_results)
    population = _population(day)
    return outcome.water_results.time_s, (wet * population[None, :]).sum(axis=1), wet


def _population(day: CityDay) -> np.ndarray:
    return population_served(day.water)


def road_people_over_time(day: CityDay, residents: np.ndarray) -> np.ndarray:
    """``[flood time, zone]``: residents of each zone while one of its road links is closed."""
    closed = day.flood.depth_m * 1000.0 >= CLOSURE_DEPTH_MM
    zones = len(residents)
    out = np.zeros((len(day.flood.time_s), zones))
    link_zone = day.flood.geometry.link_zone
    for k in range(len(day.flood.time_s)):
        hit = np.bincount(link_zone[closed[k]], minlength=zones) > 0
        out[k] = np.where(hit, residents, 0.0)
    return out


def hourly_person_hours(times_s: np.ndarray, people: np.ndarray, end_s: float) -> np.ndarray:
    """Person-hours per clock hour from states ``people[k, ...]`` that hold from ``times_s[k]`` to the next."""
    hours = int(np.ceil(end_s / 3600.0 - 1e-9))
    out = np.zeros((hours, *people.shape[1:]))
    edges = np.append(times_s, end_s)
    for k in range(len(times_s)):
        a, b = float(edges[k]), float(min(edges[k + 1], end_s))
        h = int(a // 3600.0)
        while a < b - 1e-9 and h < hours:
            step = min(b, (h + 1) * 3600.0) - a
            out[h] += people[k] * step / 3600.0
            a += step
            h += 1
    return out


def impact(day: CityDay, outcome: DayOutcome, dry: DayOutcome | None, zone_town: np.ndarray,
           residents: np.ndarray, water_town: np.ndarray, duration_s: float) -> dict[str, np.ndarray]:
    """Person-hours hit per clock hour and per town, by roads and by water (see the module docstring).

    Returns ``towns`` (sorted town ids), ``road_town_h`` and ``water_town_h`` (person-hours per
    town), ``road_hour_h`` and ``water_hour_h`` (person-hours per clock hour).
    """
    towns = np.unique(np.concatenate([zone_town, water_town]))
    hours = int(np.ceil(duration_s / 3600.0 - 1e-9))
    road_town, water_town_h = np.zeros(len(towns)), np.zeros(len(towns))
    road_hour, water_hour = np.zeros(hours), np.zeros(hours)
    if outcome.couplings["flood_roads"]:
        per_zone = hourly_person_hours(day.flood.time_s, road_people_over_time(day, residents), duration_s)
        road_hour = per_zone.sum(axis=1)
        road_town = np.array([per_zone[:, zone_town == t].sum() for t in towns])
    water = water_people_below_added(day, outcome, dry)
    if water is not None and outcome.couplings["pump_outage"]:
        times, _, added = water
        people = added * _population(day)[None, :]
        per_junction = hourly_person_hours(times, people, duration_s)
        water_hour = per_junction.sum(axis=1)
        water_town_h = np.array([per_junction[:, water_town == t].sum() for t in towns])
    burst_town, burst_hour = _burst_impact(day, outcome, towns, water_town, duration_s)
    return {"towns": towns, "road_town_h": road_town, "water_town_h": water_town_h, "burst_town_h": burst_town,
            "road_hour_h": road_hour, "water_hour_h": water_hour, "burst_hour_h": burst_hour}


def _burst_impact(day: CityDay, outcome: DayOutcome, towns: np.ndarray, water_town: np.ndarray,
                  duration_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Person-hours the burst put below service (beyond its own dry day) per town and per clock hour;
    the burst network's junctions find their town by name (the hole's junction has none)."""
    hours = int(np.ceil(duration_s / 3600.0 - 1e-9))
    burst = outcome.burst
    if burst is None or not outcome.couplings["main_burst"]:
        return np.zeros(len(towns)), np.zeros(hours)
    service = burst.network.service
    nj = service.n_junctions
    town_of = dict(zip(day.water.node_names[: day.water.n_junctions], water_town, strict=True))
    junction_town = np.array([town_of.get(name, "") for name in service.node_names[:nj]])
    added = below_service(burst.result) & ~below_service(burst.baseline)
    people = added * burst.network.population[None, :]
    per_junction = hourly_person_hours(burst.result.time_s - burst.offset_s, people, duration_s)
    return np.array([per_junction[:, junction_town == t].sum() for t in towns]), per_junction.sum(axis=1)


def water_hours_below(outcome: DayOutcome, dry: DayOutcome | None, population: np.ndarray,
                      end_s: float) -> float:
    """Person-hours below service the outages added to the dry day (0 without the water system)."""
    if outcome.water_results is None:
        return 0.0
    wet = below_service(outcome.water_results)
    if dry is not None and dry.water_results is not None:
        wet = wet & ~below_service(dry.water_results)
    steps = step_durations(outcome.water_results.time_s, end_s)
    return float((wet * population[None, :]).sum(axis=1) @ steps / 3600.0)
