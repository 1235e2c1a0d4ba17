"""Sweeps on Dask: a real ``distributed.LocalCluster`` of worker processes on the loopback."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
import sweep_kinds  # noqa: F401 - registers `sweep_probe`; the cluster's workers inherit sys.path
from test_sweep_local import comparable, probe_file

HOTLINE = """
[scenario]
kind = "hotline_queue"
name = "tiny"
seed = 8
duration_s = 1800.0

[hotline]
agents = 3
calls_per_h = [40.0]
"""


@pytest.fixture(scope="module")
def scheduler_address():
    """A running two-worker LocalCluster, as a planner's `dask scheduler` would be."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.CRITICAL) as cluster:
        yield cluster.scheduler_address


def test_dask_local_cluster_table_equals_local_executor(tmp_path, twin_cli):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(HOTLINE)
    settings = ["--set", "hotline.agents=2,3", "--set", "hotline.handle_time_dist=exponential,lognormal",
                "--replications", "2", "--workers", "2", "-q"]
    local = twin_cli("sweep", scenario, *settings, "--out", tmp_path / "local")
    assert local.exit_code == 0, local.stderr
    # No --scheduler: the sweep starts (and stops) its own LocalCluster.
    dask = twin_cli("sweep", scenario, *settings, "--executor", "dask", "--out", tmp_path / "dask")
    assert dask.exit_code == 0, dask.stderr

    local_table = pd.read_parquet(tmp_path / "local" / "runs.parquet")
    dask_table = pd.read_parquet(tmp_path / "dask" / "runs.parquet")
    assert len(dask_table) == 8 and (dask_table["status"] == "ok").all()
    pd.testing.assert_frame_equal(comparable(dask_table), comparable(local_table))
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask" / "summary.parquet"),
                                  pd.read_parquet(tmp_path / "local" / "summary.parquet"))
    manifest = json.loads((tmp_path / "dask" / "sweep.json").read_text())
    assert manifest["executor"] == "dask LocalCluster, 2 worker processes"


def test_sweep_on_a_running_scheduler_retries_a_run_whose_worker_died(
    tmp_path: Path, twin_cli, scheduler_address
):
    markers = tmp_path / "markers"
    markers.mkdir()
    scenario = probe_file(tmp_path, crash_level=2.0, marker_dir=markers)
    out_dir = tmp_path / "sweep"
    outcome = twin_cli("sweep", scenario, "--set", "probe.level=1,2,3", "-r", "2", "-q",
                       "--scheduler", scheduler_address, "--out", out_dir)
    assert outcome.exit_code == 0, outcome.stderr
    assert len(list(markers.glob("*.crashed"))) == 2  # both level-2 runs killed their worker once
    table = pd.read_parquet(out_dir / "runs.parquet")
    assert len(table) == 6 and (table["status"] == "ok").all()
    manifest = json.loads((out_dir / "sweep.json").read_text())
    assert manifest["executor"] == f"dask scheduler {scheduler_address}"

    reference = probe_file(tmp_path, "reference.toml")
    assert twin_cli("sweep", reference, "--set", "probe.level=1,2,3", "-r", "2", "-q",
                    "--scheduler", scheduler_address, "--out", tmp_path / "reference").exit_code == 0
    pd.testing.assert_frame_equal(comparable(table),
                                  comparable(pd.read_parquet(tmp_path / "reference" / "runs.parquet")))


def test_run_that_always_kills_its_dask_worker_is_recorded(tmp_path, twin_cli, scheduler_address):
    markers = tmp_path / "markers"
    markers.mkdir()
    scenario = probe_file(tmp_path, crash_level=2.0, crash_always=True, marker_dir=markers)
    out_dir = tmp_path / "sweep"
    outcome = twin_cli("sweep", scenario, "--set", "probe.level=1,2", "-q",
                       "--scheduler", scheduler_address, "--out", out_dir)
    assert outcome.exit_code == 0, outcome.stderr
    table = pd.read_parquet(out_dir / "runs.parquet").set_index("probe.level")
    assert table.loc[1.0, "status"] == "ok"
    assert table.loc[2.0, "status"] == "failed" and "WorkerLost" in table.loc[2.0, "error"]
