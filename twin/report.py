"""Run reports: ``report.md`` and ``report.html`` rebuilt from a run folder alone.

The report is derived only from what the run wrote (manifest, KPIs, notes, tables, figures), so
``twin report RUN_DIR`` can rebuild it at any time and it always matches the data beside it.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from twin.units import unit_of


def format_number(value: float | int | None) -> str:
    """Four significant digits, thousands separated; integers as integers."""
    if value is None:
        return "n/a"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _load(run_dir: Path) -> dict[str, Any]:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    kpis = json.loads((run_dir / "kpis.json").read_text())
    notes_path = run_dir / "notes.md"
    notes = notes_path.read_text() if notes_path.exists() else ""
    scenario_path = run_dir / "scenario.toml"
    scenario_text = scenario_path.read_text() if scenario_path.exists() else ""
    return {"manifest": manifest, "kpis": kpis, "notes": notes, "scenario_text": scenario_text}


def _kpi_rows(kpis: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(name, format_number(value), unit_of(name)) for name, value in sorted(kpis.items())]


def _figures(run_dir: Path, manifest: dict[str, Any]) -> list[str]:
    listed = [f"{name}.png" for name in manifest.get("figures", [])]
    others = sorted(p.name for p in run_dir.glob("*.png") if p.name not in listed)
    return [name for name in listed if (run_dir / name).exists()] + others


def _tables(run_dir: Path) -> list[str]:
    return sorted(p.stem for p in run_dir.glob("*.parquet"))


def render_markdown(run_dir: Path) -> str:
    """The report of ``run_dir`` as Markdown."""
    data = _load(run_dir)
    manifest = data["manifest"]
    header = manifest["scenario"]["scenario"]
    lines = [
        f"# {header['name']} ({header['kind']})",
        "",
        header.get("description", ""),
        "",
        f"Seed {manifest['seed']}, simulated {format_number(header['duration_s'])} s from "
        f"{header['start']}; wall time {manifest['wall_time_s']:.1f} s; commit "
        f"`{manifest['git_commit']}`.",
        "",
        "## Key figures",
        "",
        "| KPI | value | unit |",
        "|---|---:|---|",
    ]
    lines += [f"| {name} | {value} | {unit} |" for name, value, unit in _kpi_rows(data["kpis"])]
    if data["notes"].strip():
        lines += ["", "## Findings", "", data["notes"].strip()]
    figures = _figures(run_dir, manifest)
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"![{Path(name).stem}]({name})\n" for name in figures]
    tables = _tables(run_dir)
    if tables:
        lines += ["", "## Tables", ""]
        lines += [f"- `{name}`: [{name}.parquet]({name}.parquet), [{name}.csv]({name}.csv)"
                  for name in tables]
    if data["scenario_text"]:
        lines += ["", "## Inputs", "", "```toml", data["scenario_text"].rstrip(), "```"]
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em}
td.num{text-align:right;font-variant-numeric:tabular-nums}img{max-width:100%;margin:1em 0}
pre{background:#f6f6f6;padding:1em;overflow:auto}
"""


def render_html(run_dir: Path) -> str:
    """The report of ``run_dir`` as a self-contained offline HTML page (images linked locally)."""
    data = _load(run_dir)
    manifest = data["manifest"]
    header = manifest["scenario"]["scenario"]
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(header['name'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(header['name'])} <small>({esc(header['kind'])})</small></h1>",
        f"<p>{esc(header.get('description', ''))}</p>",
        f"<p>Seed {manifest['seed']}; simulated {format_number(header['duration_s'])} s from "
        f"{esc(str(header['start']))}; wall time {manifest['wall_time_s']:.1f} s; commit "
        f"<code>{esc(manifest['git_commit'])}</code>.</p>",
        "<h2>Key figures</h2><table><tr><th>KPI</th><th>value</th><th>unit</th></tr>",
    ]
    parts += [
        f"<tr><td>{esc(name)}</td><td class='num'>{esc(value)}</td><td>{esc(unit)}</td></tr>"
        for name, value, unit in _kpi_rows(data["kpis"])
    ]
    parts.append("</table>")
    if data["notes"].strip():
        paragraphs = [p.strip() for p in data["notes"].split("\n\n") if p.strip()]
        parts.append("<h2>Findings</h2>" + "".join(f"<p>{esc(p)}</p>" for p in paragraphs))
    figures = _figures(run_dir, manifest)
    if figures:
        parts.append("<h2>Figures</h2>")
        parts += [f"<img src='{esc(name)}' alt='{esc(Path(name).stem)}'>" for name in figures]
    tables = _tables(run_dir)
    if tables:
        parts.append("<h2>Tables</h2><ul>")
        parts += [f"<li><code>{esc(t)}</code>: <a href='{esc(t)}.parquet'>Parquet</a>, "
                  f"<a href='{esc(t)}.csv'>CSV</a></li>" for t in tables]
        parts.append("</ul>")
    if data["scenario_text"]:
        parts.append(f"<h2>Inputs</h2><pre>{esc(data['scenario_text'])}</pre>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def build_report(run_dir: Path) -> None:
    """(Re)write ``report.md`` and ``report.html`` in ``run_dir``."""
    (run_dir / "report.md").write_text(render_markdown(run_dir))
    (run_dir / "report.html").write_text(render_html(run_dir))


def build_index(
    out_dir: Path, run_dirs: list[Path], title: str, description: str = "", kpis_per_run: int = 8
) -> Path:
    """Write ``out_dir/index.html`` linking each run's report, with headline KPIs and a figure."""
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1><p>{esc(description)}</p>",
    ]
    for run_dir in run_dirs:
        data = _load(run_dir)
        header = data["manifest"]["scenario"]["scenario"]
        link = f"{run_dir.name}/report.html"
        parts.append(f"<h2><a href='{esc(link)}'>{esc(header['name'])}</a> "
                     f"<small>({esc(header['kind'])})</small></h2>")
        parts.append(f"<p>{esc(header.get('description', ''))}</p><table>")
        for name, value, unit in _kpi_rows(data["kpis"])[:kpis_per_run]:
            parts.append(f"<tr><td>{esc(name)}</td><td class='num'>{esc(value)}</td>"
                         f"<td>{esc(unit)}</td></tr>")
        parts.append("</table>")
        figures = _figures(run_dir, data["manifest"])
        if figures:
            parts.append(f"<img src='{esc(run_dir.name)}/{esc(figures[0])}' alt='figure'>")
    parts.append("</body></html>\n")
    index = out_dir / "index.html"
    partial = out_dir / ".index.html.partial"
    partial.write_text("\n".join(parts))
    partial.replace(index)
    return index
