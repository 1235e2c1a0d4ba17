"""The coupled typhoon day: each coupling alone changes only its system; same seed, same KPIs;
no closed link carries flow; vehicles are conserved.

Runs on the bundled city with a reduced traffic window (30 min at the storm's peak) and a
smaller compute centre, so the four single-coupling days fit a test run.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenarios.kinds.typhoon_day import TyphoonDayFile, prepare, run_all, typhoon_kpis
from twin.coupled import timeline
from twin.coupled.burst import FloodedTravelTimes
from twin.coupled.buses import bus_kpis
from twin.coupled.roads import pregnolato_speed_kmh
from twin.coupled.typhoon import COUPLINGS, run_day
from twin.transit.metrics import passenger_counts

REDUCED = {
    "scenario": {"kind": "typhoon_day", "name": "typhoon_test", "seed": 7, "start": "2026-09-01T00:00:00",
                 "duration_s": 86400.0},
    "traffic": {"begin_s": 34200.0, "duration_s": 1800.0},  # 09:30-10:00, the storm's peak at 09:36
    "compute": {"nodes": 32, "jobs_per_h": 12.0},
}


def reduced_config(**couplings: bool) -> TyphoonDayFile:
    data = {**REDUCED, "couplings": couplings}
    return TyphoonDayFile.model_validate(json.loads(json.dumps(data)), strict=False)


@pytest.fixture(scope="module")
def prepared():
    return prepare(reduced_config())


@pytest.fixture(scope="module")
def days(prepared):
    """The day with no coupling, and with each coupling alone."""
    off = dict.fromkeys(COUPLINGS, False)
    runs = {"none": run_day(prepared.day, prepared.settings, off, 7, reduced_config().scenario.start)}
    for name in COUPLINGS:
        runs[name] = run_day(prepared.day, prepared.settings, {**off, name: True}, 7,
                             reduced_config().scenario.start)
    return runs


def _traffic_same(a, b) -> bool:
    return np.array_equal(a.roads.model.state.veh_arrive_s, b.roads.model.state.veh_arrive_s, equal_nan=True)


def _water_same(a, b) -> bool:
    return np.array_equal(a.water_results.pressure_m, b.water_results.pressure_m)


def _compute_same(a, b) -> bool:
    return a.compute.kpis == b.compute.kpis


def _no_burst(a) -> bool:
    return a.burst is None


def _buses_same(a, b) -> bool:
    return all(a.buses[g].passengers.equals(b.buses[g].passengers) for g in (False, True))


def test_the_storm_floods_roads_and_stations_and_crosses_the_derate_threshold(prepared):
    day = prepared.day
    assert timeline.closed_links_over_time(day).max() > 0
    assert (day.facility_depth_m.max(axis=0) >= prepared.settings.facility_flood_depth_m).any()
    assert day.rain.intensity_mm_per_h().max() >= prepared.settings.derate_above_mm_per_h


def test_flood_alone_adds_traffic_delay_and_nothing_else(days):
    none, flood = days["none"], days["flood_roads"]
    assert flood.roads.kpis()["vehicle_hours_veh_h"] > none.roads.kpis()["vehicle_hours_veh_h"]
    assert flood.roads.rerouted > 0
    assert _water_same(flood, none) and _compute_same(flood, none) and _no_burst(flood)
    assert _buses_same(flood, none)


def test_pump_outage_alone_drops_pressure_and_nothing_else(days, prepared):
    none, pump = days["none"], days["pump_outage"]
    nj = prepared.day.water.n_junctions
    drop = none.water_results.pressure_m[:, :nj] - pump.water_results.pressure_m[:, :nj]
    assert drop.max() > 5.0
    assert pump.water.log.events and not none.water.log.events
    assert _traffic_same(pump, none) and _compute_same(pump, none) and _no_burst(pump) and _buses_same(pump, none)


def test_grid_derate_alone_preempts_jobs_and_nothing_else(days):
    none, derate = days["none"], days["grid_derate"]
    assert [e[1] for e in derate.compute_log.events] == ["derate", "restore"]
    assert derate.compute_log.events[0][3] > 0  # jobs on the nodes taken down roll back and requeue
    assert derate.compute.kpis["lost_gpu_h"] > none.compute.kpis["lost_gpu_h"]
    assert _traffic_same(derate, none) and _water_same(derate, none) and _no_burst(derate)
    assert _buses_same(derate, none)


def test_main_burst_alone_loses_water_and_nothing_else(days):
    none, burst = days["none"], days["main_burst"]
    story = burst.burst
    assert [e[0] for e in story.log][:1] == ["burst"] and "restored" in story.times
    assert story.result.leak_m3_per_s[:, story.network.leak_node].max() > 0
    assert story.times["burst"] == burst.burst.times["burst"]  # at [burst] at_s on the day's clock
    assert _traffic_same(burst, none) and _water_same(burst, none) and _compute_same(burst, none)
    assert _buses_same(burst, none)


def test_the_crew_waits_out_a_closed_road_and_crawls_through_shallow_water():
    graph = nx.MultiDiGraph()
    graph.add_edge(1, 2, 0, length=500.0, speed_kph=36.0)  # 50 s at 10 m/s
    graph.add_edge(2, 3, 0, length=500.0, speed_kph=36.0)
    flood = SimpleNamespace(time_s=np.array([0.0, 600.0, 1200.0]),
                            depth_m=np.array([[0.0, 0.1], [0.4, 0.0], [0.0, 0.0]]))
    travel = FloodedTravelTimes(graph, flood, {(1, 2, 0): 0, (2, 3, 0): 1}, np.array([10.0, 10.0]))
    assert travel.edge_time_s((1, 2, 0), 100.0) == pytest.approx(50.0)
    # 0.1 m of water: Pregnolato's 40.6 km/h is above the 36 km/h limit, so no slower
    assert travel.edge_time_s((2, 3, 0), 100.0) == pytest.approx(50.0)
    # closed from 600 s to 1200 s: entered at 700 s, the crew waits 500 s, then drives 50 s
    assert travel.edge_time_s((1, 2, 0), 700.0) == pytest.approx(550.0)
    deep = SimpleNamespace(time_s=np.array([0.0]), depth_m=np.array([[0.2, 0.0]]))
    slow = FloodedTravelTimes(graph, deep, {(1, 2, 0): 0}, np.array([30.0, 30.0]))
    v_m_per_s = pregnolato_speed_kmh(200.0) / 3.6
    assert slow.edge_time_s((1, 2, 0), 0.0) == pytest.approx(50.0 * 30.0 / v_m_per_s)


def test_flooded_buses_alone_make_riders_wait_and_nothing_else(days):
    none, buses = days["none"], days["flood_buses"]
    dry, wet = bus_kpis(none.buses[False]), bus_kpis(buses.buses[False])
    assert wet["mean_wait_s"] > dry["mean_wait_s"] and wet["gave_up_pax"] > dry["gave_up_pax"]
    # driverless buses stop at 0.15 m: their riders give up too
    assert bus_kpis(buses.buses[True])["gave_up_pax"] > bus_kpis(none.buses[True])["gave_up_pax"]
    assert _traffic_same(buses, none) and _water_same(buses, none) and _compute_same(buses, none)
    assert _no_burst(buses)


def test_riders_are_conserved(days):
    """Every rider who arrived boarded, is still waiting or gave up, whatever the couplings."""
    for outcome in days.values():
        for run in outcome.buses.values():
            counts = passenger_counts(run)
            assert counts["arrived_pax"] == counts["boarded_pax"] + counts["waiting_pax"] + counts["abandoned_pax"]
            assert counts["waiting_pax"] >= 0


def test_no_closed_link_carries_flow_and_vehicles_are_conserved(days, prepared):
    trips = prepared.day.trips
    due = int(np.count_nonzero(trips.depart_s < prepared.settings.traffic_duration_s))
    for outcome in days.values():
        kpis = outcome.roads.kpis()
        assert kpis["departed_veh"] + kpis["waiting_to_depart_veh"] == due
    flood = days["flood_roads"].roads
    assert flood.log.closed_links and max(flood.log.closed_links) > 0
    assert flood.log.entries_while_closed == 0


def test_the_coupled_day_is_the_sum_of_its_couplings(days, prepared):
    """All couplings on: each system is what its coupling alone made it (nothing feeds back)."""
    everything = run_day(prepared.day, prepared.settings, dict.fromkeys(COUPLINGS, True), 7,
                         reduced_config().scenario.start)
    assert _traffic_same(everything, days["flood_roads"])
    assert _water_same(everything, days["pump_outage"])
    assert _compute_same(everything, days["grid_derate"])
    assert _buses_same(everything, days["flood_buses"])
    # the burst differs only by its crew's roads: on flooded roads it arrives no earlier
    dry_crew, wet_crew = days["main_burst"].burst.times, everything.burst.times
    assert wet_crew["on_site"] >= dry_crew["on_site"]
    assert wet_crew["burst"] == dry_crew["burst"] and wet_crew["detected"] == dry_crew["detected"]


def test_same_seed_same_kpi_bytes(prepared):
    config = reduced_config()
    first = json.dumps(typhoon_kpis(prepared, run_all(config, prepared)), sort_keys=True)
    again = prepare(config)
    second = json.dumps(typhoon_kpis(again, run_all(config, again)), sort_keys=True)
    assert first == second
    kpis = json.loads(first)
    assert kpis["flood_added_vehicle_hours_h"] > 0
    assert kpis["pump_outage_added_person_hours_person_h"] > 0
    assert kpis["derate_gpu_hours_unavailable_h"] > 0
    assert kpis["burst_water_lost_m3"] > 0 and kpis["flood_added_crew_travel_s"] >= 0


def test_hourly_person_hours_split_states_across_hours():
    times = np.array([0.0, 1800.0, 5400.0])
    people = np.array([10.0, 20.0, 0.0])
    # 10 people for 0.5 h, then 20 for 0.5 h in hour 0; 20 for 0.5 h in hour 1; none after
    assert timeline.hourly_person_hours(times, people, 3 * 3600.0).tolist() == [15.0, 10.0, 0.0]


@given(depth=st.lists(st.floats(0.0, 0.6), min_size=2, max_size=12), enters=st.lists(st.floats(0.0, 7000.0),
                                                                                    min_size=2, max_size=8))
def test_the_crew_s_road_times_are_fifo(depth, enters):
    """Entering later never arrives earlier: what makes the earliest-arrival route exact."""
    graph = nx.MultiDiGraph()
    graph.add_edge(1, 2, 0, length=800.0, speed_kph=50.0)
    flood = SimpleNamespace(time_s=np.arange(len(depth)) * 600.0, depth_m=np.array(depth)[:, None])
    travel = FloodedTravelTimes(graph, flood, {(1, 2, 0): 0}, np.array([50 / 3.6]))
    times = sorted(enters)
    arrive = [t + travel.edge_time_s((1, 2, 0), t) for t in times]
    assert all(b >= a - 1e-6 for a, b in zip(arrive, arrive[1:], strict=False))


@given(people=st.lists(st.floats(0.0, 1e5), min_size=1, max_size=10), gaps=st.lists(st.floats(1.0, 5000.0),
                                                                                    min_size=10, max_size=10))
def test_hourly_person_hours_add_up_to_the_integral(people, gaps):
    times = np.concatenate([[0.0], np.cumsum(gaps[: len(people) - 1])])
    end = float(times[-1] + gaps[-1])
    hourly = timeline.hourly_person_hours(times, np.array(people), end)
    integral = float(np.sum(np.array(people) * np.diff(np.append(times, end))) / 3600.0)
    assert hourly.sum() == pytest.approx(integral, rel=1e-9, abs=1e-6)
