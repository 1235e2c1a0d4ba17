"""The burst story and the town-supply model (twin.water.burst, twin.water.town_supply), and the
``pipe_burst`` and ``town_supply`` scenario kinds over them, on a network built for a city made in code."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from test_water_changle import fake_city, load_builder


@pytest.fixture(scope="module")
def fake_water(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fake_water")
    city = fake_city()
    inp, valves = load_builder().build(folder, city)
    return city, inp, valves


def _burst_config(inp, valves, **tables):
    from scenarios.kinds.pipe_burst import PipeBurstFile

    data = {
        "scenario": {
            "kind": "pipe_burst",
            "name": "test",
            "start": datetime(2025, 6, 3, 6, 30),
            "duration_s": 10 * 3600.0,
            "seed": 7,
        },
        "network": {"inp": str(inp), "valves": str(valves)},
    }
    data.update(tables)
    return PipeBurstFile.model_validate(data)


def _run_burst(city, config):
    from scenarios.kinds.pipe_burst import _area_polygon, assess_burst, load_water
    from twin.engine import Engine

    net, valves, tags = load_water(config)
    engine = Engine(config.scenario.seed, config.scenario.start, config.scenario.duration_s)
    return assess_burst(config, engine, net, valves, tags, city.roads, _area_polygon(city, "wuhang"))


@pytest.fixture(scope="module")
def burst(fake_water):
    city, inp, valves = fake_water
    config = _burst_config(inp, valves, burst={"at_s": 1680.0})
    return city, config, _run_burst(city, config)


def test_story_runs_in_order(burst):
    _, config, result = burst
    timeline = result.tables["timeline"]
    assert list(timeline.event) == ["burst", "detected", "dispatched", "on_site", "isolated", "restored"]
    assert np.all(np.diff(timeline.time_s) >= 0)
    k = result.kpis
    assert 0 <= k["time_to_detect_s"] <= config.detection.scan_interval_s
    assert k["time_to_detect_s"] < k["time_to_isolate_s"] < k["time_to_restore_s"]
    assert k["crew_travel_s"] > 0 and k["valves_closed_count"] >= 1


def test_water_is_lost_until_isolation_and_not_after(burst):
    _, config, result = burst
    over = result.tables["service_over_time"]
    isolated = result.tables["timeline"].set_index("event").time_s["isolated"]
    restored = result.tables["timeline"].set_index("event").time_s["restored"]
    during = over[(over.time_s >= config.burst.at_s) & (over.time_s < isolated)]
    after = over[(over.time_s > isolated) & (over.time_s < restored)]
    assert during.leak_m3_per_s.min() > 0.01
    assert after.leak_m3_per_s.max() < 1e-4  # the isolated segment drains: no more outflow
    assert result.kpis["water_lost_m3"] > 0
    # the volume lost is the leak flow integrated over the reported steps
    steps = np.diff(np.append(over.time_s.to_numpy(), config.scenario.duration_s))
    assert result.kpis["water_lost_m3"] == pytest.approx(float(over.leak_m3_per_s @ steps), rel=0.05)


def test_service_kpis_are_consistent(burst):
    _, _, result = burst
    k = result.kpis
    assert k["person_hours_lost_person_h"] >= 0
    assert (
        k["person_hours_below_service_head_person_h"]
        >= k["baseline_person_hours_below_service_head_person_h"]
    )
    assert 0 < k["service_availability_pct"] <= k["baseline_service_availability_pct"] + 1e-9
    assert k["peak_population_below_service_head_count"] > 0
    assert k["min_pressure_during_leak_m"] < 28.0
    valves = result.tables["valves"]
    assert valves.closed_at_s.notna().all()
    assert set(result.figures) == {f"{n}.{lang}" for n in ("burst_map", "pressure_over_time") for lang in ("zh", "en")}


def test_cim_tables_mark_the_burst_and_the_isolated_segment(burst):
    _, config, result = burst
    links = result.tables["cim_water_links"]
    burst_pipe = links.loc[links["burst"], "link"].tolist()
    assert len(burst_pipe) == 1 and links["isolated"].all()
    assert f"pipe {burst_pipe[0]}" in result.tables["timeline"].detail.iloc[0]
    assert not links["link"].str.endswith("__b").any()  # names as in the network file
    closed = set(result.tables["valves"]["link"].str.removesuffix("__b"))
    assert closed <= set(links["link"])  # the valves' links are closed with the segment
    nodes = result.tables["cim_water_nodes"]
    junctions = result.tables["junction_service"]
    assert nodes["node"].tolist() == junctions["junction"].tolist()
    assert (nodes["cut_off"] == junctions["cut_off"]).all()


def test_same_seed_same_result(burst, fake_water):
    city, config, first = burst
    second = _run_burst(city, config)
    assert first.kpis == second.kpis
    pd.testing.assert_frame_equal(first.tables["timeline"], second.tables["timeline"])


def test_congested_roads_delay_the_crew(burst, fake_water, tmp_path):
    from twin.city.travel_times import FreeFlowTravelTimes

    city, config, free = burst
    free_times = FreeFlowTravelTimes(city.roads)
    edges = [(u, v, k) for u, v, k in city.roads.edges(keys=True)]
    frame = pd.DataFrame(
        {
            "u": [e[0] for e in edges],
            "v": [e[1] for e in edges],
            "key": [e[2] for e in edges],
            "bin_start_s": 0.0,
            "travel_time_s": [3.0 * free_times.edge_time_s(e, 0.0) for e in edges],
        }
    )
    # a signal_timing run's link table names the column mean_travel_time_s; a NaN bin (no vehicle
    # left the link) counts as free flow
    frame = frame.rename(columns={"travel_time_s": "mean_travel_time_s"})
    frame = pd.concat([frame, frame.head(1).assign(bin_start_s=86400.0, mean_travel_time_s=np.nan)])
    path = tmp_path / "slow.parquet"
    frame.to_parquet(path)
    slow_config = _burst_config(
        config.network.inp,
        config.network.valves,
        burst={"at_s": 1680.0},
        crew={"travel_times_file": str(path)},
    )
    slow = _run_burst(city, slow_config)
    assert slow.kpis["crew_travel_s"] == pytest.approx(3.0 * free.kpis["crew_travel_s"], rel=0.01)
    assert slow.kpis["time_to_isolate_s"] > free.kpis["time_to_isolate_s"]
    assert slow.kpis["water_lost_m3"] > free.kpis["water_lost_m3"]


def test_named_pipe_and_bad_inputs(fake_water):
    from twin.errors import InputError

    city, inp, valves = fake_water
    with pytest.raises(InputError, match="not a pipe"):
        _run_burst(city, _burst_config(inp, valves, burst={"pipe": "NOPE"}))
    with pytest.raises(InputError, match="depot"):
        _run_burst(city, _burst_config(inp, valves, crew={"depot": "nowhere"}))
    with pytest.raises(InputError, match="valve layer not found|valves"):
        _run_burst(city, _burst_config(inp, inp.with_name("missing.csv")))


def test_town_supply_plans_upsizing_where_towns_fall_short(fake_water, tmp_path, twin_cli):
    city, inp, valves = fake_water
    scenario = tmp_path / "towns.toml"
    scenario.write_text(
        '[scenario]\nkind = "town_supply"\nname = "towns"\n\n'
        f'[network]\ninp = "{inp}"\n\n[demand]\ngrowth = 1.6\n\n[plan]\nmax_upsizes = 20\n'
    )
    outcome = twin_cli("run", scenario, "--out", tmp_path / "out", "--quiet")
    assert outcome.exit_code == 0, outcome.stderr
    kpis = pd.read_json(tmp_path / "out" / "kpis.json", typ="series")
    towns = pd.read_parquet(tmp_path / "out" / "towns.parquet")
    # towns by their names in the city the run is on (the bundled Changle), not by their tags
    from twin.city.folder import load_city

    names = dict(zip(load_city().towns["town_id"], load_city().towns["name_zh"], strict=True))
    assert set(towns.town) == {names[t] for t in city.towns.town_id}
    assert kpis["towns_below_service_head_count"] >= 1
    assert kpis["min_town_pressure_after_upsizing_m"] >= kpis["min_town_pressure_m"]
    mains = pd.read_parquet(tmp_path / "out" / "mains_to_upsize.parquet")
    assert len(mains) == kpis["mains_to_upsize_count"] >= 1
    assert (mains.to_dn_mm > mains.from_dn_mm).all()
    assert (tmp_path / "out" / "town_pressures.zh.png").exists()


def test_town_supply_without_growth_meets_the_service_head(fake_water):
    from scenarios.kinds.rural_extension import TownSupplyFile, run
    from twin.engine import Engine

    _, inp, _ = fake_water
    config = TownSupplyFile.model_validate(
        {
            "scenario": {"kind": "town_supply", "name": "t"},
            "network": {"inp": str(inp)},
            "demand": {"growth": 0.5},
        }
    )
    result = run(config, Engine(1, config.scenario.start, 3600.0))
    assert result.kpis["towns_below_service_head_count"] == 0
    assert result.kpis["mains_to_upsize_count"] == 0
    assert math.isclose(result.kpis["min_town_pressure_m"], result.kpis["min_town_pressure_after_upsizing_m"])


def test_burst_model_isolates_valve_by_valve_and_reopens_after_the_repair(fake_water):
    """The model alone (twin.water.burst), without the scenario: the story's order, each valve
    closed by the crew between its arrival and the isolation, shut in the hydraulics until the
    repair is done, and the hole discharging only until the isolation."""
    from kernels.hydraulics.codes import CLOSED
    from twin.engine import Engine
    from twin.water.burst import Burst, Crew, Detection, Repair, largest_main, simulate_burst
    from twin.water.compile import compile_network
    from twin.water.epanet_io import link_tags, read_inp
    from twin.water.leaks import Leak

    city, inp, valves = fake_water
    wn = read_inp(inp)
    net = compile_network(wn, str(inp))
    pipe = largest_main(net, link_tags(wn))
    engine = Engine(7, datetime(2025, 6, 3, 6, 30), 8 * 3600.0)
    outcome = simulate_burst(engine, net, pd.read_csv(valves), city.roads,
                             Burst(Leak(pipe, 0.5, area_fraction=0.5), at_s=1680.0), Detection(sensors=10),
                             Crew(valve_close_s=120.0), Repair(median_s=3600.0, sigma=0.0))
    t = outcome.times
    assert [event for event, _, _ in outcome.log] == [
        "burst", "detected", "dispatched", "on_site", "isolated", "restored"]
    assert t["restored"] - t["isolated"] == pytest.approx(3600.0)  # sigma 0: the median repair
    links = outcome.network.valve_links
    assert links and sorted(outcome.valve_closed_at) == links
    assert all(t["on_site"] + 120.0 <= when <= t["isolated"] for when in outcome.valve_closed_at.values())
    result = outcome.result
    since_start = result.time_s - outcome.offset_s
    isolated = (since_start > t["isolated"]) & (since_start < t["restored"])
    reopened = since_start > t["restored"]
    assert isolated.any() and reopened.any()
    assert (result.status[np.ix_(isolated, links)] <= CLOSED).all()
    assert (result.status[np.ix_(reopened, links)] > CLOSED).all()
    leak = result.leak_m3_per_s[:, outcome.network.leak_node]
    assert (leak[since_start < t["burst"]] == 0.0).all()
    assert (leak[reopened] == 0.0).all()
    assert leak[(since_start >= t["burst"]) & (since_start < t["isolated"])].min() > 0.0


def test_town_supply_model_prices_each_main_once_at_its_final_diameter():
    from twin.water.town_supply import COST_CNY_PER_M, UPSIZING_COLUMNS, mains_to_upsize

    steps = [
        dict(zip(UPSIZING_COLUMNS, (1, "P1", 200, 250, 400.0, 6.0, "J9", 20.0), strict=True)),
        dict(zip(UPSIZING_COLUMNS, (2, "P2", 300, 400, 100.0, 4.0, "J9", 24.0), strict=True)),
        dict(zip(UPSIZING_COLUMNS, (3, "P1", 250, 300, 400.0, 3.0, "J9", 27.0), strict=True)),
    ]
    upsizes, mains = mains_to_upsize(steps)
    assert list(upsizes.columns) == UPSIZING_COLUMNS and len(upsizes) == 3
    assert mains.to_dict("list") == {
        "pipe": ["P1", "P2"], "from_dn_mm": [200, 300], "to_dn_mm": [300, 400], "length_m": [400.0, 100.0],
        "cost_cny": [COST_CNY_PER_M[300] * 400.0, COST_CNY_PER_M[400] * 100.0],
    }


def test_town_supply_planner_stops_at_its_step_limit(fake_water):
    from twin.water.compile import compile_network
    from twin.water.epanet_io import read_inp
    from twin.water.service import population_served
    from twin.water.town_supply import plan_upsizing

    _, inp, _ = fake_water
    net = compile_network(read_inp(inp), str(inp))
    plan = plan_upsizing(net, population_served(net), growth=1.6, hours=24, service_head_m=28.0, max_steps=2,
                         min_unit_loss_m_per_km=1.0)
    assert len(plan.steps) == 2 and plan.reason == "stopped after 2 upsizing steps"
    assert all(step["to_dn_mm"] > step["from_dn_mm"] for step in plan.steps)
    for step in plan.steps:  # the plan's network has the new diameters; the given one is untouched
        k = net.link_index(step["pipe"])
        assert plan.network.diameter_m[k] >= step["to_dn_mm"] / 1000.0 > net.diameter_m[k]
