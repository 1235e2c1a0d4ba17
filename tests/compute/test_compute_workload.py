"""The tenant mix, the job generator and the trace importers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.compute import workload as wl
from twin.compute.traces import read_trace
from twin.errors import InputError


@pytest.fixture(scope="module")
def mix() -> wl.WorkloadConfig:
    return wl.load_workload_config()


def test_tenants_named_in_the_plan(mix):
    assert [t.name for t in mix.tenants] == ["llm_training", "gov_llm", "ai_hub", "external"]
    kinds = {c.kind for t in mix.tenants for c in t.classes}
    assert kinds == {"large_training", "fine_tuning", "inference", "batch_research"}
    large = [c for t in mix.tenants for c in t.classes if c.kind == "large_training"]
    assert all(min(c.gpus) >= 64 and max(c.gpus) >= 1024 for c in large)


def test_arrival_rates_grow_year_by_year(mix):
    loads = [wl.offered_load_gpus(mix, year) for year in range(2024, 2029)]
    assert all(b > a for a, b in zip(loads, loads[1:], strict=False))
    # calibration: ~65% of the 2000P phase in 2024, ~8000P in 2028 (dense FP16 H100 devices)
    assert 0.55 * 2022 < loads[0] < 0.75 * 2022
    assert 7000 < loads[-1] < 9000


def test_generator_is_calibrated_to_the_published_trace_shapes(mix):
    jobs = wl.generate(mix, 2026, 60 * 86400.0, np.random.default_rng(5))
    stats = wl.describe(jobs)
    # most jobs use one device, a heavy multi-device tail holds most device-time,
    # and run times spread from minutes to days (Philly, Helios, PAI)
    assert stats["single_device_job_pct"] > 50
    assert stats["multi_node_job_pct"] < 10
    assert stats["multi_node_device_time_pct"] > 50
    assert stats["median_run_h"] < 1.0 < 24.0 < stats["p99_run_h"]
    assert jobs.work_s.min() >= wl.MIN_DURATION_S
    # the sample's load agrees with the analytic offered load (large jobs make it noisy)
    assert jobs.offered_gpus(60 * 86400.0) == pytest.approx(wl.offered_load_gpus(mix, 2026), rel=0.2)


def test_same_seed_same_jobs_and_slower_devices_run_longer(mix):
    a = wl.generate(mix, 2025, 5 * 86400.0, np.random.default_rng(11))
    b = wl.generate(mix, 2025, 5 * 86400.0, np.random.default_rng(11))
    assert np.array_equal(a.submit_s, b.submit_s) and np.array_equal(a.work_s, b.work_s)
    slow = wl.generate(mix, 2025, 5 * 86400.0, np.random.default_rng(11), accelerator="ascend_910b")
    assert np.allclose(slow.work_s, a.work_s * 989.4 / 320.0)
    assert np.array_equal(slow.gpus, a.gpus)


def test_synthetic_stream_has_the_requested_rate_and_moments():
    rng = np.random.default_rng(2)
    jobs = wl.synthetic(200_000, 2, 30.0, 1.5, rng)
    assert np.all(jobs.gpus == 2)
    assert len(jobs) / (jobs.submit_s[-1] / 3600.0) == pytest.approx(30.0, rel=0.01)
    assert jobs.work_s.mean() == pytest.approx(1.5 * 3600, rel=0.01)
    logn = wl.synthetic(200_000, 1, 30.0, 2.0, rng, "lognormal", duration_cv=3.0)
    assert logn.work_s.mean() == pytest.approx(7200, rel=0.05)
    assert logn.work_s.std() / logn.work_s.mean() == pytest.approx(3.0, rel=0.15)
    for bad in ({"n_jobs": 0}, {"gpus_per_job": 0}, {"arrival_rate_per_h": 0.0}, {"mean_duration_h": -1.0}):
        args = dict(n_jobs=10, gpus_per_job=1, arrival_rate_per_h=1.0, mean_duration_h=1.0) | bad
        with pytest.raises(InputError):
            wl.synthetic(rng=rng, **args)


def test_bad_tenant_mix_is_an_input_error(tmp_path):
    path = tmp_path / "mix.toml"
    path.write_text(
        "[[tenants]]\nname = 'a'\nshare = 0.5\n[[tenants.classes]]\nkind = 'fine_tuning'\n"
        "jobs_per_day = 1.0\n"
        "gpus = [8, 16]\ngpus_weights = [1.0]\nmedian_duration_h = 1.0\nduration_sigma = 1.0\n"
        "max_duration_h = 10.0\nsla_wait_h = 1.0\n"
    )
    with pytest.raises(InputError, match="same length"):
        wl.load_workload_config(path)


ALIBABA_HEADER = (
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time"
)
ALIBABA = ALIBABA_HEADER + """
openb-pod-0000,12000,16384,1,1000,,LS,Running,100,12537496,100
openb-pod-0001,6000,12288,1,460,,BE,Running,427061,12902960,427061
openb-pod-0005,20000,65536,0,0,,LS,Running,2759674,12902960,2759676
openb-pod-0017,88000,327680,8,1000,,Burstable,Succeeded,9437497,10769854,9437497
openb-pod-0061,11908,47104,1,1000,,BE,Pending,10001278,10001403,
openb-pod-0063,12000,24576,1,1000,V100M16|V100M32,Guaranteed,Running,10001854,10043044,10002793
"""


def test_alibaba_pod_list(tmp_path):
    path = tmp_path / "openb_pod_list_default.csv"
    path.write_text(ALIBABA)
    jobs = read_trace(path)
    # the CPU-only pod and the never-scheduled pod are dropped; GPU-sharing pods use a device
    assert len(jobs) == 4
    assert list(jobs.gpus) == [1, 1, 8, 1]
    assert jobs.submit_s[0] == 0.0 and jobs.submit_s[-1] == 10001854 - 100
    assert jobs.work_s[0] == 12537496 - 100
    assert jobs.work_s[-1] == 10043044 - 10002793  # run time from scheduling to deletion
    assert sorted(jobs.tenant_names) == ["BE", "Burstable", "Guaranteed", "LS"]
    names = np.asarray(jobs.tenant_names)[jobs.tenant]
    assert list(jobs.priority[names == "LS"]) == [1] and list(jobs.priority[names == "BE"]) == [0]


def test_philly_tiresias_job_list(tmp_path):
    path = tmp_path / "philly.csv"
    path.write_text("job_id,num_gpu,submit_time,iterations,model_name,duration,interval,vc\n"
                    "7,16,50,1000,resnet50,3600,1,vcA\n3,1,10,10,vgg,60,1,vcB\n4,4,10,10,vgg,0,1,vcA\n")
    jobs = read_trace(path, "philly")
    assert list(jobs.gpus) == [1, 4, 16]  # sorted by submission, stable for ties
    assert list(jobs.submit_s) == [0.0, 0.0, 40.0]
    assert list(jobs.work_s) == [60.0, 0.0, 3600.0]
    assert jobs.tenant_names == ["vcA", "vcB"]


@pytest.mark.parametrize("text,fragment", [
    ("job_id,num_gpu,submit_time\n1,1,0\n", "missing columns ['duration'] of the philly trace format"),
    ("a,b\n1,2\n", "unknown trace columns"),
    ("job_id,num_gpu,submit_time,duration\n1,two,0,5\n", "'num_gpu', data row 1"),
    ("job_id,num_gpu,submit_time,duration\n1,1,0,5\n2,0,3,5\n", "'num_gpu', data row 2"),
    ("job_id,num_gpu,submit_time,duration\n1,1,0,-5\n", "'duration', data row 1"),
    (ALIBABA_HEADER + "\np,1,1,1,1000,,LS,Running,5,3,4\n", "before scheduled_time"),
    (ALIBABA_HEADER + "\np,1,1,0,0,,LS,Running,5,9,6\n", "no GPU jobs"),
])
def test_bad_traces_name_the_file_column_and_row(tmp_path, text, fragment):
    path = tmp_path / "trace.csv"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_trace(path)
    message = str(err.value)
    assert fragment in message and str(path) in message and "\n" not in message
    with pytest.raises(InputError, match="not found"):
        read_trace(tmp_path / "missing.csv")


def test_trace_window_and_selection(tmp_path):
    rng = np.random.default_rng(0)
    jobs = wl.synthetic(1000, 1, 10.0, 1.0, rng)
    part = jobs.window(3600.0, 7200.0)
    assert len(part) == int(np.sum((jobs.submit_s >= 3600) & (jobs.submit_s < 7200)))
    assert part.submit_s.min() >= 0 and part.submit_s.max() < 3600
    assert math.isclose(part.offered_gpus(3600.0), float(np.dot(part.gpus, part.work_s)) / 3600.0)
