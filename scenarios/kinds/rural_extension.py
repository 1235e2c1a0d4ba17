"""城乡供水一体化: does the extension of urban mains to the towns keep service pressure at the peak?

The ``town_supply`` kind simulates a design day on the water network - demand grown by
``[demand] growth`` (for a design year), pressure-driven with full supply from the GB 50013 service
head - and reports, for every town and street (乡镇/街道, from the junctions' town tags), the lowest
pressure any of its inhabited junctions sees and the share of its demand delivered.

If some town falls below the service head, it plans the reinforcement: it finds, on the path of
least resistance from the sources to the worst junction, the main with the largest head loss per
kilometre and upsizes it one standard diameter, simulates the day again, and repeats until every
inhabited junction meets the service head (or the step limit). The mains to upsize, their lengths
and an indicative cost are the answer to "which mains to upsize".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from scenarios.registry import scenario_kind
from twin.config import ScenarioFile, StrictModel
from twin.engine import Engine
from twin.errors import InputError
from twin.results import RunResult

if TYPE_CHECKING:
    import pandas as pd

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


class NetworkTable(StrictModel):
    """The ``[network]`` table (default: the bundled Changle network)."""

    inp: str | None = Field(
        default=None, description="EPANET .inp file; default: the dataset's changle_water.inp."
    )


class DemandTable(StrictModel):
    """The ``[demand]`` table."""

    growth: float = Field(default=1.3, gt=0, le=5, description="Demand multiplier for the design year.")
    day_h: int = Field(default=24, ge=1, le=72, description="Hours simulated (from midnight).")


class PlanTable(StrictModel):
    """The ``[plan]`` table."""

    service_head_m: float = Field(default=28.0, gt=0, le=100, description="GB 50013 service head (m).")
    max_upsizes: int = Field(default=60, ge=0, le=1000, description="Most upsizing steps tried.")
    min_unit_headloss_m_per_km: float = Field(
        default=1.0, ge=0, description="Mains losing less than this are not worth upsizing (m/km)."
    )


class TownSupplyFile(ScenarioFile):
    """A ``town_supply`` scenario file."""

    network: NetworkTable = NetworkTable()
    demand: DemandTable = DemandTable()
    plan: PlanTable = PlanTable()


def _design_day(net, growth: float, hours: int, service_head: float):
    from twin.water.service import service_network
    from twin.water.simulation import simulate

    design = service_network(net, service_head)
    design.demand_multiplier *= growth
    return design, simulate(
        design, duration_s=hours * 3600, hydraulic_step_s=3600, report_step_s=3600, on_unbalanced="relax"
    )


def town_table(net, result, population, towns: list[str], service_head: float):
    """Per town: inhabited junctions, least pressure and when, share of demand delivered."""
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
                "meets_service_head": bool(sub.min() >= service_head - 1e-6),
            }
        )
    return pd.DataFrame(rows)


def plan_upsizing(
    net, population, growth: float, hours: int, service_head: float, max_steps: int, min_unit_loss: float
):
    """Greedy reinforcement: upsize the steepest main on the worst junction's supply path."""
    import networkx as nx

    net = net.copy()
    steps: list[dict] = []
    reason = "every inhabited junction meets the service head"
    for _ in range(max_steps + 1):
        design, result = _design_day(net, growth, hours, service_head)
        nj = net.n_junctions
        pressure = result.pressure_m[:, :nj]
        inhabited = population > 0
        low = np.where(inhabited, pressure.min(axis=0), np.inf)
        worst = int(np.argmin(low))
        if low[worst] >= service_head - 1e-6:
            return net, result, steps, reason
        if len(steps) >= max_steps:
            return net, result, steps, f"stopped after {max_steps} upsizing steps"
        t = int(np.argmin(pressure[:, worst]))
        heads = result.head_m[t]
        loss = np.abs(heads[net.start] - heads[net.end])
        graph = nx.Graph()
        for k in range(net.n_links):
            if result.status[t, k] > 2:  # open links only
                graph.add_edge(int(net.start[k]), int(net.end[k]), weight=float(loss[k]) + 1e-9, link=k)
        sources = [int(n) for n in np.flatnonzero(net.node_kind != 0) if n in graph]
        if worst not in graph or not sources:
            return net, result, steps, f"junction {net.node_names[worst]} has no open path to a source"
        lengths, paths = nx.multi_source_dijkstra(graph, set(sources), target=worst, weight="weight")
        path = paths
        candidates = []
        for a, b in zip(path, path[1:], strict=False):
            k = graph.edges[a, b]["link"]
            if net.kind[k] <= 1 and net.length_m[k] > 0:
                unit = loss[k] / net.length_m[k] * 1000.0
                dn = int(round(net.diameter_m[k] * 1000))
                bigger = [d for d in DIAMETERS_MM if d > dn]
                if unit >= min_unit_loss and bigger:
                    candidates.append((unit, net.link_names[k], k, dn, bigger[0]))
        if not candidates:
            return (
                net,
                result,
                steps,
                (
                    f"no main on the supply path of {net.node_names[worst]} loses "
                    f"{min_unit_loss:g} m/km or more: "
                    "the remaining deficit is one of pump head or ground elevation (a pump station's head, a "
                    "booster or a tank is the remedy, not a bigger pipe)"
                ),
            )
        unit, name, k, dn, new_dn = max(candidates)
        steps.append(
            {
                "step": len(steps) + 1,
                "pipe": name,
                "from_dn_mm": dn,
                "to_dn_mm": new_dn,
                "length_m": float(net.length_m[k]),
                "unit_headloss_m_per_km": unit,
                "worst_junction": net.node_names[worst],
                "worst_pressure_m": float(low[worst]),
            }
        )
        net.diameter_m[k] = new_dn / 1000.0
        net._derived.pop("resistance", None)
    return net, result, steps, "step limit"


