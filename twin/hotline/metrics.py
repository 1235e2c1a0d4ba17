"""Service KPIs of a finished hotline run: plain functions over its calls and recorder samples."""

from __future__ import annotations

import numpy as np

from twin.engine import Engine
from twin.hotline.model import HotlineConfig


def service_kpis(config: HotlineConfig, calls: dict[str, np.ndarray], engine: Engine) -> dict[str, float]:
    """Calls offered and answered, abandonment, waits, service level, occupancy and queue length.

    ``calls`` are :func:`twin.hotline.model.simulate`'s arrays. Waits are over answered calls;
    the service level is the share of offered calls answered within ``service_level_target_s``
    (%); occupancy and queue length are averaged over the monitor's samples within the run
    (not the drain after it).
    """
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
