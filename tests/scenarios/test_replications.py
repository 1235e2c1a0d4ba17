"""Replications: child seeds, means in kpis.json, intervals, determinism; one replication is the seeded run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from scenarios.tasks import replication_seeds

SCENARIO = """
[scenario]
kind = "hotline_queue"
name = "rep"
seed = 3
duration_s = 3600.0
{extra}

[hotline]
agents = 6
calls_per_h = [80.0]
"""


def run(twin_cli, tmp_path, label, extra="", *args):
    path = tmp_path / f"{label}.toml"
    path.write_text(SCENARIO.format(extra=extra))
    out = tmp_path / label
    outcome = twin_cli("run", path, "--out", out, "--quiet", *args)
    assert outcome.exit_code == 0, outcome.stderr
    return out


def test_kpis_are_the_means_of_the_replications_with_intervals(tmp_path, twin_cli):
    out = run(twin_cli, tmp_path, "five", "replications = 5")
    kpis = json.loads((out / "kpis.json").read_text())
    table = pd.read_parquet(out / "replications.parquet")
    assert sorted(table["replication"].unique()) == [0, 1, 2, 3, 4]
    seeds = table.groupby("replication")["seed"].first().tolist()
    assert seeds[0] == 3 and seeds[1:] == replication_seeds(3, 5)[1:]
    waits = table[table["kpi"] == "mean_wait_s"].sort_values("replication")["value"].to_numpy()
    assert kpis["mean_wait_s"] == np.mean(waits)
    intervals = json.loads((out / "kpi_intervals.json").read_text())
    assert intervals["mean_wait_s"]["low"] <= kpis["mean_wait_s"] <= intervals["mean_wait_s"]["high"]
    assert 0 <= intervals["service_level_pct"]["low"] <= intervals["service_level_pct"]["high"] <= 100
    assert json.loads((out / "manifest.json").read_text())["replications"] == 5


def test_replication_zero_is_the_seeded_run(tmp_path, twin_cli):
    # The hotline kind defaults to several replications; one is asked for here.
    single = run(twin_cli, tmp_path, "one", "replications = 1")
    many = run(twin_cli, tmp_path, "many", "replications = 3")
    zero = pd.read_parquet(many / "replications.parquet").query("replication == 0")
    single_kpis = json.loads((single / "kpis.json").read_text())
    assert dict(zip(zero["kpi"], zero["value"], strict=True)) == {
        k: float(v) for k, v in single_kpis.items() if v is not None}
    assert (single / "calls.parquet").read_bytes() == (many / "calls.parquet").read_bytes()
    assert not (single / "replications.parquet").exists()


def test_replicated_runs_are_deterministic_and_the_flag_overrides_the_file(tmp_path, twin_cli):
    a = run(twin_cli, tmp_path, "a", "replications = 3")
    b = run(twin_cli, tmp_path, "b", "", "--replications", "3")
    for name in ("kpis.json", "kpi_intervals.json", "replications.parquet"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
