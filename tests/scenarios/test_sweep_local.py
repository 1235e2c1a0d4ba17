"""Sweeps on the local process pool: results, failures, kill and resume, worker loss."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sweep_kinds  # noqa: F401 - registers the test-only `sweep_probe` kind
from scipy import stats

from scenarios.loading import execute, parse_scenario
from scenarios.sweep import plan_sweep

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures"

PROBE = """
[scenario]
kind = "sweep_probe"
name = "probe"
seed = 21
duration_s = 60.0

[probe]
samples = 40
"""


def probe_file(folder: Path, name: str = "probe.toml", **probe: object) -> Path:
    """A probe scenario with extra ``[probe]`` keys (strings quoted, paths as strings)."""
    lines = [PROBE.rstrip()]
    for key, value in probe.items():
        if isinstance(value, str | Path):
            lines.append(f'{key} = "{value}"')
        elif isinstance(value, bool):
            lines.append(f"{key} = {str(value).lower()}")
        else:
            lines.append(f"{key} = {value}")
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def comparable(table: pd.DataFrame) -> pd.DataFrame:
    """A runs table without the one column that depends on the machine: wall time."""
    return table.drop(columns="wall_time_s").reset_index(drop=True)


def executions(log_dir: Path) -> Counter:
    path = log_dir / "executions.log"
    return Counter(path.read_text().splitlines()) if path.exists() else Counter()


def checkpoints(out_dir: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (out_dir / "runs").glob("*.json")}


def reference_table(tmp_path: Path, twin_cli, levels: str, replications: int) -> pd.DataFrame:
    """The runs table of the same sweep run without interruption or misbehaviour."""
    out_dir = tmp_path / "reference"
    scenario = probe_file(tmp_path, "reference.toml")
    outcome = twin_cli("sweep", scenario, "--set", f"probe.level={levels}", "-r", str(replications),
                       "-w", "2", "-q", "--out", out_dir)
    assert outcome.exit_code == 0, outcome.stderr
    return comparable(pd.read_parquet(out_dir / "runs.parquet"))


def assert_no_partial_files(out_dir: Path) -> None:
    leftovers = [p for p in out_dir.rglob(".*") if p.is_file()]
    assert not leftovers, leftovers


def test_sweep_writes_table_summary_plots_and_report(tmp_path, twin_cli):
    scenario = probe_file(tmp_path, fail_level=3.0)
    out_dir = tmp_path / "sweep"
    outcome = twin_cli("sweep", scenario, "--set", "probe.level=1,2,3", "--set", "probe.label=a,bcd",
                       "--replications", "3", "--workers", "2", "--out", out_dir)
    assert outcome.exit_code == 0, outcome.stderr
    assert "18 runs" in outcome.stdout and "6 failed" in outcome.stdout

    table = pd.read_parquet(out_dir / "runs.parquet")
    assert list(table.columns) == [
        "run_id", "probe.level", "probe.label", "replication", "seed", "status", "error",
        "label_length_count", "mean_wait_s", "throughput_veh_per_h", "wall_time_s",
    ]  # KPIs in name order, as in every run's kpis.json
    assert len(table) == 18 and table["run_id"].is_unique
    assert table["probe.level"].tolist() == [1.0] * 6 + [2.0] * 6 + [3.0] * 6
    pd.testing.assert_frame_equal(pd.read_csv(out_dir / "runs.csv")[["seed", "mean_wait_s"]],
                                  table[["seed", "mean_wait_s"]])

    # A run that fails on bad input is recorded with its error; the others carry on.
    failed = table[table["probe.level"] == 3.0]
    assert (failed["status"] == "failed").all()
    assert failed["error"].str.contains("rejected by the probe at run time").all()
    assert failed["mean_wait_s"].isna().all()
    ok = table[table["status"] == "ok"]
    assert len(ok) == 12

    # Each row is exactly what `execute` gives for its settings and seed.
    plan = plan_sweep(scenario, ["probe.level=1,2,3", "probe.label=a,bcd"], 3)
    task = plan.runs[7]
    result, _ = execute(*parse_scenario(task.data, task.source))
    row = table[table["run_id"] == task.run_id].iloc[0]
    assert row["mean_wait_s"] == result.kpis["mean_wait_s"]
    assert row["seed"] == task.seed

    # Common random numbers: level scales the same draws, replication by replication.
    level1 = ok[(ok["probe.level"] == 1.0) & (ok["probe.label"] == "a")].set_index("replication")
    level2 = ok[(ok["probe.level"] == 2.0) & (ok["probe.label"] == "a")].set_index("replication")
    np.testing.assert_allclose(level2["mean_wait_s"], 2 * level1["mean_wait_s"], rtol=1e-12)

    summary = pd.read_parquet(out_dir / "summary.parquet")
    assert len(summary) == 6 * 3  # settings × KPIs
    waits = summary[(summary["kpi"] == "mean_wait_s") & (summary["probe.level"] == 1.0)
                    & (summary["probe.label"] == "bcd")].iloc[0]
    values = ok[(ok["probe.level"] == 1.0) & (ok["probe.label"] == "bcd")]["mean_wait_s"]
    low, high = stats.t.interval(0.95, 2, loc=values.mean(), scale=stats.sem(values))
    assert (waits["n"], waits["unit"], waits["failed"]) == (3, "s", 0)
    assert (waits["mean"], waits["ci95_low"], waits["ci95_high"]) == pytest.approx((values.mean(), low, high))
    failed_summary = summary[summary["probe.level"] == 3.0]
    assert (failed_summary["failed"] == 3).all() and (failed_summary["n"] == 0).all()

    for name in ("kpis_vs_probe.level.png", "kpis_vs_probe.label.png", "report.md", "report.html",
                 "summary.csv", "scenario.toml"):
        assert (out_dir / name).stat().st_size > 0, name
    manifest = json.loads((out_dir / "sweep.json").read_text())
    assert manifest["status"] == "complete" and manifest["runs_failed"] == 6
    assert manifest["command"].startswith("twin sweep")
    report = (out_dir / "report.md").read_text()
    assert "平均等待时间" in report and "rejected by the probe" in report
    assert "kpis_vs_probe.level.png" in report
    assert_no_partial_files(out_dir)

    # Re-running the finished sweep's command redoes nothing and rewrites the same table.
    again = twin_cli("sweep", scenario, "--set", "probe.level=1,2,3", "--set", "probe.label=a,bcd",
                     "--replications", "3", "--workers", "2", "--out", out_dir)
    assert again.exit_code == 0 and "(0 run now, 18 resumed)" in again.stdout
    pd.testing.assert_frame_equal(pd.read_parquet(out_dir / "runs.parquet"), table)

    # Another sweep of the same scenario and seed may reuse the folder: the outputs become its own.
    other = twin_cli("sweep", scenario, "--set", "probe.level=1,2", "-r", "2", "-w", "2", "-q",
                     "--out", out_dir)
    assert other.exit_code == 0, other.stderr
    assert len(pd.read_parquet(out_dir / "runs.parquet")) == 4
    assert not (out_dir / "kpis_vs_probe.label.png").exists()
    assert "kpis_vs_probe.label" not in (out_dir / "report.md").read_text()


def test_interrupted_sweep_resumes_without_repeating_finished_runs(tmp_path, twin_cli):
    logs, markers = tmp_path / "logs", tmp_path / "markers"
    logs.mkdir()
    markers.mkdir()
    scenario = probe_file(tmp_path, interrupt_level=3.0, marker_dir=markers, log_dir=logs)
    out_dir = tmp_path / "sweep"
    args = ["sweep", scenario, "--set", "probe.level=1,2,3,4", "-r", "2", "-w", "1", "--out", out_dir]

    first = twin_cli(*args)
    assert first.exit_code == 130  # Ctrl-C inside the 5th run
    done_before = checkpoints(out_dir)
    assert len(done_before) == 4  # one worker: levels 1 and 2 finished, in plan order
    assert not (out_dir / "runs.parquet").exists()
    assert_no_partial_files(out_dir)

    second = twin_cli(*args)
    assert second.exit_code == 0, second.stderr
    assert "(4 run now, 4 resumed)" in second.stdout
    runs = executions(logs)
    assert all(count == 1 for count in runs.values()), runs
    assert sum(runs.values()) == 8
    table = pd.read_parquet(out_dir / "runs.parquet")
    assert (table["status"] == "ok").all()
    pd.testing.assert_frame_equal(comparable(table), reference_table(tmp_path, twin_cli, "1,2,3,4", 2))


def test_killed_sweep_resumes_and_equals_an_uninterrupted_one(tmp_path, twin_cli):
    logs = tmp_path / "logs"
    logs.mkdir()
    scenario = probe_file(tmp_path, sleep_s=0.3, log_dir=logs)
    out_dir = tmp_path / "sweep"
    args = ["sweep", str(scenario), "--set", "probe.level=1,2,3,4", "-r", "2", "-w", "1",
            "--out", str(out_dir)]
    # A separate `twin` process (with the probe kind registered), killed with SIGKILL mid-sweep
    # together with its worker: no handler, no cleanup, as a node failure would leave it.
    launcher = "import sys, sweep_kinds; from twin_cli import main; main(sys.argv[1:])"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FIXTURES_DIR), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-c", launcher, *args], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (out_dir / "runs").is_dir() or len(checkpoints(out_dir)) < 2:
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "the sweep did not start"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = checkpoints(out_dir)
    assert 2 <= len(done_before) < 8  # killed mid-sweep
    assert not (out_dir / "runs.parquet").exists()

    resumed = twin_cli(*args)
    assert resumed.exit_code == 0, resumed.stderr
    assert f"{8 - len(done_before)} run now" in resumed.stdout
    runs = executions(logs)
    for record in done_before.values():
        # A checkpointed run never executes again (a run cut off mid-way may run twice).
        assert runs[f"{record['setting']['probe.level']} {record['seed']}"] == 1
    assert_no_partial_files(out_dir)
    table = pd.read_parquet(out_dir / "runs.parquet")
    assert len(table) == 8 and (table["status"] == "ok").all()
    pd.testing.assert_frame_equal(comparable(table), reference_table(tmp_path, twin_cli, "1,2,3,4", 2))


def test_run_whose_worker_dies_is_retried(tmp_path, twin_cli):
    markers = tmp_path / "markers"
    markers.mkdir()
    scenario = probe_file(tmp_path, crash_level=2.0, marker_dir=markers)
    out_dir = tmp_path / "sweep"
    outcome = twin_cli("sweep", scenario, "--set", "probe.level=1,2,3", "-r", "2", "-w", "2", "-q",
                       "--out", out_dir)
    assert outcome.exit_code == 0, outcome.stderr
    assert len(list(markers.glob("*.crashed"))) == 2  # both level-2 runs killed their worker once
    table = pd.read_parquet(out_dir / "runs.parquet")
    assert (table["status"] == "ok").all()
    attempts = {r["run_id"]: r["attempts"] for r in checkpoints(out_dir).values()}
    for _, row in table.iterrows():
        # A run is re-run after its own death, and once more if it shared the pool at another's.
        if row["probe.level"] == 2.0:
            assert attempts[row["run_id"]] in (2, 3)
        else:
            assert attempts[row["run_id"]] in (1, 2)
    pd.testing.assert_frame_equal(comparable(table), reference_table(tmp_path, twin_cli, "1,2,3", 2))


def test_run_that_always_kills_its_worker_is_given_up_and_recorded(tmp_path, twin_cli):
    markers = tmp_path / "markers"
    markers.mkdir()
    scenario = probe_file(tmp_path, crash_level=2.0, crash_always=True, marker_dir=markers)
    out_dir = tmp_path / "sweep"
    outcome = twin_cli("sweep", scenario, "--set", "probe.level=1,2,3", "-w", "2", "-q", "--out", out_dir)
    assert outcome.exit_code == 0, outcome.stderr
    table = pd.read_parquet(out_dir / "runs.parquet").set_index("probe.level")
    assert table.loc[1.0, "status"] == "ok" and table.loc[3.0, "status"] == "ok"
    assert table.loc[2.0, "status"] == "failed"
    assert "killed its worker process 3 times" in table.loc[2.0, "error"]
    assert len(list(markers.glob("*.crashed"))) == 1


class _PoolThatBrokeWhileSpawning:
    """A process pool whose submit fails as CPython's does when the pool breaks while it is
    spawning a replacement worker: OSError ("handle is closed"), the pool already marked broken."""

    _broken = "A child process terminated abruptly"
    _processes: dict = {}

    def submit(self, fn, item):  # noqa: ANN001, ANN201
        raise OSError("handle is closed")

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def test_a_pool_that_breaks_while_spawning_a_worker_is_replaced(monkeypatch):
    from scenarios.executors import LocalProcessExecutor

    executor = LocalProcessExecutor(2)
    real_pool = executor._new_pool
    first = iter([_PoolThatBrokeWhileSpawning()])
    monkeypatch.setattr(executor, "_new_pool", lambda workers: next(first, None) or real_pool(workers))
    finished = sorted(completion.value for completion in executor.map_unordered(abs, [-1, -2, -3]))
    assert finished == [1, 2, 3]


def test_an_os_error_from_a_healthy_pool_is_not_taken_for_a_break(monkeypatch):
    from scenarios.executors import LocalProcessExecutor

    class Healthy(_PoolThatBrokeWhileSpawning):
        _broken = False

    executor = LocalProcessExecutor(2)
    monkeypatch.setattr(executor, "_new_pool", lambda workers: Healthy())
    with pytest.raises(OSError, match="handle is closed"):
        list(executor.map_unordered(abs, [-1]))


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_stops_a_sweep_and_its_workers_and_it_resumes(tmp_path, twin_cli):
    scenario = probe_file(tmp_path, sleep_s=0.5)
    out_dir = tmp_path / "sweep"
    args = ["sweep", str(scenario), "--set", "probe.level=1,2,3,4,5,6", "-r", "2", "-w", "2",
            "--out", str(out_dir)]
    launcher = "import sys, sweep_kinds; from twin_cli import main; main(sys.argv[1:])"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FIXTURES_DIR), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-c", launcher, *args], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out_dir / "runs").is_dir() or len(checkpoints(out_dir)) < 1:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the sweep did not start"
        time.sleep(0.05)
    workers = _children(process.pid)
    assert workers, "the sweep has worker processes"
    process.send_signal(signal.SIGTERM)  # what timeout, systemd, docker and Slurm send
    assert process.wait(timeout=60) == 143
    assert "terminated" in process.stderr.read()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "worker processes outlived the sweep"
        time.sleep(0.05)
    resumed = twin_cli(*args, "-q")
    assert resumed.exit_code == 0, resumed.stderr
    assert_no_partial_files(out_dir)
    assert len(pd.read_parquet(out_dir / "runs.parquet")) == 12
