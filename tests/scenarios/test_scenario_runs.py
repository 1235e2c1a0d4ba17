"""End-to-end runs through the CLI: results folder contents, determinism, seeds, suites."""

from __future__ import annotations

import json
from pathlib import Path

from twin.paths import SCENARIOS_DIR

SMALL = """
[scenario]
kind = "hotline_queue"
name = "small"
seed = 11
duration_s = 7200.0

[hotline]
agents = 6
calls_per_h = [80.0, 95.0]
"""


def tables_and_kpis(folder: Path) -> dict[str, bytes]:
    names = ["kpis.json"] + sorted(p.name for p in folder.glob("*.parquet"))
    names += sorted(p.name for p in folder.glob("*.csv"))
    return {name: (folder / name).read_bytes() for name in names}


def test_run_writes_complete_results_folder(tmp_path, twin_cli):
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL)
    out_dir = tmp_path / "run"
    outcome = twin_cli("run", scenario, "--out", out_dir, "--quiet")
    assert outcome.exit_code == 0, outcome.stderr
    for name in ("manifest.json", "kpis.json", "report.md", "report.html", "calls.parquet",
                 "calls.csv", "queue_and_waits.zh.png", "queue_and_waits.en.png", "scenario.toml"):
        assert (out_dir / name).exists(), name
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["seed"] == 11
    assert manifest["scenario"]["scenario"]["kind"] == "hotline_queue"
    assert manifest["versions"]["simpy"]
    assert manifest["git_commit"]
    assert manifest["wall_time_s"] >= 0
    kpis = json.loads((out_dir / "kpis.json").read_text())
    assert kpis["calls_offered_calls"] > 0
    assert "mean_wait_s" in (out_dir / "report.md").read_text()


def test_same_seed_same_bytes_and_different_seed_differs(tmp_path, twin_cli):
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL)
    runs = {}
    for label, extra in (("a", []), ("b", []), ("c", ["--seed", "12"])):
        out_dir = tmp_path / label
        assert twin_cli("run", scenario, "--out", out_dir, "--quiet", *extra).exit_code == 0
        runs[label] = tables_and_kpis(out_dir)
    assert runs["a"] == runs["b"]
    assert runs["a"]["kpis.json"] != runs["c"]["kpis.json"]
    assert runs["a"]["calls.parquet"] != runs["c"]["calls.parquet"]


def test_every_bundled_scenario_validates(twin_cli):
    files = sorted(SCENARIOS_DIR.glob("*.toml"))
    assert files
    for path in files:
        outcome = twin_cli("validate", path)
        assert outcome.exit_code == 0, (path, outcome.stderr)


def test_scenarios_lists_one_line_per_file(twin_cli):
    outcome = twin_cli("scenarios")
    assert outcome.exit_code == 0
    lines = outcome.stdout.strip().splitlines()
    assert len(lines) == len(list(SCENARIOS_DIR.glob("*.toml")))
    assert not any("INVALID" in line for line in lines)


def test_suite_runs_each_scenario_and_writes_index(tmp_path, twin_cli):
    (tmp_path / "one.toml").write_text(SMALL)
    (tmp_path / "two.toml").write_text(SMALL.replace('name = "small"', 'name = "small2"'))
    suite = tmp_path / "suite.toml"
    suite.write_text('[suite]\nname = "t"\nscenarios = ["one.toml", "two.toml"]\n')
    out_dir = tmp_path / "results"
    assert twin_cli("suite", suite, "--out", out_dir, "--quiet").exit_code == 0
    index = (out_dir / "index.html").read_text()
    assert "small/report.html" in index and "small2/report.html" in index
    # A second run refuses to overwrite, and succeeds with --force (what `make run` passes).
    assert twin_cli("suite", suite, "--out", out_dir, "--quiet").exit_code == 2
    assert twin_cli("suite", suite, "--out", out_dir, "--quiet", "--force").exit_code == 0


def test_info_runs(twin_cli):
    outcome = twin_cli("info", "--json")
    assert outcome.exit_code == 0
    assert "layers" in json.loads(outcome.stdout)
