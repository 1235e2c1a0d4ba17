"""Reports: ``report.md`` and ``report.html`` rebuilt from a results folder alone, and the index page.

A report is derived only from what was written beside it, so ``twin report DIR`` can rebuild it
at any time and it always matches the data. Three kinds of folder are understood:

* a **run** folder (``manifest.json`` + ``kpis.json``, from ``twin run``): headline KPIs, the KPI
  table with units, findings, the scenario's plots, maps and 3D renders (any other PNG in the
  folder), interactive pages (any other HTML), tables, and the inputs that produced it (scenario
  file, seed, commit, package versions);
* a **sweep** folder (``sweep.json``, from ``twin sweep``): the settings, the mean and 95%
  confidence interval of every KPI per setting, failed runs with their errors, the KPI-against-key
  plots and the inputs;
* a **suite** folder (``index.json``, from ``twin suite``): every run's report, then
  ``index.html``, which shows each scenario's headline figures with its plots and renders.

Pages are self-contained and work offline: images are linked by relative path, no scripts.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from twin.errors import InputError
from twin.units import unit_of

REPORT_FILES = ("report.md", "report.html")
INDEX_JSON = "index.json"
HEADLINE_FALLBACK = 6
"""KPIs shown on the index for a run that names no headline KPIs (the first, alphabetically)."""

FigureHook = Callable[[Path], list[Path]]
"""Adds figures to a run folder before its report is built; returns the PNG files it wrote."""

FIGURE_HOOKS: list[FigureHook] = []
"""Hooks called on every run folder by :func:`build_report`. Layers above the model register
them (the CLI registers the CIM focus render), so the model never imports ``viz``."""


def register_figure_hook(hook: FigureHook) -> None:
    """Call ``hook(run_dir)`` before each run report is built (once, however often registered)."""
    if hook not in FIGURE_HOOKS:
        FIGURE_HOOKS.append(hook)


# --------------------------------------------------------------------------- shared pieces


def format_number(value: float | int | None) -> str:
    """Four significant digits, thousands separated; integers as integers."""
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _write_atomic(path: Path, text: str) -> None:
    """Write ``path`` via a hidden temporary file renamed into place (never half a page)."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    tmp.write_text(text)
    tmp.replace(path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"missing {path.name}", path.parent) from None
    except json.JSONDecodeError as exc:
        reason = f"{path.name} is not valid JSON ({exc.msg}, line {exc.lineno})"
        raise InputError(reason, path.parent) from None


def folder_kind(folder: Path) -> str:
    """``"run"``, ``"sweep"`` or ``"suite"``; anything else is an :class:`InputError`."""
    if not folder.is_dir():
        raise InputError("not found or not a folder", folder)
    if (folder / "sweep.json").exists():
        return "sweep"
    if (folder / "manifest.json").exists():
        return "run"
    if (folder / INDEX_JSON).exists():
        return "suite"
    raise InputError(
        "not a results folder (expected manifest.json from twin run, sweep.json from twin sweep "
        "or index.json from twin suite)", folder
    )


_CSS = """
body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em}
td.num{text-align:right;font-variant-numeric:tabular-nums}img{max-width:100%;margin:1em 0}
pre{background:#f6f6f6;padding:1em;overflow:auto}.meta{color:#555}
.headline{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}
.headline div{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;min-width:10em}
.headline b{display:block;font-size:1.5em}.headline small{color:#555}
.card{border-top:2px solid #ddd;margin-top:2em}.thumbs{display:flex;flex-wrap:wrap;gap:1em}
.thumbs img{max-width:48%;margin:0}.wide{overflow-x:auto}.better{color:#1a7f37}.worse{color:#c62828}
"""


def _page(title: str, body: list[str]) -> str:
    head = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
    )
    return "\n".join([head, *body, "</body></html>\n"])


def _inline_markdown(text: str) -> str:
    """Escape ``text`` and render the Markdown that notes use inline: ``code``, **bold**, *em*."""
    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)
    return re.sub(r"(?<![*\w])\*([^*\s][^*]*)\*(?!\w)", r"<em>\1</em>", out)


