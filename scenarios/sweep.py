"""Scenario sweeps: one scenario file run over the Cartesian product of settings × replications.

A planner's question is rarely one run ("which cycle length, over 30 random days?"). A sweep
takes a scenario file and ``--set KEY=V1,V2,...`` options, where ``KEY`` is a dotted path into
the file (``hotline.agents``) and the values are TOML scalars, and runs every combination
``replications`` times. Runs are independent, so they go to an executor
(:mod:`scenarios.executors`): local worker processes by default, or Dask.

Guarantees
----------
* **Validated before anything runs.** Every value is applied to the file's data and checked by
  the kind's pydantic model exactly as if it had been written in the file, then every combination
  is checked too; an unknown key or a wrong type is an :class:`~twin.errors.InputError`.
* **Seeds.** Replication ``r`` runs with the seed of child ``r`` of
  ``SeedSequence(sweep seed)`` in every setting: common random numbers, so that differences
  between settings are not drowned in sampling noise. Growing ``--replications`` keeps the seeds
  of the existing replications.
* **Checkpoints.** Each finished run is written at once to ``runs/<run_id>.json`` (temporary file
  + rename, so a checkpoint is whole or absent). A run's id hashes its settings, replication and
  seed. Re-running the same command skips every run that has a checkpoint; a sweep folder holds
  one scenario and seed (a different one is refused without ``--force``).
* **Failures.** A run that raises (bad input found at run time, or a bug) is recorded with its
  error and the sweep goes on. A run whose worker process dies is re-run by the executor.

Outputs in the sweep folder: ``runs.parquet``/``.csv`` (one row per run), ``summary.parquet``/
``.csv`` (mean and 95% confidence interval of every KPI per setting), ``kpis_vs_<key>.png``
plots, ``sweep.json`` (the sweep's manifest), ``scenario.toml`` and ``report.md``/``.html``.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import logging
import math
import os
import re
import shutil
import sys
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from scenarios.executors import WorkerLost
from scenarios.loading import parse_scenario
from scenarios.tasks import RunTask, execute_run, replication_seeds
from twin.config import read_toml
from twin.errors import InputError
from twin.intervals import kpi_interval
from twin.progress import progress_bar
from twin.results import git_commit, package_versions
from twin.units import unit_of

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

SWEEP_FILE = "sweep.json"
RUNS_DIR = "runs"
RESERVED_KEYS = {
    "scenario.kind": "a sweep runs one scenario kind",
    "scenario.seed": "the sweep sets each run's seed; give the sweep's root seed with --seed",
}
RUN_COLUMNS = ("run_id", "replication", "seed", "status", "error")
"""Columns of the runs table besides the setting columns, the KPIs and ``wall_time_s``."""

_BARE_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/+-]*$")


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Setting:
    """One swept key and its values, as validated by the kind's model (``1`` → ``1.0`` for a float)."""

    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: its scenario, settings, seeds and the ordered list of runs."""

    scenario_path: Path
    kind: str
    name: str
    settings: list[Setting]
    replications: int
    seed: int
    fingerprint: str
    runs: list[RunTask] = field(repr=False)

    @property
    def keys(self) -> list[str]:
        """The swept keys, in the order given."""
        return [setting.key for setting in self.settings]


def split_values(text: str) -> list[str]:
    """Split ``V1,V2,...`` on the commas that are outside quotes and brackets."""
    parts, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def parse_value(token: str) -> Any:
    """A TOML value (``4``, ``2.5``, ``true``, ``"a b"``, ``[1, 2]``, a date); a bare word is a string."""
    try:
        return tomllib.loads(f"value = {token}")["value"]
    except tomllib.TOMLDecodeError:
        if _BARE_WORD.match(token):
            return token  # `--set hotline.handle_time_dist=lognormal` without shell-quoted quotes
        raise ValueError(f"{token!r} is not a TOML value") from None


def parse_set_option(text: str) -> tuple[str, list[Any]]:
    """Parse one ``--set KEY=V1,V2,...`` into the key and its raw (not yet validated) values."""
    key, sep, rest = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(f"--set {text!r}: expected KEY=V1,V2,... (e.g. hotline.agents=36,40)")
    if not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", key):
        raise InputError(f"--set {text!r}: key {key!r} is not a dotted path such as hotline.agents")
    tokens = split_values(rest)
    if any(not token for token in tokens):
        raise InputError(f"--set {text!r}: empty value; expected KEY=V1,V2,...")
    values = []
    for token in tokens:
        try:
            values.append(parse_value(token))
        except ValueError as exc:
            raise InputError(f"--set {key}: {exc}") from None
    return key, values


def apply_setting(data: dict[str, Any], key: str, value: Any) -> None:
    """Set dotted ``key`` to ``value`` in scenario ``data`` (in place), creating missing tables.

    A numeric part indexes an array of tables (``signals.0.cycle_s``).
    """
    parts = key.split(".")
    current: Any = data
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(current, list):
            if not part.isdigit() or int(part) >= len(current):
                raise InputError(f"--set {key}: [{where}] is not an index of the array")
            current = current[int(part)]
            continue
        nxt = current.setdefault(part, {})
        if not isinstance(nxt, dict | list):
            raise InputError(f"--set {key}: [{where}] is a value ({nxt!r}), not a table")
        current = nxt
    last = parts[-1]
    if isinstance(current, list):
        if not last.isdigit() or int(last) >= len(current):
            raise InputError(f"--set {key}: {last!r} is not an index of the array")
        current[int(last)] = value
    else:
        current[last] = value


def _read_setting(config_dump: dict[str, Any], key: str) -> Any:
    """The validated value at dotted ``key`` of a model dump."""
    current: Any = config_dump
    for part in key.split("."):
        current = current[int(part)] if isinstance(current, list) else current[part]
    return current


def _canonical(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)


def plan_sweep(
    scenario_path: Path, sets: Iterable[str], replications: int = 1, seed: int | None = None
) -> SweepPlan:
    """Read the scenario, parse and validate every setting and combination, and list the runs.

    Raises
    ------
    InputError
        A bad scenario file, a malformed ``--set``, a reserved, unknown or repeated key, a value
        the kind's model rejects, or a combination of values it rejects.
    """
    if replications < 1:
        raise InputError(f"--replications {replications}: must be >= 1")
    if seed is not None and seed < 0:
        raise InputError(f"--seed {seed}: must be a non-negative integer")
    base = read_toml(scenario_path)
    spec, base_config = parse_scenario(base, scenario_path)
    settings: list[Setting] = []
    for text in sets:
        key, raw_values = parse_set_option(text)
        if key in RESERVED_KEYS:
            raise InputError(f"--set {key}: cannot be swept; {RESERVED_KEYS[key]}")
        if key in [s.key for s in settings]:
            raise InputError(f"--set {key}: given twice; list all its values in one --set")
        values = []
        for raw in raw_values:
            data = copy.deepcopy(base)
            apply_setting(data, key, raw)
            try:
                _, config = parse_scenario(data, scenario_path)
            except InputError as exc:
                raise InputError(f"--set {key}={raw!r}: {exc.reason}", scenario_path) from None
            value = _read_setting(config.model_dump(mode="python"), key)
            if any(_canonical(value) == _canonical(v) for v in values):
                raise InputError(f"--set {key}: value {value!r} given twice")
            values.append(value)
        settings.append(Setting(key, tuple(values)))

    root_seed = base_config.scenario.seed if seed is None else seed
    seeds = replication_seeds(root_seed, replications)
    fingerprint = hashlib.sha256(
        _canonical(
            {"kind": spec.kind, "scenario": _without_seed(base_config.model_dump(mode="json")),
             "seed": root_seed}
        ).encode()
    ).hexdigest()
    runs: list[RunTask] = []
    combos = list(itertools.product(*(s.values for s in settings)))
    for setting_index, combo in enumerate(combos):
        data = copy.deepcopy(base)
        setting = dict(zip((s.key for s in settings), combo, strict=True))
        for key, value in setting.items():
            apply_setting(data, key, value)
        try:
            parse_scenario(data, scenario_path)
        except InputError as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in setting.items())
            raise InputError(f"--set combination {shown}: {exc.reason}", scenario_path) from None
        for replication, run_seed in enumerate(seeds):
            run_data = copy.deepcopy(data)
            run_data["scenario"]["seed"] = run_seed
            run_id = hashlib.sha256(
                _canonical({"setting": setting, "replication": replication, "seed": run_seed}).encode()
            ).hexdigest()[:16]
            runs.append(
                RunTask(
                    index=len(runs), run_id=run_id, setting_index=setting_index, setting=setting,
                    replication=replication, seed=run_seed, data=run_data, source=str(scenario_path),
                    kind_module=spec.run.__module__,
                )
            )
    return SweepPlan(
        scenario_path=scenario_path, kind=spec.kind, name=base_config.scenario.name,
        settings=settings, replications=replications, seed=root_seed, fingerprint=fingerprint,
        runs=runs,
    )


def _without_seed(dump: dict[str, Any]) -> dict[str, Any]:
    dump = copy.deepcopy(dump)
    dump["scenario"].pop("seed", None)
    return dump


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` through a hidden temporary file renamed into place (whole or absent)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_json(path: Path, payload: Any) -> None:
    text = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    _atomic_write(path, lambda tmp: tmp.write_text(text))


def check_out_dir(out_dir: Path, plan: SweepPlan, force: bool) -> None:
    """Refuse (before any run) a folder that is not this sweep's, unless ``force``."""
    if not out_dir.exists() or force:
        if out_dir.exists() and not out_dir.is_dir():
            raise InputError("exists and is not a folder", out_dir)
        return
    if not out_dir.is_dir():
        raise InputError("exists and is not a folder", out_dir)
    manifest = out_dir / SWEEP_FILE
    if not manifest.exists():
        if any(out_dir.iterdir()):
            raise InputError("exists and is not a sweep folder; pass --force to overwrite it", out_dir)
        return
    try:
        fingerprint = json.loads(manifest.read_text()).get("fingerprint")
    except (json.JSONDecodeError, AttributeError):
        fingerprint = None
    if fingerprint != plan.fingerprint:
        raise InputError(
            "holds a sweep of a different scenario file or seed; pass --force to start afresh", out_dir
        )


