"""Requests from a trip file in the robotaxi_fleet kind: node ids or lon/lat snapped to the roads;
bad rows exit 2 with one line that names the file, the row and what was expected."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from twin.city.folder import load_city
from twin.robotaxi.service_area import connected_core
from twin.robotaxi.trip_file import snap_to_nodes

SCENARIO = """
[scenario]
kind = "robotaxi_fleet"
name = "trip_file_robotaxi"
seed = 7
start = 2025-06-03T07:00:00
duration_s = 3600
replications = 1

[requests]
file = "{file}"
max_snap_m = 250.0

[demand]
pickup_points_per_area = 10

[vehicle_types.small_pod]
battery_kwh = 30.0
kwh_per_km = 0.1
seats = 2

[fleet]
vehicles = {{ robotaxi_sedan = 10, small_pod = 5 }}
start_area = "滨海新城"

[[stations]]
place = "滨海新城中心"
plugs = 2
power_kw = 60.0

[sizing]
fleet_sizes = [5, 15]
"""


@pytest.fixture(scope="module")
def core_nodes():
    graph = load_city().roads
    return graph, np.array(sorted(connected_core(graph)), np.int64)


def trip_frame(graph, nodes, n: int = 40, seed: int = 0) -> pd.DataFrame:
    """Requests between random connected nodes, given as lon/lat 20 m off the node (to snap)."""
    rng = np.random.default_rng(seed)
    o, d = rng.choice(nodes, n), rng.choice(nodes, n)
    lon = lambda v: np.array([graph.nodes[x]["x"] for x in v]) + 1e-4  # about 10 m east  # noqa: E731
    lat = lambda v: np.array([graph.nodes[x]["y"] for x in v]) + 1e-4  # about 11 m north  # noqa: E731
    return pd.DataFrame({"origin_lon": lon(o), "origin_lat": lat(o), "destination_lon": lon(d),
                         "destination_lat": lat(d), "request_time_s": np.sort(rng.uniform(0, 3000, n)),
                         "party_size": rng.integers(1, 3, n), "o": o, "d": d})


def test_lonlat_snaps_to_the_nearest_connected_node(core_nodes):
    graph, nodes = core_nodes
    frame = trip_frame(graph, nodes)
    snapped = snap_to_nodes(graph, nodes, frame["origin_lon"], frame["origin_lat"], 250.0, "t")
    # The nearest node of a point 15 m from a node is that node unless two nodes are that close.
    assert (snapped == frame["o"].to_numpy()).mean() > 0.9


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_trip_file_run_serves_the_file_requests(twin_cli, tmp_path, core_nodes, suffix):
    graph, nodes = core_nodes
    frame = trip_frame(graph, nodes).drop(columns=["o", "d"])
    path = tmp_path / f"trips{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    scenario = tmp_path / "trips.toml"
    scenario.write_text(SCENARIO.format(file=path))
    out = tmp_path / "run"
    outcome = twin_cli("run", scenario, "-o", out)
    assert outcome.exit_code == 0, outcome
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["robotaxi_requests_count"] == len(frame)
    assert kpis["robotaxi_fleet_veh"] == 15
    trips = pd.read_parquet(out / "trips.parquet")
    assert sorted(trips["request_time_s"]) == pytest.approx(sorted(frame["request_time_s"]))


BAD = [
    # a request 30 km out to sea: beyond max_snap_m
    (lambda f: f.assign(origin_lon=f["origin_lon"].where(f.index != 3, 120.0)),
     None, ("[requests] file", "row 3", "origin_lon, origin_lat", "max_snap_m = 250", "outside the road network")),
    # a request time past the one-hour horizon
    (lambda f: f.assign(request_time_s=f["request_time_s"].where(f.index != 5, 4000.0)),
     None, ("[requests] file", "row 5 request_time_s = 4000.0", "horizon")),
    # a node id that is not a road node
    (lambda f: f.drop(columns=["origin_lon", "origin_lat"]).assign(origin_node=99999999),
     None, ("[requests] file", "row 0 origin_node = 99999999", "outside the road network")),
    # a negative battery capacity
    (lambda f: f, ("battery_kwh = 30.0", "battery_kwh = -30.0"), ("battery_kwh", "-30")),
    # rebalancing without flows (no zones, no forecast)
    (lambda f: f, ("[sizing]", '[dispatch]\npolicy = "batch"\nrebalance_s = 300.0\n[sizing]'),
     ("[dispatch] rebalance_s", "needs [[flows]]")),
    # a station on a node that does not exist
    (lambda f: f, ('place = "滨海新城中心"', "place = 99999999"),
     ("[[stations]] 0 place", "99999999", "not a road node")),
]


@pytest.mark.parametrize(("edit_rows", "edit_file", "fragments"), BAD)
def test_bad_trip_input_exits_2_with_one_line(twin_cli, tmp_path, core_nodes, edit_rows, edit_file, fragments):
    graph, nodes = core_nodes
    path = tmp_path / "trips.csv"
    edit_rows(trip_frame(graph, nodes).drop(columns=["o", "d"])).to_csv(path, index=False)
    text = SCENARIO.format(file=path)
    if edit_file is not None:
        assert edit_file[0] in text
        text = text.replace(*edit_file)
    scenario = tmp_path / "bad.toml"
    scenario.write_text(text)
    out = tmp_path / "run"
    outcome = twin_cli("run", scenario, "-o", out)
    assert outcome.exit_code == 2, outcome
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in outcome.stderr, outcome.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not out.exists()
