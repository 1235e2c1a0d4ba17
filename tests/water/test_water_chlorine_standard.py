"""Free chlorine against GB 5749-2022 (>= 0.05 mg/L at the network's ends, <= 2 mg/L) on Net1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.errors import InputError
from twin.water.chlorine_standard import (
    MAX_CHLORINE_MG_PER_L,
    MIN_END_CHLORINE_MG_PER_L,
    chlorine_check,
    network_ends,
)
from twin.water.compile import compile_network
from twin.water.epanet_io import read_inp
from twin.water.quality import hydraulic_intervals, route
from twin.water.quality_setup import quality_setup

NET1 = Path(__import__("wntr").__file__).parent / "library" / "networks" / "Net1.inp"


def _run(bulk_per_day: float | None = None, booster_mg_per_l: float | None = None):
    wn = read_inp(NET1)
    if bulk_per_day is not None:
        wn.options.reaction.bulk_coeff = bulk_per_day / 86400.0
    if booster_mg_per_l is not None:
        wn.add_source("boost", "10", "SETPOINT", booster_mg_per_l / 1000.0)
    net = compile_network(wn)
    hyd = hydraulic_intervals(net, 48 * 3600)
    return route(net, quality_setup(wn, net), hyd), net, hyd


def test_net1_ends_are_where_flow_ends_and_meet_the_standard():
    results, net, hyd = _run()
    ends = [net.node_names[i] for i in np.flatnonzero(network_ends(net, hyd))]
    assert ends == ["23", "32"]  # Net1 has no dead ends; all flow into 23 and 32 stops there
    table, kpis = chlorine_check(results, net, window_s=24 * 3600, hyd=hyd)
    assert kpis["network_ends_count"] == 2
    assert kpis["ends_below_min_chlorine_count"] == 0
    assert kpis["junctions_above_max_chlorine_count"] == 0
    assert kpis["min_end_chlorine_mg_per_l"] == pytest.approx(table[table.is_end].min_mg_per_l.min())
    assert len(table) == net.n_junctions


def test_fast_decay_leaves_the_ends_short():
    results, net, hyd = _run(bulk_per_day=-8.0)
    table, kpis = chlorine_check(results, net, window_s=24 * 3600, hyd=hyd)
    short = table[table.is_end & (table.min_mg_per_l < MIN_END_CHLORINE_MG_PER_L)]
    assert kpis["ends_below_min_chlorine_count"] == len(short) > 0
    assert not table[~table.is_end].below_min_at_end.any()  # only ends are held to the minimum


def test_an_overdosing_booster_breaks_the_limit():
    results, net, hyd = _run(booster_mg_per_l=2.5)
    table, kpis = chlorine_check(results, net, hyd=hyd)
    assert kpis["junctions_above_max_chlorine_count"] == int((table.max_mg_per_l > MAX_CHLORINE_MG_PER_L).sum()) > 0
    assert table.set_index("node").loc["10", "above_max"]


def test_named_sampling_points_and_wrong_inputs():
    results, net, hyd = _run()
    _, kpis = chlorine_check(results, net, ends=["11", "12"])
    assert kpis["network_ends_count"] == 2
    with pytest.raises(InputError, match="end node = nowhere"):
        chlorine_check(results, net, ends=["nowhere"])
    wn = read_inp(NET1)
    age = route(net, quality_setup(wn, net, "age"), hyd)
    with pytest.raises(InputError, match="parameter = age"):
        chlorine_check(age, net)


def test_quality_by_place_counts_ends_and_sorts_worst_first():
    from twin.water.quality_places import quality_by_place

    results, net, hyd = _run(bulk_per_day=-8.0)
    check, kpis = chlorine_check(results, net, window_s=24 * 3600, hyd=hyd)
    places = ["north"] * 5 + ["south"] * (net.n_junctions - 5)
    table = quality_by_place(results, net, places, 24 * 3600, check)
    assert table.junctions_count.sum() == net.n_junctions
    assert table.ends_count.sum() == kpis["network_ends_count"]
    assert table.ends_below_min_count.sum() == kpis["ends_below_min_chlorine_count"]
    weighted = list(table.demand_weighted_mean_value)
    assert weighted == sorted(weighted)  # least chlorine drawn first
    south = check.iloc[5:]
    assert table.set_index("place").loc["south", "min_value"] == pytest.approx(south.min_mg_per_l.min())
