"""``twin water solve``: tables, units and errors; EPANET .inp import/export round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

NETWORKS = Path(__import__("wntr").__file__).parent / "library" / "networks"


def test_solve_writes_si_tables(twin_cli, tmp_path):
    out = tmp_path / "net3"
    outcome = twin_cli("water", "solve", NETWORKS / "Net3.inp", "--duration-h", "6", "--out", out)
    assert outcome.exit_code == 0, outcome.stderr
    nodes = pd.read_parquet(out / "nodes.parquet")
    links = pd.read_parquet(out / "links.parquet")
    assert list(nodes.columns) == ["time_s", "node", "head_m", "pressure_m", "demand_m3_per_s"]
    assert list(links.columns) == ["time_s", "link", "flow_m3_per_s", "velocity_m_per_s", "headloss_m"]
    assert (out / "nodes.csv").exists() and (out / "links.csv").exists()
    assert sorted(nodes.time_s.unique()) == [3600.0 * h for h in range(7)]
    # SI whatever the file's units (Net3 is in GPM and feet): the lake is at 167 ft = 50.90 m
    lake = nodes[(nodes.node == "Lake") & (nodes.time_s == 0)].head_m.iloc[0]
    assert lake == pytest.approx(167 * 0.3048)
    # pump 10 is 99 ft of shutoff head at most; flows in m³/s are well below 1
    assert links.flow_m3_per_s.abs().max() < 2.0
    assert "wrote" in outcome.stdout


def test_solve_step_and_pdd_options(twin_cli, tmp_path):
    out = tmp_path / "net1"
    outcome = twin_cli("water", "solve", NETWORKS / "Net1.inp", "--duration-h", "2", "--step-s", "900",
                       "--demand-model", "pdd", "--out", out)
    assert outcome.exit_code == 0, outcome.stderr
    nodes = pd.read_parquet(out / "nodes.parquet")
    assert np.allclose(sorted(nodes.time_s.unique()), np.arange(0, 7201, 900))


@pytest.mark.parametrize("args", [
    ("water", "solve", "missing.inp", "--out", "{tmp}/a"),
    ("water", "solve", str(NETWORKS / "Net1.inp"), "--duration-h", "-1", "--out", "{tmp}/b"),
    ("water", "solve", str(NETWORKS / "Net1.inp"), "--step-s", "0", "--out", "{tmp}/c"),
])
def test_bad_input_exits_2_with_one_line(twin_cli, tmp_path, args):
    outcome = twin_cli(*[a.format(tmp=tmp_path) for a in args])
    assert outcome.exit_code == 2
    assert len(outcome.stderr.strip().splitlines()) == 1


def test_garbage_inp_is_an_input_error(twin_cli, tmp_path):
    bad = tmp_path / "bad.inp"
    bad.write_text("[JUNCTIONS]\nJ1 abc\n[END]\n")
    outcome = twin_cli("water", "solve", bad, "--out", tmp_path / "x")
    assert outcome.exit_code == 2
    assert "bad.inp" in outcome.stderr


def test_existing_output_needs_force(twin_cli, tmp_path):
    out = tmp_path / "o"
    assert twin_cli("water", "solve", NETWORKS / "Net1.inp", "--duration-h", "0", "--out", out).exit_code == 0
    assert twin_cli("water", "solve", NETWORKS / "Net1.inp", "--duration-h", "0", "--out", out).exit_code == 2
    forced = twin_cli("water", "solve", NETWORKS / "Net1.inp", "--duration-h", "0", "--out", out, "--force")
    assert forced.exit_code == 0


def test_unconverged_step_raises_with_where_and_residual(tmp_path):
    """Two trials cannot solve Net3: the error names the time, the element and the residual."""
    from twin.errors import ConvergenceError
    from twin.water.compile import load_network
    from twin.water.simulation import simulate

    net = load_network(NETWORKS / "Net3.inp")
    net.options.trials = 2
    net.options.extra_trials = 0
    where = r"t = 0 s after 2 iterations: relative flow change .* at link"
    with pytest.raises(ConvergenceError, match=where):
        simulate(net, duration_s=0)
    relaxed = simulate(load_network(NETWORKS / "Net3.inp"), duration_s=0, on_unbalanced="continue")
    assert relaxed.warnings == []
    net = load_network(NETWORKS / "Net3.inp")
    net.options.trials = 2
    net.options.extra_trials = 0
    flagged = simulate(net, duration_s=0, on_unbalanced="continue")
    assert flagged.warnings and "UNBALANCED" in flagged.warnings[0]
    assert flagged.solver_log[0]["converged"] is False


def test_inp_round_trip(tmp_path):
    from twin.water.compile import compile_network
    from twin.water.epanet_io import read_inp, write_inp
    from twin.water.simulation import simulate

    wn = read_inp(NETWORKS / "Net3.inp")
    path = write_inp(wn, tmp_path / "net3_lps.inp", units="LPS")
    again = read_inp(path)
    assert sorted(again.junction_name_list) == sorted(wn.junction_name_list)
    assert again.options.hydraulic.inpfile_units == "LPS"
    a = simulate(compile_network(wn), duration_s=3 * 3600)
    b = simulate(compile_network(again), duration_s=3 * 3600)
    np.testing.assert_allclose(a.head_m, b.head_m, atol=1e-3)
    second = write_inp(again, tmp_path / "net3_lps2.inp", units="LPS")
    assert path.read_text() == second.read_text()  # deterministic writer
