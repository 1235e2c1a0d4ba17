"""The 12345 government-service hotline (政务服务便民热线) as a call-centre queue.

The placeholder kind that proved the pipe before the city layers landed, kept because it is a
compact, fully checked example of a scenario: inputs (the ``[hotline]`` table), the model
(:func:`twin.hotline.model.simulate`: callers arrive as a Poisson stream whose rate follows an
hourly profile, wait for one of ``agents`` call-takers, and hang up if their patience runs out
first), then KPIs (:func:`twin.hotline.metrics.service_kpis`), a table and a figure. With
exponential handle times and no abandonment it is an M/M/c queue, and ``tests/hotline`` checks
the mean wait against Erlang C.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scenarios.registry import scenario_kind
from twin.config import ScenarioFile
from twin.engine import Engine
from twin.hotline.metrics import service_kpis
from twin.hotline.model import HotlineConfig, simulate
from twin.results import RunResult


class HotlineFile(ScenarioFile):
    """A ``hotline_queue`` scenario file."""

    hotline: HotlineConfig = HotlineConfig()


def _figures(calls: dict[str, np.ndarray], engine: Engine, config: HotlineConfig) -> dict[str, Any]:
    """The queue over time (until the last busy agent is free) and the answered calls' waits."""
    import matplotlib  # deferred: heavy, and only the figure needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred, after choosing the backend

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
    # Deferred: pandas is heavy, and the registry imports every kind module to discover kinds.
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
    result = service_kpis(config.hotline, calls, engine)
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
