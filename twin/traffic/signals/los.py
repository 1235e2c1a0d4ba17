"""Levels of service of a signalised junction: HCM 6 letters and GB 50647 grades."""

from __future__ import annotations

import math

from pydantic import Field

from twin.config import StrictModel

HCM_LOS_THRESHOLDS_S = (10.0, 20.0, 35.0, 55.0, 80.0)
"""HCM 6th ed. (Exhibit 19-8), signalised intersections: upper delay bounds of A–E (s/veh)."""


def hcm_los(delay_s_per_veh: float, v_over_c: float = 0.0) -> str:
    """HCM 6 level of service of a signalised junction or lane group; v/c > 1 is always F."""
    if not math.isfinite(delay_s_per_veh) or v_over_c > 1.0:
        return "F"
    for letter, bound in zip("ABCDE", HCM_LOS_THRESHOLDS_S, strict=True):
        if delay_s_per_veh <= bound:
            return letter
    return "F"


class GbLosTable(StrictModel):
    """A GB 50647 service-level table: grades with upper bounds of delay and load (负荷度).

    Default: GB 50647-2011《城市道路交叉口规划规范》附录 B, 表 B.0.1 (信号交叉口机动车服务水平) as
    commonly cited: 一级 delay < 30 s, 负荷度 < 0.6; 二级 30–50 s, 0.6–0.8; 三级 50–60 s, 0.8–0.9;
    四级 > 60 s, > 0.9. Check the edition in force and override in the scenario if it differs.
    """

    grades: list[str] = Field(default=["一级", "二级", "三级", "四级"], min_length=2)
    max_delay_s: list[float] = Field(default=[30.0, 50.0, 60.0], description="Upper delay bounds (s/veh).")
    max_load: list[float] = Field(default=[0.6, 0.8, 0.9], description="Upper bounds of 负荷度 (v/c).")


def gb_los(delay_s_per_veh: float, v_over_c: float, table: GbLosTable | None = None) -> str:
    """GB 50647 grade: the worse of the grade by delay and the grade by load (v/c)."""
    table = table or GbLosTable()
    last = len(table.grades) - 1

    def grade(value: float, bounds: list[float]) -> int:
        if not math.isfinite(value):
            return last
        for i, bound in enumerate(bounds):
            if value < bound:
                return i
        return last

    return table.grades[max(grade(delay_s_per_veh, table.max_delay_s), grade(v_over_c, table.max_load))]
