"""Run results and how they are written: atomically, into one folder per run.

A run folder holds

* ``manifest.json``: the scenario, seed, package versions, git commit and wall time;
* ``kpis.json``: flat ``name: number`` pairs whose names carry their unit (``mean_wait_s``);
* every table as ``<name>.parquet`` and ``<name>.csv`` (UTF-8 with a byte-order mark, so that
  Excel on a Chinese Windows desktop reads the names);
* ``answer.json``: the scenario's answer in Chinese and English, and what it recommends;
* ``kpi_intervals.json`` and ``replications.parquet`` when the run has replications;
* ``results.gpkg``: the run's elements with their KPIs (EPSG:4326, named layers), for QGIS;
* figures as ``<name>.png``, extra files, ``notes.md``, and ``report.md``/``report.html``.

Everything is written to a hidden temporary folder beside the target and renamed into place at
the end, so a failed or interrupted run leaves nothing half-written. An existing folder is
refused unless ``force`` is given.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.errors import InputError
from twin.paths import REPO_ROOT

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

KPI_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

_VERSIONED_PACKAGES = (
    "changle-twin", "numpy", "scipy", "pandas", "pyarrow", "simpy", "networkx", "numba",
    "geopandas", "shapely", "pyproj", "matplotlib", "pyvista", "pydantic", "wntr",
    "eclipse-sumo", "dask",
)


@dataclass
class RunResult:
    """What a scenario runner returns; :func:`write_run` turns it into a run folder.

    Attributes
    ----------
    kpis
        Flat ``name: number`` pairs; names are lower_snake_case and end in their unit.
    tables
        Named tables, each written as Parquet and CSV.
    figures
        Named matplotlib figures, each written as PNG (and closed).
    notes
        Markdown paragraphs for the report: findings, caveats, what was assumed.
    files
        Extra files by their name in the run folder (renders, GTFS feeds, ...): a path to copy in,
        or the file's bytes (for files made in a temporary folder that is gone by then).
    headline
        Optional names of the few KPIs that answer the scenario's question; reports and the
        suite's ``index.html`` show them first. Each must be a key of ``kpis``.
    answer
        The answer to the scenario's question, first in every report (see :class:`Answer`).
    layers
        Map layers of the run (GeoDataFrames, any CRS) written to ``results.gpkg`` in EPSG:4326.
    intervals
        Per KPI, its interval over the run's replications (filled by the runner).
    """

    kpis: dict[str, float]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files: dict[str, Path | bytes] = field(default_factory=dict)
    headline: list[str] = field(default_factory=list)
    answer: Answer | None = None
    layers: dict[str, Any] = field(default_factory=dict)
    intervals: dict[str, dict[str, Any]] = field(default_factory=dict)
    replications: pd.DataFrame | None = None


@dataclass(frozen=True)
class Answer:
    """The answer to a scenario's question, in one or two sentences per language.

    Attributes
    ----------
    text
        ``{"zh": ..., "en": ...}``: what the planner should take away, naming the recommendation
        and its key figure.
    recommendation
        The recommended option (a strategy, a plan, a fleet) as shown to people, per language.
    question
        The question the scenario answers, per language (the suite's index shows it).
    metric
        The KPI metric the options were compared by (``pilot_delay_s_per_veh``), if any.
    chosen, versus
        The KPI-name prefixes of the recommended option and of the one it is compared with
        (``"actuated"``, ``"fixed"``): ``f"{chosen}_{metric}"`` names a KPI. The runner then says
        whether their difference is larger than the noise of the replications.
    """

    text: dict[str, str]
    recommendation: dict[str, str] = field(default_factory=dict)
    question: dict[str, str] = field(default_factory=dict)
    metric: str | None = None
    chosen: str | None = None
    versus: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "recommendation": self.recommendation, "question": self.question,
                "metric": self.metric,
                "chosen": self.chosen, "versus": self.versus}


def check_kpis(kpis: dict[str, Any]) -> dict[str, float | int | None]:
    """Validate KPI names and values; non-finite numbers become ``null`` in JSON."""
    clean: dict[str, float | int | None] = {}
    for name, value in kpis.items():
        if not KPI_NAME.match(name):
            raise ValueError(f"KPI name {name!r} must be lower_snake_case with a unit suffix")
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                value = float(value)  # numpy scalars
            except (TypeError, ValueError):
                raise ValueError(f"KPI {name!r} is not a number: {value!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            clean[name] = None
        else:
            clean[name] = value
    return clean


def safe_folder_name(name: str) -> str:
    """A scenario name as a folder name: any script kept, path and control characters replaced.

    Names are validated (:data:`twin.config.NAME_PATTERN`), so this only guards names made in
    code; the name itself stays as it is in reports.
    """
    cleaned = "".join("_" if ch in '/\\:*?"<>|' or ord(ch) < 32 else ch for ch in name).strip(" .")
    return cleaned or "run"


def refuse_existing(out_dir: Path, force: bool) -> None:
    """Fail early (before any work) if ``out_dir`` exists and ``force`` is not set."""
    if out_dir.exists() and not force:
        raise InputError("results folder already exists; pass --force to overwrite it", out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("exists and is not a folder", out_dir)


_claimed: set[Path] = set()
"""Results folders this process holds the lock of (so that nested writers do not lock twice)."""


def _lock_path(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.lock"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but someone else's
        return True
    return True


def _take_lock(out_dir: Path) -> None:
    """Create ``.<name>.lock`` beside ``out_dir`` (exclusively); a stale lock is taken over."""
    lock = _lock_path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and _process_alive(pid):
                raise InputError(
                    f"another run (process {pid}) is writing this results folder; wait for it to "
                    "finish or choose another --out", out_dir,
                ) from None
            lock.unlink(missing_ok=True)  # its writer died: the lock is stale
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{os.getpid()}\n")
        return
    raise InputError("could not lock the results folder (a lock file keeps reappearing)", out_dir)


@contextmanager
def claim(out_dir: Path, force: bool) -> Iterator[None]:
    """Hold ``out_dir`` for this run, from before the work starts until its folder is in place.

    Refuses an existing folder unless ``force``, and refuses (exit 2) while another process holds
    the folder, so that two runs writing the same ``--out`` at once cannot clobber each other.
    Re-entrant within one process.
    """
    key = out_dir.resolve()
    if key in _claimed:
        refuse_existing(out_dir, force)
        yield
        return
    refuse_existing(out_dir, force)
    _take_lock(out_dir)
    _claimed.add(key)
    try:
        yield
    finally:
        _claimed.discard(key)
        _lock_path(out_dir).unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_dir(out_dir: Path, force: bool) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``out_dir`` only if the block succeeds.

    The folder is claimed (see :func:`claim`) for the whole block, and gets the usual permissions
    of a new folder (``mkdtemp`` makes it private to its owner).
    """
    with claim(out_dir, force):
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
        try:
            tmp.chmod(0o777 & ~_umask())
            yield tmp
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        old = None
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def json_text(payload: Any) -> str:
    """JSON with sorted keys and a trailing newline, so equal content gives equal bytes."""
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json(path: Path, payload: Any) -> None:
    """Write :func:`json_text` of ``payload`` (UTF-8)."""
    path.write_text(json_text(payload), encoding="utf-8")


def write_table(folder: Path, name: str, table: pd.DataFrame) -> None:
    """Write ``table`` as ``<name>.parquet`` and ``<name>.csv`` (index dropped; the CSV in UTF-8
    with a byte-order mark, which Excel needs to read Chinese text)."""
    table.to_parquet(folder / f"{name}.parquet", index=False)
    table.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8-sig")


def write_layers(path: Path, layers: dict[str, Any]) -> None:
    """Write GeoDataFrames as named layers of one GeoPackage, each reprojected to EPSG:4326."""
    for name, frame in layers.items():
        frame.to_crs("EPSG:4326").to_file(path, layer=name, driver="GPKG", engine="pyogrio")


def write_figure(folder: Path, name: str, figure: Figure) -> None:
    """Save a matplotlib figure as ``<name>.png`` at print resolution, then close it."""
    import matplotlib.pyplot as plt  # deferred: matplotlib is heavy; runs without figures never load it

    figure.savefig(folder / f"{name}.png", dpi=150, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)


def write_result(folder: Path, result: RunResult) -> list[str]:
    """Write a result's KPIs, tables, figures, notes and files; return the figure names."""
    unknown = [name for name in result.headline if name not in result.kpis]
    if unknown:
        raise ValueError(f"headline names {unknown} are not KPIs of the result")
    write_json(folder / "kpis.json", check_kpis(result.kpis))
    if result.answer is not None:
        write_json(folder / "answer.json", result.answer.as_dict())
    if result.intervals:
        write_json(folder / "kpi_intervals.json", result.intervals)
    if result.replications is not None:
        write_table(folder, "replications", result.replications)
    if result.layers:
        write_layers(folder / "results.gpkg", result.layers)
    for name, table in result.tables.items():
        write_table(folder, name, table)
    for name, figure in result.figures.items():
        write_figure(folder, name, figure)
    if result.notes:
        (folder / "notes.md").write_text("\n\n".join(result.notes) + "\n")
    for name, source in result.files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            target.write_bytes(source)
        elif Path(source).is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)
    return list(result.figures)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results."""
    versions = {}
    for package in _VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def git_commit() -> str:
    """The checkout's commit (with ``-dirty`` if it has local changes), or ``"unknown"``."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5
        )
        if commit.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=5,
        )
        return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


