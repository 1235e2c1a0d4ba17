"""The answer of a policy comparison (``gpu_queueing`` without a year plan): which scheduling
policy keeps most jobs within their service level, and whether each capacity meets its year's
demand under the policy the centre runs, judged by the same SLA as ``twin compute plan``
(:class:`twin.compute.plan.SlaTargets`), so the two say the same thing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from twin.compute.plan import SlaTargets
from twin.kpis import LANGS, catalogue
from twin.results import Answer

if TYPE_CHECKING:
    import pandas as pd

QUESTION = {
    "zh": "智算中心：哪种调度策略最能让作业按服务水平排队？一期与目标算力在各年需求下是否够用？",
    "en": "AI computing centre: which scheduling policy keeps most jobs within their service level, "
          "and does each capacity meet its year's demand?",
}


def _label(token: str, lang: str) -> str:
    return catalogue()["qualifiers"].get(token, {}).get(lang, token)


def _case(row: pd.Series, lang: str) -> str:
    p = f"{row['capacity_pflops']:,.0f}P"
    return f"{p}、{int(row['year'])}年需求" if lang == "zh" else f"{p} with {int(row['year'])} demand"


def _verdict(row: pd.Series, sla: SlaTargets, lang: str) -> str:
    small_h = row["small_job_p95_queued_s"] / 3600.0
    large_h = row["large_training_p95_queued_s"] / 3600.0
    met = sla.met(row.to_dict())
    waits = (f"小作业p95排队{small_h:.1f}小时、大训练{large_h:.1f}小时" if lang == "zh"
             else f"p95 queued {small_h:.1f} h for small jobs, {large_h:.1f} h for large training")
    if lang == "zh":
        return f"{_case(row, lang)}{'够用' if met else '不够用'}（{waits}）"
    return f"{_case(row, lang)} {'meets it' if met else 'falls short'} ({waits})"


def policy_answer(comparison: pd.DataFrame, focus_policy: str, sla: SlaTargets | None = None) -> Answer:
    """The policy with the highest mean SLA attainment over the cases (recommended), and per case
    whether ``focus_policy`` meets the plan's SLA there."""
    sla = sla or SlaTargets()
    attainment = comparison.groupby("policy", sort=False)["sla_attainment_pct"].mean()
    best = str(attainment.idxmax())
    per_case = comparison[comparison["policy"] == best]
    focus = comparison[comparison["policy"] == focus_policy]
    short = [row for _, row in focus.iterrows() if not sla.met(row.to_dict())]
    text, recommendation = {}, {}
    for lang in LANGS:
        shares = ("；" if lang == "zh" else "; ").join(
            f"{_case(row, lang)} {row['sla_attainment_pct']:.1f}%" for _, row in per_case.iterrows())
        verdicts = ("；" if lang == "zh" else "; ").join(_verdict(row, sla, lang) for _, row in focus.iterrows())
        rule = (f"小作业p95排队≤{sla.small_job_p95_wait_h:g}小时、大训练≤{sla.large_training_p95_wait_h:g}小时"
                if lang == "zh" else f"small jobs queued <= {sla.small_job_p95_wait_h:g} h and large training "
                f"<= {sla.large_training_p95_wait_h:g} h at p95")
        if lang == "zh":
            first = (f"首先不够用的是{_case(short[0], lang)}。" if short else "各情形均够用。")
            text[lang] = (f"{_label(best, lang)}让最多作业在服务水平内排队（{shares}），建议采用。"
                          f"按规划服务水平（{rule}）、在{_label(focus_policy, lang)}下：{verdicts}。{first}")
        else:
            first = (f"The first to fall short is {_case(short[0], lang)}." if short else "Every case meets it.")
            name = _label(best, lang)
            text[lang] = (f"{name[:1].upper() + name[1:]} keeps the most jobs within their service level ({shares}); "
                          f"recommended. Against the plan's SLA ({rule}) under {_label(focus_policy, lang)}: "
                          f"{verdicts}. {first}")
        recommendation[lang] = _label(best, lang)
    return Answer(text=text, question=dict(QUESTION), recommendation=recommendation)