def markdown_blocks_to_html(text: str) -> str:
    """Paragraphs, ``- `` bullet lists and ``#`` headings of a notes file as HTML."""
    parts = []
    for block in (b.strip() for b in text.split("\n\n")):
        if not block:
            continue
        lines = block.splitlines()
        if all(line.lstrip().startswith(("- ", "* ")) for line in lines):
            items = "".join(f"<li>{_inline_markdown(line.lstrip()[2:])}</li>" for line in lines)
            parts.append(f"<ul>{items}</ul>")
        elif block.startswith("#"):
            level = min(6, 2 + len(block) - len(block.lstrip("#")))
            parts.append(f"<h{level}>{_inline_markdown(block.lstrip('#').strip())}</h{level}>")
        else:
            parts.append(f"<p>{_inline_markdown(' '.join(lines))}</p>")
    return "\n".join(parts)


def _kpi_rows(kpis: dict[str, Any], names: list[str] | None = None) -> list[tuple[str, str, str]]:
    chosen = sorted(kpis) if names is None else [n for n in names if n in kpis]
    return [(name, format_number(kpis[name]), unit_of(name)) for name in chosen]


def _md_table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> list[str]:
    align = align or ["---"] * len(header)
    escape = [[str(cell).replace("|", "\\|") for cell in row] for row in rows]
    return [f"| {' | '.join(header)} |", f"|{'|'.join(align)}|"] + [f"| {' | '.join(r)} |" for r in escape]


def _html_table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f"<td class='num'>{esc(str(c))}</td>" if i in numeric else f"<td>{esc(str(c))}</td>"
            for i, c in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return f"<div class='wide'><table><tr>{head}</tr>{body}</table></div>"


# --------------------------------------------------------------------------- run reports


def _load_run(run_dir: Path) -> dict[str, Any]:
    manifest = _read_json(run_dir / "manifest.json")
    kpis = _read_json(run_dir / "kpis.json")
    notes_path = run_dir / "notes.md"
    scenario_path = run_dir / "scenario.toml"
    return {
        "manifest": manifest,
        "kpis": kpis,
        "notes": notes_path.read_text() if notes_path.exists() else "",
        "scenario_text": scenario_path.read_text() if scenario_path.exists() else "",
    }


def headline_names(manifest: dict[str, Any], kpis: dict[str, Any]) -> list[str]:
    """The run's headline KPIs: those it named, else the first few alphabetically."""
    named = [name for name in manifest.get("headline") or [] if name in kpis]
    return named or sorted(kpis)[:HEADLINE_FALLBACK]


def _figures(run_dir: Path, manifest: dict[str, Any]) -> list[str]:
    """The scenario's plots (the figures its runner returned), in its order."""
    return [f"{name}.png" for name in manifest.get("figures", []) if (run_dir / f"{name}.png").exists()]


def _renders(run_dir: Path, manifest: dict[str, Any]) -> list[str]:
    """Every other PNG in the folder (or one level down): maps, 3D CIM renders, extra images."""
    listed = set(_figures(run_dir, manifest))
    found = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.glob("*.png"))
    found += sorted(p.relative_to(run_dir).as_posix() for p in run_dir.glob("*/*.png"))
    return [name for name in found if name not in listed]


def _pages(run_dir: Path) -> list[str]:
    """Interactive pages written beside the report (e.g. a 3D scene exported to HTML)."""
    found = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.glob("*.html"))
    found += sorted(p.relative_to(run_dir).as_posix() for p in run_dir.glob("*/*.html"))
    return [name for name in found if name not in REPORT_FILES]


def _tables(run_dir: Path) -> list[str]:
    return sorted(p.stem for p in run_dir.glob("*.parquet"))


def _run_meta(manifest: dict[str, Any]) -> str:
    header = manifest["scenario"]["scenario"]
    return (
        f"Seed {manifest['seed']}, simulated {format_number(header['duration_s'])} s from "
        f"{header['start']}; wall time {manifest['wall_time_s']:.1f} s; commit "
        f"`{manifest['git_commit']}`."
    )


