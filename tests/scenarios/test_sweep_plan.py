"""Sweep planning: --set parsing, validation before any run, seeds, run ids, confidence intervals."""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path

import pytest

from scenarios.sweep import (
    apply_setting,
    parse_set_option,
    plan_sweep,
    split_values,
)
from scenarios.tasks import replication_seeds
from twin.errors import InputError

HOTLINE = """
[scenario]
kind = "hotline_queue"
name = "tiny"
seed = 5
duration_s = 1800.0

[hotline]
agents = 3
calls_per_h = [40.0]
"""


@pytest.fixture
def hotline_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(HOTLINE)
    return path


def test_set_values_are_toml_scalars():
    assert parse_set_option("hotline.agents=36,40, 44") == ("hotline.agents", [36, 40, 44])
    key, values = parse_set_option('x.y=1.5,true,"a,b",[1, 2],lognormal,2025-06-03T08:00:00')
    assert key == "x.y"
    assert values == [1.5, True, "a,b", [1, 2], "lognormal", datetime(2025, 6, 3, 8, 0)]
    assert split_values("[1, 2], {a = 1, b = 2}, 'x,y'") == ["[1, 2]", "{a = 1, b = 2}", "'x,y'"]


@pytest.mark.parametrize("text", ["hotline.agents", "=1,2", "hotline.agents=", "hotline.agents=1,,2",
                                  "hotline.agents=[1,", "hotline agents=1"])
def test_malformed_set_is_an_input_error(text):
    with pytest.raises(InputError, match="--set"):
        parse_set_option(text)


def test_apply_setting_creates_tables_and_indexes_arrays():
    data = {"scenario": {"kind": "k"}, "signals": [{"cycle_s": 90}, {"cycle_s": 60}]}
    apply_setting(data, "hotline.agents", 4)
    apply_setting(data, "signals.1.cycle_s", 75)
    assert data["hotline"] == {"agents": 4}
    assert data["signals"][1] == {"cycle_s": 75}
    with pytest.raises(InputError, match="is a value"):
        apply_setting(data, "hotline.agents.x", 1)
    with pytest.raises(InputError, match="index"):
        apply_setting(data, "signals.5.cycle_s", 1)


def test_plan_is_the_product_times_replications_with_shared_seeds(hotline_file):
    plan = plan_sweep(hotline_file, ["hotline.agents=3,4", "hotline.mean_handle_time_s=200,240"], 3)
    assert len(plan.runs) == 2 * 2 * 3
    assert plan.keys == ["hotline.agents", "hotline.mean_handle_time_s"]
    # Values are validated by the kind's model: an integer for a float field becomes a float.
    assert plan.settings[1].values == (200.0, 240.0)
    assert all(isinstance(v, float) for v in plan.settings[1].values)
    seeds = replication_seeds(5, 3)
    assert len(set(seeds)) == 3 and all(0 <= s < 2**63 for s in seeds)
    for task in plan.runs:
        # Common random numbers: replication r has the same seed in every setting.
        assert task.seed == seeds[task.replication]
        assert task.data["scenario"]["seed"] == task.seed
        assert task.data["hotline"]["agents"] == task.setting["hotline.agents"]
    assert len({task.run_id for task in plan.runs}) == len(plan.runs)
    # Settings outermost, in the order given; replications innermost.
    assert [t.setting["hotline.agents"] for t in plan.runs[:6]] == [3] * 6
    assert [t.replication for t in plan.runs[:3]] == [0, 1, 2]


def test_more_replications_keep_existing_seeds_and_run_ids(hotline_file):
    assert replication_seeds(9, 5)[:3] == replication_seeds(9, 3)
    small = plan_sweep(hotline_file, ["hotline.agents=3,4"], 2)
    large = plan_sweep(hotline_file, ["hotline.agents=3,4,5"], 4)
    assert {t.run_id for t in small.runs} <= {t.run_id for t in large.runs}
    assert small.fingerprint == large.fingerprint
    assert plan_sweep(hotline_file, [], 1, seed=6).fingerprint != small.fingerprint


