"""The suite's index page: every scenario's question and answer on one screen, then its cards."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from twin.kpis import Lang, kpi_info
from viz.report.document import inline_markdown, page, write_atomic
from viz.report.folders import INDEX_JSON, RunFolder, load_run
from viz.report.run_report import answer_text, interval_text
from viz.report.text import t


def _question_card(run: RunFolder, link: str, lang: Lang) -> str:
    esc = html.escape
    question = (run.answer or {}).get("question", {}).get(lang) or run.header.get("description", "")
    name = run.headline()[0] if run.headline() else None
    figure = ""
    if name is not None:
        info = kpi_info(name)
        figure = (f"<p><small>{esc(info.label[lang])}</small> <b>{esc(info.format(run.kpis[name], lang))}</b> "
                  f"<small>{esc(interval_text(run, name, lang))}</small></p>")
    return (f"<div class='q'><h3><a href='{esc(link)}'>{esc(question)}</a></h3>"
            f"<p>{inline_markdown(answer_text(run, lang))}</p>{figure}</div>")


def _run_card(run: RunFolder, folder: str, lang: Lang) -> str:  # noqa: D103
    esc = html.escape
    link = f"{folder}/report.html"
    cards = "".join(
        f"<div><small>{esc(kpi_info(n).label[lang])}</small><b>{esc(kpi_info(n).format(run.kpis[n], lang))}</b>"
        f"<small>{esc(interval_text(run, n, lang))}</small></div>" for n in run.headline())
    images = (run.figures(lang)[:2] + run.renders()[:2])
    thumbs = "".join(f"<a href='{esc(link)}'><img src='{esc(folder)}/{esc(i)}' alt='{esc(Path(i).stem)}'></a>"
                     for i in images)
    return (f"<div class='card'><h2><a href='{esc(link)}'>{esc(run.header['name'])}</a></h2>"
            f"<p>{esc(run.header.get('description', ''))}</p><div class='cards'>{cards}</div>"
            f"<div class='thumbs'>{thumbs}</div><p><a href='{esc(link)}'>{esc(t('full_report', lang))}</a> · "
            f"{esc(t('kpis_count', lang, n=len(run.kpis)))}</p></div>")


def build_index(out_dir: Path, run_dirs: list[Path], title: str, description: str = "", lang: Lang = "zh") -> Path:
    """Write ``out_dir/index.html`` (questions and answers first, then a card per run) and
    ``index.json``, so that ``twin report out_dir`` can rebuild it all."""
    runs = [(load_run(run_dir), os.path.relpath(run_dir, out_dir)) for run_dir in run_dirs]
    body = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(description)}</p>"]
    caveats = {run.city.get(f"caveat_{lang}") for run, _ in runs if run.city.get("reference_twin")}
    body += [f"<div class='caveat'>{html.escape(c)}</div>" for c in sorted(c for c in caveats if c)]
    body.append(f"<h2>{html.escape(t('index_questions', lang))}</h2><div class='grid'>")
    body += [_question_card(run, f"{folder}/report.html", lang) for run, folder in runs]
    body.append("</div>")
    body += [_run_card(run, folder, lang) for run, folder in runs]
    index = out_dir / "index.html"
    write_atomic(index, page(title, lang, body))
    write_atomic(out_dir / INDEX_JSON, json.dumps(
        {"title": title, "description": description, "runs": [folder for _, folder in runs], "lang": lang},
        indent=2, ensure_ascii=False) + "\n")
    return index

