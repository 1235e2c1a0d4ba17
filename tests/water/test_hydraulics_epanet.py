"""Our GGA solver against EPANET 2.2 (WNTR's EpanetSimulator) on WNTR's bundled networks.

24 h extended-period runs, compared at every reporting time:

* heads: max |Δh| <= 0.05 m and mean <= 0.01 m over all junctions and times;
* flows: within 1 % wherever |q| > 1 L/s;
* tank levels follow the same trajectory.

ky10 has two dead ends (a constant-power pump feeding a PRV that has closed) whose junction heads
the equations do not determine: both solvers report whatever the closed links' 1e-8 conductances
and rounding leave there. Those few junction-times are flagged by
``GGASolver.determinate_junctions``; the head criterion is applied to every other junction, and
the test checks that the flagged ones are few, carry no demand and sit in pockets with no flow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

NETWORKS = Path(__import__("wntr").__file__).parent / "library" / "networks"


def _compare(name: str, workdir: Path):
    import wntr

    from twin.water.compile import compile_network
    from twin.water.simulation import simulate

    wn = wntr.network.WaterNetworkModel(str(NETWORKS / f"{name}.inp"))
    wn.options.time.duration = 24 * 3600
    prefix = workdir / name
    reference = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(prefix))
    net = compile_network(wn)
    ours = simulate(net)
    return wn, net, reference, ours


@pytest.fixture(scope="module", params=["Net1", "Net3", "ky10", "Net6"])
def comparison(request, tmp_path_factory):
    return (request.param, *_compare(request.param, tmp_path_factory.mktemp("epanet")))


def test_same_reporting_times(comparison):
    name, wn, net, reference, ours = comparison
    assert np.array_equal(reference.node["head"].index.values.astype(float), ours.time_s)
    assert len(ours.time_s) == 25


def test_junction_heads_match_epanet(comparison):
    name, wn, net, reference, ours = comparison
    junctions = list(wn.junction_name_list)
    ref = reference.node["head"][junctions].to_numpy()
    cols = [ours.node_names.index(j) for j in junctions]
    error = np.abs(ours.head_m[:, cols] - ref)
    determinate = ours.determinate[:, cols]
    assert error.mean() <= 0.01, f"{name}: mean |dh| {error.mean():.4f} m"
    assert error[determinate].max() <= 0.05, f"{name}: max |dh| {error[determinate].max():.4f} m"
    undetermined = ~determinate
    # indeterminate heads are rare, at junctions without demand, in pockets with no flow
    assert undetermined.sum() <= 0.001 * undetermined.size, f"{name}: {undetermined.sum()} flagged"
    if name != "ky10":
        assert not undetermined.any()
    t_idx, j_idx = np.nonzero(undetermined)
    assert np.all(ours.required_m3_per_s[t_idx, [cols[j] for j in j_idx]] == 0.0)
    for t, j in zip(t_idx, j_idx, strict=True):
        node = cols[j]
        touching = (net.start == node) | (net.end == node)
        assert np.all(np.abs(ours.flow_m3_per_s[t, touching]) < 1e-6)


def test_flows_match_epanet(comparison):
    name, wn, net, reference, ours = comparison
    links = list(reference.link["flowrate"].columns)
    ref = reference.link["flowrate"][links].to_numpy()
    cols = [ours.link_names.index(k) for k in links]
    mine = ours.flow_m3_per_s[:, cols]
    big = np.abs(ref) > 1e-3
    relative = np.abs(mine[big] - ref[big]) / np.abs(ref[big])
    assert relative.max() <= 0.01, f"{name}: flow error {relative.max():.4%}"


def test_tank_levels_match_epanet(comparison):
    name, wn, net, reference, ours = comparison
    tanks = list(wn.tank_name_list)
    ref = reference.node["head"][tanks].to_numpy()
    cols = [ours.node_names.index(t) for t in tanks]
    assert np.abs(ours.head_m[:, cols] - ref).max() <= 0.01


@pytest.mark.parametrize("name", ["Net2", "ky4"])
def test_other_library_networks_solve(name):
    import wntr

    from twin.water.compile import compile_network
    from twin.water.simulation import simulate

    wn = wntr.network.WaterNetworkModel(str(NETWORKS / f"{name}.inp"))
    result = simulate(compile_network(wn), duration_s=6 * 3600)
    assert all(entry["converged"] for entry in result.solver_log)
    assert np.isfinite(result.head_m).all()
