"""``twin compute ...`` and the ``gpu_queueing`` scenario through the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser import assert_briefing

from twin.compute.workload import synthetic
from twin.config import DEFAULT_START
from twin.engine import Engine
from twin.paths import SCENARIOS_DIR

SYNTHETIC = [
    "--gpus",
    "64",
    "--gpus-per-job",
    "1",
    "--arrival-rate-per-h",
    "40",
    "--mean-duration-h",
    "1",
    "--duration-dist",
    "exponential",
    "--jobs",
    "3000",
    "--policy",
    "fifo",
    "--seed",
    "7",
    "--quiet",
]


def test_simulate_synthetic_stream_writes_jobs_and_kpis(tmp_path, twin_cli):
    out = tmp_path / "run"
    outcome = twin_cli("compute", "simulate", *SYNTHETIC, "--out", out)
    assert outcome.exit_code == 0, outcome.stderr
    for name in ("jobs.parquet", "jobs.csv", "kpis.json", "timeseries.parquet", "tenants.csv"):
        assert (out / name).exists(), name
    kpis = json.loads((out / "kpis.json").read_text())
    for key in ("mean_wait_s", "p95_wait_s", "utilisation", "jobs_completed"):
        assert key in kpis
    assert kpis["jobs_completed"] == 3000  # drained after the last arrival
    assert 0.5 < kpis["utilisation"] < 0.75  # offered 40 x 1 h / 64 devices = 0.625
    jobs = pd.read_parquet(out / "jobs.parquet")
    assert len(jobs) == 3000 and (jobs["first_start_s"] >= jobs["submit_s"]).all()
    assert kpis["mean_wait_s"] == pytest.approx(jobs["wait_s"].mean())
    # same seed, same bytes; an existing folder needs --force
    again = tmp_path / "again"
    assert twin_cli("compute", "simulate", *SYNTHETIC, "--out", again).exit_code == 0
    assert (out / "jobs.csv").read_bytes() == (again / "jobs.csv").read_bytes()
    refused = twin_cli("compute", "simulate", *SYNTHETIC, "--out", out)
    assert refused.exit_code == 2 and "--force" in refused.stderr


def test_simulate_draws_from_the_engines_streams_and_writes_a_manifest(tmp_path, twin_cli):
    out = tmp_path / "run"
    assert twin_cli("compute", "simulate", *SYNTHETIC, "--out", out).exit_code == 0
    # the workload is the engine's "compute.workload" stream of the run's one seed
    engine = Engine(7, DEFAULT_START, math.inf)
    expected = synthetic(3000, 1, 40.0, 1.0, engine.rng("compute.workload"))
    jobs = pd.read_parquet(out / "jobs.parquet")
    assert np.array_equal(jobs["submit_s"].to_numpy(), expected.submit_s)
    assert np.array_equal(jobs["work_s"].to_numpy(), expected.work_s)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["command"].endswith("compute simulate")
    assert manifest["options"]["policy"] == "fifo" and "versions" in manifest


def test_simulate_a_trace_file_with_failures(tmp_path, twin_cli):
    trace = tmp_path / "philly.csv"
    rows = ["job_id,num_gpu,submit_time,duration"]
    rows += [f"{i},{[1, 2, 8, 16][i % 4]},{i * 120},{1800 + 97 * (i % 13)}" for i in range(400)]
    trace.write_text("\n".join(rows) + "\n")
    out = tmp_path / "trace_run"
    outcome = twin_cli(
        "compute",
        "simulate",
        "--workload",
        trace,
        "--gpus",
        "64",
        "--policy",
        "easy",
        "--failures",
        "--quiet",
        "--out",
        out,
    )
    assert outcome.exit_code == 0, outcome.stderr
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["jobs_completed"] == 400


def test_simulate_tenant_mix_year(tmp_path, twin_cli):
    out = tmp_path / "mix"
    outcome = twin_cli(
        "compute",
        "simulate",
        "--year",
        "2024",
        "--days",
        "2",
        "--pflops",
        "2000",
        "--policy",
        "fair",
        "--preemption",
        "--quiet",
        "--out",
        out,
    )
    assert outcome.exit_code == 0, outcome.stderr
    tenants = pd.read_csv(out / "tenants.csv")
    assert list(tenants["tenant"]) == ["llm_training", "gov_llm", "ai_hub", "external"]
    kpis = json.loads((out / "kpis.json").read_text())
    assert "gov_llm_sla_pct" in kpis and kpis["energy_mwh"] > 0


BAD = {
    "gpus not whole nodes": (["--gpus", "60", "--arrival-rate-per-h", "5"], "--gpus 60"),
    "unknown policy": (["--policy", "round_robin"], "--policy 'round_robin'"),
    "negative rate": (["--gpus", "64", "--arrival-rate-per-h", "-1"], "--arrival-rate-per-h"),
    "bad distribution": (["--arrival-rate-per-h", "5", "--duration-dist", "weibull"], "--duration-dist"),
    "both sizes": (["--gpus", "64", "--pflops", "100"], "either --gpus or --pflops"),
    "unknown accelerator": (["--accelerator", "tpu_v5"], "accelerator 'tpu_v5'"),
    "unsupported precision": (["--accelerator", "a100_sxm", "--precision", "fp8"], "no FP8"),
    "missing trace": (["--workload", "missing.csv"], "not found"),
    "bad pue": (["--pue", "0.8"], "PUE 0.8"),
    "every job larger than the cluster": (
        ["--gpus", "64", "--gpus-per-job", "100000", "--arrival-rate-per-h", "10", "--jobs", "50"],
        "--gpus-per-job: every one of the 50 jobs asks for more devices (at least 100,000) than the cluster has (64)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_with_one_line(case, tmp_path, twin_cli):
    args, fragment = BAD[case]
    out = tmp_path / "bad"
    outcome = twin_cli("compute", "simulate", *args, "--out", out)
    assert outcome.exit_code == 2, outcome
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in outcome.stderr
    assert not out.exists()


def test_bad_trace_row_exits_2(tmp_path, twin_cli):
    trace = tmp_path / "t.csv"
    trace.write_text("job_id,num_gpu,submit_time,duration\n1,1,0,60\n2,x,5,60\n")
    outcome = twin_cli("compute", "simulate", "--workload", trace, "--gpus", "8", "--out", tmp_path / "o")
    assert outcome.exit_code == 2
    assert "'num_gpu', data row 2" in outcome.stderr and str(trace) in outcome.stderr


def test_plan_table_plot_and_answers(tmp_path, twin_cli):
    out = tmp_path / "plan"
    outcome = twin_cli(
        "compute",
        "plan",
        "--years",
        "2024,2026",
        "--days",
        "12",
        "--warmup-days",
        "3",
        "--check",
        "2000,10000",
        "--quiet",
        "--out",
        out,
    )
    assert outcome.exit_code == 0, outcome.stderr
    plan = pd.read_csv(out / "plan.csv")
    assert list(plan["year"]) == [2024, 2026]
    assert (plan["required_pflops"] > plan["offered_pflops"]).all()
    assert plan["required_pflops"].iloc[1] > plan["required_pflops"].iloc[0]
    assert (plan["required_devices"] == plan["required_nodes"] * 8).all()
    assert {"meets_sla_2000p", "meets_sla_10000p"} <= set(plan.columns)
    assert bool(plan["meets_sla_10000p"].all())
    answers = json.loads((out / "plan.json").read_text())["answers"]
    assert set(answers) == {"2000P", "10000P"}
    assert (out / "plan.png").stat().st_size > 10_000
    assert json.loads((out / "manifest.json").read_text())["figures"] == ["plan"]
    bad = twin_cli("compute", "plan", "--years", "twenty", "--out", tmp_path / "bad")
    assert bad.exit_code == 2 and "--years" in bad.stderr


def test_size_and_accelerators(twin_cli):
    size = twin_cli("compute", "size", "--pflops", "10000")
    assert size.exit_code == 0
    assert "10,108 devices needed" in size.stdout and "dense FP16" in size.stdout
    listing = twin_cli("compute", "accelerators")
    assert listing.exit_code == 0
    for key in ("h100_sxm", "h800_sxm", "a100_sxm", "a800_sxm", "ascend_910b", "mlu370_x8"):
        assert key in listing.stdout


SCENARIO = """
[scenario]
kind = "gpu_queueing"
name = "aicc_small"
seed = 5
duration_s = 432000.0

