"""The ``signal_timing`` scenario kind, on its synthetic grid town (the bundled city is run by
``make run``; here the kind's mechanics are checked quickly and deterministically)."""

from __future__ import annotations

import json
import tomllib

import pandas as pd
import pytest

from scenarios.runner import run_scenario
from twin.errors import InputError
from viz.report.build import build_report

SCENARIO = """
[scenario]
kind = "signal_timing"
name = "grid_pilot"
seed = 11
start = 2025-06-03T07:30:00
duration_s = 900

[network]
source = "grid"
grid_size = 7
grid_residents = 60000.0

[strategies]
warmup_s = 300
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signal_timing")
    path = folder / "grid_pilot.toml"
    path.write_text(SCENARIO)
    return run_scenario(path, folder / "out", finish=build_report)


def test_every_strategy_is_ranked_with_junction_measures(run_dir):
    ranking = pd.read_parquet(run_dir / "strategies.parquet")
    assert sorted(ranking["strategy"]) == sorted(
        ["fixed", "webster", "actuated", "max_pressure", "green_wave", "adaptive"]
    )
    assert list(ranking["rank"]) == list(range(1, 7))
    assert ranking["pilot_delay_s_per_veh"].is_monotonic_increasing
    assert ranking.loc[ranking["strategy"] == "fixed", "delay_change_vs_baseline_pct"].item() == 0.0
    junctions = pd.read_parquet(run_dir / "junctions.parquet")
    for column in (
        "control_delay_s_per_veh",
        "los_hcm",
        "los_gb",
        "mean_queue_veh",
        "max_queue_veh",
        "mean_queue_m",
        "max_queue_m",
        "v_over_c_ratio",
        "stops_per_veh",
    ):
        assert column in junctions.columns
    assert set(junctions["los_hcm"]) <= set("ABCDEF")
    assert set(junctions["los_gb"]) <= {"一级", "二级", "三级", "四级"}
    assert (junctions["max_queue_m"] >= junctions["mean_queue_m"]).all()
    assert (run_dir / "delay_by_junction.png").exists()
    kpis = json.loads((run_dir / "kpis.json").read_text())
    for name in (
        "best_delay_reduction_pct",
        "baseline_tti_ratio",
        "green_wave_bandwidth_outbound_s",
        "webster_throughput_veh_per_h",
        "adaptive_mean_travel_time_s",
    ):
        assert name in kpis
    assert kpis["best_tti_ratio"] >= 1.0  # actual trip times are never below free flow
    report = (run_dir / "report.md").read_text()
    assert "Best strategy" in report


def test_link_times_by_time_of_day_are_exposed(run_dir):
    links = pd.read_parquet(run_dir / "link_times_baseline.parquet")
    assert {"u", "v", "key", "bin_start_s", "mean_travel_time_s", "flow_veh_per_h", "mean_queue_veh"} <= set(
        links
    )
    assert links["bin_start_s"].min() < 0.0 <= links["bin_start_s"].max()  # warm-up bin, then the hour


def test_same_seed_same_kpis(run_dir, tmp_path):
    path = tmp_path / "grid_pilot.toml"
    path.write_text(SCENARIO)
    again = run_scenario(path, tmp_path / "again")
    assert (again / "kpis.json").read_bytes() == (run_dir / "kpis.json").read_bytes()
    assert pd.read_parquet(again / "junctions.parquet").equals(pd.read_parquet(run_dir / "junctions.parquet"))


@pytest.mark.parametrize(
    ("table", "key", "value", "message"),
    [
        ("strategies", "compare", ["fixed", "fastest"], "unknown strategy"),
        ("strategies", "baseline", "actuated", "baseline"),
        ("network", "source", "moon", "source"),
    ],
)
def test_bad_settings_are_input_errors(tmp_path, table, key, value, message):
    data = tomllib.loads(SCENARIO)
    data.setdefault(table, {})[key] = value
    if table == "strategies" and key == "baseline":
        data["strategies"]["compare"] = ["fixed", "webster"]
    lines = []
    for name, body in data.items():
        lines.append(f"[{name}]")
        for k, v in body.items():
            lines.append(f"{k} = {json.dumps(v) if not hasattr(v, 'isoformat') else v.isoformat()}")
    path = tmp_path / "bad.toml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=message):
        run_scenario(path, tmp_path / "out")


def test_cim_tables_give_each_link_its_travel_time_index_and_focus_on_the_pilot():
    import numpy as np

    from scenarios.kinds.signal_timing import cim_tables
    from twin.city.folder import load_city

    graph = load_city().roads
    area = {n for n, a in graph.nodes(data="area_id") if a == "binhai"}
    edges = [e for e in graph.edges(keys=True) if e[0] in area][:3]
    free_s = [graph.edges[e]["travel_time"] for e in edges]
    links = pd.DataFrame({  # as the traffic model's link table: node ids as text, two time bins
        "u": [str(e[0]) for e in edges for _ in range(2)], "v": [str(e[1]) for e in edges for _ in range(2)],
        "key": [e[2] for e in edges for _ in range(2)], "bin_start_s": [0.0, 900.0] * 3,
        "mean_travel_time_s": [2 * free_s[0], 4 * free_s[0], 0.5 * free_s[1], 0.5 * free_s[1], np.nan, np.nan],
        "mean_speed_m_per_s": 10.0, "mean_queue_veh": 1.0,
    })
    tables = cim_tables(graph, area, links, "pilot")
    roads = tables["cim_road_links"].set_index(["u", "v", "key"])
    assert roads.loc[edges[0], "tti"] == pytest.approx(3.0)  # mean of 2x and 4x free flow
    assert roads.loc[edges[1], "tti"] == 1.0  # nothing beats free flow
    assert roads.loc[edges[2], "tti"] == 1.0  # no vehicle left the link: counted as free
    focus = tables["cim_focus"].iloc[0]
    xs = [graph.nodes[n]["x"] for n in area]
    ys = [graph.nodes[n]["y"] for n in area]
    assert min(xs) < focus["lon"] < max(xs) and min(ys) < focus["lat"] < max(ys)
    assert focus["radius_m"] >= 1_500.0 and focus["label"] == "pilot"