def load_checkpoints(runs_dir: Path) -> dict[str, dict[str, Any]]:
    """Finished runs by id; leftovers of an interrupted write are removed."""
    for partial in runs_dir.glob(".*.tmp-*"):
        partial.unlink(missing_ok=True)
    finished = {}
    for path in sorted(runs_dir.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError:  # not written by us (ours are renamed into place whole)
            log.warning("ignoring unreadable checkpoint %s", path)
            continue
        finished[record["run_id"]] = record
    return finished


def _manifest(
    plan: SweepPlan, executor: str, status: str, command: str | None, **extra: Any
) -> dict[str, Any]:
    return {
        "kind": "sweep",
        "fingerprint": plan.fingerprint,
        "scenario_file": str(plan.scenario_path),
        "scenario_kind": plan.kind,
        "scenario_name": plan.name,
        "settings": {s.key: list(s.values) for s in plan.settings},
        "replications": plan.replications,
        "seed": plan.seed,
        "runs_total": len(plan.runs),
        "executor": executor,
        "status": status,
        "command": command,
        "versions": {"python": sys.version.split()[0], **package_versions()},
        "git_commit": git_commit(),
        **extra,
    }


@dataclass
class SweepOutcome:
    """What :func:`run_sweep` did."""

    out_dir: Path
    runs_total: int
    runs_resumed: int
    runs_executed: int
    runs_failed: int
    table: pd.DataFrame = field(repr=False)


def run_sweep(
    plan: SweepPlan, out_dir: Path, executor: Any, force: bool = False, command: str | None = None
) -> SweepOutcome:
    """Run the plan's unfinished runs on ``executor`` (entered) and write the sweep's outputs.

    ``command`` is the command line, recorded in ``sweep.json`` so the sweep can be resumed or
    repeated by copying it.
    """
    check_out_dir(out_dir, plan, force)
    if force and out_dir.exists():
        shutil.rmtree(out_dir)
    runs_dir = out_dir / RUNS_DIR
    runs_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    _write_json(out_dir / SWEEP_FILE, _manifest(plan, executor.describe(), "running", command))
    shutil.copyfile(plan.scenario_path, out_dir / "scenario.toml")
    finished = load_checkpoints(runs_dir)
    todo = [task for task in plan.runs if task.run_id not in finished]
    resumed = len(plan.runs) - len(todo)
    if resumed:
        log.info("resuming %s: %d of %d runs already done", out_dir, resumed, len(plan.runs))
    with progress_bar(len(plan.runs), f"sweep {plan.name}") as bar:
        bar.update(resumed)
        for done in executor.map_unordered(execute_run, todo):
            record = _record_of(done)
            _write_json(runs_dir / f"{record['run_id']}.json", record)
            # Keep what a resumed sweep would read back (same key order, same floats), so that a
            # resumed table is identical to an uninterrupted one.
            finished[record["run_id"]] = json.loads(json.dumps(record, sort_keys=True, default=str))
            if record["status"] != "ok":
                log.warning("run %s failed: %s", record["run_id"], record["error"])
            bar.advance(1)
    table = runs_table(plan, finished)
    write_outputs(plan, out_dir, table)
    failed = int((table["status"] != "ok").sum())
    _write_json(
        out_dir / SWEEP_FILE,
        _manifest(
            plan, executor.describe(), "complete", command, runs_failed=failed, runs_resumed=resumed,
            plots=[plot_file_name(key) for key in plan.keys],
            wall_time_s=round(time.perf_counter() - started, 3),
            created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        ),
    )
    return SweepOutcome(out_dir, len(plan.runs), resumed, len(todo), failed, table)


def _record_of(done: Any) -> dict[str, Any]:
    """A checkpoint record from an executor's completion (a lost worker becomes a failed run)."""

    task: RunTask = done.item
    if isinstance(done.value, WorkerLost):
        record = {
            "run_id": task.run_id, "index": task.index, "replication": task.replication,
            "seed": task.seed, "setting": {k: repr(v) for k, v in task.setting.items()},
            "status": "failed", "error": f"WorkerLost: {done.value.reason}", "kpis": {},
            "wall_time_s": None,
        }
    else:
        record = dict(done.value)
    record["attempts"] = done.attempts
    return record


# --------------------------------------------------------------------------- tables and plots


def runs_table(plan: SweepPlan, records: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per run of the plan, in plan order: run id, settings, replication, seed, status,
    error, every KPI in name order (``NaN`` where a run failed) and the run's wall time."""

    kpi_names = sorted({name for task in plan.runs for name in records[task.run_id]["kpis"]})
    rows = []
    for task in plan.runs:
        record = records[task.run_id]
        row: dict[str, Any] = {"run_id": task.run_id, **task.setting,
                               "replication": task.replication, "seed": task.seed,
                               "status": record["status"], "error": record["error"]}
        for name in kpi_names:
            value = record["kpis"].get(name)
            row[name] = math.nan if value is None else float(value)
        row["wall_time_s"] = record.get("wall_time_s")
        rows.append(row)
    columns = ["run_id", *plan.keys, "replication", "seed", "status", "error", *kpi_names, "wall_time_s"]
    table = pd.DataFrame(rows, columns=columns)
    table["error"] = table["error"].astype("string")
    table["wall_time_s"] = table["wall_time_s"].astype(float)
    return table


def kpi_columns(table: pd.DataFrame, keys: list[str]) -> list[str]:
    """The KPI columns of a runs table."""
    skip = set(keys) | set(RUN_COLUMNS) | {"wall_time_s"}
    return [column for column in table.columns if column not in skip]


def summarise(plan: SweepPlan, table: pd.DataFrame) -> pd.DataFrame:
    """Per setting and KPI: runs, failed runs, n, mean, std and the 95% confidence interval
    (Student-t, or bootstrap for shares so that a percentage's interval stays in 0–100).

    ``setting_index`` numbers the settings in plan order (the Cartesian product of the values in
    the order given); it ties the summary to :class:`RunTask` and is not written to disk.
    """


    kpis = kpi_columns(table, plan.keys)
    by_setting: dict[int, list[int]] = {}
    for task in plan.runs:
        by_setting.setdefault(task.setting_index, []).append(task.index)
    rows = []
    for setting_index, indices in by_setting.items():
        subset = table.iloc[indices]
        ok = subset[subset["status"] == "ok"]
        setting = plan.runs[indices[0]].setting
        for kpi in kpis:
            values = ok[kpi].to_numpy(dtype=float)
            interval = kpi_interval(kpi, values, level=0.95)
            mean, low, high = interval.mean, interval.low, interval.high
            finite = values[np.isfinite(values)]
            rows.append({
                **setting, "kpi": kpi, "unit": unit_of(kpi), "runs": len(subset),
                "failed": int(len(subset) - len(ok)), "n": len(finite), "mean": mean,
                "std": float(finite.std(ddof=1)) if len(finite) > 1 else math.nan,
                "ci95_low": low, "ci95_high": high, "setting_index": setting_index,
            })
    columns = [*plan.keys, "kpi", "unit", "runs", "failed", "n", "mean", "std", "ci95_low", "ci95_high"]
    return pd.DataFrame(rows, columns=["setting_index", *columns])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def plot_kpis_against(plan: SweepPlan, summary: pd.DataFrame, key: str) -> Figure:
    """One panel per KPI: its mean (with 95% CI bars) against ``key``, a line per other setting."""
    import matplotlib  # deferred: matplotlib is heavy and sweep workers never plot

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred: matplotlib is heavy and sweep workers never plot

    setting = next(s for s in plan.settings if s.key == key)
    numeric = all(_is_number(v) for v in setting.values)
    combos = {task.setting_index: task.setting for task in plan.runs}
    others = [k for k in plan.keys if k != key]
    kpis = list(dict.fromkeys(summary["kpi"]))
    ncols = min(3, max(1, len(kpis)))
    nrows = max(1, math.ceil(len(kpis) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    for ax, kpi in zip(axes.flat, kpis, strict=False):
        rows = summary[summary["kpi"] == kpi]
        groups: dict[str, list[tuple[float, float, float, float]]] = {}
        for setting_index, mean, low, high in zip(
            rows["setting_index"], rows["mean"], rows["ci95_low"], rows["ci95_high"], strict=True
        ):
            combo = combos[int(setting_index)]
            label = ", ".join(f"{k}={combo[k]!r}" for k in others)
            position = setting.values.index(combo[key])
            x = float(combo[key]) if numeric else float(position)
            groups.setdefault(label, []).append((x, mean, low, high))
        for label, points in groups.items():
            points.sort()
            x, mean, low, high = (np.array(column, dtype=float) for column in zip(*points, strict=True))
            errors = np.vstack([mean - low, high - mean])
            errors = np.where(np.isfinite(errors), errors, 0.0)
            ax.errorbar(x, mean, yerr=errors, marker="o", capsize=3, lw=1.2, label=label or None)
        unit = rows["unit"].iloc[0] if len(rows) else ""
        ax.set_title(kpi, fontsize=9)
        ax.set_xlabel(key)
        if unit:
            ax.set_ylabel(unit)
        if numeric and all(isinstance(v, int) for v in setting.values):
            from matplotlib.ticker import MaxNLocator  # deferred: matplotlib is heavy and sweep workers never plot

            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if not numeric:
            ax.set_xticks(range(len(setting.values)), [str(v) for v in setting.values], rotation=20)
        if len(groups) > 1 and ax is axes.flat[0]:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(kpis):]:
        ax.set_visible(False)
    fig.suptitle(f"{plan.name}: KPIs against {key} (mean, 95% CI over {plan.replications} replications)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def plot_file_name(key: str) -> str:
    """``kpis_vs_<key>.png``, with the key's dots kept readable."""
    return f"kpis_vs_{re.sub(r'[^A-Za-z0-9_.-]', '_', key)}.png"


def write_outputs(plan: SweepPlan, out_dir: Path, table: pd.DataFrame) -> None:
    """Write the runs table, the summary and the plots, each file atomically."""
    import matplotlib.pyplot as plt  # deferred: matplotlib is heavy and sweep workers never plot

    summary = summarise(plan, table)
    for name, frame in (("runs", table), ("summary", summary.drop(columns="setting_index"))):
        _atomic_write(out_dir / f"{name}.parquet", lambda tmp, f=frame: f.to_parquet(tmp, index=False))
        _atomic_write(out_dir / f"{name}.csv", lambda tmp, f=frame: f.to_csv(tmp, index=False))
    # Plots of keys an earlier sweep in this folder swept, and this one does not, would mislead.
    current = {plot_file_name(key) for key in plan.keys}
    for stale in out_dir.glob("kpis_vs_*.png"):
        if stale.name not in current:
            stale.unlink()
    if summary.empty:
        return
    for key in plan.keys:
        figure = plot_kpis_against(plan, summary, key)
        _atomic_write(
            out_dir / plot_file_name(key),
            lambda tmp, fig=figure: fig.savefig(tmp, format="png", dpi=120, metadata={"Software": None}),
        )
        plt.close(figure)