def render_markdown(run_dir: Path) -> str:
    """The report of run folder ``run_dir`` as Markdown."""
    data = _load_run(run_dir)
    manifest, kpis = data["manifest"], data["kpis"]
    header = manifest["scenario"]["scenario"]
    lines = [f"# {header['name']} ({header['kind']})", "", header.get("description", ""), "",
             _run_meta(manifest), ""]
    if manifest.get("headline"):
        lines += ["## Headline", ""]
        lines += [f"- **{name}**: {value} {unit}".rstrip()
                  for name, value, unit in _kpi_rows(kpis, headline_names(manifest, kpis))]
        lines.append("")
    lines += ["## Key figures", ""]
    lines += _md_table(["KPI", "value", "unit"], [list(r) for r in _kpi_rows(kpis)], ["---", "---:", "---"])
    if data["notes"].strip():
        lines += ["", "## Findings", "", data["notes"].strip()]
    figures = _figures(run_dir, manifest)
    if figures:
        lines += ["", "## Figures", ""] + [f"![{Path(name).stem}]({name})\n" for name in figures]
    renders = _renders(run_dir, manifest)
    if renders:
        lines += ["", "## Maps and renders", ""] + [f"![{Path(name).stem}]({name})\n" for name in renders]
    pages = _pages(run_dir)
    if pages:
        lines += ["", "## Interactive views", ""] + [f"- [{name}]({name})" for name in pages]
    tables = _tables(run_dir)
    if tables:
        lines += ["", "## Tables", ""]
        lines += [f"- `{name}`: [{name}.parquet]({name}.parquet), [{name}.csv]({name}.csv)"
                  for name in tables]
    lines += ["", "## Inputs", ""]
    if data["scenario_text"]:
        lines += [f"Scenario file `{manifest.get('scenario_file', 'scenario.toml')}` "
                  "(copied as [scenario.toml](scenario.toml)):", "", "```toml",
                  data["scenario_text"].rstrip(), "```", ""]
    lines += _provenance_markdown(manifest)
    return "\n".join(lines) + "\n"


def _provenance_rows(manifest: dict[str, Any]) -> list[list[str]]:
    rows = [["seed", str(manifest.get("seed", ""))], ["git commit", str(manifest.get("git_commit", ""))]]
    if manifest.get("created_utc"):
        rows.append(["created (UTC)", str(manifest["created_utc"])])
    rows += [[name, str(version)] for name, version in sorted((manifest.get("versions") or {}).items())]
    return rows


def _provenance_markdown(manifest: dict[str, Any]) -> list[str]:
    return ["Provenance:", "", *_md_table(["item", "value"], _provenance_rows(manifest))]


def render_html(run_dir: Path) -> str:
    """The report of run folder ``run_dir`` as a self-contained offline HTML page."""
    data = _load_run(run_dir)
    manifest, kpis = data["manifest"], data["kpis"]
    header = manifest["scenario"]["scenario"]
    esc = html.escape
    body = [
        f"<h1>{esc(header['name'])} <small>({esc(header['kind'])})</small></h1>",
        f"<p>{esc(header.get('description', ''))}</p>",
        f"<p class='meta'>{_inline_markdown(_run_meta(manifest))}</p>",
    ]
    if manifest.get("headline"):
        body.append("<div class='headline'>" + "".join(
            f"<div><small>{esc(name)}</small><b>{esc(value)}</b>{esc(unit)}</div>"
            for name, value, unit in _kpi_rows(kpis, headline_names(manifest, kpis))
        ) + "</div>")
    body.append("<h2>Key figures</h2>")
    body.append(_html_table(["KPI", "value", "unit"], [list(r) for r in _kpi_rows(kpis)], {1}))
    if data["notes"].strip():
        body.append("<h2>Findings</h2>" + markdown_blocks_to_html(data["notes"]))
    figures = _figures(run_dir, manifest)
    if figures:
        body.append("<h2>Figures</h2>")
        body += [f"<img src='{esc(name)}' alt='{esc(Path(name).stem)}'>" for name in figures]
    renders = _renders(run_dir, manifest)
    if renders:
        body.append("<h2>Maps and renders</h2>")
        body += [f"<img src='{esc(name)}' alt='{esc(Path(name).stem)}'>" for name in renders]
    pages = _pages(run_dir)
    if pages:
        body.append("<h2>Interactive views</h2><ul>" + "".join(
            f"<li><a href='{esc(name)}'>{esc(name)}</a></li>" for name in pages) + "</ul>")
    tables = _tables(run_dir)
    if tables:
        body.append("<h2>Tables</h2><ul>" + "".join(
            f"<li><code>{esc(t)}</code>: <a href='{esc(t)}.parquet'>Parquet</a>, "
            f"<a href='{esc(t)}.csv'>CSV</a></li>" for t in tables) + "</ul>")
    body.append("<h2>Inputs</h2>")
    if data["scenario_text"]:
        body.append(f"<p>Scenario file <code>{esc(str(manifest.get('scenario_file', '')))}</code> "
                    "(copied as <a href='scenario.toml'>scenario.toml</a>):</p>"
                    f"<pre>{esc(data['scenario_text'])}</pre>")
    body.append(_html_table(["item", "value"], _provenance_rows(manifest)))
    return _page(header["name"], body)