FolderHook = Callable[[Path], object]
"""Called on a finished results folder while it is still hidden (the CLI passes the report
builder, which lives in a layer above this one)."""


def write_run(
    out_dir: Path,
    result: RunResult,
    manifest: dict[str, Any],
    wall_time_s: float,
    force: bool = False,
    finish: FolderHook | None = None,
) -> Path:
    """Write a run folder atomically: the result, then ``manifest.json``, then ``finish``.

    This is the one writer of a run folder; scenarios and the commands that run a model outside
    a scenario (``twin traffic run``, ``twin water solve``, ``twin compute simulate``) all use it.
    ``manifest`` holds what the caller knows (scenario, seed, inputs); the versions, git commit,
    wall time, figures and headline are added here.
    """
    with atomic_dir(out_dir, force) as tmp:
        figures = write_result(tmp, result)
        write_json(tmp / "manifest.json", run_manifest(manifest, figures, result.headline, wall_time_s))
        if finish is not None:
            finish(tmp)
    return out_dir


def run_manifest(
    manifest: dict[str, Any], figures: list[str], headline: list[str], wall_time_s: float
) -> dict[str, Any]:
    """``manifest`` completed with the figures, headline, versions, git commit and times."""
    return {
        **manifest,
        "figures": figures,
        "headline": headline,
        "versions": {"python": sys.version.split()[0], **package_versions()},
        "git_commit": git_commit(),
        "wall_time_s": round(wall_time_s, 3),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
