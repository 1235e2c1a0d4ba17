"""Measures of signal strategies over their runs: per junction, per network, and the ranking.

Functions over :class:`~twin.traffic.comparison.StrategyRun` results, after WNTR's metrics: the
model's own tables (:meth:`~twin.traffic.model.TrafficModel.junction_table`, ``kpis``) graded by
level of service and gathered across strategies.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from twin.traffic.comparison import StrategyRun
from twin.traffic.network import TrafficNetwork
from twin.traffic.signals.los import GbLosTable, gb_los, hcm_los


def junction_measures(
    run: StrategyRun, network: TrafficNetwork, pilot: set[str], gb_table: GbLosTable
) -> pd.DataFrame:
    """Per pilot junction: delay and LOS (HCM 6, GB 50647), queues, v/c, stops."""
    nodes = [network.controller_node(c) for c in sorted(pilot)]
    table = run.model.junction_table(nodes)
    table.insert(0, "strategy", run.strategy)
    table["los_hcm"] = [
        hcm_los(d, x) for d, x in zip(table["control_delay_s_per_veh"], table["v_over_c_ratio"], strict=True)
    ]
    table["los_gb"] = [
        gb_los(d, x, gb_table)
        for d, x in zip(table["control_delay_s_per_veh"], table["v_over_c_ratio"], strict=True)
    ]
    cycles = {str(network.controller_node(p.controller)): p.cycle_s for p in run.plans.plans}
    table["cycle_s"] = [cycles.get(n, math.nan) for n in table["node"]]
    return table


def network_measures(run: StrategyRun, duration_s: float) -> dict[str, float]:
    """Network throughput (veh/h over the measured ``duration_s``), mean travel time, TTI, what is
    left in the network at the end, and gridlocks."""
    kpis = run.model.kpis()
    return {
        "throughput_veh_per_h": kpis["throughput_veh"] * 3600.0 / duration_s,
        "mean_travel_time_s": kpis["mean_travel_time_s"],
        "tti_ratio": kpis["travel_time_index_ratio"],
        "in_network_end_veh": kpis["in_network_veh"],
        "waiting_to_depart_end_veh": kpis["waiting_to_depart_veh"],
        "gridlocks_count": kpis["gridlocks_count"],
    }


def rank_strategies(
    junctions: pd.DataFrame, network_rows: dict[str, dict[str, float]], baseline: str
) -> pd.DataFrame:
    """Strategies ranked by the pilot's volume-weighted control delay (then by network TTI)."""
    rows = []
    for strategy, group in junctions.groupby("strategy", sort=False):
        volume = group["volume_veh"].sum()
        delay = (
            float((group["control_delay_s_per_veh"] * group["volume_veh"]).sum() / volume)
            if volume
            else math.nan
        )
        rows.append(
            {
                "strategy": strategy,
                "pilot_delay_s_per_veh": delay,
                "pilot_volume_veh": int(volume),
                "junctions_los_e_or_f_count": int(group["los_hcm"].isin(["E", "F"]).sum()),
                "worst_junction_delay_s_per_veh": float(group["control_delay_s_per_veh"].max()),
                "max_queue_m": float(group["max_queue_m"].max()),
                "mean_v_over_c_ratio": float(group["v_over_c_ratio"].mean()),
                **network_rows[strategy],
            }
        )
    table = pd.DataFrame(rows)
    base = table.loc[table["strategy"] == baseline, "pilot_delay_s_per_veh"].iloc[0]
    table["delay_change_vs_baseline_pct"] = (
        100.0 * (table["pilot_delay_s_per_veh"] - base) / base if base else math.nan
    )
    table = table.sort_values(["pilot_delay_s_per_veh", "tti_ratio"], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table