# --------------------------------------------------------------------------- sweep reports


def _load_sweep(sweep_dir: Path) -> dict[str, Any]:

    manifest = _read_json(sweep_dir / "sweep.json")
    summary_path = sweep_dir / "summary.parquet"
    runs_path = sweep_dir / "runs.parquet"
    scenario_path = sweep_dir / "scenario.toml"
    return {
        "manifest": manifest,
        "summary": pd.read_parquet(summary_path) if summary_path.exists() else None,
        "runs": pd.read_parquet(runs_path) if runs_path.exists() else None,
        "scenario_text": scenario_path.read_text() if scenario_path.exists() else "",
        "plots": [name for name in manifest.get("plots", []) if (sweep_dir / name).exists()],
    }


def _setting_label(value: Any) -> str:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value)
    return str(value)


def _sweep_summary_rows(manifest: dict[str, Any], summary: Any) -> tuple[list[str], list[list[str]]]:
    """A wide table: one row per setting, one column per KPI with ``mean [95% CI]``."""
    keys = list(manifest["settings"])
    kpis = list(dict.fromkeys(summary["kpi"]))
    header = [*keys, "runs", "failed", *(f"{k} ({unit_of(k)})" if unit_of(k) else k for k in kpis)]
    rows: list[list[str]] = []
    per_setting = len(kpis)
    for start in range(0, len(summary), per_setting):
        block = summary.iloc[start:start + per_setting]
        first = block.iloc[0]
        cells = [_setting_label(first[key]) for key in keys] + [str(first["runs"]), str(first["failed"])]
        for _, row in block.iterrows():
            mean = format_number(float(row["mean"]))
            if row["ci95_low"] == row["ci95_low"]:  # not NaN: at least two replications
                cells.append(f"{mean} [{format_number(float(row['ci95_low']))}, "
                             f"{format_number(float(row['ci95_high']))}]")
            else:
                cells.append(mean)
        rows.append(cells)
    return header, rows


def _sweep_meta(manifest: dict[str, Any]) -> list[str]:
    settings = "; ".join(f"`{key}` = {', '.join(_setting_label(v) for v in values)}"
                         for key, values in manifest["settings"].items()) or "none (replications only)"
    wall = manifest.get("wall_time_s")
    return [
        f"Swept: {settings}.",
        f"{_count(manifest['runs_total'], 'run')}: every combination × "
        f"{_count(manifest['replications'], 'replication')}; "
        f"root seed {manifest['seed']} (replication seeds spawned from it, shared across settings). "
        f"{manifest.get('runs_failed', 0)} failed. Executor: {manifest['executor']}"
        + (f"; wall time {wall:.1f} s." if isinstance(wall, int | float) else "."),
    ]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _failed_rows(runs: Any, keys: list[str], limit: int = 50) -> list[list[str]]:
    if runs is None:
        return []
    failed = runs[runs["status"] != "ok"].head(limit)
    return [[row["run_id"], ", ".join(f"{k}={_setting_label(row[k])}" for k in keys),
             str(row["replication"]), str(row["error"])] for _, row in failed.iterrows()]


