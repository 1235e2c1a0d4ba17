"""The GPU cluster against queueing theory: Erlang C (M/M/c) and Little's law.

Single-device jobs with Poisson arrivals and exponential run times on c = 64 devices (8 nodes of
8) under FIFO form an M/M/64 queue. Waits are strongly autocorrelated, so precision comes from
independent replications: each gives one mean wait, and a 99% confidence interval is built across
them. Run-to-run noise is reduced with the replications' realised mean run time and mean
inter-arrival time as control variates (their true means are known; Lavenberg & Welch 1981): the
estimate is the intercept of a least-squares fit of the replication means on those two, and its
standard error comes from the same fit.

At utilisation 0.95, 0.85 and 0.7 the estimate is within 3% of Erlang C, the runs are long enough
to say so (the 95% interval is narrower than +-3%), and Erlang C lies inside the 99% interval. At
0.7 the mean wait (under a second on one-hour jobs) comes from rare congestion episodes
(P(wait) = C(64, 44.8), about 0.4%), so it takes 2e8 jobs (80 replications of 2.5e6, about two
minutes) to resolve 3%: measured +0.25% with a 95% half-width of 2.4%.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from kernels.scheduler import layout as ks
from kernels.scheduler.event_loop import advance
from kernels.scheduler.state import new_state
from twin.compute.policies.fifo import Fifo
from twin.queueing import erlang_c, mmc_mean_wait_s

MEAN_RUN_S = 3600.0


def replication(
    rho: float, devices: int, gpus_per_job: int, n_jobs: int, seed: int, placement: int = ks.CONSOLIDATED
) -> dict[str, float]:
    """One FIFO run of an open Poisson stream; the mean wait and what Little's law needs."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, int(rho * 1000), devices])))
    servers = devices // gpus_per_job
    rate_per_s = rho * servers / MEAN_RUN_S
    gaps = rng.exponential(1.0 / rate_per_s, n_jobs)
    submit = np.cumsum(gaps)
    work = rng.exponential(MEAN_RUN_S, n_jobs)
    zeros = np.zeros(n_jobs, np.int64)
    horizon = float(submit[-1])
    state = new_state(
        submit,
        work,
        work,
        np.full(n_jobs, gpus_per_job, np.int64),
        zeros,
        zeros,
        n_nodes=devices // 8,
        rules=Fifo().queue_rules(),
        placement=placement,
        n_bins=1,
        bin_width_s=horizon,
    )
    advance(state, np.inf)
    wait = state.jf[:, ks.JF_FIRST_START] - submit
    return {
        "mean_wait_s": float(wait.mean()),
        "run_dev": float(work.mean() / MEAN_RUN_S - 1.0),
        "gap_dev": float(gaps.mean() * rate_per_s - 1.0),
        # Little: time-average number waiting over the arrival period vs arrival rate x mean wait
        "queue_jobs": float(state.bins[ks.B_QJOBS, 0] / horizon),
        "busy_gpus": float(state.bins[ks.B_ALLOC, 0] / horizon),
        "rate_per_s": n_jobs / horizon,
        "mean_work_s": float(work.mean()),
    }


def control_variate_estimate(runs: list[dict[str, float]]) -> tuple[float, float, int]:
    """Mean wait, its standard error and degrees of freedom, with two control variates."""
    y = np.array([r["mean_wait_s"] for r in runs])
    x = np.column_stack([np.ones(len(runs)), [r["run_dev"] for r in runs], [r["gap_dev"] for r in runs]])
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ beta
    dof = len(runs) - x.shape[1]
    sigma2 = residual @ residual / dof
    return float(beta[0]), float(np.sqrt(sigma2 * np.linalg.inv(x.T @ x)[0, 0])), dof


def check_interval(runs, expected: float, tolerance: float | None) -> None:
    """Erlang C inside the 99% interval; with a tolerance, resolved (95% interval) and met."""
    estimate, se, dof = control_variate_estimate(runs)
    half_99 = float(stats.t.ppf(0.995, dof)) * se
    half_95 = float(stats.t.ppf(0.975, dof)) * se
    assert abs(estimate - expected) <= half_99, (estimate, expected, half_99)
    if tolerance is not None:
        assert half_95 <= tolerance * expected, half_95 / expected  # the run is long enough to say so
        assert abs(estimate - expected) <= tolerance * expected, estimate / expected - 1


@pytest.mark.slow
@pytest.mark.parametrize(
    "rho,jobs_per_replication,replications",
    [
        (0.95, 500_000, 40),
        (0.85, 500_000, 40),
        (0.70, 2_500_000, 80),  # rare congestion: about two minutes (see the module docstring)
    ],
)
def test_fifo_mean_wait_matches_erlang_c_on_64_devices(rho, jobs_per_replication, replications):
    c = 64
    expected = mmc_mean_wait_s(c, rho * c / MEAN_RUN_S, MEAN_RUN_S)
    runs = [replication(rho, c, 1, jobs_per_replication, seed) for seed in range(replications)]
    check_interval(runs, expected, tolerance=0.03)
    # Little's law on the same runs, within 2%: waiting jobs (L = lambda W) and busy devices
    # (L = lambda x mean run time)
    little_queue = np.mean([r["queue_jobs"] / (r["rate_per_s"] * r["mean_wait_s"]) for r in runs])
    little_busy = np.mean([r["busy_gpus"] / (r["rate_per_s"] * r["mean_work_s"]) for r in runs])
    assert little_queue == pytest.approx(1.0, abs=0.02)
    assert little_busy == pytest.approx(1.0, abs=0.02)


def test_gangs_of_one_node_form_an_m_m_8_queue():
    """8-device jobs on 8 nodes: each job takes a whole node, so the cluster is M/M/8."""
    rho = 0.85
    expected = mmc_mean_wait_s(8, rho * 8 / MEAN_RUN_S, MEAN_RUN_S)
    for placement in (ks.CONSOLIDATED, ks.SPREAD):
        runs = [replication(rho, 64, 8, 100_000, seed, placement) for seed in range(24)]
        check_interval(runs, expected, 0.03)


def test_erlang_c_reference_values():
    # M/M/1: P(wait) = rho and Wq = rho / (mu - lambda); 64 devices at 0.95: Erlang C ~ 0.59
    assert mmc_mean_wait_s(1, 0.5, 1.0) == pytest.approx(1.0)
    assert erlang_c(64, 0.95 * 64) == pytest.approx(0.588, abs=0.001)
