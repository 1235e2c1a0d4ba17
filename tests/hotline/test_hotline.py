"""The 12345 hotline queue against Erlang C (M/M/c) and Little's law."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twin.engine import Engine
from twin.hotline.model import HotlineConfig, simulate
from twin.queueing import erlang_b, erlang_c, mmc_mean_wait_s


def test_erlang_formulas_on_textbook_values():
    # Erlang B with 10 servers, 5 erlangs: 0.01838 (standard tables).
    assert erlang_b(10, 5.0) == pytest.approx(0.018384, rel=1e-4)
    # M/M/1: P(wait) = rho, Wq = rho / (mu - lambda).
    assert erlang_c(1, 0.6) == pytest.approx(0.6)
    assert mmc_mean_wait_s(1, 0.6, 1.0) == pytest.approx(0.6 / 0.4)


@pytest.mark.parametrize("agents,load", [(10, 0.8), (4, 0.7)])
def test_mean_wait_matches_erlang_c(agents, load):
    """Independent replications give a 99% confidence interval that must contain Erlang C.

    Waits in a queue are strongly autocorrelated, so one long run's sample mean is a poor
    estimator of its own error; replications are independent by construction.
    """
    mean_handle_s = 240.0
    calls_per_h = load * agents / mean_handle_s * 3600.0
    config = HotlineConfig(
        agents=agents, calls_per_h=[calls_per_h], mean_handle_time_s=mean_handle_s,
        handle_time_dist="exponential", abandonment=False,
    )
    expected = mmc_mean_wait_s(agents, calls_per_h / 3600.0, mean_handle_s)
    means, little_ratios = [], []
    for replication in range(16):
        engine = Engine(replication, datetime(2025, 1, 1), 400 * 3600.0)
        calls = simulate(config, engine)
        means.append(calls["wait_s"].mean())
        # Little's law on the queue: time-average queue length = arrival rate x mean wait.
        samples = np.array(engine.recorder.samples("queue_calls"))
        queue = samples[samples[:, 0] <= engine.duration_s, 1].mean()
        observed_rate_per_s = len(calls["arrival_s"]) / engine.duration_s
        little_ratios.append(queue / (observed_rate_per_s * calls["wait_s"].mean()))
    grand_mean = float(np.mean(means))
    half_width = 2.95 * float(np.std(means, ddof=1)) / np.sqrt(len(means))  # t(15, 0.995) = 2.95
    assert abs(grand_mean - expected) <= half_width, (grand_mean, expected, half_width)
    assert half_width / expected < 0.08  # the interval is tight enough to mean something
    assert float(np.mean(little_ratios)) == pytest.approx(1.0, abs=0.03)


@given(
    agents=st.integers(1, 6),
    rate=st.floats(1.0, 200.0),
    patience=st.floats(10.0, 600.0),
    seed=st.integers(0, 1000),
)
def test_every_call_is_answered_or_abandoned_and_waits_are_bounded(agents, rate, patience, seed):
    config = HotlineConfig(agents=agents, calls_per_h=[rate], mean_patience_s=patience)
    calls = simulate(config, Engine(seed, datetime(2025, 1, 1), 1800.0))
    assert not np.isnan(calls["wait_s"]).any()  # every caller was resolved
    assert (calls["wait_s"] >= 0).all()
    assert np.all(np.diff(calls["arrival_s"]) >= 0)
