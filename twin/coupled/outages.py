"""Outage intervals: when a facility is down, from a hazard's series and a threshold.

Used for flooded water facilities (depth at the site) and for the grid's derate of the compute
centre (rain intensity as the storm's proxy for wind on the lines).
"""

from __future__ import annotations

import numpy as np


def outage_intervals(time_s: np.ndarray, depth_m: np.ndarray, flood_depth_m: float,
                     restart_delay_s: float) -> list[tuple[float, float]]:
    """When a facility whose hazard is ``depth_m[k]`` at ``time_s[k]`` is stopped: ``[(stop_s, restart_s)]``.

    It stops at the first time the depth reaches ``flood_depth_m`` and restarts
    ``restart_delay_s`` after the first later time the depth is below it again (merged if it floods
    again before restarting); an outage still on at the end runs to +inf.
    """
    wet = np.asarray(depth_m) >= flood_depth_m
    out: list[tuple[float, float]] = []
    k = 0
    while k < len(wet):
        if not wet[k]:
            k += 1
            continue
        stop = float(time_s[k])
        while k < len(wet) and wet[k]:
            k += 1
        restart = float(time_s[k]) + restart_delay_s if k < len(wet) else np.inf
        if out and stop <= out[-1][1]:
            out[-1] = (out[-1][0], restart)
        else:
            out.append((stop, restart))
    return out


def stopped_at(intervals: list[tuple[float, float]], time_s: float) -> bool:
    """Whether ``time_s`` falls in one of the outage ``intervals`` (stop inclusive, restart exclusive)."""
    return any(start <= time_s < end for start, end in intervals)
