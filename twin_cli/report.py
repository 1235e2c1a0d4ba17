"""``twin report`` (rebuild a results folder's report) and ``twin compare`` (KPI deltas of two runs)."""

from __future__ import annotations

from pathlib import Path

import typer

from twin_cli.lang import LANG_OPTION, Lang, lang_value


def report(
    results_dir: Path = typer.Argument(
        ..., help="A run folder (twin run), sweep folder (twin sweep) or suite folder (twin suite)."
    ),
    lang: Lang | None = LANG_OPTION,
) -> None:
    """(Re)build report.md and report.html of a results folder from the files in it.

    For a suite folder, rebuilds every run's report and index.html.
    """
    from viz.report.build import build_report

    for path in build_report(results_dir, lang_value(lang)):
        typer.echo(f"wrote {path}")


def compare(
    run_a: Path = typer.Argument(..., help="Baseline run folder (A)."),
    run_b: Path = typer.Argument(..., help="Run folder compared with it (B)."),
    out: Path | None = typer.Option(
        None, "--out", "-o",
        help="Folder for comparison.{csv,parquet,md,png} [default: compare_<A>_vs_<B> beside B].",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output folder."),
    lang: Lang | None = LANG_OPTION,
) -> None:
    """Print and write what changed in the inputs, then every KPI's delta B − A with a verdict
    (better, worse, within noise, same or changed) from the KPI's declared sense.

    Example: twin compare results/hotline_12345 results/hotline_44_agents
    """
    from twin.results import refuse_existing
    from viz.compare import changed_inputs, compare_runs, write_comparison

    chosen = lang_value(lang) or "zh"
    deltas = compare_runs(run_a, run_b)
    inputs = changed_inputs(run_a, run_b)
    label_a, label_b = run_a.resolve().name, run_b.resolve().name
    if label_a == label_b:
        label_a, label_b = str(run_a), str(run_b)
    default = run_b.parent / f"compare_{run_a.resolve().name}_vs_{run_b.resolve().name}"
    out_dir = out if out is not None else default
    refuse_existing(out_dir, force)
    _print(deltas, inputs, label_a, label_b, chosen)
    write_comparison(out_dir, deltas, inputs, label_a, label_b, force=force, lang=chosen)
    typer.echo(f"wrote {out_dir}/comparison.md, comparison.csv, comparison.parquet, comparison.png")


def _print(deltas, inputs, label_a: str, label_b: str, lang: str) -> None:  # noqa: ANN001 - viz types
    from rich.console import Console  # deferred: keeps 'twin --help' fast
    from rich.table import Table

    from twin.kpis import kpi_info
    from viz.compare import VERDICT_TEXT, format_delta

    console = Console(width=max(100, Console().width))
    console.print(f"inputs that differ ({label_b} vs {label_a}):")
    for key, a, b in inputs or [("(none)", "", "")]:
        console.print(f"  {key}: {a!r} -> {b!r}" if a != "" or b != "" else f"  {key}")
    styles = {"better": "green", "worse": "red"}
    table = Table(title=f"{label_b} against {label_a} (Δ = B − A)")
    for column, justify in (("KPI", "left"), ("A", "right"), ("B", "right"), ("Δ", "right"), ("verdict", "left")):
        table.add_column(column, justify=justify)
    for d in deltas:
        info = kpi_info(d.kpi)
        display = info.display_for([d.a, d.b])
        table.add_row(info.label[lang], info.format(d.a, lang, display), info.format(d.b, lang, display),
                      format_delta(d, lang), VERDICT_TEXT[d.verdict][lang], style=styles.get(d.verdict))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``twin report`` and ``twin compare`` to the root app."""
    app.command()(report)
    app.command()(compare)