def _plots(before, after, service_head: float):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 5))
    x = np.arange(len(before))
    ax.bar(x - 0.2, before["min_pressure_m"], width=0.4, label="as built", color="#9ecae1")
    merged = after.set_index("town").reindex(before["town"])
    ax.bar(x + 0.2, merged["min_pressure_m"], width=0.4, label="with upsized mains", color="#3182bd")
    ax.axhline(service_head, color="red", ls="--", lw=1, label=f"service head {service_head:g} m")
    ax.set_xticks(x, before["town"], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("least pressure over the design day (m)")
    ax.set_title("Service pressure at every town under the design-year peak")
    ax.legend()
    fig.tight_layout()
    return fig


def _map(net, steps, towns_frame, junction_town):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    xy = net.node_xy
    fig, ax = plt.subplots(figsize=(10, 9))
    pipes = np.stack([xy[net.start], xy[net.end]], axis=1)
    ax.add_collection(LineCollection(pipes, colors="#9ecae1", linewidths=0.3 + 3 * net.diameter_m))
    upsized = [net.link_index(s["pipe"]) for s in steps]
    if upsized:
        ax.add_collection(
            LineCollection(pipes[upsized], colors="#de2d26", linewidths=3, label="mains to upsize")
        )
    low = towns_frame.set_index("worst_junction")
    for name, row in low.iterrows():
        i = net.node_index(name)
        color = "#31a354" if row["meets_service_head"] else "#de2d26"
        ax.scatter(*xy[i], s=30, color=color, zorder=3)
        ax.annotate(
            f"{row['town']} {row['min_pressure_m']:.0f} m",
            xy[i],
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    sources = np.flatnonzero(net.node_kind != 0)
    ax.scatter(xy[sources, 0], xy[sources, 1], marker="s", s=40, color="#2171b5", label="plants and tanks")
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_title("Towns' least pressure (as built) and the mains to upsize")
    ax.set_xlabel("x (EPSG:4549, m)")
    ax.set_ylabel("y (m)")
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def assess(config: TownSupplyFile, net, junction_town: list[str]) -> RunResult:
    """Run the assessment on a compiled network with a town tag per junction."""
    import pandas as pd

    from twin.water.service import population_served

    service_head = config.plan.service_head_m
    population = population_served(net)
    growth, hours = config.demand.growth, config.demand.day_h
    _, before_result = _design_day(net, growth, hours, service_head)
    before = town_table(net, before_result, population, junction_town, service_head)
    planned, after_result, steps, reason = plan_upsizing(
        net,
        population,
        growth,
        hours,
        service_head,
        config.plan.max_upsizes,
        config.plan.min_unit_headloss_m_per_km,
    )
    after = town_table(planned, after_result, population, junction_town, service_head)
    upsizes = pd.DataFrame(
        steps,
        columns=[
            "step",
            "pipe",
            "from_dn_mm",
            "to_dn_mm",
            "length_m",
            "unit_headloss_m_per_km",
            "worst_junction",
            "worst_pressure_m",
        ],
    )
    final = (
        upsizes.groupby("pipe", sort=False)
        .agg(
            from_dn_mm=("from_dn_mm", "first"), to_dn_mm=("to_dn_mm", "last"), length_m=("length_m", "first")
        )
        .reset_index()
    )
    final["cost_cny"] = [
        COST_CNY_PER_M[int(d)] * length
        for d, length in zip(final["to_dn_mm"], final["length_m"], strict=True)
    ]
    failing = before[~before["meets_service_head"]]
    kpis = {
        "towns_count": float(len(before)),
        "towns_below_service_head_count": float(len(failing)),
        "population_below_service_head_count": float(failing["population"].sum()),
        "min_town_pressure_m": float(before["min_pressure_m"].min()),
        "min_town_pressure_after_upsizing_m": float(after["min_pressure_m"].min()),
        "towns_below_service_head_after_upsizing_count": float((~after["meets_service_head"]).sum()),
        "mains_to_upsize_count": float(len(final)),
        "upsized_length_km": float(final["length_m"].sum() / 1000.0),
        "upsizing_cost_cny": float(final["cost_cny"].sum()),
        "delivered_pct": min(
            100.0
            * float(before_result.demand_m3_per_s[:, : net.n_junctions].sum())
            / max(float(before_result.required_m3_per_s.sum()), 1e-12),
            100.0,
        ),
    }
    notes = [
        f"Design day: demand × {growth:g}, pressure-driven with full supply from the {service_head:g} m "
        f"GB 50013 service head; {len(before)} towns and streets, judged by their inhabited junctions' least "
        "pressure over the day.",
    ]
    if failing.empty:
        notes.append("Every town keeps the service head at the design-year peak; no main needs upsizing.")
    else:
        names = ", ".join(
            f"{r.town} ({r.min_pressure_m:.1f} m at {r.worst_hour_h:.0f}:00)" for r in failing.itertuples()
        )
        notes.append(f"Below the service head: {names}.")
        notes.append(
            f"Upsizing {len(final)} mains ({kpis['upsized_length_km']:.1f} km, indicative "
            f"{kpis['upsizing_cost_cny'] / 1e6:.1f} million CNY at assumed unit costs) brings the least town "
            f"pressure to {kpis['min_town_pressure_after_upsizing_m']:.1f} m; the planner ended "
            f"because {reason}."
        )
    towns = before.merge(
        after[["town", "min_pressure_m", "delivered_pct"]], on="town", suffixes=("", "_after_upsizing")
    )
    return RunResult(
        kpis=kpis,
        tables={
            "towns": towns, "mains_to_upsize": final, "upsizing_steps": upsizes,
            # the CIM render colours the mains by each junction's least pressure of the design day
            "cim_water_nodes": pd.DataFrame({
                "node": net.node_names[: net.n_junctions],
                "pressure_m": before_result.pressure_m[:, : net.n_junctions].min(axis=0),
            }),
            "cim_focus": _focus_on(net, failing, f"Least pressure of the design day (demand × {growth:g})"),
        },
        figures={
            "town_pressures": _plots(before, after, service_head),
            "upsizing_map": _map(net, steps, before, junction_town),
        },
        notes=notes,
        headline=["towns_below_service_head_count", "min_town_pressure_m", "mains_to_upsize_count",
                  "upsizing_cost_cny", "min_town_pressure_after_upsizing_m"],
    )


@scenario_kind(
    "town_supply", TownSupplyFile, "城乡供水一体化: town service pressure at the peak, mains to upsize"
)
def run(config: TownSupplyFile, engine: Engine) -> RunResult:  # noqa: ARG001 - no random draws
    """Assess the bundled (or given) network's town supply."""
    from pathlib import Path

    from twin.paths import data_dir
    from twin.water.compile import compile_network
    from twin.water.epanet_io import read_inp

    inp = Path(config.network.inp) if config.network.inp else data_dir() / "changle_water.inp"
    if not inp.exists():
        raise InputError("[network] inp: water network not found (build it with gis_data/build.py)", inp)
    wn = read_inp(inp)
    net = compile_network(wn, str(inp))
    towns = [str(wn.get_node(name).tag or "untagged") for name in net.node_names[: net.n_junctions]]
    return assess(config, net, towns)


def _focus_on(net, failing: pd.DataFrame, label: str) -> pd.DataFrame:
    """A ``cim_focus`` row around the worst junctions of the towns below the service head, or
    over the whole district when every town passes."""
    from twin.cim import focus_table
    from twin.city.folder import load_city
    from twin.crs import to_storage

    city = load_city()
    if failing.empty:
        centre = city.boundary.geometry.iloc[0].centroid
        return focus_table([centre.x], [centre.y], label, min_radius_m=16_000.0)
    index = {name: i for i, name in enumerate(net.node_names)}
    xy = net.node_xy[[index[name] for name in failing["worst_junction"]]]
    names = dict(zip(city.towns["town_id"], city.towns["name_zh"], strict=True)) if city.towns is not None else {}
    towns = "、".join(names.get(town, town) for town in failing["town"])
    return focus_table(*to_storage(xy[:, 0], xy[:, 1]), f"{label}: {towns}", min_radius_m=3_000.0, margin_m=2_500.0)
