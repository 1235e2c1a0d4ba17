"""``twin traffic run`` on SUMO's netgenerate grids with routes from SUMO's randomTrips."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from twin.traffic.sumo_io.config import read_sumocfg, write_sumocfg
from twin.traffic.sumo_io.programs import read_programs
from twin.traffic.sumo_io.running import netgenerate_grid, random_trips

COLUMNS = ["id", "depart_s", "arrival_s", "duration_s", "route_length_m", "time_loss_s"]


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    net = netgenerate_grid(folder / "grid.net.xml", number=4, length_m=150.0, lanes=2)
    routes = random_trips(net, folder / "grid.rou.xml", 0.0, 600.0, 3.0, seed=11)
    cfg = write_sumocfg(folder / "grid.sumocfg", net, [routes], begin_s=100.0, end_s=900.0)
    return folder, net, routes, cfg


def test_run_with_net_and_routes(twin_cli, case, tmp_path):
    _, net, routes, _ = case
    out = tmp_path / "out"
    result = twin_cli("traffic", "run", "--net", net, "--routes", routes, "--out", out)
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(out / "tripinfo.csv")
    assert list(table.columns) == COLUMNS
    assert len(table) == 200  # every trip of randomTrips (period 3 s over 600 s) finishes
    assert (table["arrival_s"] - table["depart_s"] == table["duration_s"]).all()
    assert (table["time_loss_s"] >= 0).all()
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["teleports"] == 0
    assert kpis["throughput_veh"] == 200
    assert kpis["mean_travel_time_s"] == pytest.approx(table["duration_s"].mean())
    # The folder exists now: a second run is refused without --force.
    again = twin_cli("traffic", "run", "--net", net, "--routes", routes, "--out", out)
    assert again.exit_code == 2 and "--force" in again.stderr


def test_run_with_sumocfg_uses_its_begin_and_end(twin_cli, case, tmp_path):
    _, _, _, cfg = case
    out = tmp_path / "cfg"
    result = twin_cli("traffic", "run", "--sumocfg", cfg, "--out", out)
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(out / "tripinfo.csv")
    assert table["depart_s"].min() >= 100.0  # vehicles before <begin> are left out, as SUMO does
    assert table["arrival_s"].max() <= 900.0
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["end_s"] == 900.0


@pytest.mark.parametrize(
    "args",
    [
        ("traffic", "run", "--out", "x"),
        ("traffic", "run", "--net", "missing.net.xml", "--routes", "r.rou.xml", "--out", "x"),
        ("traffic", "run", "--sumocfg", "missing.sumocfg", "--out", "x"),
    ],
)
def test_bad_inputs_exit_2_with_one_line(twin_cli, tmp_path, args):
    result = twin_cli(
        *[str(tmp_path / a) if a.endswith((".xml", ".sumocfg")) or a == "x" else a for a in args]
    )
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1


def test_export_binhai_then_run_it(twin_cli, tmp_path):
    """The Changle case cut to 滨海新城 as SUMO files, which `twin traffic run` then reads back."""
    out = tmp_path / "export"
    result = twin_cli("traffic", "export", "--area", "binhai", "--duration", "600", "--out", out)
    assert result.exit_code == 0, result.stderr
    names = {p.name for p in out.iterdir()}
    assert names == {
        "changle_binhai.net.xml",
        "changle_binhai.add.xml",
        "changle_binhai.rou.xml",
        "changle_binhai.sumocfg",
    }
    config = read_sumocfg(out / "changle_binhai.sumocfg")
    assert (config.begin_s, config.end_s) == (25200.0, 25800.0)
    assert len(read_programs(config.additional_files[0])) >= 25  # the pilot's signal plans
    run = twin_cli(
        "traffic",
        "run",
        "--sumocfg",
        out / "changle_binhai.sumocfg",
        "--end",
        "27000",
        "--out",
        tmp_path / "run",
    )
    assert run.exit_code == 0, run.stderr
    kpis = json.loads((tmp_path / "run" / "kpis.json").read_text())
    assert kpis["skipped_veh"] == 0 and kpis["throughput_veh"] > 0
    bad = twin_cli("traffic", "export", "--area", "atlantis", "--out", tmp_path / "bad")
    assert bad.exit_code == 2 and "atlantis" in bad.stderr
