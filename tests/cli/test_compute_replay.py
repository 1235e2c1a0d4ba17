"""``twin compute replay``: public cluster traces through our policies, and bad traces as one line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

ACME_HEADER = (
    "job_id,user,node_num,gpu_num,cpu_num,type,state,submit_time,start_time,end_time,duration,queue,gpu_time\n"
)
ACME = ACME_HEADER + (
    "5778432,u5907,1,8,128,Other,FAILED,2023-03-01 00:18:22+08:00,2023-03-01 00:18:54+08:00,"
    "2023-03-01 00:20:51+08:00,117,32,936.0\n"
    "5778469,u5907,1,8,128,SFT,COMPLETED,2023-03-01 00:23:58+08:00,2023-03-01 00:24:11+08:00,"
    "2023-03-01 01:09:04+08:00,2693,13,21544.0\n"
    "5778470,u5908,0,0,16,Other,COMPLETED,2023-03-01 00:23:59+08:00,2023-03-01 00:24:11+08:00,"
    "2023-03-01 01:09:04+08:00,2693,13,0\n"
    "5778471,u5908,2,16,16,Pretrain,CANCELLED,2023-03-01 00:25:59+08:00,,,,,\n"
    "5778472,u5909,2,16,256,Pretrain,COMPLETED,2023-03-01 01:00:00+08:00,2023-03-01 01:00:05+08:00,"
    "2023-03-01 03:00:05+08:00,7200,5,115200.0\n"
)


def heavy_tailed_trace(path, n=4000, gpus_total=64, load=0.8, seed=21):
    """A Philly-format trace at ~80 % load: 60 % single-GPU jobs, lognormal run times with a 10 min
    median and sigma 2 (p99 about 1.2 days), the heavy tail of the published traces."""
    rng = np.random.Generator(np.random.PCG64(seed))
    gpus = rng.choice([1, 2, 4, 8], n, p=[0.6, 0.15, 0.15, 0.1])
    duration = np.clip(np.exp(np.log(600.0) + 2.0 * rng.standard_normal(n)), 10, 20 * 86400).round()
    rate = load * gpus_total / float(np.mean(gpus) * np.mean(duration))
    submit = np.cumsum(rng.exponential(1.0 / rate, n)).round()
    pd.DataFrame({"job_id": np.arange(n), "num_gpu": gpus, "submit_time": submit.astype(int),
                  "duration": duration.astype(int)}).to_csv(path, index=False)
    return path


def replay_kpis(twin_cli, trace, out, *args):
    outcome = twin_cli("compute", "replay", trace, "--out", out, "--quiet", *args)
    assert outcome.exit_code == 0, outcome.stderr
    return json.loads((out / "kpis.json").read_text())


def test_las_lowers_mean_job_completion_time_against_fifo(tmp_path, twin_cli):
    """Tiresias' direction of effect (Gu et al., NSDI'19): on a heavy-tailed trace, least attained
    service finishes the many short jobs first. Measured: LAS/FIFO mean JCT = 0.24."""
    trace = heavy_tailed_trace(tmp_path / "heavy.csv")
    fifo = replay_kpis(twin_cli, trace, tmp_path / "fifo", "--gpus", "64", "--policy", "fifo")
    las = replay_kpis(twin_cli, trace, tmp_path / "las", "--gpus", "64", "--policy", "las")
    assert fifo["jobs_completed"] == las["jobs_completed"] == 4000
    assert las["mean_jct_s"] < 0.5 * fifo["mean_jct_s"]
    # the same work goes through: utilisation within a few points
    assert las["utilisation"] == pytest.approx(fifo["utilisation"], abs=0.05)


@pytest.mark.parametrize("fmt", ["auto", "acme"])
def test_acme_trace_replays(tmp_path, twin_cli, fmt):
    trace = tmp_path / "trace_seren.csv"
    trace.write_text(ACME)
    kpis = replay_kpis(twin_cli, trace, tmp_path / "acme", "--gpus", "16", "--format", fmt, "--policy", "easy")
    jobs = pd.read_csv(tmp_path / "acme" / "jobs.csv")
    # the CPU-only job and the job that never started are dropped
    assert kpis["jobs_completed"] == 3 and sorted(jobs["gpus"]) == [8, 8, 16]
    assert "pretrain_mean_wait_s" in kpis  # the workload type is the tenant
    assert sorted(jobs["work_s"]) == [117.0, 2693.0, 7200.0]


BAD = {
    "missing columns": ("job_id,num_gpu,submit_time\n1,1,0\n", [], "missing columns ['duration']"),
    "negative gpus (philly)": ("job_id,num_gpu,submit_time,duration\n1,1,0,60\n2,-4,5,60\n", [],
                               "'num_gpu', data row 2"),
    "negative gpus (acme)": (ACME.replace(",u5909,2,16,", ",u5909,2,-16,"), ["--format", "acme"],
                             "'gpu_num', data row 5"),
    "bad acme time": (ACME.replace("2023-03-01 01:00:00+08:00", "yesterday"), [], "'submit_time', data row 5"),
    "gang larger than the cluster": ("job_id,num_gpu,submit_time,duration\n1,1,0,60\n2,64,5,60\n", [],
                                     "a job of 64 GPUs is larger than the cluster of 16 devices"),
    "pue below 1": ("job_id,num_gpu,submit_time,duration\n1,1,0,60\n", ["--pue", "0.9"], "PUE 0.9"),
    "unknown format": ("job_id,num_gpu,submit_time,duration\n1,1,0,60\n", ["--format", "slurm"], "--trace-format"),
    "unknown columns": ("a,b\n1,2\n", [], "unknown trace columns"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_trace_exits_2_with_one_line(case, tmp_path, twin_cli):
    text, args, fragment = BAD[case]
    trace = tmp_path / "bad.csv"
    trace.write_text(text)
    out = tmp_path / "o"
    outcome = twin_cli("compute", "replay", trace, "--gpus", "16", "--out", out, *args)
    assert outcome.exit_code == 2, outcome.stderr
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in outcome.stderr, lines
    assert not out.exists()
