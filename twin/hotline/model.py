"""The 12345 hotline's call centre as SimPy processes on the engine's clock.

The story:

* **The switchboard** puts each call through at its arrival time. Calls arrive as a Poisson
  stream whose rate follows an hourly profile (:func:`arrival_times_s`).
* **A caller** queues (first come, first served) for one of ``agents`` call-takers. With
  abandonment on, a caller whose patience (exponential, mean ``mean_patience_s``) runs out
  before an agent is free hangs up; otherwise the agent takes the call for its handle time
  (talk + wrap, :func:`handle_times_s`).
* **The monitor** samples the queue length and the busy agents every minute into the engine's
  recorder.

Every draw is made up front from the run's ``hotline`` stream, in a fixed order (arrivals,
handle times, patience), so the same seed gives the same callers whatever the queue does. The
run goes on past its end until the calls offered in it are finished.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, Literal

import numpy as np
import simpy
from pydantic import Field, model_validator

from twin.config import StrictModel
from twin.engine import Engine

QUEUE_SAMPLE_INTERVAL_S = 60.0
"""How often the monitor samples the queue and the busy agents (s)."""
DRAIN_S = 6 * 3600.0
"""How long the run goes on past its end, so that the calls offered in it finish (s)."""

Process = Generator[Any, Any, None]
"""A SimPy process body."""


class HotlineConfig(StrictModel):
    """The ``[hotline]`` table."""

    agents: int = Field(default=40, ge=1, le=10_000, description="Call-takers on duty.")
    calls_per_h: list[float] = Field(
        default=[520.0, 610.0, 560.0, 480.0, 400.0, 430.0, 470.0, 420.0],
        min_length=1,
        description="Arrival rate for each hour of the run (calls/h), repeated cyclically.",
    )
    mean_handle_time_s: float = Field(default=240.0, gt=0, description="Mean talk + wrap time (s).")
    handle_time_dist: Literal["exponential", "lognormal"] = Field(
        default="lognormal", description="Handle-time distribution."
    )
    handle_time_cv: float = Field(
        default=0.8, gt=0, le=5, description="Coefficient of variation (lognormal only)."
    )
    abandonment: bool = Field(default=True, description="Whether callers hang up when impatient.")
    mean_patience_s: float = Field(default=180.0, gt=0, description="Mean exponential patience (s).")
    service_level_target_s: float = Field(
        default=20.0, gt=0, description="Answer-within target for the service level (s)."
    )

    @model_validator(mode="after")
    def _rates_non_negative(self) -> HotlineConfig:
        if any(rate < 0 for rate in self.calls_per_h):
            raise ValueError("calls_per_h values must be >= 0")
        return self


def arrival_times_s(rates_per_h: list[float], duration_s: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson arrival times over ``duration_s`` with a piecewise-constant hourly rate (s).

    Within each hour the process is homogeneous, and the memoryless property lets each hour be
    drawn independently.
    """
    times: list[np.ndarray] = []
    hours = math.ceil(duration_s / 3600.0)
    for hour in range(hours):
        begin_s = hour * 3600.0
        end_s = min(begin_s + 3600.0, duration_s)
        rate_per_s = rates_per_h[hour % len(rates_per_h)] / 3600.0
        count = rng.poisson(rate_per_s * (end_s - begin_s))
        times.append(np.sort(rng.uniform(begin_s, end_s, size=count)))
    return np.concatenate(times) if times else np.empty(0)


def handle_times_s(config: HotlineConfig, size: int, rng: np.random.Generator) -> np.ndarray:
    """Handle times with the configured mean and distribution (s)."""
    if config.handle_time_dist == "exponential":
        return rng.exponential(config.mean_handle_time_s, size=size)
    sigma2 = math.log1p(config.handle_time_cv**2)
    mu = math.log(config.mean_handle_time_s) - sigma2 / 2.0
    return rng.lognormal(mu, math.sqrt(sigma2), size=size)


class CallCentre:
    """The agents, the callers drawn for one run, and what happened to each call.

    Attributes
    ----------
    arrival_s, handle_s, patience_s
        Each caller's arrival time, handle time and patience (s), drawn up front.
    wait_s
        Time until answered or abandoned (s; NaN while still queueing).
    answered
        Whether an agent took the call.
    """

    def __init__(self, config: HotlineConfig, engine: Engine) -> None:
        self.config = config
        self.engine = engine
        self.env = engine.env
        rng = engine.rng("hotline")
        self.arrival_s = arrival_times_s(config.calls_per_h, engine.duration_s, rng)
        self.handle_s = handle_times_s(config, len(self.arrival_s), rng)
        self.patience_s = rng.exponential(config.mean_patience_s, size=len(self.arrival_s))
        self.wait_s = np.full(len(self.arrival_s), np.nan)
        self.answered = np.zeros(len(self.arrival_s), dtype=bool)
        self.agents = simpy.Resource(self.env, capacity=config.agents)

    def switchboard(self) -> Process:
        """Put each call through at its arrival time."""
        for index, time_s in enumerate(self.arrival_s):
            yield self.env.timeout(time_s - self.env.now)
            self.env.process(self.caller(index))

    def caller(self, index: int) -> Process:
        """Queue for an agent (hanging up when patience runs out, with abandonment), then talk."""
        env = self.env
        arrived = env.now
        with self.agents.request() as request:
            if self.config.abandonment:
                outcome = yield request | env.timeout(self.patience_s[index])
                got_agent = request in outcome
            else:
                yield request
                got_agent = True
            self.wait_s[index] = env.now - arrived
            if got_agent:
                self.answered[index] = True
                yield env.timeout(self.handle_s[index])

    def monitor(self) -> Process:
        """Sample the queue and the busy agents every :data:`QUEUE_SAMPLE_INTERVAL_S`."""
        while True:
            self.engine.recorder.record("queue_calls", self.env.now, len(self.agents.queue))
            self.engine.recorder.record("busy_agents", self.env.now, self.agents.count)
            yield self.env.timeout(QUEUE_SAMPLE_INTERVAL_S)

    def calls(self) -> dict[str, np.ndarray]:
        """Per-call arrays: ``arrival_s``, ``wait_s``, ``answered`` and ``handle_s``."""
        return {"arrival_s": self.arrival_s, "wait_s": self.wait_s, "answered": self.answered,
                "handle_s": self.handle_s}


def simulate(config: HotlineConfig, engine: Engine) -> dict[str, np.ndarray]:
    """Run the call centre on ``engine``; return per-call arrays.

    Returns arrays ``arrival_s``, ``wait_s`` (time until answered or abandoned), ``answered``
    (bool) and ``handle_s``. The queue and busy-agent samples are in ``engine.recorder``.
    """
    centre = CallCentre(config, engine)
    engine.process(centre.switchboard())
    engine.process(centre.monitor())
    # Run past the end so calls offered before it finish; KPIs count calls offered in the run.
    engine.run(description="12345 hotline")
    engine.env.run(until=engine.duration_s + DRAIN_S)
    return centre.calls()
