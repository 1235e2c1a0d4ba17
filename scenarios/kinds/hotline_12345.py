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

import math
from typing import Any

import numpy as np

from scenarios.registry import scenario_kind
from scenarios.validation import SizeEstimate
from twin.config import ScenarioFile
from twin.engine import Engine
from twin.hotline.metrics import service_kpis
from twin.hotline.model import HotlineConfig, simulate
from twin.kpis import LANGS, kpi_info
from twin.plot_style import in_both_languages
from twin.queueing import servers_for_service_level
from twin.results import Answer, RunResult


class HotlineFile(ScenarioFile):
    """A ``hotline_queue`` scenario file."""

    hotline: HotlineConfig = HotlineConfig()


SERVICE_SHARE_TARGET = 0.8
"""The 80/20 rule of call centres (80 % answered within the target), against which staffing is judged."""
BYTES_PER_CALL = 4_000.0
"""Memory a simulated call takes (its arrays and SimPy process), measured on the bundled run."""
SECONDS_PER_CALL = 4e-5
"""Wall time a simulated call takes on this machine, measured on the bundled run."""

TEXT = {
    "question": {"zh": "12345热线：现有坐席能否在高峰时段做到{share:.0%}来电{target:.0f}秒内接通？",
                 "en": "12345 hotline: can the call-takers on duty answer {share:.0%} of calls within {target:.0f} s?"},
    "answer": {"zh": "{verdict}：{agents}名坐席时{sl}的来电在{target:.0f}秒内接通（目标{share:.0%}），{ab}的来电者"
                     "等不及挂断，平均等待{wait}。若来电者都不挂断（Erlang C），高峰{peak:.0f}通/小时需{need}名坐席。",
               "en": "{verdict}: with {agents} call-takers {sl} of calls are answered within {target:.0f} s (target "
                     "{share:.0%}), {ab} of callers hang up and the mean wait is {wait}. If no caller hung up "
                     "(Erlang C), the peak of {peak:.0f} calls/h would need {need} call-takers."},
    "yes": {"zh": "能", "en": "Yes"},
    "no": {"zh": "不能", "en": "No"},
    "queue_title": {"zh": "排队人数", "en": "Callers waiting"},
    "hours": {"zh": "开始后小时数", "en": "hours since start"},
    "waiting": {"zh": "排队来电", "en": "callers waiting"},
    "wait_title": {"zh": "接通来电的等待时间分布", "en": "Wait distribution (answered calls)"},
    "wait_axis": {"zh": "接通前等待 (秒)", "en": "wait before answer (s)"},
    "calls": {"zh": "来电数", "en": "calls"},
    "target": {"zh": "目标", "en": "target"},
}


def peak_staffing(config: HotlineConfig) -> tuple[float, int]:
    """The peak hourly rate (calls/h) and the call-takers Erlang C says it needs for 80/20."""
    peak_per_h = max(config.calls_per_h)
    need = servers_for_service_level(peak_per_h / 3600.0, config.mean_handle_time_s,
                                     config.service_level_target_s, SERVICE_SHARE_TARGET)
    return peak_per_h, need


def answer(config: HotlineFile, kpis: dict[str, float], result: RunResult) -> Answer:
    """Service level, hang-ups and wait with the staff on duty, and the staff the peak needs."""
    hotline = config.hotline
    peak, need = peak_staffing(hotline)
    text = {}
    for lang in LANGS:
        meets = kpis["service_level_pct"] >= 100.0 * SERVICE_SHARE_TARGET
        values = {
            "verdict": TEXT["yes" if meets else "no"][lang], "agents": hotline.agents,
            "target": hotline.service_level_target_s, "share": SERVICE_SHARE_TARGET,
            "sl": kpi_info("service_level_pct").format(kpis["service_level_pct"], lang),
            "ab": kpi_info("abandoned_pct").format(kpis["abandoned_pct"], lang),
            "wait": kpi_info("mean_wait_s").format(kpis["mean_wait_s"], lang), "peak": peak, "need": need,
        }
        text[lang] = TEXT["answer"][lang].format(**values)
    question = {lang: TEXT["question"][lang].format(share=SERVICE_SHARE_TARGET,
                                                     target=hotline.service_level_target_s) for lang in LANGS}
    recommendation = {"zh": f"{hotline.agents}名坐席", "en": f"{hotline.agents} call-takers"}
    return Answer(text=text, question=question, recommendation=recommendation)


def estimate(config: HotlineFile) -> SizeEstimate:
    """Calls the run will simulate, from the hourly rates over the duration, as memory and time."""
    hours = config.scenario.duration_s / 3600.0
    rates = config.hotline.calls_per_h
    calls = sum(rates[h % len(rates)] * min(1.0, hours - h) for h in range(math.ceil(hours)))
    return SizeEstimate(calls * BYTES_PER_CALL, calls * SECONDS_PER_CALL, "[hotline] calls_per_h")


def _figures(calls: dict[str, np.ndarray], engine: Engine, config: HotlineConfig) -> dict[str, Any]:
    """The queue over time and the answered calls' waits, in both languages."""
    return in_both_languages("queue_and_waits", lambda lang: _figure(calls, engine, config, lang))


def _figure(calls: dict[str, np.ndarray], engine: Engine, config: HotlineConfig, lang: str) -> Any:
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
    ax_queue.set_xlabel(TEXT["hours"][lang])
    ax_queue.set_ylabel(TEXT["waiting"][lang])
    ax_queue.set_title(TEXT["queue_title"][lang])
    waits = calls["wait_s"][calls["answered"]]
    ax_wait.hist(waits, bins=50, color="tab:blue")
    ax_wait.axvline(config.service_level_target_s, color="tab:red", ls="--", label=TEXT["target"][lang])
    ax_wait.set_xlabel(TEXT["wait_axis"][lang])
    ax_wait.set_ylabel(TEXT["calls"][lang])
    ax_wait.set_title(TEXT["wait_title"][lang])
    ax_wait.legend()
    fig.tight_layout()
    return fig


@scenario_kind("hotline_queue", HotlineFile, "12345 hotline call centre: M/M/c queue with abandonment",
               estimate=estimate, answer=answer, replications=5)
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
