"""Contaminant injections over one hydraulic solution: ensemble and loop agree, EPANET agrees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.errors import InputError
from twin.water.compile import load_network
from twin.water.epanet_io import read_inp
from twin.water.injection import Injection, route_injections
from twin.water.quality import hydraulic_intervals

NET3 = Path(__import__("wntr").__file__).parent / "library" / "networks" / "Net3.inp"


@pytest.fixture(scope="module")
def net3():
    net = load_network(NET3)
    return net, hydraulic_intervals(net, 24 * 3600)


INJECTIONS = [Injection("123", 3 * 3600, 2 * 3600, 5.0), Injection("10", 0, 4 * 3600, 1.0),
              Injection("Lake", 6 * 3600, 3600, 20.0), Injection("1", 12 * 3600, 5 * 3600, 2.0)]


def test_ensemble_equals_loop_without_merging(net3):
    net, hyd = net3
    together = route_injections(net, hyd, INJECTIONS, 300, method="ensemble", tolerance_mg_per_l=0.0, batch=3)
    alone = route_injections(net, hyd, INJECTIONS, 300, method="loop", tolerance_mg_per_l=0.0)
    np.testing.assert_allclose(together.peak_mg_per_l, alone.peak_mg_per_l, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(together.first_above_s, alone.first_above_s)
    lake = INJECTIONS[2]
    assert np.nanmin(together.first_above_s[2]) >= lake.start_s  # nothing arrives before it starts


def test_peaks_match_epanet(net3, tmp_path):
    """The first injection as a patterned MASS source in EPANET 2.2 (through WNTR)."""
    import wntr

    net, hyd = net3
    impacts = route_injections(net, hyd, INJECTIONS[:1], 300)
    wn = read_inp(NET3)
    wn.options.time.duration = 24 * 3600
    wn.options.time.quality_timestep = 300
    wn.options.quality.parameter = "CHEMICAL"
    for name in wn.node_name_list:
        wn.get_node(name).initial_quality = 0.0
    pattern = np.zeros(24)
    pattern[3:5] = 1.0
    wn.add_pattern("inj", list(pattern))
    wn.add_source("inj", "123", "MASS", 5.0 / 1000.0, "inj")  # kg/s
    quality = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / "inj")).node["quality"]
    theirs = quality[impacts.node_names].iloc[1:].max(axis=0).to_numpy() * 1000.0
    assert np.all(np.abs(impacts.peak_mg_per_l[0] - theirs) <= np.maximum(0.01 * theirs, 0.005))


@pytest.mark.parametrize(("injection", "message"), [
    (Injection("nowhere", 0, 3600, 1.0), "injection node = nowhere"),
    (Injection("10", 1800, 3600, 1.0), "injection start_s = 1800"),
    (Injection("10", 0, 3600, 0.0), "injection rate_g_per_s = 0.0"),
])
def test_bad_injections_are_input_errors(net3, injection, message):
    net, hyd = net3
    with pytest.raises(InputError, match=message):
        route_injections(net, hyd, [injection])


def test_bad_method_and_threshold(net3):
    net, hyd = net3
    with pytest.raises(InputError, match="method = fast"):
        route_injections(net, hyd, INJECTIONS[:1], method="fast")
    with pytest.raises(InputError, match="threshold_mg_per_l = 0"):
        route_injections(net, hyd, INJECTIONS[:1], threshold_mg_per_l=0)
