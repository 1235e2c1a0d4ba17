"""The report of one run, answer first: the answer and what it rests on, the options side by
side, who is affected, then the evidence (figures, maps, every KPI, tables, inputs)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from twin.kpis import Lang, format_number, kpi_info
from viz.report.document import (
    Callout,
    Card,
    Cards,
    Document,
    Heading,
    Images,
    Links,
    Paragraph,
    Preformatted,
    Raw,
    Table,
)
from viz.report.folders import OPTIONS_TABLE, PEOPLE_TABLE, RunFolder
from viz.report.text import t


def interval_text(run: RunFolder, name: str, lang: Lang, display: str | None = None, prefix: bool = True) -> str:
    """``"90%区间 a – b"`` for KPI ``name`` if the run has replications, else ``""``."""
    interval = run.intervals.get(name)
    if not interval or interval.get("low") is None:
        return ""
    info = kpi_info(name)
    display = display or info.display_for([run.kpis.get(name)])
    low, high = (info.format(interval[k], lang, display) for k in ("low", "high"))
    return f"{t('interval', lang)} {low} – {high}" if prefix else f"{low} – {high}"


def _difference_sentence(run: RunFolder, lang: Lang) -> str:
    """Whether the recommended option beats the one it is compared with by more than the noise."""
    difference = run.manifest.get("difference")
    answer = run.answer or {}
    if not difference or difference.get("low") is None:
        return ""
    info = kpi_info(difference["kpi_a"])
    display = info.display_for([difference["mean"], difference["low"], difference["high"]])
    chosen = kpi_info(answer.get("chosen") + "_" + answer.get("metric")).label[lang].split(" · ")[0]
    versus = kpi_info(answer.get("versus") + "_" + answer.get("metric")).label[lang].split(" · ")[0]
    key = "difference_larger" if difference["larger_than_noise"] else "difference_not_larger"
    return t(key, lang, chosen=chosen, versus=versus, delta=info.format(difference["mean"], lang, display),
             low=info.format(difference["low"], lang, display), high=info.format(difference["high"], lang, display))


def answer_text(run: RunFolder, lang: Lang) -> str:
    """The run's answer in ``lang``, with the noise sentence when it has replications."""
    text = (run.answer or {}).get("text", {}).get(lang, "")
    if not text:
        return t("no_answer", lang)
    extra = _difference_sentence(run, lang)
    return f"{text} {extra}".strip()


def _meta(run: RunFolder, lang: Lang) -> str:
    header = run.header
    duration = kpi_info("duration_s").format(header["duration_s"], lang, "time")
    return t("meta", lang, seed=run.manifest["seed"], start=header["start"], duration=duration,
             replications=run.manifest.get("replications", 1), wall=run.manifest.get("wall_time_s", 0.0),
             commit=run.manifest.get("git_commit", ""))


def headline_cards(run: RunFolder, lang: Lang) -> Cards:
    """The headline KPIs as cards: label, value in its display unit, interval."""
    cards = []
    for name in run.headline():
        info = kpi_info(name)
        cards.append(Card(info.label[lang], info.format(run.kpis[name], lang), interval_text(run, name, lang)))
    return Cards(tuple(cards))


def options_table(run: RunFolder, lang: Lang) -> Table | None:
    """The options a scenario compared, one row each, the recommended one marked."""
    options = run.table(OPTIONS_TABLE)
    if options is None or options.empty:
        return None
    label_column = f"label_{lang}" if f"label_{lang}" in options else "option"
    metrics = [c for c in options.columns if c not in ("option", "label_zh", "label_en", "recommended")]
    header = [t("option", lang)]
    displays = {}
    for metric in metrics:
        info = kpi_info(metric)
        displays[metric] = info.display_for(options[metric].tolist())
        unit = info.unit_text(lang, displays[metric])
        header.append(f"{info.label[lang]} ({unit})" if unit else info.label[lang])
    rows, marked = [], set()
    chosen = (run.answer or {}).get("chosen")
    for index, (_, row) in enumerate(options.iterrows()):
        is_chosen = bool(row.get("recommended", False)) or (chosen is not None and row["option"] == chosen)
        label = str(row[label_column]) + (f" ★ {t('recommended', lang)}" if is_chosen else "")
        cells = [label] + [_cell(metric, row[metric], lang, displays[metric]) for metric in metrics]
        rows.append(tuple(cells))
        if is_chosen:
            marked.add(index)
    return Table(tuple(header), tuple(rows), frozenset(range(1, len(header))), frozenset(marked))


