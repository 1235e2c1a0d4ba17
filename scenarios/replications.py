"""A scenario's replications: the same file run again with child seeds, for intervals.

Replication 0 is the file's own seed: its tables, figures and maps are the ones a report shows.
Replications ``1..n-1`` run with children ``1..n-1`` of ``SeedSequence(seed)`` (the sweep's
seeds, :func:`scenarios.tasks.replication_seeds`) in worker processes, and return their KPIs
only. The run's ``kpis.json`` then holds each KPI's mean over all replications, and
``kpi_intervals.json`` its interval (:mod:`twin.intervals`).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scenarios.executors import LocalProcessExecutor, WorkerLost, default_workers
from scenarios.registry import ScenarioKind
from scenarios.tasks import RunTask, execute_run, replication_seeds
from twin.config import ScenarioFile, read_toml
from twin.errors import InputError
from twin.intervals import difference_interval, kpi_interval
from twin.results import RunResult


def replication_count(spec: ScenarioKind, config: ScenarioFile) -> int:
    """How many replications the run rests on: the file's ``replications``, else the kind's."""
    return config.scenario.replications or spec.replications


def replication_tasks(path: Path, spec: ScenarioKind, config: ScenarioFile, count: int) -> list[RunTask]:
    """Tasks for replications ``1..count-1`` of the scenario at ``path``."""
    data = read_toml(path)
    seeds = replication_seeds(config.scenario.seed, count)
    tasks = []
    for replication in range(1, count):
        run_data = copy.deepcopy(data)
        run_data["scenario"]["seed"] = seeds[replication]
        run_data["scenario"]["replications"] = 1
        tasks.append(RunTask(
            index=replication, run_id=f"replication-{replication}", setting_index=0, setting={},
            replication=replication, seed=seeds[replication], data=run_data, source=str(path),
            kind_module=spec.run.__module__,
        ))
    return tasks


def run_replications(tasks: list[RunTask], workers: int | None = None) -> list[dict[str, float]]:
    """KPIs of every task, in task order; a failed replication fails the run."""
    if not tasks:
        return []
    pool = LocalProcessExecutor(min(workers or default_workers(), len(tasks)), preload=[tasks[0].kind_module])
    records: dict[int, dict[str, Any]] = {}
    with pool:
        for done in pool.map_unordered(execute_run, tasks):
            if isinstance(done.value, WorkerLost):
                raise RuntimeError(f"replication {done.item.replication}: {done.value.reason}")
            records[done.item.replication] = done.value
    for replication in sorted(records):
        record = records[replication]
        if record["status"] != "ok":
            error = record["error"]
            if error.startswith("InputError: "):
                raise InputError(f"replication {replication} (seed {record['seed']}): {error[12:]}",
                                 tasks[0].source)
            raise RuntimeError(f"replication {replication} failed: {error}")
    return [records[r]["kpis"] for r in sorted(records)]


def summarise(result: RunResult, others: list[dict[str, float]], seeds: list[int]) -> None:
    """Put the means, intervals and replications table of all replications into ``result``.

    KPIs missing from a replication, or not finite in one, keep the seeded run's value and get no
    interval.
    """
    every = [result.kpis, *others]
    rows = [(r, seeds[r], name, float(value)) for r, kpis in enumerate(every)
            for name, value in kpis.items() if value is not None]
    result.replications = pd.DataFrame(rows, columns=["replication", "seed", "kpi", "value"])
    means: dict[str, float] = {}
    for name, value in result.kpis.items():
        values = np.array([kpis.get(name) for kpis in every], dtype=float)
        if value is None or not np.all(np.isfinite(values)):
            means[name] = value
            continue
        interval = kpi_interval(name, values)
        result.intervals[name] = interval.as_dict()
        # A KPI every replication agrees on (a count of inputs) keeps its type and exact value.
        means[name] = value if np.all(values == values[0]) else float(values.mean())
    result.kpis = means


def difference(result: RunResult, chosen: str, versus: str, metric: str) -> dict[str, Any] | None:
    """Interval of ``versus_metric − chosen_metric`` over the replications, if both are KPIs."""
    if result.replications is None:
        return None
    table = result.replications.pivot(index="replication", columns="kpi", values="value")
    a, b = f"{chosen}_{metric}", f"{versus}_{metric}"
    if a not in table or b not in table:
        return None
    interval = difference_interval(table[a].to_numpy(), table[b].to_numpy())
    return {"kpi_a": a, "kpi_b": b, **interval.as_dict(), "larger_than_noise": bool(interval.excludes_zero())}
