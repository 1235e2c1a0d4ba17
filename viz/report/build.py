"""Building reports: ``report.md`` and ``report.html`` of a run, sweep or suite folder, rebuilt
from the folder alone, in the language asked for (else the city's, else Chinese)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from twin.city.folder import City, load_city
from twin.errors import InputError
from twin.kpis import LANGS, Lang
from viz.cim.render import report_figure_hook
from viz.report.document import to_html, to_markdown, write_atomic
from viz.report.folders import INDEX_JSON, RunFolder, folder_kind, load_run, read_json
from viz.report.index_page import build_index
from viz.report.run_report import run_document
from viz.report.sweep_report import sweep_document
from viz.result_map import has_layers, write_result_map

FigureHook = Callable[[Path], list[Path]]
"""Adds figures to a run folder before its report is built; returns the PNG files it wrote."""

FIGURE_HOOKS: list[FigureHook] = [report_figure_hook]
"""Hooks called on every run folder by :func:`build_report`: the CIM focus render, and any a
plug-in registers."""


def register_figure_hook(hook: FigureHook) -> None:
    """Call ``hook(run_dir)`` before each run report is built (once, however often registered)."""
    if hook not in FIGURE_HOOKS:
        FIGURE_HOOKS.append(hook)


def report_lang(folder: Path, lang: str | None) -> Lang:
    """``lang`` if given, else the language of the run's city, else Chinese."""
    if lang is not None:
        if lang not in LANGS:
            raise InputError(f"--lang {lang}: expected one of {', '.join(LANGS)}")
        return lang  # type: ignore[return-value]
    manifest = folder / "manifest.json"
    if manifest.exists():
        city = read_json(manifest).get("city") or {}
        if city.get("lang") in LANGS:
            return city["lang"]
    return "zh"


def _city_of(run: RunFolder) -> City | None:
    """The city a run ran on, for the basemap (``None`` if its folder is gone)."""
    folder = run.city.get("folder")
    try:
        return load_city(folder) if folder else None
    except InputError:
        return None


def build_report(folder: Path, lang: str | None = None) -> list[Path]:
    """(Re)write the report(s) of a run, sweep or suite folder; return the files written."""
    kind = folder_kind(folder)
    if kind == "suite":
        index = read_json(folder / INDEX_JSON)
        run_dirs = [folder / name for name in index["runs"]]
        chosen = lang or index.get("lang")
        written = [path for run_dir in run_dirs for path in build_report(run_dir, chosen)]
        suite_lang = report_lang(run_dirs[0], chosen) if run_dirs else "zh"
        return [*written, build_index(folder, run_dirs, index["title"], index.get("description", ""), suite_lang)]
    chosen = report_lang(folder, lang)
    if kind == "sweep":
        document = sweep_document(folder, chosen)
    else:
        run = load_run(folder)
        if has_layers(folder):
            write_result_map(folder, _city_of(run), chosen)
        for hook in FIGURE_HOOKS:
            hook(folder)
        document = run_document(run, chosen)
    write_atomic(folder / "report.md", to_markdown(document))
    write_atomic(folder / "report.html", to_html(document))
    return [folder / "report.md", folder / "report.html"]
