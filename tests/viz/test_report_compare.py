"""`twin compare`: KPI deltas B − A with a direction from the KPI's name."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from twin.kpis import kpi_info
from viz.compare import compare_kpis, verdict

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


@pytest.mark.parametrize("name,sense", [
    ("mean_wait_s", "lower"), ("p90_wait_s", "lower"), ("actuated_pilot_delay_s_per_veh", "lower"),
    ("max_queue_calls", "lower"), ("abandoned_pct", "lower"), ("water_lost_m3", "lower"),
    ("mean_travel_time_s", "lower"), ("time_to_restore_s", "lower"), ("time_to_isolate_s", "lower"),
    ("throughput_veh_per_h", "higher"), ("service_level_pct", "higher"), ("min_pressure_during_leak_m", "higher"),
    ("calls_answered_calls", "higher"), ("on_time_pct", "higher"), ("min_town_pressure_m", "higher"),
    ("calls_offered_calls", "neutral"), ("agent_occupancy_pct", "neutral"), ("stops_count", "neutral"),
])
def test_the_sense_of_better_comes_from_the_catalogue(name, sense):
    assert kpi_info(name).sense == sense


def test_a_pressure_rising_from_minus_35_to_minus_7_m_is_better():
    (delta,) = compare_kpis({"min_pressure_during_leak_m": -35.0}, {"min_pressure_during_leak_m": -7.0})
    assert delta.verdict == "better" and delta.delta == 28.0


def test_times_get_a_verdict():
    verdicts = {d.kpi: d.verdict for d in compare_kpis(
        {"time_to_isolate_s": 2160.0, "time_to_restore_s": 18000.0, "crew_travel_s": 1440.0},
        {"time_to_isolate_s": 1800.0, "time_to_restore_s": 19000.0, "crew_travel_s": 1440.0})}
    assert verdicts == {"time_to_isolate_s": "better", "time_to_restore_s": "worse", "crew_travel_s": "same"}


def test_verdicts():
    assert verdict("lower", 10.0, 8.0) == "better"
    assert verdict("lower", 10.0, 12.0) == "worse"
    assert verdict("higher", 10.0, 12.0) == "better"
    assert verdict("higher", 10.0, 8.0) == "worse"
    assert verdict("neutral", 10.0, 8.0) == "changed"
    assert verdict("lower", 10.0, 10.0) == "same"
    assert verdict("lower", None, 1.0) == "only in B"
    assert verdict("lower", 1.0, None) == "only in A"


def test_compare_kpis_covers_both_runs_with_deltas():
    deltas = {d.kpi: d for d in compare_kpis({"mean_wait_s": 40.0, "stops_count": 3},
                                             {"mean_wait_s": 30.0, "throughput_veh_per_h": 900})}
    assert list(deltas) == ["mean_wait_s", "stops_count", "throughput_veh_per_h"]
    assert (deltas["mean_wait_s"].delta, deltas["mean_wait_s"].delta_pct) == (-10.0, -25.0)
    assert deltas["mean_wait_s"].verdict == "better"
    assert deltas["stops_count"].verdict == "only in A" and deltas["stops_count"].delta is None
    assert deltas["throughput_veh_per_h"].verdict == "only in B"


def test_a_difference_inside_the_noise_is_not_called_better():
    (delta,) = compare_kpis({"mean_wait_s": 40.0}, {"mean_wait_s": 39.0}, lambda name: (-3.0, 1.0))
    assert delta.verdict == "within noise" and (delta.low, delta.high) == (-3.0, 1.0)
    (clear,) = compare_kpis({"mean_wait_s": 40.0}, {"mean_wait_s": 30.0}, lambda name: (-12.0, -8.0))
    assert clear.verdict == "better"


def test_compare_two_runs_prints_and_writes_deltas(tmp_path, twin_cli):
    runs = {}
    for agents in (3, 5):
        scenario = tmp_path / f"agents{agents}.toml"
        scenario.write_text(HOTLINE.replace("AGENTS", str(agents)))
        runs[agents] = tmp_path / f"agents{agents}"
        assert twin_cli("run", scenario, "--out", runs[agents], "-q").exit_code == 0
    out_dir = tmp_path / "cmp"
    outcome = twin_cli("compare", runs[3], runs[5], "--out", out_dir, "--lang", "en")
    assert outcome.exit_code == 0, outcome.stderr
    # The inputs that differ come first, then the KPIs.
    assert outcome.stdout.index("hotline.agents: 3 -> 5") < outcome.stdout.index("mean wait")
    assert "better" in outcome.stdout

    table = pd.read_parquet(out_dir / "comparison.parquet")
    assert list(table.columns) == ["kpi", "label", "a", "b", "delta", "delta_pct", "delta_low", "delta_high",
                                   "sense", "verdict"]
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
    markdown = (out_dir / "comparison.md").read_text()
    assert markdown.index("`hotline.agents`: 3 → 5") < markdown.index("| mean wait |")
    changed = pd.read_csv(out_dir / "changed_inputs.csv", encoding="utf-8-sig")
    assert changed.to_dict("records") == [{"key": "hotline.agents", "a": 3, "b": 5}]
    assert (out_dir / "comparison.png").stat().st_size > 0

    again = twin_cli("compare", runs[3], runs[5], "--out", out_dir)
    assert again.exit_code == 2 and "--force" in again.stderr
    assert twin_cli("compare", runs[3], runs[5], "--out", out_dir, "--force").exit_code == 0
    # Without --out the comparison lands beside run B.
    assert twin_cli("compare", runs[3], runs[5]).exit_code == 0
    assert (tmp_path / "compare_agents3_vs_agents5" / "comparison.md").exists()


def test_replicated_runs_get_verdicts_from_paired_differences(tmp_path, twin_cli):
    runs = {}
    for agents in (4, 5):
        scenario = tmp_path / f"a{agents}.toml"
        scenario.write_text(HOTLINE.replace("AGENTS", str(agents)).replace("duration_s = 3600.0",
                                                                           "duration_s = 3600.0\nreplications = 4"))
        runs[agents] = tmp_path / f"a{agents}"
        assert twin_cli("run", scenario, "--out", runs[agents], "-q").exit_code == 0
    outcome = twin_cli("compare", runs[4], runs[5], "--out", tmp_path / "cmp", "--lang", "en")
    assert outcome.exit_code == 0, outcome.stderr
    rows = pd.read_parquet(tmp_path / "cmp" / "comparison.parquet").set_index("kpi")
    wait = rows.loc["mean_wait_s"]
    assert wait["delta_low"] <= wait["delta"] <= wait["delta_high"]
    assert wait["verdict"] in ("better", "within noise")
    assert (wait["verdict"] == "better") == (wait["delta_high"] < 0)


def test_runs_of_different_kinds_are_not_compared(tmp_path, twin_cli):
    hotline = tmp_path / "h.toml"
    hotline.write_text(HOTLINE.replace("AGENTS", "3"))
    assert twin_cli("run", hotline, "--out", tmp_path / "h", "-q").exit_code == 0
    other = tmp_path / "other"
    shutil.copytree(tmp_path / "h", other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["scenario"]["scenario"]["kind"] = "gpu_queueing"
    (other / "manifest.json").write_text(json.dumps(manifest))
    outcome = twin_cli("compare", tmp_path / "h", other)
    assert outcome.exit_code == 2 and "different kinds" in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1


def test_compare_refuses_folders_that_are_not_runs(tmp_path, twin_cli):
    outcome = twin_cli("compare", tmp_path, tmp_path / "missing")
    assert outcome.exit_code == 2
    assert len(outcome.stderr.strip().splitlines()) == 1 and "kpis.json" in outcome.stderr