[[cases]]
name = "phase1_2024"
year = 2024
capacity_pflops = 2000.0

[[cases]]
name = "phase1_2026"
year = 2026
capacity_pflops = 2000.0

[scheduling]
policies = ["fifo", "easy", "las"]

[report]
warmup_days = 1.0
focus_policy = "easy"
"""


def test_gpu_queueing_scenario_runs_through_twin_run(tmp_path, twin_cli):
    path = tmp_path / "aicc.toml"
    path.write_text(SCENARIO)
    out = tmp_path / "aicc"
    outcome = twin_cli("run", path, "--out", out, "--quiet")
    assert outcome.exit_code == 0, outcome.stderr
    for name in (
        "policy_comparison.csv",
        "tenant_waits.parquet",
        "timeseries.parquet",
        "hardware.csv",
        "queue_length.png",
        "utilisation.png",
        "wait_by_tenant.png",
        "report.html",
    ):
        assert (out / name).exists(), name
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["phase1_2024_devices_gpus"] == 2024
    comparison = pd.read_csv(out / "policy_comparison.csv")
    assert len(comparison) == 6
    # 2026 demand overloads the 2000P phase: every policy queues jobs longer than in 2024
    queued = comparison.set_index(["case", "policy"])["mean_queued_s"]
    for policy in ("fifo", "easy", "las"):
        assert queued[("phase1_2026", policy)] > queued[("phase1_2024", policy)]
    manifest = json.loads((out / "manifest.json").read_text())
    assert "phase1_2024_easy_p95_wait_s" in manifest.get("headline", kpis)
    # The answer: the policy with most jobs within their SLA, and the 2000P verdict per year by the
    # same SLA as `twin compute plan` (small jobs p95 queued <= 1 h, large training <= 24 h).
    answer = json.loads((out / "answer.json").read_text(encoding="utf-8"))
    best = comparison.groupby("policy")["sla_attainment_pct"].mean().idxmax()
    labels = {"fifo": "FIFO", "easy": "EASY backfilling", "las": "least attained service"}
    assert answer["recommendation"]["en"] == labels[best]
    assert answer["text"]["en"].lower().startswith(labels[best].lower())
    easy = comparison[comparison["policy"] == "easy"].set_index("case")
    for case, year in (("phase1_2024", 2024), ("phase1_2026", 2026)):
        met = (easy.loc[case, "small_job_p95_queued_s"] <= 3600.0
               and easy.loc[case, "large_training_p95_queued_s"] <= 24 * 3600.0)
        verdict = "meets it" if met else "falls short"
        assert f"2,000P with {year} demand {verdict}" in answer["text"]["en"]
    assert "2,000P、2026年需求不够用" in answer["text"]["zh"]
    assert_briefing(out, "gpu_queueing_report")


def test_bundled_scenario_is_valid_and_in_the_baseline_suite(twin_cli):
    assert twin_cli("validate", SCENARIOS_DIR / "aicc_10000p.toml").exit_code == 0
    assert "aicc_10000p.toml" in (SCENARIOS_DIR / "changle_baseline.toml").read_text()


@pytest.mark.parametrize(
    "text,fragment",
    [
        (SCENARIO.replace('policies = ["fifo", "easy", "las"]', 'policies = ["fifo", "fifo"]'), "unique"),
        (SCENARIO.replace('focus_policy = "easy"', 'focus_policy = "sjf"'), "focus_policy"),
        (SCENARIO.replace("capacity_pflops = 2000.0", "capacity_pflops = -5.0", 1), "capacity_pflops"),
        (SCENARIO.replace("warmup_days = 1.0", "warmup_days = 9.0"), "warmup_days"),
    ],
)
def test_bad_scenario_exits_2(tmp_path, twin_cli, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    outcome = twin_cli("run", path, "--out", tmp_path / "o")
    assert outcome.exit_code == 2 and fragment in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1
    assert not Path(tmp_path / "o").exists()
