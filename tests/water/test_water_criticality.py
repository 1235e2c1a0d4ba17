"""Pipe criticality on the bundled Changle network: against EPANET 2.2, and `twin water criticality`."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from twin.paths import REPO_ROOT

INP = REPO_ROOT / "gis_data" / "water.inp"
VALVES = REPO_ROOT / "gis_data" / "water_valves.csv"


@pytest.fixture(scope="module")
def changle():
    from twin.water.compile import compile_network
    from twin.water.epanet_io import read_inp
    from twin.water.segments import ValveLayer

    wn = read_inp(INP)
    net = compile_network(wn)
    return wn, net, ValveLayer.from_frame(pd.read_csv(VALVES), net)


def test_person_hours_agree_with_epanet_on_the_largest_mains(changle, tmp_path):
    """Same closures, window and pressure-driven demand through EPANET 2.2 (WNTR): where EPANET
    converges, the person-hours agree within 2 % and the ranking is the same. Every fifth of the
    200 largest mains (EPANET's PDA fails on 11 of the 30 largest)."""
    from twin.water.criticality import pipe_criticality
    from twin.water.criticality_epanet import pipe_criticality_epanet

    wn, net, valves = changle
    pipes = np.flatnonzero(net.kind <= 1)
    pipes = pipes[np.argsort(-net.diameter_m[pipes], kind="stable")][:200:5]
    ours = pipe_criticality(net, valves, pipes).set_index("pipe")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pipe_criticality_epanet(wn, net, valves, pipes, workdir=tmp_path).set_index("pipe")
    both = theirs.index[theirs["converged"] & (ours.loc[theirs.index, "unbalanced_steps_count"] == 0)]
    assert len(both) >= 30
    a = ours.loc[both, "person_hours_lost_person_h"]
    b = theirs.loc[both, "person_hours_lost_person_h"]
    assert ((a - b).abs() <= 0.02 * b.clip(lower=1.0)).all(), pd.DataFrame({"ours": a, "epanet": b})
    assert spearmanr(a, b).statistic > 0.99
    assert a.max() > 100_000  # the largest mains do hurt: the comparison is not of zeros


def test_cli_ranks_the_trunk_mains_and_draws_a_map(twin_cli, tmp_path):
    out = tmp_path / "criticality"
    outcome = twin_cli("water", "criticality", "--out", out, "-q")
    assert outcome.exit_code == 0, outcome.stderr
    table = pd.read_parquet(out / "criticality.parquet")
    assert len(table) > 100 and table["pipe"].is_unique
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    hours = table["person_hours_lost_person_h"].to_numpy()
    assert (np.diff(hours) <= 0).all() and (hours >= 0).all()
    assert (table["population_cut_off_count"] >= 0).all() and (table["valves_to_close"].str.len() > 0).all()
    assert (out / "criticality.csv").exists() and (out / "criticality_map.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--pipes", "some"], "--pipes"),
        (["--outage-h", "0"], "--outage-h"),
        (["--inp", "missing.inp"], "missing"),
    ],
)
def test_cli_bad_input_is_one_line_and_writes_nothing(twin_cli, tmp_path, args, needle):
    out = tmp_path / "criticality"
    outcome = twin_cli("water", "criticality", "--out", out, *args)
    assert outcome.exit_code == 2
    assert len(outcome.stderr.strip().splitlines()) == 1 and needle in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert not out.exists()
