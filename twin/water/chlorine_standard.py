"""Free chlorine against GB 5749-2022 (生活饮用水卫生标准): at least 0.05 mg/L at the network's
ends (管网末梢水), at most 2 mg/L anywhere (the limit of 出厂水 and 末梢水 alike).

:func:`network_ends` picks the ends: junctions with demand at the tip of a branch (one link) or
where every path of flow ends (no water passed on), where water is oldest and chlorine lowest; a
caller may name its own sampling points instead.
:func:`chlorine_check` judges every junction over a window of a quality run by its lowest and
highest residual, as a sampling programme that caught the worst hour would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kernels.hydraulics.codes import JUNCTION
from kernels.quality.codes import Q_STAGNANT_M3_PER_S
from twin.errors import InputError
from twin.water.network import CompiledNetwork
from twin.water.quality import HydraulicIntervals, QualityResults

if TYPE_CHECKING:
    import pandas as pd

MIN_END_CHLORINE_MG_PER_L = 0.05
"""GB 5749-2022 Table A.1: free chlorine in water at the network's ends, at least (mg/L)."""
MAX_CHLORINE_MG_PER_L = 2.0
"""GB 5749-2022 Table A.1: free chlorine, at most (mg/L)."""


def network_ends(net: CompiledNetwork, hyd: HydraulicIntervals | None = None) -> np.ndarray:
    """Per node, True for a junction with demand at an end of the network (末梢): a dead end (one
    link), or, given the hydraulics, a junction that passes no water on to any link in any
    interval (every path of flow ends there)."""
    degree = np.bincount(np.concatenate([net.start, net.end]), minlength=net.n_nodes)
    has_demand = np.zeros(net.n_nodes, dtype=bool)
    has_demand[: net.n_junctions] = net.base_demands() > 0
    end = degree == 1
    if hyd is not None and len(hyd.flow_m3_per_s):
        q = hyd.flow_m3_per_s
        moving = np.abs(q) > Q_STAGNANT_M3_PER_S
        upstream = np.where(q > 0, net.start[None, :], net.end[None, :])
        passes_on = np.zeros((len(q), net.n_nodes), dtype=bool)
        rows = np.broadcast_to(np.arange(len(q))[:, None], q.shape)
        passes_on[rows[moving], upstream[moving]] = True
        end |= ~passes_on.any(axis=0)
    return (net.node_kind == JUNCTION) & end & has_demand


def chlorine_check(results: QualityResults, net: CompiledNetwork, ends: list[str] | None = None,
                   window_s: float | None = None,
                   hyd: HydraulicIntervals | None = None) -> tuple[pd.DataFrame, dict[str, float]]:
    """Each junction's lowest and highest free chlorine (mg/L) over the last ``window_s`` of the run
    (all of it if ``None``) against GB 5749-2022, and KPIs for the report.

    ``ends`` names the sampling points at the network's ends (default :func:`network_ends`, of
    ``hyd`` when given).
    Returns the table ``node, is_end, min_mg_per_l, max_mg_per_l, below_min_at_end, above_max``
    and the KPIs ``network_ends_count``, ``ends_below_min_chlorine_count``,
    ``junctions_above_max_chlorine_count`` and ``min_end_chlorine_mg_per_l``.
    """
    # deferred: pandas is slow to import, and only the table needs it
    import pandas as pd

    if results.parameter != "chemical":
        raise InputError(f"parameter = {results.parameter}: the chlorine check needs a chemical run in mg/L")
    if ends is None:
        is_end = network_ends(net, hyd)
    else:
        unknown = [name for name in ends if name not in net.node_names]
        if unknown:
            raise InputError(f"end node = {unknown[0]}: not a node of the network")
        is_end = np.isin(np.asarray(net.node_names, dtype=object), list(ends))
    keep = np.ones(len(results.time_s), dtype=bool)
    if window_s is not None:
        keep = results.time_s >= results.time_s[-1] - window_s
    junction = net.node_kind == JUNCTION
    values = results.value[keep][:, junction]
    low, high = values.min(axis=0), values.max(axis=0)
    at_end = is_end[junction]
    table = pd.DataFrame({
        "node": np.asarray(net.node_names, dtype=object)[junction], "is_end": at_end,
        "min_mg_per_l": low, "max_mg_per_l": high,
        "below_min_at_end": at_end & (low < MIN_END_CHLORINE_MG_PER_L),
        "above_max": high > MAX_CHLORINE_MG_PER_L,
    })
    kpis = {
        "network_ends_count": int(at_end.sum()),
        "ends_below_min_chlorine_count": int(table.below_min_at_end.sum()),
        "junctions_above_max_chlorine_count": int(table.above_max.sum()),
        "min_end_chlorine_mg_per_l": float(low[at_end].min()) if at_end.any() else float("nan"),
    }
    return table, kpis
