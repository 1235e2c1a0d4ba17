"""The city brain's projection: members share the state at --at and differ only after it; bands
are ordered; coverage counts by hand; ``twin brain`` writes its tables and refuses bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.coupled.brain import coverage, rain_to_come
from twin.coupled.typhoon import observe_facilities
from twin.hazards.storm import RainSeries

BUNDLED = Path(__file__).resolve().parents[2] / "scenarios" / "typhoon_day.toml"


def test_only_the_rain_to_come_is_scaled():
    rain = RainSeries(np.arange(5) * 600.0, np.array([1.0, 2.0, 3.0, 4.0]))
    later = rain_to_come(rain, 1200.0, 0.5)
    assert later.depth_mm.tolist() == [1.0, 2.0, 1.5, 2.0]
    assert np.array_equal(later.edges_s, rain.edges_s)


def test_coverage_counts_the_realised_points_inside_p10_p90():
    members = {"x": np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]] * 5)}  # p10 = 0, p90 = 10 at every time
    realised = {"x": np.array([5.0, 10.0, 11.0])}
    assert coverage(members, realised) == {"x": pytest.approx(2 / 3)}


def test_twin_brain_projects_from_the_state_at_the_time(tmp_path, twin_cli):
    text = BUNDLED.read_text(encoding="utf-8").replace("nodes = 256", "nodes = 32").replace(
        "jobs_per_h = 100", "jobs_per_h = 12").replace("duration_s = 10800", "duration_s = 900").replace(
        "begin_s = 28800", "begin_s = 34200")
    scenario = tmp_path / "typhoon.toml"
    scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "brain"
    outcome = twin_cli("brain", scenario, "--at", "09:40", "--members", "4", "--hindcast-every-min", "30",
                       "--hindcast-until", "10:10", "--out", out, "--quiet")
    assert outcome.exit_code == 0, outcome.stderr
    projection = pd.read_parquet(out / "projection.parquet")
    assert list(projection.columns) == ["member", "time_s", "system", "kpi", "value"]
    assert set(projection["member"]) == {0, 1, 2, 3}
    at = projection["time_s"].min()
    assert at == 9 * 3600 + 40 * 60 and projection["time_s"].max() == at + 3600
    # at --at every member holds the run's own state
    now = projection[projection["time_s"] == at].groupby("kpi")["value"].nunique()
    assert (now == 1).all()
    # the rain to come differs, so the roads' closures spread later in the hour
    later = projection[(projection["kpi"] == "closed_links_count") & (projection["time_s"] > at)]
    assert later.groupby("time_s")["value"].nunique().max() > 1
    bands = pd.read_parquet(out / "bands.parquet")
    assert (bands["p10"] <= bands["p50"]).all() and (bands["p50"] <= bands["p90"]).all()
    kpis = json.loads((out / "kpis.json").read_text())
    assert 0.0 <= kpis["perfect_model_mean_coverage_ratio"] <= 1.0
    assert (out / "brain_hindcast.en.png").exists()
    sweep = pd.read_parquet(out / "hindcast.parquet")
    assert sorted(set(sweep["start_s"])) == [34800.0, 36600.0] and len(sweep) == 2 * 4
    assert sweep[["coverage_realised", "coverage_perfect_model"]].stack().between(0, 1).all()
    assert kpis["hindcast_starts_count"] == 2
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.index("回算覆盖率") < report.index("全部指标")  # the answer, with its coverage, comes first


@pytest.mark.parametrize(("at", "fragment"), [("25:00", "00:00-23:59"), ("ten", "HH:MM"), ("23:30", "horizon")])
def test_twin_brain_refuses_a_bad_time(tmp_path, twin_cli, at, fragment):
    outcome = twin_cli("brain", BUNDLED, "--at", at, "--out", tmp_path / "b")
    assert outcome.exit_code == 2
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "--at" in lines[0], outcome.stderr
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(("extra", "fragment"), [
    (("--hindcast-every-min", "15"), "give both"),
    (("--hindcast-every-min", "15", "--hindcast-until", "09:00"), "at or after --at"),
    (("--hindcast-every-min", "0", "--hindcast-until", "11:00"), "1 to 720"),
    (("--hindcast-every-min", "15", "--hindcast-until", "23:50"), "--hindcast-until"),
])
def test_twin_brain_refuses_a_bad_hindcast(tmp_path, twin_cli, extra, fragment):
    outcome = twin_cli("brain", BUNDLED, "--at", "10:00", *extra, "--out", tmp_path / "b")
    lines = outcome.stderr.strip().splitlines()
    assert outcome.exit_code == 2 and len(lines) == 1 and fragment in lines[0], outcome.stderr


def test_twin_brain_refuses_another_kind(tmp_path, twin_cli):
    other = BUNDLED.parent / "hotline_12345.toml"
    outcome = twin_cli("brain", other, "--at", "10:00", "--out", tmp_path / "b")
    assert outcome.exit_code == 2 and "typhoon_day" in outcome.stderr and str(other) in outcome.stderr


def test_an_observed_stop_holds_and_an_observed_run_overrides_the_flood():
    outages = {"A": [(100.0, 500.0)], "B": [(300.0, 900.0)]}
    observed = {"A": (200.0, False), "B": (400.0, True), "C": (50.0, False)}
    assert observe_facilities(outages, observed) == {"A": [(100.0, 200.0), (200.0, np.inf)],
                                                     "B": [(300.0, 400.0)], "C": [(50.0, np.inf)]}


PUMP_CASES = {
    "unknown facility": ("facility,running\nBPS5428,false\nBPS9999,true\n", ("row 3", "BPS9999", "nearest")),
    "bad state": ("facility,running\nBPS5428,maybe\n", ("row 2", "running = 'maybe'", "true or false")),
    "missing column": ("facility,state\nBPS5428,false\n", ("facility,running",)),
}


@pytest.mark.parametrize("case", sorted(PUMP_CASES))
def test_a_bad_observed_state_exits_2(tmp_path, twin_cli, case):
    text, fragments = PUMP_CASES[case]
    observed = tmp_path / "pumps.csv"
    observed.write_text(text, encoding="utf-8")
    outcome = twin_cli("brain", BUNDLED, "--at", "10:00", "--members", "2", "--observed-pumps", observed,
                       "--out", tmp_path / "b")
    assert outcome.exit_code == 2, outcome
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and str(observed) in lines[0] and all(f in lines[0] for f in fragments), outcome.stderr
    assert not (tmp_path / "b").exists()


def test_an_observed_running_station_keeps_the_people_in_service(tmp_path, twin_cli):
    """At 10:00 the flood has stopped four stations; seen running, the members' shortfall is lower."""
    observed = tmp_path / "pumps.csv"
    observed.write_text("facility,running\nBPS5428,true\nBPS5436,true\nBPS5632,true\nBPS5675,true\n",
                        encoding="utf-8")
    runs = {}
    for name, extra in (("replay", ()), ("observed", ("--observed-pumps", observed))):
        out = tmp_path / name
        outcome = twin_cli("brain", BUNDLED, "--at", "10:00", "--members", "2", *extra, "--out", out, "--quiet")
        assert outcome.exit_code == 0, outcome.stderr
        runs[name] = pd.read_parquet(out / "projection.parquet")
    people = {name: run[(run["kpi"] == "people_below_service_count") & (run["time_s"] > 36000)]["value"].mean()
              for name, run in runs.items()}
    assert people["observed"] < people["replay"]
