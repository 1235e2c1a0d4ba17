"""One run as a task for a worker process: what it needs (picklable), its seed, and how it runs.

Sweeps and a scenario's replications both hand :class:`RunTask` items to an executor
(:mod:`scenarios.executors`); :func:`execute_run` runs one in the worker and returns a record of
its KPIs, or of its error.
"""

from __future__ import annotations

import importlib
import os
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scenarios.loading import execute, parse_scenario
from twin.errors import InputError
from twin.paths import CITY_ENV
from twin.progress import set_quiet
from twin.results import check_kpis


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs to execute one run (picklable; no open files or models)."""

    index: int
    run_id: str
    setting_index: int
    setting: dict[str, Any]
    replication: int
    seed: int
    data: dict[str, Any]
    source: str
    kind_module: str
    city_dir: str | None = field(default_factory=lambda: os.environ.get(CITY_ENV))
    """The city the run uses (``--city``), which a long-lived worker process may not have seen."""


def replication_seeds(root_seed: int, replications: int) -> list[int]:
    """Seeds of replications ``0..n-1``: children of ``SeedSequence(root_seed)``, as int64-safe ints.

    Child ``r`` does not depend on how many children are spawned, so adding replications keeps
    the seeds (and the checkpoints) of the existing ones.
    """
    children = np.random.SeedSequence(root_seed).spawn(replications)
    # 63 bits: a TOML integer, a Parquet int64 and a valid [scenario] seed (>= 0).
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for child in children]


def execute_run(task: RunTask) -> dict[str, Any]:
    """Run one task in this (worker) process; return its checkpoint record.

    Any exception from the scenario is caught and recorded, so that one bad run does not stop the
    sweep; only the death of the process itself escapes, and the executor handles that.
    """
    set_quiet(True)  # nested progress bars in workers would fight over the terminal
    started = time.perf_counter()
    record: dict[str, Any] = {
        "run_id": task.run_id, "index": task.index, "replication": task.replication,
        "seed": task.seed, "setting": {k: repr(v) for k, v in task.setting.items()},
        "status": "ok", "error": None, "kpis": {},
    }
    result = None
    if task.city_dir is not None:
        os.environ[CITY_ENV] = task.city_dir
    try:
        # A kind registered outside the scenarios package (a plug-in, a test) must be imported
        # here too: a fresh worker process only knows the bundled kinds.
        importlib.import_module(task.kind_module)
        spec, config = parse_scenario(task.data, task.source)
        result, _ = execute(spec, config)
        record["kpis"] = check_kpis(result.kpis)
    except InputError as exc:
        record.update(status="failed", error=f"InputError: {exc.reason}")
    except Exception as exc:  # noqa: BLE001 - a failing run is data, not the end of the sweep
        record.update(
            status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()
        )
    finally:
        if result is not None and result.figures:
            import matplotlib.pyplot as plt  # deferred: matplotlib is heavy and sweep workers never plot

            for figure in result.figures.values():
                plt.close(figure)
    record["wall_time_s"] = round(time.perf_counter() - started, 6)
    return record


# --------------------------------------------------------------------------- the sweep folder