def _cell(metric: str, value: Any, lang: Lang, display: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, str | bool):
        return str(value)
    info = kpi_info(metric)
    text = info.format(float(value), lang, display)
    unit = info.unit_text(lang, display)
    return text.removesuffix(unit).strip() if unit else text


def people_table(run: RunFolder, lang: Lang) -> Table | None:
    """People affected by place, largest first."""
    people = run.table(PEOPLE_TABLE)
    if people is None or people.empty:
        return None
    people = people.sort_values("people", ascending=False)
    extra = [c for c in people.columns if c not in ("place", "people", "place_id")]
    header = [t("place", lang), t("people_count", lang)] + [kpi_info(c).label[lang] for c in extra]
    rows = [tuple([str(r["place"]), format_number(float(r["people"]))]
                  + [_cell(c, r[c], lang, kpi_info(c).display_for(people[c].tolist())) for c in extra])
            for _, r in people.iterrows()]
    return Table(tuple(header), tuple(rows), frozenset(range(1, len(header))))


def kpi_table(run: RunFolder, lang: Lang) -> Table:
    """Every KPI: label, value, interval, and its name in ``kpis.json`` in small type."""
    rows = []
    for name in sorted(run.kpis, key=lambda n: kpi_info(n).label[lang]):
        info = kpi_info(name)
        rows.append((info.label[lang], info.format(run.kpis[name], lang),
                     interval_text(run, name, lang, prefix=False), name))
    header = (t("kpi", lang), t("value", lang), t("interval", lang), t("name_in_data", lang))
    return Table(header, tuple(rows), frozenset({1}))


def provenance_table(manifest: dict[str, Any], lang: Lang) -> Table:
    rows = [(t("seed", lang), str(manifest.get("seed", ""))),
            (t("git_commit", lang), str(manifest.get("git_commit", "")))]
    if manifest.get("created_utc"):
        rows.append((t("created", lang), str(manifest["created_utc"])))
    rows += [(name, str(version)) for name, version in sorted((manifest.get("versions") or {}).items())]
    return Table((t("item", lang), t("value", lang)), tuple(rows))


def run_document(run: RunFolder, lang: Lang) -> Document:
    """The whole report of ``run`` in ``lang``."""
    header = run.header
    document = Document(header["name"], lang)
    caveat = run.city.get(f"caveat_{lang}") if run.city.get("reference_twin") else ""
    if caveat:
        document.add(Callout(caveat, "caveat"))
    for note in run.city.get(f"derived_{lang}") or []:
        document.add(Callout(note, "caveat"))
    question = (run.answer or {}).get("question", {}).get(lang)
    if question:
        document.add(Paragraph(f"**{t('question', lang)}**: {question}"))
    document.add(Heading(t("answer", lang)), Callout(answer_text(run, lang)), headline_cards(run, lang))
    count = run.manifest.get("replications", 1)
    note = t("interval_note", lang, n=count) if count > 1 else t("single_run", lang, seed=run.manifest["seed"])
    document.add(Paragraph(note, "meta"))
    if header.get("description"):
        document.add(Paragraph(header["description"]))
    document.add(Paragraph(_meta(run, lang), "meta"))
    _evidence(document, run, lang)
    return document


def _evidence(document: Document, run: RunFolder, lang: Lang) -> None:
    """Options, people, figures, maps, findings, every KPI, tables and inputs."""
    options = options_table(run, lang)
    if options is not None:
        document.add(Heading(t("options", lang)), options)
    people = people_table(run, lang)
    if people is not None:
        document.add(Heading(t("people", lang)), people)
    if run.figures(lang):
        document.add(Heading(t("figures", lang)), Images(tuple(run.figures(lang))))
    if run.renders():
        document.add(Heading(t("maps", lang)), Images(tuple(run.renders())))
    if run.pages():
        document.add(Heading(t("interactive", lang)), Links(tuple((p, p) for p in run.pages())))
    if run.notes.strip():
        document.add(Heading(t("findings", lang)), Raw(run.notes))
    document.add(Heading(t("all_kpis", lang)), kpi_table(run, lang))
    tables = run.tables()
    if tables:
        document.add(Heading(t("tables", lang)),
                     Links(tuple(link for name in tables for link in ((f"{name}.parquet", f"{name}.parquet"),
                                                                       (f"{name}.csv", f"{name}.csv")))))
    document.add(Heading(t("inputs", lang)))
    if run.scenario_text:
        document.add(Paragraph(f"{t('scenario_file', lang)}: `{run.manifest.get('scenario_file', 'scenario.toml')}`"),
                     Preformatted(run.scenario_text, "toml"))
    document.add(provenance_table(run.manifest, lang))
