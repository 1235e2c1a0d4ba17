"""The water kinds on the report framework: ``pipe_burst`` (valves, crew depots compared, people by
街道, map layers, bilingual figures, places checked by name, size estimate, starter)."""

from __future__ import annotations

import json
import re
import tomllib

import geopandas as gpd
import pandas as pd
import pytest
import tomli_w
from browser import assert_briefing

from twin.paths import SCENARIOS_DIR

BURST = SCENARIOS_DIR / "wuhang_main_burst.toml"


def _burst_file(tmp_path, **changes) -> str:
    data = tomllib.loads(BURST.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        table, key = dotted.split("__")
        data.setdefault(table, {})[key] = value
    path = tmp_path / "burst.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def burst_run(tmp_path_factory):
    """A two-hour version of the bundled burst, two depots compared, two replications."""
    from twin_cli import main

    folder = tmp_path_factory.mktemp("burst")
    scenario = _burst_file(folder, scenario__duration_s=7200, repair__median_s=3600.0)
    out = folder / "run"
    with pytest.raises(SystemExit) as done:
        main(["run", str(scenario), "--out", str(out), "--quiet", "--replications", "2"])
    assert done.value.code in (0, None)
    return out


def test_burst_answer_names_valves_depot_and_places(burst_run):
    answer = json.loads((burst_run / "answer.json").read_text(encoding="utf-8"))
    valves = pd.read_parquet(burst_run / "valves.parquet")
    for lang in ("zh", "en"):
        text = answer["text"][lang]
        assert all(v in text for v in valves["valve_id"]), text
        assert "抢修站" in text if lang == "zh" else "depot" in text
        assert "街道" in answer["text"][lang] or "镇" in answer["text"][lang]
    # people are counted as people (人), not as things (个)
    assert "个人" not in answer["text"]["zh"] and " 人" in answer["text"]["zh"]
    assert "people people" not in answer["text"]["en"] and " people lose water" in answer["text"]["en"]
    assert answer["chosen"] in ("depot_1", "depot_2") and answer["versus"] in ("depot_1", "depot_2")
    assert answer["chosen"] != answer["versus"]
    manifest = json.loads((burst_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["difference"]["kpi_a"] == f"{answer['chosen']}_person_hours_lost_person_h"
    assert isinstance(manifest["difference"]["larger_than_noise"], bool)


def test_burst_report_in_chromium_answers_first_and_marks_the_depot(burst_run):
    assert_briefing(burst_run, "pipe_burst_report")


def test_burst_options_rank_the_depots(burst_run):
    options = pd.read_parquet(burst_run / "options.parquet")
    kpis = json.loads((burst_run / "kpis.json").read_text(encoding="utf-8"))
    assert list(options["option"]) == ["depot_1", "depot_2"]
    assert options["recommended"].sum() == 1
    best = options.loc[options["recommended"], "person_hours_lost_person_h"].iloc[0]
    assert best == options["person_hours_lost_person_h"].min()
    for _, row in options.iterrows():
        assert row["time_to_isolate_s"] == pytest.approx(kpis[f"{row['option']}_time_to_isolate_s"])
    # depot 1 is the scenario's own crew: its KPIs are the run's
    assert kpis["depot_1_water_lost_m3"] == pytest.approx(kpis["water_lost_m3"])


def test_burst_people_by_town_add_up(burst_run):
    people = pd.read_parquet(burst_run / "affected_population.parquet")
    towns = gpd.read_file(SCENARIOS_DIR.parent / "gis_data" / "base.gpkg", layer="towns")
    assert not people.empty and set(people["place"]) <= set(towns["name_zh"])
    junctions = pd.read_parquet(burst_run / "junction_service.parquet")
    hit = junctions[(junctions["hours_below_service_head_h"] > 0) | junctions["cut_off"]]
    assert people["people"].sum() == pytest.approx(hit["population"].sum())
    assert (people["people"].diff().dropna() <= 0).all()  # largest first


def test_burst_layers_are_named_in_lonlat(burst_run):
    layers = gpd.list_layers(burst_run / "results.gpkg")["name"].tolist()
    assert {"affected_junctions", "isolated_pipes", "valves_closed"} <= set(layers)
    valves = gpd.read_file(burst_run / "results.gpkg", layer="valves_closed")
    assert valves.crs.to_epsg() == 4326 and valves["name"].notna().all() and "valve_id" in valves
    points = valves.geometry.representative_point()
    lon, lat = points.x, points.y
    assert lon.between(119.3, 119.8).all() and lat.between(25.7, 26.1).all()  # Changle
    junctions = gpd.read_file(burst_run / "results.gpkg", layer="affected_junctions")
    assert {"name", "node_id", "place", "min_pressure_m"} <= set(junctions.columns)


def test_burst_figures_in_both_languages(burst_run):
    for name in ("burst_map", "pressure_over_time"):
        for lang in ("zh", "en"):
            assert (burst_run / f"{name}.{lang}.png").stat().st_size > 10_000


@pytest.mark.parametrize(("key", "value", "needle"), [
    ("burst__area", "吴杭", "nearest: "),
    ("crew__depot", "NO-SUCH-DEPOT", "[crew] depot"),
    ("crew__compare_depots", ["航城街道", "nowhere"], "[crew] compare_depots[1]"),
])
def test_burst_places_are_checked_by_name(twin_cli, tmp_path, key, value, needle):
    outcome = twin_cli("validate", _burst_file(tmp_path, **{key: value}))
    assert outcome.exit_code == 2, outcome.stderr
    assert needle in outcome.stderr and len(outcome.stderr.strip().splitlines()) == 1


def test_burst_unknown_pipe_names_the_nearest(twin_cli, tmp_path):
    outcome = twin_cli("validate", _burst_file(tmp_path, burst__pipe="P0087"))
    assert outcome.exit_code == 2 and "[burst] pipe = 'P0087'" in outcome.stderr
    assert re.search(r"nearest: 'P\d+'", outcome.stderr)


def test_burst_huge_duration_exits_2_before_running(twin_cli, tmp_path):
    out = tmp_path / "run"
    outcome = twin_cli("run", _burst_file(tmp_path, scenario__duration_s=1e9), "--out", out)
    assert outcome.exit_code == 2 and "[scenario] duration_s" in outcome.stderr
    assert not out.exists()


def test_burst_starter_is_valid_for_the_bundled_city(twin_cli, tmp_path):
    target = tmp_path / "starter.toml"
    outcome = twin_cli("scenarios", "new", "pipe_burst", "--out", target)
    assert outcome.exit_code == 0, outcome.stderr
    text = target.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert data["burst"]["pipe"].startswith("P") and "# " in text
    assert twin_cli("validate", target).exit_code == 0


# ---- town_supply ----------------------------------------------------------------------------------------
RURAL = SCENARIOS_DIR / "rural_extension.toml"


@pytest.fixture(scope="module")
def rural_run(tmp_path_factory):
    from twin_cli import main

    out = tmp_path_factory.mktemp("rural") / "run"
    with pytest.raises(SystemExit) as done:
        main(["run", str(RURAL), "--out", str(out), "--quiet"])
    assert done.value.code in (0, None)
    return out


def test_town_supply_answer_names_the_short_towns_and_the_mains(rural_run):
    answer = json.loads((rural_run / "answer.json").read_text(encoding="utf-8"))
    towns = pd.read_parquet(rural_run / "towns.parquet")
    mains = pd.read_parquet(rural_run / "mains_to_upsize.parquet")
    short = towns.loc[~towns["meets_service_head"], "town"]
    assert len(short) >= 1
    for lang in ("zh", "en"):
        assert all(town in answer["text"][lang] for town in short)
        assert mains["pipe"].iloc[0] in answer["text"][lang]
    assert "个，" not in answer["text"]["zh"] and " people live there" in answer["text"]["en"]
    assert answer["recommendation"]["en"] == "upsized mains"


def test_town_supply_report_in_chromium(rural_run):
    assert_briefing(rural_run, "town_supply_report")


def test_town_supply_options_and_people_by_town(rural_run):
    options = pd.read_parquet(rural_run / "options.parquet")
    kpis = json.loads((rural_run / "kpis.json").read_text(encoding="utf-8"))
    assert list(options["option"]) == ["as_built", "upsized"] and list(options["recommended"]) == [False, True]
    assert options["towns_below_service_head_count"].iloc[0] == kpis["towns_below_service_head_count"]
    assert options["upsizing_cost_cny"].iloc[1] == pytest.approx(kpis["upsizing_cost_cny"])
    people = pd.read_parquet(rural_run / "affected_population.parquet")
    towns = pd.read_parquet(rural_run / "towns.parquet")
    assert set(people["place"]) <= set(towns.loc[~towns["meets_service_head"], "town"])
    assert (people["people"] > 0).all() and (people["min_pressure_m"] < 28.0).all()


def test_town_supply_layers_and_figures(rural_run):
    towns = gpd.read_file(rural_run / "results.gpkg", layer="town_worst_junctions")
    mains = gpd.read_file(rural_run / "results.gpkg", layer="mains_to_upsize")
    assert towns.crs.to_epsg() == 4326 and mains.crs.to_epsg() == 4326
    assert towns["place"].str.contains("镇|街道|乡").all() and mains["name"].notna().all()
    for name in ("town_pressures", "upsizing_map"):
        for lang in ("zh", "en"):
            assert (rural_run / f"{name}.{lang}.png").exists()


def test_town_supply_missing_network_and_estimate(twin_cli, tmp_path):
    from scenarios.kinds.rural_extension import TownSupplyFile, estimate

    data = tomllib.loads(RURAL.read_text(encoding="utf-8"))
    data["network"] = {"inp": "no-such.inp"}
    path = tmp_path / "rural.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    outcome = twin_cli("validate", path)
    assert outcome.exit_code == 2 and "[network] inp = 'no-such.inp'" in outcome.stderr
    few = TownSupplyFile.model_validate({**data, "network": {}, "plan": {"max_upsizes": 10}})
    many = TownSupplyFile.model_validate({**data, "network": {}, "plan": {"max_upsizes": 1000}})
    assert estimate(many).seconds > 50 * estimate(few).seconds > 0
    assert estimate(many).driver == "[plan] max_upsizes"


def test_town_supply_starter_is_valid(twin_cli, tmp_path):
    target = tmp_path / "starter.toml"
    assert twin_cli("scenarios", "new", "town_supply", "--out", target).exit_code == 0
    assert twin_cli("validate", target).exit_code == 0
