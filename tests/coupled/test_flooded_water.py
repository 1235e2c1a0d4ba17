"""Flooded pump stations stop, pressures fall and people go below service pressure; nothing else moves."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from twin.city.folder import load_city
from twin.coupled.outages import outage_intervals, stopped_at
from twin.coupled.water import attach_water, town_shortfall, water_facilities
from twin.engine import Engine
from twin.water.compile import compile_network
from twin.water.epanet_io import read_inp
from twin.water.service import below_service, population_served, service_network, step_durations
from twin.water.town_supply import junction_towns

HOURS = 6


def test_a_station_stops_when_the_water_reaches_it_and_restarts_after_the_delay():
    t = np.arange(0, 10) * 600.0
    depth = np.array([0, 0.02, 0.06, 0.1, 0.04, 0.0, 0.07, 0.0, 0.0, 0.0])
    assert outage_intervals(t, depth, 0.05, 300.0) == [(1200.0, 2700.0), (3600.0, 4500.0)]
    # flooding again before the restart merges the outages
    assert outage_intervals(t, depth, 0.05, 1800.0) == [(1200.0, 4200.0 + 1800.0)]
    assert outage_intervals(t, np.full(10, 0.1), 0.05, 300.0) == [(0.0, np.inf)]
    assert outage_intervals(t, np.zeros(10), 0.05, 300.0) == []
    assert stopped_at([(1200.0, 2700.0)], 1200.0) and not stopped_at([(1200.0, 2700.0)], 2700.0)


@pytest.fixture(scope="module")
def water():
    wn = read_inp(load_city().water_inp)
    base = compile_network(wn)
    return wn, base


def _run(base, outages):
    engine = Engine(seed=1, start=datetime(2026, 9, 1), duration_s=HOURS * 3600.0)
    facilities = water_facilities(base)
    run = attach_water(service_network(base), facilities, outages, engine, HOURS * 3600.0)
    engine.env.run(until=HOURS * 3600.0 + 1e-6)
    return run, run.sim.finish()


def test_the_bundled_network_has_its_stations_and_plants(water):
    _, base = water
    facilities = {f.name: f for f in water_facilities(base)}
    assert {"PLANT_BINHAI", "PLANT_CHENGQU"} <= set(facilities)
    assert facilities["PLANT_BINHAI"].kind == "plant"
    assert sum(f.kind == "pump" for f in facilities.values()) >= 20
    # sites are in Changle (lon/lat)
    assert all(119.3 < f.lon < 119.8 and 25.6 < f.lat < 26.1 for f in facilities.values())


def test_stopped_stations_drop_pressure_and_leave_people_below_service(water):
    wn, base = water
    stations = ["BPS5428", "BPS5436", "BPS5632", "BPS5675"]
    dry, dry_results = _run(base, {})
    wet, wet_results = _run(base, {name: [(3600.0, 4 * 3600.0)] for name in stations})
    assert dry.log.events == []
    assert [e for e in wet.log.events if e[2] == "stops"] == [(3600.0, s, "stops") for s in stations]
    nj = base.n_junctions
    during = (wet_results.time_s >= 3600.0) & (wet_results.time_s < 4 * 3600.0)
    drop = dry_results.pressure_m[during, :nj] - wet_results.pressure_m[during, :nj]
    assert drop.max() > 5.0  # metres of head lost downstream of the stations
    # elsewhere pressures barely move (less flow in shared mains: a little more head, under 1 m)
    assert drop.min() > -1.0
    population = population_served(base)
    towns = np.array(junction_towns(wn, base))
    steps = step_durations(wet_results.time_s, HOURS * 3600.0)
    short = town_shortfall(below_service(wet_results), population, towns, steps)
    base_short = town_shortfall(below_service(dry_results), population, towns, steps)
    added = sum(short[t][1] - base_short[t][1] for t in short)
    assert added > 0
    # before the stop and after the restart the hydraulics match the dry run
    before = wet_results.time_s < 3600.0
    assert np.allclose(wet_results.pressure_m[before], dry_results.pressure_m[before])
