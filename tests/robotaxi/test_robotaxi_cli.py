"""``twin robotaxi run|size``: policies from the command line, charger sizing, and the fleet's
drives as SUMO routes that sumolib reads on the network twin.traffic.sumo_io exports."""

from __future__ import annotations

import json
import tomllib

import pandas as pd
import pytest
import sumolib

SMALL = """
[scenario]
kind = "robotaxi_fleet"
name = "cli_robotaxi"
seed = 11
start = 2025-06-03T07:00:00
duration_s = 3600
replications = 1

[[flows]]
origin = "滨海新城"
destination = "滨海新城"
requests_per_day = 3000.0

[[flows]]
origin = "福州长乐国际机场"
destination = "滨海新城"
requests_per_day = 800.0

[demand]
pickup_points_per_area = 15

[fleet]
vehicles = { robotaxi_sedan = 20 }
start_area = "滨海新城"
initial_soc = 0.3

[[stations]]
place = "滨海新城中心"
plugs = 3
power_kw = 60.0

[sizing]
fleet_sizes = [5, 20]
"""


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def test_run_with_batch_and_rebalancing_exports_routes_sumo_reads(twin_cli, tmp_path, small):
    out, routes, net_file = tmp_path / "run", tmp_path / "fleet.rou.xml", tmp_path / "city.net.xml"
    outcome = twin_cli("robotaxi", "run", small, "-o", out, "--policy", "batch", "--batch-s", "20",
                       "--rebalance-s", "300", "--pooling", "--sumo-routes", routes, "--sumo-net", net_file, "-q")
    assert outcome.exit_code == 0, outcome
    used = tomllib.loads((out / "scenario.toml").read_text())
    assert used["dispatch"] == {"policy": "batch", "batch_s": 20.0, "rebalance_s": 300.0, "pooling": True}
    assert 0 < json.loads((out / "kpis.json").read_text())["robotaxi_pooled_pct"] <= 100
    assert not list(tmp_path.glob(".small.*.toml"))  # the overridden copy is gone
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["robotaxi_rebalancing_moves_count"] >= 0
    legs = pd.read_parquet(out / "vehicle_legs.parquet")
    moving = legs[legs["from_node"] != legs["to_node"]]
    assert set(moving["kind"]) >= {"pickup", "trip", "to_station"}
    net = sumolib.net.readNet(str(net_file))
    vehicles = list(sumolib.xml.parse(str(routes), "vehicle"))
    assert len(vehicles) == len(moving) > 100
    departs = [float(v.depart) for v in vehicles]
    assert departs == sorted(departs)
    for vehicle in vehicles:
        edges = vehicle.route[0].edges.split()
        assert edges and all(net.hasEdge(e) for e in edges), vehicle.id
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            assert net.getEdge(b) in net.getEdge(a).getOutgoing(), (vehicle.id, a, b)


def test_size_reports_fleet_and_plugs(twin_cli, tmp_path, small):
    out = tmp_path / "size"
    outcome = twin_cli("robotaxi", "size", small, "-o", out, "--fleet-sizes", "5,10,20")
    assert outcome.exit_code == 0, outcome
    assert "smallest fleet meeting the target" in outcome.stdout
    assert "滨海新城中心" in outcome.stdout
    sizing = pd.read_parquet(out / "charger_sizing.parquet")
    assert sizing["plugs"].tolist() == [3]
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["robotaxi_configured_plugs_count"] == 3
    curve = pd.read_parquet(out / "fleet_curve.parquet")
    assert {5, 10, 20} <= set(curve["fleet_veh"])


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--policy", "greedy"), ("[dispatch] policy", "greedy")),
        (("--rebalance-s", "300"), ("[dispatch] rebalance_s", 'policy = "batch"')),
        (("--pooling",), ("[dispatch] pooling", 'policy = "batch"')),
        (("--batch-s", "-5", "--policy", "batch"), ("batch_s", "-5")),
        (("--sumo-routes", "fleet.txt"), ("fleet.txt", ".rou.xml")),
    ],
)
def test_bad_options_exit_2_with_one_line(twin_cli, tmp_path, small, args, fragments):
    out = tmp_path / "run"
    outcome = twin_cli("robotaxi", "run", small, "-o", out, *args)
    assert outcome.exit_code == 2, outcome
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in outcome.stderr, outcome.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not out.exists()
    assert not list(tmp_path.glob(".small.*.toml"))


def test_other_kinds_are_refused(twin_cli, tmp_path):
    path = tmp_path / "other.toml"
    path.write_text('[scenario]\nkind = "hotline"\nname = "x"\n')
    outcome = twin_cli("robotaxi", "run", path)
    assert outcome.exit_code == 2
    assert "expected 'robotaxi_fleet'" in outcome.stderr
