"""Town supply (城乡供水一体化): does every town keep the service head at the design-year peak?

A design day (:func:`design_day`) simulates the network with demand grown for the design year,
pressure-driven with full supply from the GB 50013 service head. :func:`town_table` judges every
town and street (乡镇/街道, from the junctions' town tags) by the lowest pressure any of its
inhabited junctions sees and the share of its demand delivered.

Where a town falls short, :func:`plan_upsizing` plans the reinforcement greedily: on the path of
least resistance from the sources to the worst junction, it upsizes the main with the largest
head loss per kilometre by one standard diameter, simulates the day again, and repeats until every
inhabited junction meets the service head (or the step limit, or a deficit no pipe can fix).
:func:`assess_town_supply` runs the whole assessment; :func:`mains_to_upsize` prices the answer
to "which mains to upsize" at indicative unit costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kernels.hydraulics.codes import CLOSED, JUNCTION, PIPE
from twin.water.hydraulic_results import HydraulicResults
from twin.water.network import CompiledNetwork
from twin.water.service import population_served, service_network
from twin.water.simulation import simulate

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd
    import wntr

DIAMETERS_MM = (100, 150, 200, 250, 300, 400, 500, 600, 700, 800, 1000, 1200, 1400)
"""Standard nominal diameters (DN) for upsizing."""
COST_CNY_PER_M = {
    100: 600,
    150: 800,
    200: 1000,
    250: 1250,
    300: 1500,
    400: 2000,
    500: 2600,
    600: 3200,
    700: 3900,
    800: 4600,
    1000: 6200,
    1200: 8000,
    1400: 10000,
}
"""Indicative installed cost of ductile-iron mains by DN (CNY/m, assumption for comparison only)."""
UPSIZING_COLUMNS = ["step", "pipe", "from_dn_mm", "to_dn_mm", "length_m", "unit_headloss_m_per_km",
                    "worst_junction", "worst_pressure_m"]
"""The columns of one upsizing step (:attr:`UpsizingPlan.steps`)."""


def junction_towns(wn: wntr.network.WaterNetworkModel, net: CompiledNetwork) -> list[str]:
    """Each junction's town (its ``[TAGS]`` tag in the ``.inp``; ``untagged`` without one)."""
    return [str(wn.get_node(name).tag or "untagged") for name in net.node_names[: net.n_junctions]]


def design_day(net: CompiledNetwork, growth: float, hours: int,
               service_head_m: float) -> tuple[CompiledNetwork, HydraulicResults]:
    """``hours`` from midnight with demand × ``growth``, pressure-driven from the service head,
    hourly; returns the design network and its results."""
    design = service_network(net, service_head_m)
    design.demand_multiplier *= growth
    return design, simulate(
        design, duration_s=hours * 3600, hydraulic_step_s=3600, report_step_s=3600, on_unbalanced="relax"
    )


def town_table(net: CompiledNetwork, result: HydraulicResults, population: np.ndarray, towns: list[str],
               service_head_m: float) -> pd.DataFrame:
    """Per town: inhabited junctions, least pressure and when, share of demand delivered."""
    # deferred: pandas is slow to import, and only the finished table needs it
    import pandas as pd

    nj = net.n_junctions
    pressure = result.pressure_m[:, :nj]
    rows = []
    for town in sorted(set(towns)):
        members = np.array([i for i in range(nj) if towns[i] == town and population[i] > 0], dtype=np.int64)
        if members.size == 0:
            continue
        sub = pressure[:, members]
        t, j = np.unravel_index(int(np.argmin(sub)), sub.shape)
        delivered = result.demand_m3_per_s[:, members].sum()
        required = result.required_m3_per_s[:, members].sum()
        rows.append(
            {
                "town": town,
                "population": float(population[members].sum()),
                "junctions": int(members.size),
                "min_pressure_m": float(sub[t, j]),
                "worst_hour_h": float(result.time_s[t] / 3600.0),
                "worst_junction": net.node_names[members[j]],
                # (pressure-driven demand may exceed what is asked by the solver's tolerance)
                "delivered_pct": min(100.0 * float(delivered / required), 100.0) if required > 0 else 100.0,
                "meets_service_head": bool(sub.min() >= service_head_m - 1e-6),
            }
        )
    return pd.DataFrame(rows)


# ---- planning the reinforcement ------------------------------------------------------------------------
@dataclass
class UpsizingPlan:
    """The greedy planner's answer."""

    network: CompiledNetwork
    """The network with the mains upsized."""
    design_day: HydraulicResults
    """Its design day."""
    steps: list[dict]
    """One row per upsizing step (:data:`UPSIZING_COLUMNS`)."""
    reason: str
    """Why the planner stopped."""


def plan_upsizing(net: CompiledNetwork, population: np.ndarray, growth: float, hours: int, service_head_m: float,
                  max_steps: int, min_unit_loss_m_per_km: float) -> UpsizingPlan:
    """Greedy reinforcement: upsize the steepest main on the worst junction's supply path, one
    standard DN at a time, until every inhabited junction meets the service head."""
    net = net.copy()
    steps: list[dict] = []
    for _ in range(max_steps + 1):
        _, result = design_day(net, growth, hours, service_head_m)
        worst, low = _worst_junction(net, result, population)
        if low >= service_head_m - 1e-6:
            return UpsizingPlan(net, result, steps, "every inhabited junction meets the service head")
        if len(steps) >= max_steps:
            return UpsizingPlan(net, result, steps, f"stopped after {max_steps} upsizing steps")
        main, why_not = _steepest_main(net, result, worst, min_unit_loss_m_per_km)
        if main is None:
            return UpsizingPlan(net, result, steps, why_not)
        unit, name, k, dn, new_dn = main
        steps.append(dict(zip(UPSIZING_COLUMNS, (
            len(steps) + 1, name, dn, new_dn, float(net.length_m[k]), unit, net.node_names[worst], low,
        ), strict=True)))
        net.set_pipe_diameter(k, new_dn / 1000.0)
    return UpsizingPlan(net, result, steps, "step limit")