def render_sweep_markdown(sweep_dir: Path) -> str:
    """The report of sweep folder ``sweep_dir`` as Markdown."""
    data = _load_sweep(sweep_dir)
    manifest = data["manifest"]
    keys = list(manifest["settings"])
    lines = [f"# Sweep of {manifest['scenario_name']} ({manifest['scenario_kind']})", "",
             *_sweep_meta(manifest), ""]
    if data["summary"] is not None and len(data["summary"]):
        header, rows = _sweep_summary_rows(manifest, data["summary"])
        lines += ["## Summary", "", "Mean of each KPI over the successful replications, with its 95% "
                  "confidence interval (Student t) in brackets.", ""]
        lines += _md_table(header, rows)
    failed = _failed_rows(data["runs"], keys)
    if failed:
        lines += ["", "## Failed runs", ""] + _md_table(["run", "setting", "replication", "error"], failed)
    if data["plots"]:
        lines += ["", "## Plots", ""] + [f"![{Path(name).stem}]({name})\n" for name in data["plots"]]
    lines += ["", "## Tables", "", "- `runs`: one row per run: [runs.parquet](runs.parquet), "
              "[runs.csv](runs.csv)", "- `summary`: per setting and KPI: [summary.parquet]"
              "(summary.parquet), [summary.csv](summary.csv)", "- checkpoints: `runs/<run_id>.json`"]
    lines += ["", "## Inputs", ""]
    if manifest.get("command"):
        lines += ["Command (re-run it to resume or reproduce):", "", "```sh", manifest["command"], "```", ""]
    if data["scenario_text"]:
        lines += [f"Scenario file `{manifest['scenario_file']}`:", "", "```toml",
                  data["scenario_text"].rstrip(), "```", ""]
    lines += _provenance_markdown(manifest)
    return "\n".join(lines) + "\n"


def render_sweep_html(sweep_dir: Path) -> str:
    """The report of sweep folder ``sweep_dir`` as a self-contained offline HTML page."""
    data = _load_sweep(sweep_dir)
    manifest = data["manifest"]
    keys = list(manifest["settings"])
    esc = html.escape
    title = f"Sweep of {manifest['scenario_name']}"
    body = [f"<h1>{esc(title)} <small>({esc(manifest['scenario_kind'])})</small></h1>"]
    body += [f"<p class='meta'>{_inline_markdown(line)}</p>" for line in _sweep_meta(manifest)]
    if data["summary"] is not None and len(data["summary"]):
        header, rows = _sweep_summary_rows(manifest, data["summary"])
        body.append("<h2>Summary</h2><p>Mean of each KPI over the successful replications, with its "
                    "95% confidence interval (Student t) in brackets.</p>")
        body.append(_html_table(header, rows, set(range(len(keys), len(header)))))
    failed = _failed_rows(data["runs"], keys)
    if failed:
        body.append("<h2>Failed runs</h2>" + _html_table(["run", "setting", "replication", "error"], failed))
    if data["plots"]:
        body.append("<h2>Plots</h2>")
        body += [f"<img src='{esc(name)}' alt='{esc(Path(name).stem)}'>" for name in data["plots"]]
    body.append("<h2>Tables</h2><ul><li><code>runs</code>: <a href='runs.parquet'>Parquet</a>, "
                "<a href='runs.csv'>CSV</a></li><li><code>summary</code>: <a href='summary.parquet'>"
                "Parquet</a>, <a href='summary.csv'>CSV</a></li></ul>")
    body.append("<h2>Inputs</h2>")
    if manifest.get("command"):
        body.append("<p>Command (re-run it to resume or reproduce):</p>"
                    f"<pre>{esc(manifest['command'])}</pre>")
    if data["scenario_text"]:
        body.append(f"<p>Scenario file <code>{esc(manifest['scenario_file'])}</code>:</p>"
                    f"<pre>{esc(data['scenario_text'])}</pre>")
    body.append(_html_table(["item", "value"], _provenance_rows(manifest)))
    return _page(title, body)


