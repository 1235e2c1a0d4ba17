"""Load a scenario file, validate it (model, checks, size) and execute it in this process."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from scenarios.registry import ScenarioKind, get_kind
from scenarios.validation import CheckContext, check_size
from twin.config import ScenarioFile, read_toml, validate
from twin.engine import Engine
from twin.errors import InputError
from twin.results import RunResult

log = logging.getLogger(__name__)


def load_scenario(path: Path, seed: int | None = None) -> tuple[ScenarioKind, ScenarioFile]:
    """Read and validate a scenario file; ``seed`` (if given) overrides ``[scenario] seed``."""
    return parse_scenario(read_toml(path), path, seed)


def parse_scenario(
    data: dict[str, Any], source: Path | str, seed: int | None = None, city_dir: Path | None = None
) -> tuple[ScenarioKind, ScenarioFile]:
    """Validate parsed scenario TOML ``data`` (read from ``source``) against its kind's model.

    The sweep calls this on a scenario file's data with its settings applied, so that a swept
    value is checked exactly as the same value written in the file would be.
    """
    header = data.get("scenario")
    if not isinstance(header, dict):
        raise InputError("missing [scenario] table (with kind, name, ...)", source)
    if "kind" not in header:
        raise InputError("missing required key [scenario] kind", source)
    spec = get_kind(header["kind"], str(source))
    config = validate(spec.model, data, source)
    if spec.check is not None:
        spec.check(config, CheckContext(source, city_dir))
    if spec.estimate is not None:
        check_size(spec.estimate(config), source)
    if seed is not None:
        if seed < 0:
            raise InputError(f"--seed {seed}: must be a non-negative integer", source)
        config = config.model_copy(
            update={"scenario": config.scenario.model_copy(update={"seed": seed})}
        )
    return spec, config


def execute(spec: ScenarioKind, config: ScenarioFile) -> tuple[RunResult, float]:
    """Run a validated scenario in this process; return its result and wall time in seconds."""
    header = config.scenario
    engine = Engine(header.seed, header.start, header.duration_s)
    log.info("running %s (%s) with seed %d", header.name, spec.kind, header.seed)
    started = time.perf_counter()
    result = spec.run(config, engine)
    return result, time.perf_counter() - started
