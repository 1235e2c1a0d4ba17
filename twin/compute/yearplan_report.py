"""The year plan's tables, answer and PUE figure, in Chinese and English (answer first).

``yearplan`` (one row per stage and year, every class's figure and what runs short) and
``pue_by_month`` are written as tables; the report shows the year-by-year table as its options
table (``options``: one row per stage and year) and the monthly PUE as a figure.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.compute.power import PUE_REQUIRED_MAX, PUE_TARGET
from twin.compute.yearplan import YearPlanOutcome, YearPlanTable
from twin.kpis import LANGS, kpi_info
from twin.results import Answer

if TYPE_CHECKING:
    import pandas as pd

STAGE_LABEL = {"zh": "{name}（{p:,.0f}P）", "en": "{name} ({p:,.0f}P)"}
CLASS_LABEL = {
    "training": {"zh": "大模型训练（期限内完成）", "en": "training (finishing by its deadline)"},
    "inference": {"zh": "推理时延（首字时延目标）", "en": "inference latency (TTFT target)"},
    "batch": {"zh": "批处理排队（SLA）", "en": "batch queue wait (SLA)"},
    "power": {"zh": "电网容量", "en": "the grid cap"},
    "pue": {"zh": f"年均PUE（≤{PUE_REQUIRED_MAX}）", "en": f"annual PUE (<= {PUE_REQUIRED_MAX})"},
}
TABLE_METRICS = ("training_goodput_ratio", "training_wall_time_s", "inference_ttft_s", "inference_peak_gpus",
                 "batch_small_job_p95_queued_s", "batch_large_training_p95_queued_s", "facility_peak_mw",
                 "annual_pue_ratio", "short_classes_count")
TEXT = {
    "question": {"zh": "2024–2028年，一期2000P与目标10000P各在哪一年不够用、先在哪类负载上不够用，下一期应建多大？",
                 "en": "From 2024 to 2028, in which year does each build stage run short, on which workload "
                       "class first, and what should the next stage be?"},
    "short": {"zh": "{stage}在{year}年首先不够用，先出现在{classes}。",
              "en": "{stage} runs short in {year}, first on {classes}."},
    "never": {"zh": "{stage}在{first}–{last}年各类负载均达标。", "en": "{stage} meets every target {first}-{last}."},
    "next": {"zh": "下一期建议：约{devices:,}张{acc}（{p:,.0f}P），设施功率约{mw:.1f} MW，液冷占比{liquid:.0%}"
                   "（年均PUE {pue:.3f}，目标≤{target}）。",
             "en": "Next stage: about {devices:,} {acc} devices ({p:,.0f}P), about {mw:.1f} MW of facility power, "
                   "{liquid:.0%} liquid cooling (annual PUE {pue:.3f}, target <= {target})."},
    "figures": {"zh": "{year}年{stage}：训练有效产出{goodput}，批处理小作业p95排队{small}，年均PUE {pue}。",
                "en": "{stage} in {year}: training goodput {goodput}, small-batch p95 queued {small}, "
                      "annual PUE {pue}."},
    "join": {"zh": "、", "en": ", "},
    "month": {"zh": "月份", "en": "month"},
    "pue_title": {"zh": "各阶段逐月PUE（福州典型年）", "en": "PUE by month per stage (Fuzhou typical year)"},
}


def stage_label(name: str, pflops: float, lang: str) -> str:
    """A stage as people read it: its qualifier label from the catalogue and its P."""
    label = kpi_info(f"{name}_devices_gpus").label[lang].split(" · ")[0]
    return label if "P" in label else STAGE_LABEL[lang].format(name=label, p=pflops)


def tables(outcome: YearPlanOutcome, table: YearPlanTable, kpis: dict[str, float]) -> dict[str, pd.DataFrame]:
    """``yearplan`` (every figure), ``options`` (the year-by-year table the report shows) and
    ``pue_by_month``."""
    import pandas as pd  # deferred: heavy, and only a finished year plan needs it

    pflops = {s.name: s.capacity_pflops for s in table.stages}
    full = pd.DataFrame([{
        "stage": r.stage, "year": r.year, "devices": r.devices, "gang_devices": r.gang_devices,
        "training_goodput_ratio": r.training_goodput, "training_goodput_daly_ratio": r.training_goodput_daly,
        "training_wall_time_s": r.training_days * 86400.0, "inference_ttft_s": r.inference_ttft_s,
        "inference_peak_gpus": r.inference_peak_devices, "inference_mean_gpus": r.inference_mean_devices,
        "batch_nodes": r.batch_nodes, "batch_jobs": r.batch_jobs, "batch_offered_gpus": r.batch_offered_gpus,
        "batch_small_job_p95_queued_s": r.batch_small_p95_s, "batch_large_training_p95_queued_s": r.batch_large_p95_s,
        "batch_utilisation": r.batch_utilisation, "facility_peak_mw": r.facility_peak_mw,
        "grid_capped_h": r.capped_hours, "annual_pue_ratio": r.annual_pue, "facility_energy_mwh": r.facility_mwh,
        "short": ",".join(r.short),
    } for r in outcome.rows])
    options = pd.DataFrame([{
        "option": f"{r.stage}_{r.year}",
        **{f"label_{lang}": f"{stage_label(r.stage, pflops[r.stage], lang)} · {r.year}" for lang in LANGS},
        "recommended": False,
        # the means over the replications where they exist, else this run's value
        **{m: kpis.get(f"{r.stage}_{r.year}_{m}", math.nan) for m in TABLE_METRICS},
    } for r in outcome.rows])
    months = pd.DataFrame([{"stage": r.stage, "year": r.year, "month": m + 1, "pue_ratio": float(r.pue_by_month[m])}
                           for r in outcome.rows for m in range(12)])
    return {"yearplan": full, "options": options, "pue_by_month": months}


def tables_from_means(options: pd.DataFrame, kpis: dict[str, float]) -> pd.DataFrame:
    """The year-by-year table with every figure replaced by its mean over the replications."""
    options = options.copy()
    for metric in TABLE_METRICS:
        options[metric] = [kpis.get(f"{option}_{metric}", math.nan) for option in options["option"]]
    return options


def _fmt(name: str, kpis: dict[str, float], intervals: dict[str, dict[str, Any]], lang: str) -> str:
    """A KPI's mean and, over replications, its interval."""
    info = kpi_info(name)
    text = info.format(kpis.get(name, math.nan), lang)
    band = intervals.get(name)
    if band and band.get("low") is not None and band.get("high") is not None:
        # a t-interval of three replications can reach below zero; waits and ratios cannot
        low = max(band["low"], 0.0)
        text += f" ({info.format(low, lang)}–{info.format(band['high'], lang)})"
    return text


