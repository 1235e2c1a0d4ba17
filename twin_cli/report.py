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
) -> None:
    """Print and write the KPI deltas B − A, each marked better, worse, same or changed.

    Example: twin compare results/hotline_12345 results/hotline_44_agents
    """
    from twin.results import refuse_existing
    from viz.compare import compare_kpis, read_kpis, write_comparison

    kpis_a, kpis_b = read_kpis(run_a), read_kpis(run_b)
    label_a, label_b = run_a.resolve().name, run_b.resolve().name
    if label_a == label_b:
        label_a, label_b = str(run_a), str(run_b)
    default = run_b.parent / f"compare_{run_a.resolve().name}_vs_{run_b.resolve().name}"
    out_dir = out if out is not None else default
    refuse_existing(out_dir, force)
    deltas = compare_kpis(kpis_a, kpis_b)
    _print_deltas(deltas, label_a, label_b)
    write_comparison(out_dir, deltas, label_a, label_b, force=force)
    typer.echo(f"wrote {out_dir}/comparison.md, comparison.csv, comparison.parquet, comparison.png")


def _print_deltas(deltas, label_a: str, label_b: str) -> None:  # noqa: ANN001 - list[KpiDelta]
    from rich.console import Console  # deferred: keeps 'twin --help' fast
    from rich.table import Table

    from twin.kpis import format_number

    styles = {"better": "green", "worse": "red"}
    table = Table(title=f"{label_b} against {label_a} (Δ = B − A)")
    for column, justify in (("KPI", "left"), ("unit", "left"), ("A", "right"), ("B", "right"),
                            ("Δ", "right"), ("Δ%", "right"), ("verdict", "left")):
        table.add_column(column, justify=justify)
    for d in deltas:
        delta = "n/a" if d.delta is None else ("+" if d.delta > 0 else "") + format_number(d.delta)
        pct = "n/a" if d.delta_pct is None else f"{d.delta_pct:+.1f}%"
        table.add_row(d.kpi, d.unit, format_number(d.a), format_number(d.b), delta, pct, d.verdict,
                      style=styles.get(d.verdict))
    Console(width=max(100, Console().width)).print(table)


def register(app: typer.Typer) -> None:
    """Add ``twin report`` and ``twin compare`` to the root app."""
    app.command()(report)
    app.command()(compare)
