"""A results folder is never clobbered, half-written or private: locks, SIGTERM, modes, names."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from twin.results import claim

SLOW = """
[scenario]
kind = "hotline_queue"
name = "slow"
seed = 5
duration_s = 172800.0

[hotline]
agents = 400
calls_per_h = [9000.0]
"""

QUICK = """
[scenario]
kind = "hotline_queue"
name = "{name}"
seed = 3
duration_s = 600.0

[hotline]
agents = 2
calls_per_h = [30.0]
"""


def start_twin(*args: str) -> subprocess.Popen:
    """``twin ARGS`` as a separate process (the console script's code path)."""
    launcher = "import sys; from twin_cli import main; main(sys.argv[1:])"
    return subprocess.Popen([sys.executable, "-c", launcher, *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(path: Path, process: subprocess.Popen, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_runs(tmp_path, twin_cli):
    slow = tmp_path / "slow.toml"
    slow.write_text(SLOW)
    out = tmp_path / "out"
    first = start_twin("run", str(slow), "--out", str(out), "--quiet")
    try:
        wait_for(tmp_path / ".out.lock", first)
        quick = tmp_path / "quick.toml"
        quick.write_text(QUICK.format(name="quick"))
        second = twin_cli("run", quick, "--out", out, "--force", "--quiet")
        assert second.exit_code == 2
        assert "another run" in second.stderr and str(first.pid) in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)


def test_sigterm_leaves_no_folder_no_lock_and_exits_143(tmp_path):
    slow = tmp_path / "slow.toml"
    slow.write_text(SLOW)
    out = tmp_path / "out"
    process = start_twin("run", str(slow), "--out", str(out), "--quiet")
    wait_for(tmp_path / ".out.lock", process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 143
    assert "terminated" in process.stderr.read()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slow.toml"]


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    out = tmp_path / "out"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (tmp_path / ".out.lock").write_text(dead.stdout)
    with claim(out, force=False):
        assert (tmp_path / ".out.lock").read_text().strip() == str(os.getpid())
    assert not (tmp_path / ".out.lock").exists()


def test_results_folders_get_the_usual_permissions(tmp_path, twin_cli):
    scenario = tmp_path / "q.toml"
    scenario.write_text(QUICK.format(name="q"))
    out = tmp_path / "out"
    assert twin_cli("run", scenario, "--out", out, "--quiet").exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask


def test_a_scenario_named_in_chinese_runs_and_keeps_its_name(tmp_path, twin_cli, monkeypatch):
    scenario = tmp_path / "热线.toml"
    scenario.write_text(QUICK.format(name="12345热线"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    outcome = twin_cli("run", scenario, "--quiet")
    assert outcome.exit_code == 0, outcome.stderr
    manifest = json.loads((tmp_path / "results" / "12345热线" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenario"]["scenario"]["name"] == "12345热线"


@pytest.mark.parametrize("name", ["..", ".hidden", "a/b", "tab\there", "x" * 121])
def test_names_that_are_not_folder_names_are_refused(tmp_path, twin_cli, name):
    scenario = tmp_path / "s.toml"
    scenario.write_text(QUICK.format(name=name.replace("\t", "\\t")), encoding="utf-8")
    outcome = twin_cli("validate", scenario)
    assert outcome.exit_code == 2 and "name" in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_numbers_are_refused(tmp_path, twin_cli, value):
    scenario = tmp_path / "s.toml"
    scenario.write_text(QUICK.format(name="q").replace("duration_s = 600.0", f"duration_s = {value}"))
    outcome = twin_cli("validate", scenario)
    assert outcome.exit_code == 2, outcome.stderr
    assert "duration_s" in outcome.stderr and "finite" in outcome.stderr
