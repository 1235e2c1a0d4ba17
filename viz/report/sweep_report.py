"""The report of a sweep: what was swept, each setting's KPI means with intervals, failures, plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from twin.kpis import Lang, format_number, kpi_info
from viz.report.document import Document, Heading, Images, Links, Paragraph, Preformatted, Table
from viz.report.folders import read_json
from viz.report.run_report import provenance_table
from viz.report.text import t


def _setting_label(value: Any) -> str:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value)
    return str(value)


def summary_table(manifest: dict[str, Any], summary: pd.DataFrame, lang: Lang) -> Table:
    """One row per setting, one column per KPI with ``mean [low, high]`` in its display unit."""
    keys = list(manifest["settings"])
    kpis = list(dict.fromkeys(summary["kpi"]))
    displays = {k: kpi_info(k).display_for(summary.loc[summary["kpi"] == k, "mean"].tolist()) for k in kpis}
    header = [*keys, t("runs", lang), t("failed", lang)]
    for k in kpis:
        unit = kpi_info(k).unit_text(lang, displays[k])
        header.append(f"{kpi_info(k).label[lang]} ({unit})" if unit else kpi_info(k).label[lang])
    rows = []
    for start in range(0, len(summary), len(kpis)):
        block = summary.iloc[start:start + len(kpis)]
        first = block.iloc[0]
        cells = [_setting_label(first[key]) for key in keys] + [str(first["runs"]), str(first["failed"])]
        for _, row in block.iterrows():
            info, display = kpi_info(row["kpi"]), displays[row["kpi"]]
            unit = info.unit_text(lang, display)

            def show(value: float, info=info, display=display, unit=unit) -> str:  # noqa: ANN001
                return info.format(float(value), lang, display).removesuffix(unit).strip()

            cell = show(row["mean"])
            if row["ci95_low"] == row["ci95_low"]:  # not NaN: at least two replications
                cell += f" [{show(row['ci95_low'])}, {show(row['ci95_high'])}]"
            cells.append(cell)
        rows.append(tuple(cells))
    return Table(tuple(header), tuple(rows), frozenset(range(len(keys), len(header))))


def _meta(manifest: dict[str, Any]) -> str:
    settings = "; ".join(f"`{key}` = {', '.join(_setting_label(v) for v in values)}"
                         for key, values in manifest["settings"].items()) or "—"
    wall = manifest.get("wall_time_s")
    return (f"{settings} · {manifest['runs_total']} runs × {manifest['replications']} replication(s), "
            f"root seed {manifest['seed']}, {manifest.get('runs_failed', 0)} failed · {manifest['executor']}"
            + (f" · {wall:.1f} s" if isinstance(wall, int | float) else ""))


def sweep_document(folder: Path, lang: Lang) -> Document:
    """The report of sweep folder ``folder`` in ``lang``."""
    manifest = read_json(folder / "sweep.json")
    document = Document(f"{t('sweep', lang)}: {manifest['scenario_name']}", lang)
    document.add(Paragraph(_meta(manifest), "meta"))
    summary_path, runs_path = folder / "summary.parquet", folder / "runs.parquet"
    if summary_path.exists():
        summary = pd.read_parquet(summary_path)
        if len(summary):
            document.add(Heading(t("sweep_summary", lang)), Paragraph(t("sweep_note", lang)),
                         summary_table(manifest, summary, lang))
    if runs_path.exists():
        runs = pd.read_parquet(runs_path)
        failed = runs[runs["status"] != "ok"].head(50)
        if len(failed):
            keys = list(manifest["settings"])
            rows = tuple((r["run_id"], ", ".join(f"{k}={_setting_label(r[k])}" for k in keys),
                          str(r["replication"]), str(r["error"])) for _, r in failed.iterrows())
            header = (t("runs", lang), t("setting", lang), t("replication", lang), t("error", lang))
            document.add(Heading(t("failed_runs", lang)), Table(header, rows))
    plots = [name for name in manifest.get("plots", []) if (folder / name).exists()]
    if plots:
        document.add(Heading(t("plots", lang)), Images(tuple(plots)))
    document.add(Heading(t("tables", lang)), Links((("runs.parquet", "runs.parquet"), ("runs.csv", "runs.csv"),
                                                   ("summary.parquet", "summary.parquet"),
                                                   ("summary.csv", "summary.csv"))))
    document.add(Heading(t("inputs", lang)))
    if manifest.get("command"):
        document.add(Paragraph(t("command", lang)), Preformatted(manifest["command"], "sh"))
    scenario = folder / "scenario.toml"
    if scenario.exists():
        document.add(Preformatted(scenario.read_text(encoding="utf-8"), "toml"))
    document.add(provenance_table(manifest, lang))
    return document
