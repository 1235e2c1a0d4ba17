"""The typhoon day's timeline figure: rain, closed roads, people below service pressure and GPUs
in service on one clock, with the cascade's events marked and the hour that decides the day shaded."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

TEXT = {
    "title": {"zh": "台风日：一个时钟上的级联", "en": "The typhoon day: the cascade on one clock"},
    "rain": {"zh": "雨强 (毫米/小时)", "en": "rain (mm/h)"},
    "closed": {"zh": "积水封闭路段", "en": "road links closed"},
    "water": {"zh": "新增水压不足人口", "en": "people below service\n(added by outages)"},
    "gpus": {"zh": "在役GPU", "en": "GPUs in service"},
    "hour": {"zh": "决定性时段", "en": "hour that decides the day"},
    "clock": {"zh": "时刻", "en": "time of day"},
}
SYSTEM_COLOUR = {"rain": "tab:blue", "roads": "tab:orange", "water": "tab:green", "compute": "tab:purple"}


def timeline_figure(lang: str, over_time: pd.DataFrame, events: pd.DataFrame, decisive_hour_s: float,
                    clock: Callable[[float], str]) -> Figure:
    """Four stacked panels over the day (``over_time`` columns ``time_s``, ``rain_mm_per_h``,
    ``closed_links``, ``people_below_service_added``, ``gpus_in_service``) with ``events``
    (``time_s``, ``system``) as ticks in the system's colour."""
    import matplotlib  # deferred: heavy, and only the figure needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred, after choosing the backend

    fig, axes = plt.subplots(4, 1, figsize=(11, 8), sharex=True)
    hours = over_time["time_s"].to_numpy() / 3600.0
    panels = [("rain_mm_per_h", "rain", "rain"), ("closed_links", "closed", "roads"),
              ("people_below_service_added", "water", "water"), ("gpus_in_service", "gpus", "compute")]
    for ax, (column, label, system) in zip(axes, panels, strict=True):
        ax.step(hours, over_time[column].to_numpy(), where="post", color=SYSTEM_COLOUR[system], lw=1.2)
        ax.set_ylabel(TEXT[label][lang])
        ax.axvspan(decisive_hour_s / 3600.0, decisive_hour_s / 3600.0 + 1.0, color="tab:red", alpha=0.12,
                   label=TEXT["hour"][lang] if system == "rain" else None)
        for t in events.loc[events["system"] == system, "time_s"].to_numpy():
            ax.axvline(t / 3600.0, color=SYSTEM_COLOUR[system], lw=0.6, ls=":")
    axes[0].legend(loc="upper right")
    axes[0].set_title(TEXT["title"][lang])
    ticks = np.arange(0.0, hours.max(initial=0.0) + 1e-9, 3.0)
    axes[-1].set_xticks(ticks)
    axes[-1].set_xticklabels([clock(t * 3600.0) for t in ticks])
    axes[-1].set_xlabel(TEXT["clock"][lang])
    fig.tight_layout()
    return fig
