"""Scenario commands: ``twin run``, ``twin validate``, ``twin scenarios`` and ``twin suite``."""

from __future__ import annotations

import json
import tomllib
from functools import partial
from pathlib import Path

import typer

from twin.progress import set_quiet
from twin_cli.lang import LANG_OPTION, Lang, lang_value
from twin_cli.options import with_city

SCENARIO_ARG = typer.Argument(..., help="Scenario file (TOML), e.g. scenarios/hotline_12345.toml.")


def parse_seed(text: str) -> int:
    """Parse ``--seed``: a non-negative integer, reported with the bad value otherwise."""
    try:
        seed = int(text, 10)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an integer") from None
    if seed < 0:
        raise typer.BadParameter(f"{seed} is negative; expected an integer >= 0")
    return seed


def run(
    scenario: Path = SCENARIO_ARG,
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Results folder [default: results/<scenario name>]."
    ),
    seed: int | None = typer.Option(
        None, "--seed", parser=lambda text: parse_seed(text), metavar="INT",
        help="Override [scenario] seed (integer ≥ 0).",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing results folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or summary."),
    replications: int | None = typer.Option(
        None, "--replications", "-r", min=1, max=200,
        help="Runs with child seeds that the intervals rest on [default: the file's, else the kind's].",
    ),
    lang: Lang | None = LANG_OPTION,
) -> None:
    """Run a scenario of any kind and write its results folder (KPIs, tables, plots, report)."""
    from scenarios.runner import run_scenario
    from viz.report.build import build_report

    set_quiet(quiet)
    out_dir = run_scenario(scenario, out, seed=seed, force=force, replications=replications,
                           finish=partial(build_report, lang=lang_value(lang)))
    if not quiet:
        _print_kpis(out_dir)


def validate(scenario: Path = SCENARIO_ARG) -> None:
    """Check a scenario or suite file without running it."""
    from scenarios.loading import load_scenario
    from scenarios.suite import is_suite, load_suite
    from twin.config import read_toml

    if is_suite(read_toml(scenario)):
        suite, paths = load_suite(scenario)
        typer.echo(f"{scenario}: valid suite '{suite.suite.name}' of {len(paths)} scenarios")
        return
    spec, config = load_scenario(scenario)
    typer.echo(f"{scenario}: valid {spec.kind} scenario '{config.scenario.name}'")


scenarios_app = typer.Typer(
    help="List the bundled scenario files; write a starter scenario for a city (twin scenarios new).",
    invoke_without_command=True, rich_markup_mode=None,
)


@scenarios_app.callback()
def scenarios(
    ctx: typer.Context,
    directory: Path | None = typer.Option(None, "--dir", help="Folder to list [default: bundled]."),
) -> None:
    """List the bundled scenario files, one line each: file, kind, name and description."""
    if ctx.invoked_subcommand is not None:
        return
    from scenarios.loading import load_scenario
    from scenarios.suite import is_suite
    from twin.config import read_toml
    from twin.errors import InputError
    from twin.paths import SCENARIOS_DIR

    folder = directory or SCENARIOS_DIR
    for path in sorted(folder.glob("*.toml")):
        try:
            data = read_toml(path)
            if is_suite(data):
                table = data["suite"]
                typer.echo(f"{path.name:32} {'suite':16} {table.get('description', '')}")
                continue
            spec, config = load_scenario(path)
            typer.echo(f"{path.name:32} {spec.kind:16} {config.scenario.description}")
        except InputError as exc:
            typer.echo(f"{path.name:32} {'INVALID':16} {exc.reason}")


@scenarios_app.command("new")
def new(
    kind: str = typer.Argument(..., help="Scenario kind (see `twin scenarios`)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="File to write [default: print it]."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a valid starter scenario of KIND for the city (--city), filled with its own places,
    with comments saying why each was picked."""
    from scenarios.loading import parse_scenario
    from scenarios.registry import all_kinds, get_kind
    from twin.city.folder import load_city
    from twin.errors import InputError

    spec = get_kind(kind, "twin scenarios new")
    if spec.starter is None:
        able = ", ".join(k for k, s in all_kinds().items() if s.starter is not None) or "none yet"
        raise InputError(f"kind {kind!r} has no starter scenario (kinds that have one: {able})")
    text = spec.starter(load_city())
    parse_scenario(tomllib.loads(text), out or f"starter {kind}")  # the starter must itself be valid
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.exists() and not force:
        raise InputError("file exists; pass --force to overwrite it", out)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}: validate it with `twin validate {out}` and run it with `twin run {out}`")


def suite(
    suite_file: Path = typer.Argument(
        Path("scenarios/changle_baseline.toml"), help="Suite file listing scenario files."
    ),
    out: Path = typer.Option(Path("results"), "--out", "-o", help="Folder for the runs and index."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing run folders."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or summary."),
    lang: Lang | None = LANG_OPTION,
) -> None:
    """Run a suite of scenarios (default: the Changle baseline) and write an index page."""
    from scenarios.suite import run_suite
    from viz.report.build import build_report, report_lang
    from viz.report.index_page import build_index

    set_quiet(quiet)
    chosen = lang_value(lang)

    def index(folder: Path, runs: list[Path], title: str, description: str) -> Path:
        suite_lang = report_lang(runs[0], chosen) if runs else chosen or "zh"
        return build_index(folder, runs, title, description, lang=suite_lang)

    run_dirs = run_suite(suite_file, out, force=force, finish=partial(build_report, lang=chosen), index=index)
    if not quiet:
        for run_dir in run_dirs:
            typer.echo(f"wrote {run_dir}/report.html")
        typer.echo(f"index: {out / 'index.html'}")


def _print_kpis(out_dir: Path) -> None:

    from rich.console import Console  # deferred: keeps 'twin --help' fast
    from rich.table import Table

    from twin.kpis import format_number
    from twin.units import unit_of

    kpis = json.loads((out_dir / "kpis.json").read_text())
    table = Table(title=f"KPIs ({out_dir})")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for name, value in sorted(kpis.items()):
        table.add_row(name, format_number(value), unit_of(name))
    Console().print(table)
    Console().print(f"report: {out_dir / 'report.html'}")


def register(app: typer.Typer) -> None:
    """Add the scenario commands to the root app."""
    app.command()(with_city(run))
    app.command()(with_city(validate))
    scenarios_app.registered_commands[0].callback = with_city(new)
    scenarios_app.registered_callback.callback = with_city(scenarios)
    app.add_typer(scenarios_app, name="scenarios")
    app.command()(with_city(suite))
