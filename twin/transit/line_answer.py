"""The recommended operating plan of a bus line and the answer that names it, in both languages.

A plan is one variant of the line (headway × fleet × holding × signal priority). The recommended
one is the cheapest that meets the scenario's targets (ties: the shorter wait, then the smaller
fleet); if none does, the one with the shortest wait, and the answer says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twin.kpis import LANGS
from twin.results import Answer

if TYPE_CHECKING:
    import pandas as pd

HOLDING = {
    "none": {"zh": "不驻站调节", "en": "no holding"},
    "headway": {"zh": "按间隔驻站调节", "en": "headway holding"},
    "schedule": {"zh": "按时刻表驻站调节", "en": "schedule holding"},
}
PRIORITY = {True: {"zh": "公交信号优先", "en": "signal priority"},
            False: {"zh": "无信号优先", "en": "no signal priority"}}
QUESTION = {
    "zh": "{line}线：多少分钟一班、配几辆车、是否驻站调节和信号优先，无人驾驶比有人驾驶省多少？",
    "en": "Line {line}: what headway and fleet, with or without holding and signal priority, and what "
          "does driverless operation save against crewed?",
}


def recommend(table: pd.DataFrame) -> int:
    """Row of the cheapest variant meeting the targets (ties: shorter wait); else the shortest wait."""
    ok = table[table["meets_targets"]]
    if ok.empty:
        return int(table["mean_wait_s"].idxmin())
    return int(ok.sort_values(["cost_cny_per_day", "mean_wait_s", "fleet_veh"]).index[0])


def plan_label(row: pd.Series, lang: str) -> str:
    """A variant as a planner says it: every 7.5 min with 9 buses, headway holding, signal priority."""
    minutes = f"{row['headway_s'] / 60:g}"
    if lang == "zh":
        return (f"每{minutes}分钟一班、{int(row['fleet_veh'])}辆车、{HOLDING[row['holding']]['zh']}、"
                f"{PRIORITY[bool(row['priority'])]['zh']}")
    return (f"every {minutes} min with {int(row['fleet_veh'])} buses, {HOLDING[row['holding']]['en']}, "
            f"{PRIORITY[bool(row['priority'])]['en']}")


def line_answer(line_id: str, kpis: dict[str, float], table: pd.DataFrame) -> Answer:
    """The recommended plan, its wait and punctuality, and the driverless saving per day."""
    row = table.loc[recommend(table)]
    met = bool(row["meets_targets"])
    n_ok, n_all = int(table["meets_targets"].sum()), len(table)
    wait_min, ontime = row["mean_wait_s"] / 60.0, row["on_time_pct"]
    auto, crew = row["autonomous_cost_cny_per_day"], row["crewed_cost_cny_per_day"]
    saving = 100.0 * (1.0 - auto / crew) if crew > 0 else 0.0
    text, recommendation = {}, {}
    for lang in LANGS:
        label = plan_label(row, lang)
        if lang == "zh":
            verdict = (f"{n_all}个方案中{n_ok}个满足服务目标" if met
                       else f"{n_all}个方案均未满足服务目标，此为候车最短者")
            text[lang] = (f"{line_id}线建议{label}：平均候车{wait_min:.1f}分钟、准点率{ontime:.0f}%；"
                          f"无人驾驶{auto / 1e4:.2f}万元/日，比有人驾驶{crew / 1e4:.2f}万元/日省{saving:.0f}%"
                          f"（{verdict}）。")
        else:
            verdict = (f"{n_ok} of {n_all} plans meet the service targets" if met
                       else f"none of the {n_all} plans meets the service targets; this one waits least")
            text[lang] = (f"Run line {line_id} {label}: mean wait {wait_min:.1f} min, {ontime:.0f} % on time; "
                          f"driverless {auto:,.0f} CNY/day against {crew:,.0f} crewed ({saving:.0f} % less; "
                          f"{verdict}).")
        recommendation[lang] = label
    question = {lang: QUESTION[lang].format(line=line_id) for lang in LANGS}
    return Answer(text=text, question=question, recommendation=recommendation)
