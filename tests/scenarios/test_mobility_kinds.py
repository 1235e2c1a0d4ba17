"""The ``signal_timing`` kind on the report framework: the answer and the options table."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from browser import assert_briefing

from scenarios.runner import run_scenario
from viz.report.build import build_report

GRID_PILOT = """
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
compare = ["fixed", "webster", "actuated"]
warmup_s = 300
"""


@pytest.fixture(scope="module")
def signal_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signal_answer")
    path = folder / "grid_pilot.toml"
    path.write_text(GRID_PILOT)
    return run_scenario(path, folder / "out", finish=build_report)


def test_signal_timing_report_in_chromium(signal_run):
    assert_briefing(signal_run, "signal_timing_report")


def test_signal_timing_options_table_lists_every_strategy_and_recommends_the_lowest_delay(signal_run):
    options = pd.read_csv(signal_run / "options.csv")
    assert list(options.columns[:3]) == ["option", "label_zh", "label_en"]
    assert set(options["option"]) == {"fixed", "webster", "actuated"}
    assert options["recommended"].sum() == 1
    best = options.loc[options["recommended"]].iloc[0]
    assert best["pilot_delay_s_per_veh"] == options["pilot_delay_s_per_veh"].min()
    assert "感应控制" in set(options["label_zh"]) and "actuated control" in set(options["label_en"])


def test_signal_timing_answer_names_the_recommended_strategy_and_its_delay_cut(signal_run):
    answer = json.loads((signal_run / "answer.json").read_text())
    kpis = json.loads((signal_run / "kpis.json").read_text())
    options = pd.read_csv(signal_run / "options.csv")
    best = options.loc[options["recommended"]].iloc[0]
    assert answer["metric"] == "pilot_delay_s_per_veh" and answer["versus"] == "fixed"
    if kpis["best_delay_reduction_pct"] > 0:
        assert answer["chosen"] == best["option"]
        assert best["label_zh"] in answer["text"]["zh"] and best["label_en"] in answer["text"]["en"]
        assert f"{kpis['best_delay_reduction_pct']:.0f} %" in answer["text"]["en"]
    for lang in ("zh", "en"):
        assert "_" not in answer["text"][lang]
