"""Run one scenario file into a results folder, with its replications."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from scenarios.loading import execute, load_scenario
from scenarios.replications import difference, replication_count, replication_tasks, run_replications, summarise
from twin.city.summary import city_summary
from twin.config import ScenarioFile
from twin.paths import data_dir
from twin.results import FolderHook, RunResult, claim, safe_folder_name, write_run

log = logging.getLogger(__name__)

DEFAULT_RESULTS_DIR = Path("results")


def default_out_dir(config: ScenarioFile) -> Path:
    """``results/<scenario name>``."""
    return DEFAULT_RESULTS_DIR / safe_folder_name(config.scenario.name)


def run_scenario(
    path: Path,
    out_dir: Path | None = None,
    seed: int | None = None,
    force: bool = False,
    finish: FolderHook | None = None,
    replications: int | None = None,
) -> Path:
    """Run the scenario in ``path`` and write its results folder; return the folder.

    The file is validated and the target folder checked before any simulation starts, and the
    folder appears only when everything has been written, including what ``finish`` adds (the
    report) while the folder is still hidden. ``replications`` overrides the file's (and the
    kind's) number of replications.
    """
    spec, config = load_scenario(path, seed)
    if replications is not None:
        config = config.model_copy(
            update={"scenario": config.scenario.model_copy(update={"replications": replications})})
    out = out_dir if out_dir is not None else default_out_dir(config)
    with claim(out, force):
        started = time.perf_counter()
        result, _ = execute(spec, config)
        count = replication_count(spec, config)
        if count > 1:
            tasks = replication_tasks(path, spec, config, count)
            summarise(result, run_replications(tasks), [config.scenario.seed, *(t.seed for t in tasks)])
        if spec.answer is not None:
            result.answer = spec.answer(config, result.kpis, result)
        result.files.setdefault("scenario.toml", path)
        manifest = {
            "scenario_file": str(path),
            "scenario": config.model_dump(mode="json"),
            "seed": config.scenario.seed,
            "replications": count,
            "difference": _answer_difference(result),
            "city": city_summary(data_dir()),
        }
        wall_time_s = time.perf_counter() - started
        write_run(out, result, manifest, wall_time_s, force=force, finish=finish)
    log.info("wrote %s in %.1f s", out, wall_time_s)
    return out


def _answer_difference(result: RunResult) -> dict[str, Any] | None:
    """Whether the recommended option beats the one it is compared with by more than the noise."""
    answer = result.answer
    if answer is None or not (answer.chosen and answer.versus and answer.metric):
        return None
    return difference(result, answer.chosen, answer.versus, answer.metric)
