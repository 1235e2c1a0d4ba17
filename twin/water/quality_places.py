"""Water quality by town or 街道: which places get old water or too little chlorine.

:func:`quality_by_place` groups the junctions of a quality run by their place (the ``.inp``
``[TAGS]`` town, the city's zones, as :func:`twin.water.places.junction_places` resolves them) and
gives each place's junction count and the lowest, mean and highest value over a window of the
run; with a chlorine check, how many of its network ends fall below GB 5749-2022's minimum.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from kernels.hydraulics.codes import JUNCTION
from twin.water.network import CompiledNetwork
from twin.water.quality import QualityResults

if TYPE_CHECKING:
    import pandas as pd


def quality_by_place(results: QualityResults, net: CompiledNetwork, places: Sequence[str],
                     window_s: float | None = None, check: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per place: ``junctions_count``, ``min_``/``mean_``/``max_value`` and the mean weighted by
    base demand (``demand_weighted_mean_value``, what people draw), in ``results.units``, over the
    last ``window_s`` of the run (all of it if ``None``), sorted worst first by the demand-weighted
    mean (oldest water drawn; for a chemical, the least); with ``check`` (the chlorine check's table), ``ends_count``
    and ``ends_below_min_count`` too. ``places`` is per junction."""
    # deferred: pandas is slow to import, and only the table needs it
    import pandas as pd

    keep = np.ones(len(results.time_s), dtype=bool)
    if window_s is not None:
        keep = results.time_s >= results.time_s[-1] - window_s
    values = results.value[keep][:, net.node_kind == JUNCTION]
    demand = net.base_demands()
    frame = pd.DataFrame({"place": list(places)[: values.shape[1]], "min": values.min(axis=0),
                          "mean": values.mean(axis=0), "max": values.max(axis=0),
                          "weight": demand, "weighted": values.mean(axis=0) * demand})
    table = frame.groupby("place", sort=False).agg(
        junctions_count=("min", "size"), min_value=("min", "min"), mean_value=("mean", "mean"),
        max_value=("max", "max"), weight=("weight", "sum"), weighted=("weighted", "sum")).reset_index()
    # what people draw: each junction's mean weighted by its base demand (the plain mean if none)
    table["demand_weighted_mean_value"] = np.where(
        table.weight > 0, table.weighted / table.weight.where(table.weight > 0, 1.0), table.mean_value)
    table = table.drop(columns=["weight", "weighted"])
    if check is not None:
        ends = check.assign(place=frame.place.to_numpy()).groupby("place", sort=False).agg(
            ends_count=("is_end", "sum"), ends_below_min_count=("below_min_at_end", "sum")).reset_index()
        table = table.merge(ends, on="place", how="left")
    # worst first: the oldest water drawn, or the least chemical drawn (stagnant junctions without
    # demand make every place's minimum 0 or its maximum the run's length, so they cannot rank)
    low_first = results.parameter == "chemical"
    table = table.sort_values("demand_weighted_mean_value", ascending=low_first, kind="stable").reset_index(drop=True)
    table["units"] = results.units
    return table
