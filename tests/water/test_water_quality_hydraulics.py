"""The hydraulics the quality solver reads: every interval of the extended-period simulation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kernels.hydraulics.codes import CLOSED
from twin.water.compile import load_network
from twin.water.epanet_io import read_inp
from twin.water.quality import hydraulic_intervals, simulate_quality
from twin.water.simulation import simulate

NETWORKS = Path(__import__("wntr").__file__).parent / "library" / "networks"
REPO = Path(__file__).resolve().parents[2]


def test_intervals_cover_the_run_and_match_the_reported_hydraulics():
    """Net3's tanks and controls cut steps between reports: the intervals include those cuts, and
    at each reported time their flows are the simulation's."""
    net = load_network(NETWORKS / "Net3.inp")
    hyd = hydraulic_intervals(net, 24 * 3600)
    reported = simulate(load_network(NETWORKS / "Net3.inp"), duration_s=24 * 3600)
    assert hyd.time_s[0] == 0 and hyd.time_s[-1] == 24 * 3600
    assert np.all(np.diff(hyd.time_s) > 0)
    assert len(hyd.time_s) > len(reported.time_s)  # steps cut by tanks and controls
    starts = list(hyd.time_s[:-1])
    for row, t in enumerate(reported.time_s[:-1]):
        flows = hyd.flow_m3_per_s[starts.index(t)]
        open_ = reported.status[row] > CLOSED  # the quality solver sees 0 on closed links
        np.testing.assert_allclose(flows[open_], reported.flow_m3_per_s[row][open_], rtol=1e-12, atol=1e-12)
        assert np.all(flows[~open_] == 0.0)


@pytest.mark.slow
def test_changle_water_age_against_epanet(tmp_path):
    """The bundled network, 72 h of water age: every node within the issue's tolerance of EPANET."""
    import wntr

    ours, _ = simulate_quality(REPO / "gis_data" / "water.inp", parameter="age", duration_s=72 * 3600)
    wn = read_inp(REPO / "gis_data" / "water.inp")
    wn.options.time.duration = 72 * 3600
    wn.options.quality.parameter = "AGE"
    quality = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / "epanet")).node["quality"]
    theirs = quality[ours.node_names].to_numpy() / 3600.0
    last_day = ours.time_s >= 48 * 3600
    error = np.abs(ours.value - theirs)[last_day]
    assert np.all(error <= np.maximum(0.01 * theirs[last_day], 0.05))