def test_no_settings_means_replications_only(hotline_file):
    plan = plan_sweep(hotline_file, [], 4)
    assert len(plan.runs) == 4 and plan.keys == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


BAD_SWEEPS = {
    "unknown key": (["--set", "hotline.agentz=3,4"], ("agentz", "did you mean 'agents'")),
    "unknown table": (["--set", "hotlin.agents=3"], ("hotlin", "did you mean 'hotline'")),
    "wrong type": (["--set", "hotline.agents=3,four"], ("hotline.agents", "four", "integer")),
    "float for an integer": (["--set", "hotline.agents=3.5"], ("hotline.agents", "3.5", "integer")),
    "out of range": (["--set", "hotline.agents=0"], ("hotline.agents", "0", "greater than or equal")),
    "seed is not swept": (["--set", "scenario.seed=1,2"], ("scenario.seed", "--seed")),
    "key given twice": (["--set", "hotline.agents=3", "--set", "hotline.agents=4"], ("twice",)),
    "value given twice": (["--set", "hotline.mean_handle_time_s=200,200.0"], ("200.0", "twice")),
    "not a TOML value": (["--set", "hotline.agents=[3,"], ("hotline.agents", "not a TOML value")),
    "malformed --set": (["--set", "hotline.agents"], ("KEY=V1,V2",)),
    "bad scheduler address": (["--scheduler", "localhost:8786"], ("--scheduler", "tcp://HOST:PORT")),
    "scheduler with local executor": (["--executor", "local", "--scheduler", "tcp://127.0.0.1:1"],
                                      ("--scheduler", "--executor dask")),
}


@pytest.mark.parametrize("case", sorted(BAD_SWEEPS))
def test_bad_settings_exit_2_with_one_line_before_any_run(case, hotline_file, tmp_path, twin_cli):
    extra, fragments = BAD_SWEEPS[case]
    out_dir = tmp_path / "sweep"
    outcome = twin_cli("sweep", hotline_file, *extra, "--out", out_dir)
    assert outcome.exit_code == 2, outcome
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    assert "Traceback" not in outcome.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not out_dir.exists()


def test_unreachable_scheduler_exits_2_before_any_run(hotline_file, tmp_path, twin_cli):
    out_dir = tmp_path / "sweep"
    address = f"tcp://127.0.0.1:{_free_port()}"
    outcome = twin_cli("sweep", hotline_file, "--set", "hotline.agents=3,4", "--scheduler", address,
                       "--out", out_dir)
    assert outcome.exit_code == 2
    assert outcome.stderr.strip().splitlines() == [
        f"error: --scheduler {address}: cannot reach a Dask scheduler (Connection refused)"
    ]
    assert not out_dir.exists()


def test_foreign_or_different_folder_is_refused_without_force(hotline_file, tmp_path, twin_cli):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("precious")
    outcome = twin_cli("sweep", hotline_file, "--out", foreign)
    assert outcome.exit_code == 2 and "--force" in outcome.stderr
    assert (foreign / "keep.txt").read_text() == "precious"

    out_dir = tmp_path / "sweep"
    assert twin_cli("sweep", hotline_file, "--out", out_dir, "-q", "-w", "1").exit_code == 0
    other_seed = twin_cli("sweep", hotline_file, "--seed", "99", "--out", out_dir)
    assert other_seed.exit_code == 2 and "different scenario file or seed" in other_seed.stderr


def test_a_listener_that_is_not_a_dask_scheduler_is_refused_in_bounded_time():
    from scenarios.executors import check_is_scheduler

    # A socket that accepts connections (the kernel completes them) but never speaks Dask's
    # protocol, like a web server on the port: distributed.Client alone would wait forever.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        with pytest.raises(InputError, match="no Dask scheduler answered within 0.5 s"):
            check_is_scheduler(address, timeout_s=0.5)