def _worst_junction(net: CompiledNetwork, result: HydraulicResults, population: np.ndarray) -> tuple[int, float]:
    """The inhabited junction with the least pressure of the day, and that pressure (m)."""
    pressure = result.pressure_m[:, : net.n_junctions]
    low = np.where(population > 0, pressure.min(axis=0), np.inf)
    worst = int(np.argmin(low))
    return worst, float(low[worst])


def _steepest_main(net: CompiledNetwork, result: HydraulicResults, worst: int,
                   min_unit_loss_m_per_km: float) -> tuple[tuple[float, str, int, int, int] | None, str]:
    """``(unit head loss m/km, pipe, link, DN, next DN)`` of the main to upsize on the worst
    junction's supply path at its worst hour, or ``None`` and why there is none."""
    t = int(np.argmin(result.pressure_m[:, worst]))
    heads = result.head_m[t]
    loss = np.abs(heads[net.start] - heads[net.end])
    graph = _open_links(net, result.status[t], loss)
    sources = [int(n) for n in np.flatnonzero(net.node_kind != JUNCTION) if n in graph]
    if worst not in graph or not sources:
        return None, f"junction {net.node_names[worst]} has no open path to a source"
    path = _least_resistance_path(graph, sources, worst)
    candidates = []
    for a, b in zip(path, path[1:], strict=False):
        k = graph.edges[a, b]["link"]
        if net.kind[k] <= PIPE and net.length_m[k] > 0:
            unit = loss[k] / net.length_m[k] * 1000.0
            dn = int(round(net.diameter_m[k] * 1000))
            bigger = [d for d in DIAMETERS_MM if d > dn]
            if unit >= min_unit_loss_m_per_km and bigger:
                candidates.append((unit, net.link_names[k], k, dn, bigger[0]))
    if not candidates:
        return None, (
            f"no main on the supply path of {net.node_names[worst]} loses {min_unit_loss_m_per_km:g} m/km or "
            "more: the remaining deficit is one of pump head or ground elevation (a pump station's head, a "
            "booster or a tank is the remedy, not a bigger pipe)"
        )
    return max(candidates), ""


def _open_links(net: CompiledNetwork, status: np.ndarray, loss: np.ndarray) -> nx.Graph:
    """The links open at one time as a graph weighted by their head loss (m)."""
    # deferred: networkx is slow to import, and only the planner's path search needs it
    import networkx as nx

    graph = nx.Graph()
    for k in range(net.n_links):
        if status[k] > CLOSED:  # links carrying flow only
            graph.add_edge(int(net.start[k]), int(net.end[k]), weight=float(loss[k]) + 1e-9, link=k)
    return graph


def _least_resistance_path(graph: nx.Graph, sources: list[int], target: int) -> list[int]:
    """The node path of least head loss from any source to ``target``."""
    # deferred: networkx is slow to import, and only the planner's path search needs it
    import networkx as nx

    _, path = nx.multi_source_dijkstra(graph, set(sources), target=target, weight="weight")
    return path


def mains_to_upsize(steps: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The steps as a table, and per main its DN before and after and its indicative cost (CNY)."""
    # deferred: pandas is slow to import, and only the finished table needs it
    import pandas as pd

    upsizes = pd.DataFrame(steps, columns=UPSIZING_COLUMNS)
    mains = (
        upsizes.groupby("pipe", sort=False)
        .agg(from_dn_mm=("from_dn_mm", "first"), to_dn_mm=("to_dn_mm", "last"), length_m=("length_m", "first"))
        .reset_index()
    )
    mains["cost_cny"] = [
        COST_CNY_PER_M[int(d)] * length for d, length in zip(mains["to_dn_mm"], mains["length_m"], strict=True)
    ]
    return upsizes, mains


# ---- the assessment --------------------------------------------------------------------------------------
@dataclass
class TownSupply:
    """The assessment: the towns as built and with the planned mains, and the plan itself."""

    population: np.ndarray
    """Residents per junction."""
    as_built: HydraulicResults
    """The design day on the network as built."""
    towns: pd.DataFrame
    """:func:`town_table` as built."""
    towns_after: pd.DataFrame
    """:func:`town_table` with the upsized mains."""
    plan: UpsizingPlan
    upsizing_steps: pd.DataFrame
    mains: pd.DataFrame
    """Per main to upsize: ``pipe, from_dn_mm, to_dn_mm, length_m, cost_cny``."""


def assess_town_supply(net: CompiledNetwork, towns: list[str], growth: float, hours: int, service_head_m: float,
                       max_upsizes: int, min_unit_loss_m_per_km: float) -> TownSupply:
    """The design day as built, the town table, and the upsizing plan with its town table."""
    population = population_served(net)
    _, as_built = design_day(net, growth, hours, service_head_m)
    before = town_table(net, as_built, population, towns, service_head_m)
    plan = plan_upsizing(net, population, growth, hours, service_head_m, max_upsizes, min_unit_loss_m_per_km)
    after = town_table(plan.network, plan.design_day, population, towns, service_head_m)
    upsizes, mains = mains_to_upsize(plan.steps)
    return TownSupply(population, as_built, before, after, plan, upsizes, mains)
