"""Robotaxi runs against results that do not depend on our code: networkx's Dijkstra on the same
link times, Little's law, and the energy balance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from robotaxi_cases import BINS_S, congested_grid, fleet_at, nx_time, to_node_times, uniform_requests

from twin.city.travel_times import TimeOfDayTravelTimes
from twin.errors import InputError
from twin.robotaxi.fleet import ChargingRules, Station, simulate, station_load_kw
from twin.robotaxi.policies import BatchAssignment, NearestVehicle
from twin.robotaxi.requests import requests_from_frame
from twin.robotaxi.tables import place_tables


def test_unlimited_fleet_wait_is_pickup_time_and_trip_is_shortest_path():
    graph, times, edges, table = congested_grid()
    rng = np.random.default_rng(0)
    nodes = np.array(list(graph.nodes))
    depots = rng.choice(nodes, 5, replace=False)
    requests = uniform_requests(rng, nodes, 60, 3 * 3600.0)
    tables = place_tables(graph, times, nodes, BINS_S)
    fleet = fleet_at(depots, 100)
    run = simulate(tables, requests, fleet, [], ChargingRules(), 3 * 3600.0)
    trips = run.trips
    assert (trips["vehicle"] >= 0).all()
    assert (trips["depart_s"] == trips["request_time_s"]).all()  # nobody waits for a free vehicle
    position = {v: int(n) for v, n in enumerate(fleet.start_node)}  # replayed here, not read
    free_s = dict.fromkeys(position, 0.0)
    for row in trips.itertuples():
        b = int(np.searchsorted(BINS_S, row.request_time_s, side="right") - 1)
        to_origin = to_node_times(graph, edges, table, b, int(row.origin_node))
        idle = [v for v in position if free_s[v] <= row.request_time_s]
        assert row.wait_s == pytest.approx(min(to_origin[position[v]] for v in idle), abs=1e-6)
        assert row.wait_s == pytest.approx(to_origin[position[row.vehicle]], abs=1e-6)
        b_trip = int(np.searchsorted(BINS_S, row.pickup_s, side="right") - 1)
        trip = nx_time(graph, edges, table, b_trip, int(row.origin_node), int(row.destination_node))
        assert row.trip_time_s == pytest.approx(trip, abs=1e-6)
        position[row.vehicle], free_s[row.vehicle] = int(row.destination_node), row.dropoff_s


def busy_vehicles_mean(trips: pd.DataFrame, begin_s: float, end_s: float) -> float:
    """Time-average number of vehicles driving to or with a rider in [begin_s, end_s)."""
    start = trips["depart_s"].clip(begin_s, end_s)
    stop = trips["dropoff_s"].clip(begin_s, end_s)
    return float((stop - start).sum() / (end_s - begin_s))


@pytest.mark.parametrize("policy", [NearestVehicle(), BatchAssignment(30.0)], ids=lambda p: p.name)
@pytest.mark.parametrize("per_depot", [200, 4])  # unlimited, and a fleet that makes riders wait
def test_littles_law_busy_vehicles(per_depot, policy):
    graph, times, _, _ = congested_grid()
    rng = np.random.default_rng(1)
    nodes = np.array(list(graph.nodes))
    flat = TimeOfDayTravelTimes(list(graph.edges(keys=True)), np.array([0.0]),
                                times.time_s[:, :1], times.fallback)  # steady state: one bin
    horizon_s, rate_per_s = 12 * 3600.0, 0.02
    requests = uniform_requests(rng, nodes, rng.poisson(rate_per_s * horizon_s), horizon_s)
    tables = place_tables(graph, flat, nodes, [0.0])
    run = simulate(tables, requests, fleet_at(rng.choice(nodes, 5, replace=False), per_depot), [],
                   ChargingRules(), horizon_s, policy)
    trips = run.trips[run.trips["vehicle"] >= 0]
    begin, end = 2 * 3600.0, 11 * 3600.0
    window = trips[(trips["request_time_s"] >= begin) & (trips["request_time_s"] < end)]
    served_rate_per_s = len(window) / (end - begin)
    busy_time_s = (window["dropoff_s"] - window["depart_s"]).mean()
    assert busy_vehicles_mean(trips, begin, end) == pytest.approx(served_rate_per_s * busy_time_s, rel=0.02)


@pytest.mark.parametrize("policy", [NearestVehicle(), BatchAssignment(30.0)], ids=lambda p: p.name)
def test_energy_drawn_equals_energy_driven(policy):
    graph, times, edges, _ = congested_grid()
    rng = np.random.default_rng(2)
    nodes = np.array(list(graph.nodes))
    horizon_s = 3 * 3600.0
    requests = uniform_requests(rng, nodes, 3000, horizon_s)
    stations = [Station("A", int(nodes[0]), 2, 60.0), Station("B", int(nodes[-1]), 1, 22.0)]
    tables = place_tables(graph, times, nodes, BINS_S)
    # Small batteries so that every vehicle charges many times.
    fleet = fleet_at(rng.choice(nodes, 4, replace=False), 5, battery_kwh=2.0)
    run = simulate(tables, requests, fleet, stations, ChargingRules(), horizon_s, policy)
    assert len(run.sessions) > 100
    served = run.trips[run.trips["vehicle"] >= 0]
    # Energy driven from the km driven (our km, times kWh/km), independently of the kernel's kWh.
    km = served["pickup_km"].sum() + served["trip_km"].sum()
    driven = km * 0.15 + run.sessions["drive_kwh"].sum()
    drawn = run.sessions["charged_kwh"].sum()
    stored_change = run.final_soc_kwh.sum() - fleet.soc_kwh.sum()
    assert drawn == pytest.approx(driven + stored_change, rel=1e-3)
    # The stations' load profile integrates to the energy charged within the run.
    load = station_load_kw(run, ChargingRules(), bin_s=900.0)
    inside = run.sessions["end_s"] <= horizon_s
    assert load["power_kw"].sum() * 900.0 / 3600.0 >= run.sessions.loc[inside, "charged_kwh"].sum() * (1 - 1e-9)
    assert load["power_kw"].sum() * 900.0 / 3600.0 <= drawn * (1 + 1e-9)
    # No plug delivers more than its rating.
    peak = load.groupby("station")["power_kw"].max()
    assert peak["A"] <= 2 * 60.0 + 1e-9 and peak["B"] <= 22.0 + 1e-9


def test_bad_requests_name_the_row_and_column():
    nodes = {1, 2, 3}
    frame = pd.DataFrame({"origin_node": [1, 2], "destination_node": [3, 99], "request_time_s": [0.0, 10.0]})
    with pytest.raises(InputError, match=r"trips.csv: row 1 destination_node = 99 .*outside the road network"):
        requests_from_frame(frame, nodes, 3600.0, "trips.csv")
    frame = pd.DataFrame({"origin_node": [1, 2], "destination_node": [3, 1], "request_time_s": [0.0, 4000.0]})
    with pytest.raises(InputError, match=r"row 1 request_time_s = 4000.0, expected a time in \[0, 3600\) s"):
        requests_from_frame(frame, nodes, 3600.0, "trips.csv")
