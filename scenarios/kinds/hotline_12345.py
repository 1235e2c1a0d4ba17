"""The 12345 government-service hotline (政务服务便民热线) as a call-centre queue.

The placeholder kind that proved the pipe before the city layers landed, kept because it is a
compact, fully checked example of a scenario: callers arrive as a Poisson stream whose rate
follows an hourly profile, wait for one of ``agents`` call-takers, and hang up if their patience
runs out first. With exponential handle times and no abandonment it is an M/M/c queue, and
``tests/test_hotline.py`` checks the mean wait against Erlang C.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from scenarios.registry import scenario_kind
from twin.config import ScenarioFile, StrictModel
from twin.engine import Engine
from twin.results import RunResult

QUEUE_SAMPLE_INTERVAL_S = 60.0


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


class HotlineFile(ScenarioFile):
    """A ``hotline_queue`` scenario file."""

    hotline: HotlineConfig = HotlineConfig()


def arrival_times_s(rates_per_h: list[float], duration_s: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson arrival times over ``duration_s`` with a piecewise-constant hourly rate.

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
    """Handle times with the configured mean and distribution."""
    if config.handle_time_dist == "exponential":
        return rng.exponential(config.mean_handle_time_s, size=size)
    sigma2 = math.log1p(config.handle_time_cv**2)
    mu = math.log(config.mean_handle_time_s) - sigma2 / 2.0
    return rng.lognormal(mu, math.sqrt(sigma2), size=size)


def simulate(config: HotlineConfig, engine: Engine) -> dict[str, np.ndarray]:
    """Run the call centre on ``engine``; return per-call arrays.

    Returns arrays ``arrival_s``, ``wait_s`` (time until answered or abandoned), ``answered``
    (bool) and ``handle_s``.
    """
    import simpy

    env = engine.env
    rng = engine.rng("hotline")
    arrivals = arrival_times_s(config.calls_per_h, engine.duration_s, rng)
    handles = handle_times_s(config, len(arrivals), rng)
    patience = rng.exponential(config.mean_patience_s, size=len(arrivals))
    wait_s = np.full(len(arrivals), np.nan)
    answered = np.zeros(len(arrivals), dtype=bool)
    agents = simpy.Resource(env, capacity=config.agents)

    def caller(index: int):
        arrived = env.now
        with agents.request() as request:
            if config.abandonment:
                outcome = yield request | env.timeout(patience[index])
                got_agent = request in outcome
            else:
                yield request
                got_agent = True
            wait_s[index] = env.now - arrived
            if got_agent:
                answered[index] = True
                yield env.timeout(handles[index])

    def switchboard():
        for index, time_s in enumerate(arrivals):
            yield env.timeout(time_s - env.now)
            env.process(caller(index))

    def monitor():
        while True:
            engine.recorder.record("queue_calls", env.now, len(agents.queue))
            engine.recorder.record("busy_agents", env.now, agents.count)
            yield env.timeout(QUEUE_SAMPLE_INTERVAL_S)

    env.process(switchboard())
    env.process(monitor())
    # Run past the end so calls offered before it finish; KPIs count calls offered in the run.
    engine.run(description="12345 hotline")
    env.run(until=engine.duration_s + 6 * 3600.0)
    return {"arrival_s": arrivals, "wait_s": wait_s, "answered": answered, "handle_s": handles}


def kpis(config: HotlineConfig, calls: dict[str, np.ndarray], engine: Engine) -> dict[str, float]:
    """Service KPIs of a finished run."""
    offered = len(calls["arrival_s"])
    answered = calls["answered"]
    waits = calls["wait_s"][answered]
    n_answered = int(answered.sum())
    within = int((waits <= config.service_level_target_s).sum())
    busy = np.array([value for _, value in engine.recorder.samples("busy_agents")])
    queue = np.array([value for _, value in engine.recorder.samples("queue_calls")])
    in_run = np.array([t <= engine.duration_s for t, _ in engine.recorder.samples("queue_calls")])
    return {
        "calls_offered_calls": offered,
        "calls_answered_calls": n_answered,
        "abandoned_pct": 100.0 * (offered - n_answered) / offered if offered else 0.0,
        "mean_wait_s": float(waits.mean()) if n_answered else 0.0,
        "p90_wait_s": float(np.percentile(waits, 90)) if n_answered else 0.0,
        "service_level_pct": 100.0 * within / offered if offered else 100.0,
        "agent_occupancy_pct": 100.0 * float(busy[in_run].mean()) / config.agents,
        "mean_queue_calls": float(queue[in_run].mean()),
        "max_queue_calls": float(queue[in_run].max()),
    }


def _figures(calls: dict[str, np.ndarray], engine: Engine, config: HotlineConfig):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_queue, ax_wait) = plt.subplots(1, 2, figsize=(11, 4))
    samples = np.array(engine.recorder.samples("queue_calls"))
    busy = np.array([value for _, value in engine.recorder.samples("busy_agents")])
    # the run goes on past its end until the last calls are handled: show up to the last busy agent
    idle_after = np.flatnonzero((samples[:, 0] > engine.duration_s) & (busy == 0))
    shown = slice(0, int(idle_after[0]) + 1 if len(idle_after) else len(samples))
    ax_queue.plot(samples[shown, 0] / 3600.0, samples[shown, 1], lw=1)
    ax_queue.axvline(engine.duration_s / 3600.0, color="grey", ls="--", lw=0.8)
    ax_queue.set_xlabel("hours since start")
    ax_queue.set_ylabel("callers waiting")
    ax_queue.set_title("Queue over time")
    waits = calls["wait_s"][calls["answered"]]
    ax_wait.hist(waits, bins=50, color="tab:blue")
    ax_wait.axvline(config.service_level_target_s, color="tab:red", ls="--", label="target")
    ax_wait.set_xlabel("wait before answer (s)")
    ax_wait.set_ylabel("calls")
    ax_wait.set_title("Wait distribution (answered calls)")
    ax_wait.legend()
    fig.tight_layout()
    return {"queue_and_waits": fig}


@scenario_kind("hotline_queue", HotlineFile, "12345 hotline call centre: M/M/c queue with abandonment")
def run(config: HotlineFile, engine: Engine) -> RunResult:
    """Simulate the hotline and report waits, abandonment and service level."""
    import pandas as pd

    calls = simulate(config.hotline, engine)
    table = pd.DataFrame(
        {
            "call": np.arange(len(calls["arrival_s"])),
            "arrival_s": calls["arrival_s"],
            "wait_s": calls["wait_s"],
            "answered": calls["answered"],
            "handle_s": calls["handle_s"],
        }
    )
    result = kpis(config.hotline, calls, engine)
    notes = [
        f"{result['calls_offered_calls']:,} calls offered to {config.hotline.agents} agents; "
        f"{result['service_level_pct']:.1f}% answered within "
        f"{config.hotline.service_level_target_s:.0f} s and {result['abandoned_pct']:.1f}% abandoned.",
    ]
    return RunResult(
        kpis=result,
        tables={"calls": table, "queue": engine.recorder.series_frame()},
        figures=_figures(calls, engine, config.hotline),
        notes=notes,
        headline=["service_level_pct", "mean_wait_s", "abandoned_pct"],
    )
