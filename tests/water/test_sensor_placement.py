"""Sensor placement: the exposure matrix against its definition, the greedy sets against an
exhaustive search, and a placement on EPANET's Net3 over routed injections."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.water.compile import load_network
from twin.water.injection import Injection, InjectionImpacts, route_injections
from twin.water.quality import hydraulic_intervals
from twin.water.sensor_placement import (
    exposure_if_detected_by,
    greedy_sensors,
    mean_exposed,
    people_from_demand,
)

NET3 = Path(__import__("wntr").__file__).parent / "library" / "networks" / "Net3.inp"


def _random_impacts(rng: np.random.Generator, n_inj: int, n_nodes: int) -> InjectionImpacts:
    first = rng.integers(0, 20, size=(n_inj, n_nodes)).astype(float) * 600.0
    first[rng.random((n_inj, n_nodes)) < 0.4] = np.nan  # nodes an injection never reaches
    return InjectionImpacts([f"n{k}" for k in range(n_nodes)], np.zeros((n_inj, n_nodes)), first, 0.01)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), delay_s=st.sampled_from([0.0, 300.0, 600.0, 1800.0]))
def test_exposure_is_its_definition(seed, delay_s):
    rng = np.random.default_rng(seed)
    impacts = _random_impacts(rng, 6, 9)
    people = rng.integers(0, 500, 9).astype(float)
    exposure = exposure_if_detected_by(impacts, people, delay_s)
    first = impacts.first_above_s
    for i, s in itertools.product(range(6), range(9)):
        reached = np.isfinite(first[i])
        everyone = people[reached].sum()
        expected = (people[reached & (np.nan_to_num(first[i], nan=np.inf) < first[i, s] + delay_s)].sum()
                    if reached[s] else everyone)
        assert exposure.people[i, s] == pytest.approx(expected)
        assert exposure.everyone[i] == pytest.approx(everyone)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_greedy_against_exhaustive_search(seed):
    """One sensor: the best. Two and three: at least (1 − 1/e) of the best reduction, and the
    curve only falls as sensors are added."""
    rng = np.random.default_rng(seed)
    impacts = _random_impacts(rng, 12, 8)
    exposure = exposure_if_detected_by(impacts, rng.integers(1, 300, 8).astype(float), 600.0)
    plan = greedy_sensors(exposure, 3, impacts.node_names)
    base = mean_exposed(exposure, [])
    assert plan.mean_exposed_people[0] == pytest.approx(base)
    for n in (1, 2, 3):
        best = min(mean_exposed(exposure, list(c)) for c in itertools.combinations(range(8), n))
        greedy = plan.mean_exposed_people[n]
        assert greedy == pytest.approx(mean_exposed(exposure, [int(x[1:]) for x in plan.nodes[:n]]))
        if n == 1:
            assert greedy == pytest.approx(best)
        assert base - greedy >= (1 - 1 / math.e) * (base - best) - 1e-9
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(plan.mean_exposed_people))
    assert all(b >= a for a, b in itertools.pairwise(plan.detected_share))


def test_placement_on_net3_lowers_exposure_and_detects_more():
    net = load_network(NET3)
    hyd = hydraulic_intervals(net, 24 * 3600)
    junctions = [name for name in net.node_names[: net.n_junctions]]
    injections = [Injection(node, start_h * 3600, 2 * 3600, 10.0)
                  for node in junctions[::6] for start_h in (0, 12)]
    impacts = route_injections(net, hyd, injections, 300, threshold_mg_per_l=0.01)
    mean_demand = hyd.demand_m3_per_s.mean(axis=0)
    people = np.zeros(net.n_nodes)
    people[: net.n_junctions] = people_from_demand(mean_demand[: net.n_junctions])
    exposure = exposure_if_detected_by(impacts, people, 1800.0)
    plan = greedy_sensors(exposure, 5, impacts.node_names, candidates=np.arange(net.n_junctions))
    assert len(set(plan.nodes)) == 5 and all(n in junctions for n in plan.nodes)
    assert plan.mean_exposed_people[5] < 0.7 * plan.mean_exposed_people[0]
    assert plan.detected_share[5] > 0.5
    best_single = min(mean_exposed(exposure, [k]) for k in range(net.n_junctions))
    assert plan.mean_exposed_people[1] == pytest.approx(best_single)


def test_cli_writes_the_curve(twin_cli, tmp_path):
    out = tmp_path / "sensors"
    result = twin_cli("water", "sensors", NET3, "--sensors", "3", "--every", "8", "--start-hours", "0,12",
                      "--out", out, "--quiet")
    assert result.exit_code == 0, result.stderr
    import pandas as pd

    curve = pd.read_csv(out / "sensor_curve.csv")
    assert list(curve["sensors"]) == [0, 1, 2, 3]
    assert curve["mean_exposed_people"].is_monotonic_decreasing
    kpis = __import__("json").loads((out / "kpis.json").read_text())
    assert kpis["injections_simulated_count"] == 2 * len(range(0, 92, 8))


@pytest.mark.parametrize(("args", "fragment"), [
    (["--every", "0"], "--every 0"),
    (["--start-hours", "0,x"], "--start-hours '0,x'"),
    (["--sensors", "500"], "more than the 92 candidate nodes"),
    (["--delay-min", "-5"], "--delay-min -5"),
    (["--duration-h", "0.25"], "injection duration_s = 900"),
])
def test_cli_bad_input_exits_2_with_one_line(twin_cli, tmp_path, args, fragment):
    out = tmp_path / "bad"
    result = twin_cli("water", "sensors", NET3, "--every", "8", *args, "--out", out)
    assert result.exit_code == 2, result
    assert result.stderr.count("\n") == 1 and fragment in result.stderr
    assert not out.exists()
