"""The gpu_queueing kind with a ``[yearplan]``: the plan answered year by year, through ``twin run``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from browser import assert_briefing

from twin.paths import SCENARIOS_DIR

SCENARIO = """
[scenario]
kind = "gpu_queueing"
name = "aicc_yearplan_small"
seed = 3
duration_s = 259200.0
replications = 2

[[cases]]
name = "target_2028"
year = 2028
capacity_pflops = 10000.0

[scheduling]
policies = ["easy"]

[report]
warmup_days = 1.0
focus_policy = "easy"

[yearplan]
years = [2024, 2025, 2028]
batch_days = 3.0
warmup_days = 1.0
tenant_growth_per_year = { ai_hub = 1.6 }
"""


def test_yearplan_answers_which_year_each_stage_runs_short(tmp_path, twin_cli):
    path = tmp_path / "yp.toml"
    path.write_text(SCENARIO)
    out = tmp_path / "yp"
    outcome = twin_cli("run", path, "--out", out, "--quiet")
    assert outcome.exit_code == 0, outcome.stderr
    for name in ("yearplan.csv", "options.csv", "pue_by_month.csv", "pue_by_month.zh.png", "pue_by_month.en.png",
                 "kpi_intervals.json", "answer.json"):
        assert (out / name).exists(), name
    table = pd.read_csv(out / "yearplan.csv", keep_default_na=False)
    assert len(table) == 2 * 3 and set(table["stage"]) == {"phase1", "target"}
    months = pd.read_csv(out / "pue_by_month.csv")
    assert len(months) == 2 * 3 * 12 and months["pue_ratio"].min() >= 1.0
    answer = json.loads((out / "answer.json").read_text())
    # the 2000P phase runs short by 2025 on the batch queue (2025 demand exceeds it, as twin compute plan says)
    first = table[(table["stage"] == "phase1") & (table["short"] != "")].sort_values("year").iloc[0]
    year = int(first["year"])
    assert year <= 2025 and "batch" in first["short"]
    assert f"{year}年首先不够用" in answer["text"]["zh"] and f"runs short in {year}" in answer["text"]["en"]
    assert "下一期建议" in answer["text"]["zh"] and "Next stage" in answer["text"]["en"]
    intervals = json.loads((out / "kpi_intervals.json").read_text())
    assert intervals["target_2028_training_goodput_ratio"]["n"] == 2
    report = (out / "report.md").read_text()
    assert "2028" in report and "PUE" in report
    assert_briefing(out, "aicc_yearplan_report")


@pytest.mark.parametrize("edit,bad,fragment", [
    ("tenant_growth_per_year = { ai_hub = 1.6 }", "tenant_growth_per_year = { nobody = 1.6 }", "unknown tenants"),
    ("batch_days = 3.0", "batch_days = -1.0", "batch_days"),
    ("years = [2024, 2025, 2028]", "years = [2024, 2024]", "years must be unique"),
])
def test_bad_yearplan_exits_2_with_one_line(tmp_path, twin_cli, edit, bad, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(SCENARIO.replace(edit, bad).replace("replications = 2", "replications = 1"))
    outcome = twin_cli("run", path, "--out", tmp_path / "o")
    assert outcome.exit_code == 2, outcome.stderr
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in outcome.stderr
    assert not Path(tmp_path / "o").exists()


def test_bundled_yearplan_scenario_validates(twin_cli):
    assert twin_cli("validate", SCENARIOS_DIR / "aicc_yearplan.toml").exit_code == 0