def answer(outcome_table: pd.DataFrame, table: YearPlanTable, kpis: dict[str, float],
           intervals: dict[str, dict[str, Any]], accelerator: str) -> Answer:
    """Which year each stage runs short and on what, the next stage, and the key figures."""
    text, recommendation = {}, {}
    years = sorted(table.years)
    for lang in LANGS:
        parts = []
        for stage in table.stages:
            label = stage_label(stage.name, stage.capacity_pflops, lang)
            rows = outcome_table[outcome_table["stage"] == stage.name].sort_values("year")
            short = rows[rows["short"] != ""]
            if len(short):
                first = short.iloc[0]
                classes = TEXT["join"][lang].join(CLASS_LABEL[c][lang] for c in str(first["short"]).split(","))
                parts.append(TEXT["short"][lang].format(stage=label, year=int(first["year"]), classes=classes))
                year = int(first["year"])
            else:
                parts.append(TEXT["never"][lang].format(stage=label, first=years[0], last=years[-1]))
                year = years[-1]
            prefix = f"{stage.name}_{year}"
            parts.append(TEXT["figures"][lang].format(
                stage=label, year=year, goodput=_fmt(f"{prefix}_training_goodput_ratio", kpis, intervals, lang),
                small=_fmt(f"{prefix}_batch_small_job_p95_queued_s", kpis, intervals, lang),
                pue=_fmt(f"{prefix}_annual_pue_ratio", kpis, intervals, lang)))
        nxt = {m: kpis.get(f"next_stage_{m}", math.nan) for m in
               ("devices_gpus", "pflops", "facility_mw", "liquid_share_ratio")}
        parts.append(TEXT["next"][lang].format(
            devices=int(nxt["devices_gpus"]), acc=accelerator, p=nxt["pflops"], mw=nxt["facility_mw"],
            liquid=nxt["liquid_share_ratio"], pue=kpis.get("next_stage_annual_pue_ratio", math.nan),
            target=PUE_TARGET))
        text[lang] = ("" if lang == "zh" else " ").join(parts)
        recommendation[lang] = f"{nxt['pflops']:,.0f}P / {nxt['facility_mw']:.1f} MW"
    return Answer(text=text, recommendation=recommendation, question=dict(TEXT["question"]))


def pue_figure(months: pd.DataFrame, lang: str) -> Any:
    """Monthly PUE of every stage (its cooling design, the last year's load), with 1.3 and 1.25."""
    import matplotlib  # deferred: heavy, and only the report's figures need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred, after choosing the backend

    fig, ax = plt.subplots(figsize=(8, 3.6))
    last = months["year"].max()
    for stage, group in months[months["year"] == last].groupby("stage", sort=False):
        label = kpi_info(f"{stage}_devices_gpus").label[lang].split(" · ")[0]
        ax.plot(group["month"], group["pue_ratio"], marker="o", label=f"{label} ({last})")
    ax.axhline(PUE_REQUIRED_MAX, color="tab:red", ls="--", lw=0.8, label="1.3")
    ax.axhline(PUE_TARGET, color="tab:orange", ls=":", lw=0.8, label="1.25")
    ax.set_xticks(np.arange(1, 13))
    ax.set_xlabel(TEXT["month"][lang])
    ax.set_ylabel("PUE")
    ax.set_title(TEXT["pue_title"][lang])
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def pue_notes(months: pd.DataFrame) -> list[str]:
    """The monthly PUE of each stage in the last year as a Markdown table (月份 / month)."""
    last = months["year"].max()
    frame = months[months["year"] == last].pivot(index="stage", columns="month", values="pue_ratio")
    header = "| 阶段 stage | " + " | ".join(str(m) for m in frame.columns) + " |"
    rule = "|---|" + "---:|" * len(frame.columns)
    rows = [f"| {stage} | " + " | ".join(f"{v:.3f}" for v in values) + " |" for stage, values in frame.iterrows()]
    return [f"PUE by month (月度PUE), {last}:\n\n" + "\n".join([header, rule, *rows])]
