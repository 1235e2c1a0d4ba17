"""Inference services: the batching model, hourly autoscaling, and the queue against M/D/c, M/M/c.

Validation (issue 21): a service of replicas x batch slots with a fixed service time, fed Poisson
requests, is an M/D/c queue; its simulated mean wait is within 5 % of the exact M/D/c mean wait
(Crommelin's chain, checked itself against Pollaczek-Khinchine for c = 1), and with exponential
service times within 5 % of Erlang C.
"""

from __future__ import annotations

import numpy as np
import pytest

from twin.compute.inference import InferenceService, autoscale, poisson_arrivals_s, simulate_waits
from twin.errors import InputError
from twin.queueing import mdc_mean_wait_approx_s, mdc_mean_wait_s, mmc_mean_wait_s

SMALL = InferenceService(max_batch=4)  # 4 slots per replica keeps c small enough to congest
SERVERS = 3 * SMALL.batch


def mean_simulated_wait_s(rho: float, deterministic: bool) -> float:
    service_s = SMALL.service_s()
    rate_per_s = rho * SERVERS / service_s
    means = []
    for seed in range(8):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, int(rho * 100)])))
        arrivals = poisson_arrivals_s(rate_per_s, 250_000, rng)
        holds = np.full(len(arrivals), service_s) if deterministic else rng.exponential(service_s, len(arrivals))
        means.append(simulate_waits(arrivals, holds, SERVERS)[2000:].mean())
    return float(np.mean(means))


@pytest.mark.parametrize("rho", [0.7, 0.85])
def test_simulated_wait_within_5_percent_of_mdc(rho):
    rate_per_s = rho * SERVERS / SMALL.service_s()
    exact = mdc_mean_wait_s(SERVERS, rate_per_s, SMALL.service_s())
    assert abs(mean_simulated_wait_s(rho, True) / exact - 1.0) < 0.05


def test_exponential_service_within_5_percent_of_erlang_c():
    rate_per_s = 0.8 * SERVERS / SMALL.service_s()
    exact = mmc_mean_wait_s(SERVERS, rate_per_s, SMALL.service_s())
    assert abs(mean_simulated_wait_s(0.8, False) / exact - 1.0) < 0.05


@pytest.mark.parametrize("rho", [0.3, 0.6, 0.9, 0.97])
def test_mdc_one_server_is_pollaczek_khinchine(rho):
    assert mdc_mean_wait_s(1, rho / 2.0, 2.0) == pytest.approx(rho * 2.0 / (2 * (1 - rho)), rel=1e-6)


def test_mdc_waits_less_than_mmc():
    for servers in (2, 8, 32):
        rate = 0.8 * servers
        assert mdc_mean_wait_s(servers, rate, 1.0) < mmc_mean_wait_s(servers, rate, 1.0)


def test_batching_raises_throughput_until_compute_bound():
    service = InferenceService(max_batch=None)
    throughput = [service.replica_throughput_per_s(b) for b in (1, 8, 64, 256)]
    assert throughput == sorted(throughput)
    # memory bound at small batches: a step costs the same at batch 1 and 8
    assert service.decode_step_s(1) == service.decode_step_s(8)
    assert service.decode_step_s(512) > service.decode_step_s(1)
    # KV cache of 1300 tokens at 327,680 B/token beside 140 GB of weights in 4 x 80 GB
    assert service.memory_batch_limit() == int((320e9 - 140e9) // (327_680 * 1300))


def test_autoscaling_meets_the_target_with_the_fewest_replicas():
    service = InferenceService()
    hours = np.arange(24)
    rates = 40.0 + 30.0 * np.sin((hours - 9) / 24 * 2 * np.pi)  # a day peak about 15:00
    plan = autoscale(service, rates)
    assert np.all(plan.mean_ttft_s <= service.ttft_target_s)
    for rate, replicas in zip(rates, plan.replicas, strict=True):
        if replicas > 1:
            assert service.mean_ttft_s(int(replicas) - 1, rate) > service.ttft_target_s
    assert plan.replicas.max() > plan.replicas.min()
    assert np.all(plan.utilisation < 1.0)
    assert np.array_equal(plan.devices, plan.replicas * 4)


def test_model_too_big_for_replica_is_input_error():
    with pytest.raises(InputError, match="do not fit"):
        InferenceService(params=405e9, devices_per_replica=4).check()
    with pytest.raises(InputError, match="mfu"):
        InferenceService(mfu=0.0).check()
    with pytest.raises(InputError, match="ttft_target_s"):
        InferenceService(ttft_target_s=0.01).replicas_for(10.0)


@pytest.mark.parametrize("servers", [1, 2, 4, 8, 16, 32, 64, 128])
@pytest.mark.parametrize("rho", [0.7, 0.8, 0.9, 0.95])
def test_cosmetatos_approximation_within_6_percent_of_exact_mdc(servers, rho):
    """The large-c shortcut against the exact M/D/c solve where the exact one is cheap: within 6 %
    (measured worst -5.4 % at c = 128, rho = 0.8), while plain halving of Erlang C is off by up to 40 %."""
    rate = rho * servers / 1.0
    exact = mdc_mean_wait_s(servers, rate, 1.0)
    assert mdc_mean_wait_approx_s(servers, rate, 1.0) == pytest.approx(exact, rel=0.06)


def test_cosmetatos_approximation_at_light_load_is_negligible_in_absolute_terms():
    for servers in (8, 32, 64, 128):
        rate = 0.5 * servers
        assert abs(mdc_mean_wait_approx_s(servers, rate, 1.0) - mdc_mean_wait_s(servers, rate, 1.0)) < 1e-3


def test_approximation_at_2000_slots_against_simulated_queue():
    """2,000 batch slots (40 replicas x 50) at rho 0.98, where the exact solve is slow: the mean
    wait the service reports agrees with a simulated FCFS queue of 360,000 requests within 10 %
    (measured -4.5 %)."""
    service = InferenceService(max_batch=50)
    replicas, slots = 40, 40 * service.batch
    rate = 0.98 * slots / service.service_s()
    wait_s = service.mean_ttft_s(replicas, rate) - service.prefill_s
    rng = np.random.Generator(np.random.PCG64(7))
    arrivals = poisson_arrivals_s(rate, 400_000, rng)
    simulated = simulate_waits(arrivals, np.full(len(arrivals), service.service_s()), slots)[40_000:].mean()
    assert wait_s == pytest.approx(simulated, rel=0.10)
