"""The words of reports, in Chinese and English: headings, captions and sentence templates.

KPI labels and units come from the KPI catalogue (:mod:`twin.kpis`); everything else a report
prints comes from :data:`TEXT`, so a page is wholly in one language.
"""

from __future__ import annotations

from typing import Any

TEXT: dict[str, dict[str, str]] = {
    "answer": {"zh": "结论", "en": "The answer"},
    "headline": {"zh": "关键指标", "en": "Key figures"},
    "options": {"zh": "方案比选", "en": "Options side by side"},
    "recommended": {"zh": "推荐", "en": "recommended"},
    "option": {"zh": "方案", "en": "option"},
    "people": {"zh": "受影响人口（按街道/镇）", "en": "People affected, by town and 街道"},
    "place": {"zh": "街道/镇", "en": "town / 街道"},
    "people_count": {"zh": "人口", "en": "people"},
    "figures": {"zh": "图表", "en": "Figures"},
    "maps": {"zh": "地图与三维场景", "en": "Maps and 3D views"},
    "interactive": {"zh": "交互式三维场景", "en": "Interactive 3D views"},
    "findings": {"zh": "说明与假设", "en": "Findings and assumptions"},
    "all_kpis": {"zh": "全部指标", "en": "All KPIs"},
    "kpi": {"zh": "指标", "en": "KPI"},
    "value": {"zh": "数值", "en": "value"},
    "interval": {"zh": "90%区间", "en": "90 % interval"},
    "name_in_data": {"zh": "字段名", "en": "name in kpis.json"},
    "tables": {"zh": "数据表", "en": "Tables"},
    "inputs": {"zh": "输入与来源", "en": "Inputs and provenance"},
    "scenario_file": {"zh": "情景文件", "en": "Scenario file"},
    "item": {"zh": "项目", "en": "item"},
    "seed": {"zh": "随机种子", "en": "seed"},
    "git_commit": {"zh": "代码版本", "en": "git commit"},
    "created": {"zh": "生成时间(UTC)", "en": "created (UTC)"},
    "replications": {"zh": "重复次数", "en": "replications"},
    "meta": {
        "zh": "种子 {seed}，自 {start} 起仿真 {duration}；{replications} 次重复；用时 {wall:.1f} 秒；代码 `{commit}`。",
        "en": "Seed {seed}, {duration} simulated from {start}; {replications} replication(s); "
              "wall time {wall:.1f} s; commit `{commit}`.",
    },
    "interval_note": {
        "zh": "数值为 {n} 次重复的均值；括号内为90%区间。",
        "en": "Values are means over {n} replications; brackets give the 90 % interval.",
    },
    "single_run": {
        "zh": "单次运行（种子 {seed}），无区间：在情景文件中设置 replications 以获得区间。",
        "en": "A single run (seed {seed}), so no interval: set replications in the scenario file for one.",
    },
    "difference_larger": {
        "zh": "{chosen}与{versus}之差为 {delta}（90%区间 {low}–{high}），大于随机波动。",
        "en": "The difference between {chosen} and {versus} is {delta} (90 % interval {low} to {high}), "
              "larger than the noise.",
    },
    "difference_not_larger": {
        "zh": "{chosen}与{versus}之差为 {delta}（90%区间 {low}–{high}），不大于随机波动：两者可视为相当。",
        "en": "The difference between {chosen} and {versus} is {delta} (90 % interval {low} to {high}), "
              "not larger than the noise: treat them as equal.",
    },
    "no_answer": {
        "zh": "本情景未给出文字结论，关键指标如下。",
        "en": "This scenario words no answer; its key figures follow.",
    },
    "sweep": {"zh": "参数扫描", "en": "Sweep"},
    "sweep_summary": {"zh": "扫描结果", "en": "Summary"},
    "sweep_note": {
        "zh": "各设置下成功重复的均值，括号内为95%区间（比例类指标用自助法，区间不越界）。",
        "en": "Mean of each KPI over the successful replications, with its 95 % interval in brackets "
              "(bootstrap for shares, so that the interval stays in range).",
    },
    "failed_runs": {"zh": "失败的运行", "en": "Failed runs"},
    "plots": {"zh": "图", "en": "Plots"},
    "command": {"zh": "命令（再次运行即可续跑或复现）", "en": "Command (re-run it to resume or reproduce)"},
    "runs": {"zh": "运行数", "en": "runs"},
    "failed": {"zh": "失败", "en": "failed"},
    "setting": {"zh": "设置", "en": "setting"},
    "replication": {"zh": "重复", "en": "replication"},
    "error": {"zh": "错误", "en": "error"},
    "index_questions": {"zh": "问题与结论", "en": "The questions and their answers"},
    "full_report": {"zh": "完整报告", "en": "Full report"},
    "kpis_count": {"zh": "{n} 项指标", "en": "{n} KPIs"},
    "question": {"zh": "问题", "en": "Question"},
    "report_of": {"zh": "{name}", "en": "{name}"},
}


def t(key: str, lang: str, **values: Any) -> str:
    """The text ``key`` in ``lang`` (``zh`` or ``en``), with ``values`` filled in."""
    entry = TEXT[key]
    text = entry.get(lang, entry["en"])
    return text.format(**values) if values else text
