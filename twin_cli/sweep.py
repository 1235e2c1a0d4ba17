"""``twin sweep``: run a scenario over a grid of settings × replications, locally or on Dask."""

from __future__ import annotations

import shlex
import sys
from enum import StrEnum
from pathlib import Path

import typer

from twin.errors import Terminated
from twin.progress import set_quiet
from twin_cli.lang import LANG_OPTION, Lang, lang_value
from twin_cli.options import with_city


class ExecutorName(StrEnum):
    """Where the runs execute."""

    local = "local"
    dask = "dask"


def sweep(
    scenario: Path = typer.Argument(..., help="Scenario file (TOML) to sweep."),
    sets: list[str] = typer.Option(
        [], "--set", metavar="KEY=V1,V2,...",
        help="A swept key (dotted path into the scenario file, e.g. hotline.agents) and its values "
        "as TOML scalars. Repeat for more keys; the sweep runs every combination.",
    ),
    replications: int = typer.Option(
        1, "--replications", "-r", min=1, help="Runs per combination, each with its own seed."
    ),
    executor: ExecutorName | None = typer.Option(
        None, "--executor", help="local (worker processes, the default) or dask.",
        case_sensitive=False,
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", metavar="tcp://HOST:PORT",
        help="A running Dask scheduler (implies --executor dask) [default: start a LocalCluster].",
    ),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1,
        help="Worker processes of the local pool or LocalCluster [default: one per CPU].",
    ),
    seed: int | None = typer.Option(
        None, "--seed", min=0, help="The sweep's root seed [default: the file's [scenario] seed]."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Sweep folder (re-run the command to resume)."),
    force: bool = typer.Option(
        False, "--force", help="Discard an existing folder (and its finished runs) and start afresh."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    lang: Lang | None = LANG_OPTION,
) -> None:
    """Run a scenario over the Cartesian product of --set values × replications.

    Every finished run is checkpointed in OUT/runs/; running the same command again resumes,
    skipping finished runs. Writes OUT/runs.parquet (one row per run), OUT/summary.parquet
    (means and 95% confidence intervals per setting), plots of each KPI against each key and
    OUT/report.html.

    Example: twin sweep scenarios/hotline_12345.toml --set hotline.agents=36,40,44
    --replications 5 --out results/hotline_agents
    """
    from scenarios.sweep import check_out_dir, plan_sweep, run_sweep
    from viz.report.build import build_report

    set_quiet(quiet)
    plan = plan_sweep(scenario, sets, replications, seed)
    check_out_dir(out, plan, force)  # before starting workers: refuse a foreign folder at once
    pool = _executor(executor, scheduler, workers, len(plan.runs))
    command = _command_line(scenario, sets, replications, executor, scheduler, workers, seed, out)
    try:
        with pool:
            outcome = run_sweep(plan, out, pool, force=force, command=command)
        build_report(out, lang_value(lang))
    except KeyboardInterrupt as exc:
        # Exit here rather than let typer turn Ctrl-C into a return value the caller may drop.
        done = len(list((out / "runs").glob("*.json"))) if (out / "runs").is_dir() else 0
        stopped = "terminated" if isinstance(exc, Terminated) else "interrupted"
        typer.echo(f"{stopped}: {done} finished runs are checkpointed in {out / 'runs'}; "
                   "run the same command to resume", err=True)
        sys.exit(143 if isinstance(exc, Terminated) else 130)
    if not quiet:
        ok = outcome.runs_total - outcome.runs_failed
        typer.echo(
            f"sweep {plan.name}: {outcome.runs_total} run{'s' if outcome.runs_total != 1 else ''} "
            f"({outcome.runs_executed} run now, "
            f"{outcome.runs_resumed} resumed), {ok} ok, {outcome.runs_failed} failed "
            f"[{pool.describe()}]"
        )
        typer.echo(f"runs: {out / 'runs.parquet'}  summary: {out / 'summary.csv'}  "
                   f"report: {out / 'report.html'}")


def _executor(executor: ExecutorName | None, scheduler: str | None, workers: int | None, runs: int):  # noqa: ANN202
    """The local process pool, or a Dask executor (``--executor dask`` or a ``--scheduler``)."""
    from scenarios.executors import DaskExecutor, LocalProcessExecutor, default_workers
    from twin.errors import InputError

    if executor is ExecutorName.local and scheduler:
        raise InputError(f"--scheduler {scheduler}: only used with --executor dask")
    n_workers = min(workers or default_workers(), max(1, runs))
    if executor is ExecutorName.dask or scheduler is not None:
        return DaskExecutor(scheduler, n_workers)
    return LocalProcessExecutor(n_workers, preload=["scenarios.sweep"])


def _command_line(
    scenario: Path, sets: list[str], replications: int, executor: ExecutorName | None,
    scheduler: str | None, workers: int | None, seed: int | None, out: Path,
) -> str:
    """The command (without --force) that resumes this sweep, for its manifest and report."""
    words = ["twin", "sweep", str(scenario)]
    for text in sets:
        words += ["--set", text]
    words += ["--replications", str(replications)]
    if executor is not None:
        words += ["--executor", executor.value]
    if scheduler:
        words += ["--scheduler", scheduler]
    if workers:
        words += ["--workers", str(workers)]
    if seed is not None:
        words += ["--seed", str(seed)]
    return shlex.join([*words, "--out", str(out)])


def register(app: typer.Typer) -> None:
    """Add ``twin sweep`` to the root app."""
    app.command()(with_city(sweep))
