"""`twin compare`: KPI deltas B − A with a direction from the KPI's name."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from viz.compare import compare_kpis, kpi_direction, verdict

HOTLINE = """
[scenario]
kind = "hotline_queue"
name = "hotline_tiny"
seed = 2
duration_s = 3600.0

[hotline]
agents = AGENTS
calls_per_h = [50.0]
"""


@pytest.mark.parametrize("name,direction", [
    ("mean_wait_s", "lower"), ("p90_wait_s", "lower"), ("mean_delay_s_per_veh", "lower"),
    ("max_queue_calls", "lower"), ("abandoned_pct", "lower"), ("water_loss_m3", "lower"),
    ("unserved_demand_m3", "lower"), ("mean_travel_time_s", "lower"), ("pue_ratio", "lower"),
    ("throughput_veh_per_h", "higher"), ("service_level_pct", "higher"),
    ("calls_answered_calls", "higher"), ("on_time_pct", "higher"), ("mean_speed_km_per_h", "higher"),
    ("calls_offered_calls", "unknown"), ("agent_occupancy_pct", "unknown"), ("min_head_m", "unknown"),
    ("gpu_utilisation_pct", "unknown"),
    # whole words only: "awaited" does not contain the word "wait", "service" is not "service_level"
    ("awaited_count", "unknown"), ("service_rate_per_h", "unknown"),
])
def test_direction_is_read_from_whole_words_of_the_name(name, direction):
    assert kpi_direction(name) == direction


def test_verdicts():
    assert verdict("lower", 10.0, 8.0) == "better"
    assert verdict("lower", 10.0, 12.0) == "worse"
    assert verdict("higher", 10.0, 12.0) == "better"
    assert verdict("higher", 10.0, 8.0) == "worse"
    assert verdict("unknown", 10.0, 8.0) == "changed"
    assert verdict("lower", 10.0, 10.0) == "same"
    assert verdict("lower", None, 1.0) == "only in B"
    assert verdict("lower", 1.0, None) == "only in A"


def test_compare_kpis_covers_both_runs_with_deltas():
    deltas = {d.kpi: d for d in compare_kpis({"mean_wait_s": 40.0, "old_count": 3},
                                             {"mean_wait_s": 30.0, "throughput_veh_per_h": 900})}
    assert list(deltas) == ["mean_wait_s", "old_count", "throughput_veh_per_h"]
    assert (deltas["mean_wait_s"].delta, deltas["mean_wait_s"].delta_pct) == (-10.0, -25.0)
    assert deltas["mean_wait_s"].verdict == "better"
    assert deltas["old_count"].verdict == "only in A" and deltas["old_count"].delta is None
    assert deltas["throughput_veh_per_h"].verdict == "only in B"


def test_compare_two_runs_prints_and_writes_deltas(tmp_path, twin_cli):
    runs = {}
    for agents in (3, 5):
        scenario = tmp_path / f"agents{agents}.toml"
        scenario.write_text(HOTLINE.replace("AGENTS", str(agents)))
        runs[agents] = tmp_path / f"agents{agents}"
        assert twin_cli("run", scenario, "--out", runs[agents], "-q").exit_code == 0
    out_dir = tmp_path / "cmp"
    outcome = twin_cli("compare", runs[3], runs[5], "--out", out_dir)
    assert outcome.exit_code == 0, outcome.stderr
    assert "agents5 against agents3" in outcome.stdout and "better" in outcome.stdout

    table = pd.read_parquet(out_dir / "comparison.parquet")
    assert list(table.columns) == ["kpi", "unit", "a", "b", "delta", "delta_pct", "direction", "verdict"]
    a = json.loads((runs[3] / "kpis.json").read_text())
    b = json.loads((runs[5] / "kpis.json").read_text())
    rows = table.set_index("kpi")
    assert rows.loc["mean_wait_s", "delta"] == pytest.approx(b["mean_wait_s"] - a["mean_wait_s"])
    # Same seed, same callers (common random numbers): more agents cannot make them wait longer.
    assert rows.loc["mean_wait_s", "verdict"] == "better"
    assert rows.loc["service_level_pct", "verdict"] == "better"
    assert rows.loc["calls_offered_calls", "verdict"] == "same"
    assert rows.loc["agent_occupancy_pct", "verdict"] == "changed"
    assert pd.read_csv(out_dir / "comparison.csv")["kpi"].tolist() == table["kpi"].tolist()
    assert "| mean_wait_s | s |" in (out_dir / "comparison.md").read_text()
    assert (out_dir / "comparison.png").stat().st_size > 0

    again = twin_cli("compare", runs[3], runs[5], "--out", out_dir)
    assert again.exit_code == 2 and "--force" in again.stderr
    assert twin_cli("compare", runs[3], runs[5], "--out", out_dir, "--force").exit_code == 0
    # Without --out the comparison lands beside run B.
    assert twin_cli("compare", runs[3], runs[5]).exit_code == 0
    assert (tmp_path / "compare_agents3_vs_agents5" / "comparison.md").exists()


def test_compare_refuses_folders_that_are_not_runs(tmp_path, twin_cli):
    outcome = twin_cli("compare", tmp_path, tmp_path / "missing")
    assert outcome.exit_code == 2
    assert len(outcome.stderr.strip().splitlines()) == 1 and "kpis.json" in outcome.stderr
