"""The typhoon_day kind through the command line: a reduced day runs end to end and answers first;
bad input (an unknown coupling, a bad rain series, a clock that does not start at midnight) exits 2
with one line naming the file and key."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from browser import assert_briefing

BUNDLED = Path(__file__).resolve().parents[2] / "scenarios" / "typhoon_day.toml"


def reduced(text: str = "") -> str:
    """The bundled day with a 30-minute traffic window at the storm's peak and a small centre."""
    bundled = BUNDLED.read_text(encoding="utf-8")
    bundled = bundled.replace("begin_s = 28800", "begin_s = 34200").replace("duration_s = 10800", "duration_s = 1800")
    bundled = bundled.replace("nodes = 256", "nodes = 32").replace("jobs_per_h = 100", "jobs_per_h = 12")
    return bundled + text


def write(tmp_path: Path, text: str, name: str = "typhoon.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def one_line(outcome) -> str:
    assert outcome.exit_code == 2, outcome
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in outcome.stderr, outcome.stderr
    return lines[0]


def test_a_reduced_typhoon_day_runs_end_to_end(tmp_path, twin_cli):
    out = tmp_path / "out"
    outcome = twin_cli("run", write(tmp_path, reduced()), "--out", out, "--quiet")
    assert outcome.exit_code == 0, outcome.stderr
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["flood_added_vehicle_hours_h"] > 0
    assert kpis["pump_outage_added_person_hours_person_h"] > 0
    assert kpis["derate_gpu_hours_unavailable_h"] > 0
    assert kpis["flood_entries_while_closed_veh"] == 0
    assert kpis["flood_added_riders_gave_up_pax"] > 0
    towns = pd.read_parquet(out / "town_impact.parquet")
    answer = json.loads((out / "answer.json").read_text(encoding="utf-8"))
    for name in towns["name_zh"].head(3):
        assert name in answer["text"]["zh"]
    for name in towns["name_en"].head(3):
        assert name in answer["text"]["en"]
    events = pd.read_parquet(out / "timeline.parquet")
    assert {"rain", "roads", "water", "compute"} <= set(events["system"])
    assert set(events["coupling"]) - {""} == {"flood_roads", "pump_outage", "main_burst", "main_burst+flood_roads",
                                              "grid_derate"}
    assert events["time_s"].is_monotonic_increasing
    for lang in ("zh", "en"):
        assert (out / f"typhoon_timeline.{lang}.png").exists()
    links = gpd.read_file(out / "results.gpkg", layer="flooded_links")
    assert len(links) and links["max_depth_m"].min() >= 0.15 and links["closed"].any()
    facilities = gpd.read_file(out / "results.gpkg", layer="water_facilities")
    assert facilities["stopped_at_s"].notna().sum() == kpis["pump_outage_facilities_count"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert report.index("受灾最重") < report.index("全部指标")  # the answer comes first
    assert_briefing(out, "typhoon_day_report")


def test_the_bundled_day_validates(twin_cli):
    assert twin_cli("validate", BUNDLED).exit_code == 0


@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_switch_that_names_no_coupling_exits_2(tmp_path, twin_cli, command):
    path = write(tmp_path, reduced().replace("grid_derate = true", "grid_derate = true\nmain_bust = true"))
    args = ("run", path, "--out", tmp_path / "out") if command == "run" else ("validate", path)
    line = one_line(twin_cli(*args))
    for fragment in (str(path), "[couplings] main_bust", "flood_roads", "flood_buses", "pump_outage", "main_burst",
                     "grid_derate"):
        assert fragment in line, line
    assert not (tmp_path / "out").exists()


RAIN_CASES = {
    "negative depth": ("time_s,depth_mm\n300,1.0\n600,-2.0\n", ("row 3", "depth_mm = -2.0")),
    "unsorted times": ("time_s,depth_mm\n600,1.0\n300,2.0\n", ("row 3", "time_s = 300.0")),
}


@pytest.mark.parametrize("case", sorted(RAIN_CASES))
def test_a_bad_rain_series_exits_2(tmp_path, twin_cli, case):
    csv, fragments = RAIN_CASES[case]
    rain = write(tmp_path, csv, "rain.csv")
    text = reduced().replace('source = "design"', f'source = "series"\nrain_csv = "{rain}"')
    line = one_line(twin_cli("validate", write(tmp_path, text)))
    assert str(rain) in line and all(f in line for f in fragments), line


BAD_CASES = {
    "start not at midnight": (("start = 2026-09-01T00:00:00", "start = 2026-09-01T06:00:00"),
                              ("[scenario] start", "00:00:00")),
    "traffic window past the day": (("begin_s = 34200", "begin_s = 86000"), ("[traffic] duration_s", "86400")),
    "switch not a boolean": (("flood_roads = true", 'flood_roads = "yes"'), ("[couplings] flood_roads", "yes")),
    "series without a file": (('source = "design"', 'source = "series"'), ("[storm] rain_csv",)),
    "burst pipe not in the network": (('pipe = "auto"', 'pipe = "P0102X"'), ("[burst] pipe", "P0102X", "nearest")),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_typhoon_input_exits_2_with_one_line(tmp_path, twin_cli, case):
    (old, new), fragments = BAD_CASES[case]
    text = reduced()
    assert old in text
    path = write(tmp_path, text.replace(old, new))
    line = one_line(twin_cli("validate", path))
    assert str(path) in line and all(f in line for f in fragments), line