# --------------------------------------------------------------------------- building


def build_report(folder: Path) -> list[Path]:
    """(Re)write the report(s) of a run, sweep or suite folder; return the files written."""
    kind = folder_kind(folder)
    if kind == "suite":
        index = _read_json(folder / INDEX_JSON)
        run_dirs = [folder / name for name in index["runs"]]
        written = [path for run_dir in run_dirs for path in build_report(run_dir)]
        return [*written, build_index(folder, run_dirs, index["title"], index.get("description", ""))]
    if kind == "sweep":
        markdown, page = render_sweep_markdown(folder), render_sweep_html(folder)
    else:
        for hook in FIGURE_HOOKS:
            hook(folder)
        markdown, page = render_markdown(folder), render_html(folder)
    _write_atomic(folder / "report.md", markdown)
    _write_atomic(folder / "report.html", page)
    return [folder / "report.md", folder / "report.html"]


def build_index(
    out_dir: Path, run_dirs: list[Path], title: str, description: str = "",
    kpis_per_run: int = HEADLINE_FALLBACK,
) -> Path:
    """Write ``out_dir/index.html``: each run's headline figures, plots and renders, and a link
    to its report; also ``index.json`` so that ``twin report out_dir`` can rebuild it all."""
    esc = html.escape
    runs = []
    for run_dir in run_dirs:
        data = _load_run(run_dir)
        manifest, kpis = data["manifest"], data["kpis"]
        names = [n for n in manifest.get("headline") or [] if n in kpis] or sorted(kpis)[:kpis_per_run]
        runs.append((run_dir, manifest, kpis, names))

    body = [f"<h1>{esc(title)}</h1>", f"<p>{esc(description)}</p>"]
    if runs:
        body.append("<h2>Headline figures</h2><div class='wide'><table>"
                    "<tr><th>scenario</th><th>kind</th><th>headline KPIs</th></tr>")
        for run_dir, manifest, kpis, names in runs:
            header = manifest["scenario"]["scenario"]
            figures = " · ".join(f"{esc(name)} <b>{esc(value)}</b> {esc(unit)}".rstrip()
                                 for name, value, unit in _kpi_rows(kpis, names))
            body.append(f"<tr><td><a href='{esc(run_dir.name)}/report.html'>{esc(header['name'])}</a></td>"
                        f"<td>{esc(header['kind'])}</td><td>{figures}</td></tr>")
        body.append("</table></div>")
    for run_dir, manifest, kpis, names in runs:
        header = manifest["scenario"]["scenario"]
        link = f"{run_dir.name}/report.html"
        body.append(f"<div class='card'><h2><a href='{esc(link)}'>{esc(header['name'])}</a> "
                    f"<small>({esc(header['kind'])})</small></h2>")
        body.append(f"<p>{esc(header.get('description', ''))}</p>")
        body.append("<div class='headline'>" + "".join(
            f"<div><small>{esc(name)}</small><b>{esc(value)}</b>{esc(unit)}</div>"
            for name, value, unit in _kpi_rows(kpis, names)) + "</div>")
        images = _figures(run_dir, manifest)[:2] + _renders(run_dir, manifest)[:2]
        if images:
            body.append("<div class='thumbs'>" + "".join(
                f"<a href='{esc(link)}'><img src='{esc(run_dir.name)}/{esc(name)}' "
                f"alt='{esc(Path(name).stem)}'></a>" for name in images) + "</div>")
        body.append(f"<p><a href='{esc(link)}'>Full report</a> · {len(kpis)} KPIs · seed "
                    f"{manifest['seed']}</p></div>")
    index = out_dir / "index.html"
    _write_atomic(index, _page(title, body))
    relative = [os.path.relpath(run_dir, out_dir) for run_dir in run_dirs]
    _write_atomic(out_dir / INDEX_JSON, json.dumps(
        {"title": title, "description": description, "runs": relative}, indent=2, ensure_ascii=False) + "\n")
    return index
