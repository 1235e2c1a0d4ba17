"""城乡供水一体化: the ``town_supply`` scenario kind - do the mains extended to the towns keep the
service head at every town and street under the design-year peak, and if not, which mains to upsize?

The model is :mod:`twin.water.town_supply`: a design day with demand grown by ``[demand] growth``,
pressure-driven with full supply from the GB 50013 service head, judged town by town (乡镇/街道,
from the junctions' town tags) by the least pressure of their inhabited junctions and the share of
demand delivered; where a town falls short, a greedy planner upsizes mains one standard diameter
at a time. This module reads the scenario file (``[network]``, ``[demand]``, ``[plan]``), loads
the network, calls the model and reports: KPIs, the towns, the mains to upsize with their
indicative cost, figures and the CIM's focus.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from scenarios.registry import scenario_kind
from scenarios.validation import CheckContext, SizeEstimate
from twin.cim import focus_table
from twin.city.folder import City, load_city
from twin.config import ScenarioFile, StrictModel
from twin.crs import to_storage
from twin.engine import Engine
from twin.errors import InputError
from twin.paths import data_dir
from twin.plot_style import in_both_languages
from twin.results import Answer, RunResult
from twin.water.burst_figures import lonlat_ticks
from twin.water.compile import compile_network
from twin.water.epanet_io import read_inp
from twin.water.network import CompiledNetwork
from twin.water.places import OPTIONS_TABLE, PEOPLE_TABLE, inp_sections, junction_places
from twin.water.town_report import people_short, supply_answer, supply_layers, supply_options
from twin.water.town_supply import TownSupply, assess_town_supply, junction_towns

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


class NetworkTable(StrictModel):
    """The ``[network]`` table (default: the bundled Changle network)."""

    inp: str | None = Field(
        default=None, description="EPANET .inp file; default: the dataset's water.inp."
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


def run(config: TownSupplyFile, engine: Engine) -> RunResult:  # noqa: ARG001 - no random draws
    """Assess the city's (or the given) network's town supply."""
    city = load_city()
    inp = network_inp(config, city)
    if not inp.exists():
        raise InputError("[network] inp: water network not found (import one with twin data import-inp)", inp)
    wn = read_inp(inp)
    net = compile_network(wn, str(inp))
    return assess(config, net, junction_places(net, junction_towns(wn, net), city), city=city)


def network_inp(config: TownSupplyFile, city: City | None) -> Path:
    """``[network] inp``, else the city's water layer, else the bundled network."""
    if config.network.inp:
        return Path(config.network.inp)
    if city is not None and city.water_inp is not None:
        return city.water_inp
    return data_dir() / "water.inp"


def assess(config: TownSupplyFile, net: CompiledNetwork, junction_town: list[str],
           city: City | None = None) -> RunResult:
    """Run the assessment on a compiled network with a town (by name) per junction, and report it."""
    # deferred: pandas is slow to import, and the registry imports every kind to discover it
    import pandas as pd

    plan, demand = config.plan, config.demand
    supply = assess_town_supply(net, junction_town, demand.growth, demand.day_h, plan.service_head_m,
                                plan.max_upsizes, plan.min_unit_headloss_m_per_km)
    before, after = supply.towns, supply.towns_after
    failing = before[~before["meets_service_head"]]
    kpis = _kpis(net, supply)
    towns = before.merge(
        after[["town", "min_pressure_m", "delivered_pct"]], on="town", suffixes=("", "_after_upsizing")
    )
    least = supply.as_built.pressure_m[:, : net.n_junctions].min(axis=0)
    return RunResult(
        kpis=kpis,
        tables={
            "towns": towns, "mains_to_upsize": supply.mains, "upsizing_steps": supply.upsizing_steps,
            OPTIONS_TABLE: supply_options(supply, kpis),
            PEOPLE_TABLE: people_short(net, supply, junction_town, plan.service_head_m),
            # the CIM render colours the mains by each junction's least pressure of the design day
            "cim_water_nodes": pd.DataFrame({"node": net.node_names[: net.n_junctions], "pressure_m": least}),
            "cim_focus": _focus_on(net, failing, f"Least pressure of the design day (demand × {demand.growth:g})",
                                   city),
        },
        figures={
            **in_both_languages("town_pressures", lambda lang: _plots(before, after, plan.service_head_m, lang)),
            **in_both_languages("upsizing_map", lambda lang: _map(net, supply.plan.steps, before, lang)),
        },
        notes=_notes(config, supply, kpis),
        headline=["towns_below_service_head_count", "min_town_pressure_m", "mains_to_upsize_count",
                  "upsizing_cost_cny", "min_town_pressure_after_upsizing_m"],
        layers=supply_layers(net, supply),
    )


def _kpis(net: CompiledNetwork, supply: TownSupply) -> dict[str, float]:
    before, after, mains, as_built = supply.towns, supply.towns_after, supply.mains, supply.as_built
    failing = before[~before["meets_service_head"]]
    return {
        "towns_count": float(len(before)),
        "towns_below_service_head_count": float(len(failing)),
        "population_below_service_head_count": float(failing["population"].sum()),
        "min_town_pressure_m": float(before["min_pressure_m"].min()),
        "min_town_pressure_after_upsizing_m": float(after["min_pressure_m"].min()),
        "towns_below_service_head_after_upsizing_count": float((~after["meets_service_head"]).sum()),
        "mains_to_upsize_count": float(len(mains)),
        "upsized_length_km": float(mains["length_m"].sum() / 1000.0),
        "upsizing_cost_cny": float(mains["cost_cny"].sum()),
        "delivered_pct": min(
            100.0
            * float(as_built.demand_m3_per_s[:, : net.n_junctions].sum())
            / max(float(as_built.required_m3_per_s.sum()), 1e-12),
            100.0,
        ),
    }


def _notes(config: TownSupplyFile, supply: TownSupply, kpis: dict[str, float]) -> list[str]:
    growth, service_head = config.demand.growth, config.plan.service_head_m
    before = supply.towns
    failing = before[~before["meets_service_head"]]
    notes = [
        f"Design day: demand × {growth:g}, pressure-driven with full supply from the {service_head:g} m "
        f"GB 50013 service head; {len(before)} towns and streets, judged by their inhabited junctions' least "
        "pressure over the day.",
    ]
    if failing.empty:
        notes.append("Every town keeps the service head at the design-year peak; no main needs upsizing.")
        return notes
    names = ", ".join(
        f"{r.town} ({r.min_pressure_m:.1f} m at {r.worst_hour_h:.0f}:00)" for r in failing.itertuples()
    )
    notes.append(f"Below the service head: {names}.")
    notes.append(
        f"Upsizing {len(supply.mains)} mains ({kpis['upsized_length_km']:.1f} km, indicative "
        f"{kpis['upsizing_cost_cny'] / 1e6:.1f} million CNY at assumed unit costs) brings the least town "
        f"pressure to {kpis['min_town_pressure_after_upsizing_m']:.1f} m; the planner ended "
        f"because {supply.plan.reason}."
    )
    return notes


# ---- the answer, validation and the starter -----------------------------------------------------------
def answer(config: TownSupplyFile, kpis: dict[str, float], result: RunResult) -> Answer:
    """Which towns fall short at the design-year peak, and which mains to upsize."""
    return supply_answer(kpis, result.tables, config.demand.growth, config.plan.service_head_m)


BYTES_PER_ELEMENT_HOUR = 8.0 * 16
"""Memory per node or link and simulated hour: the design day's result arrays, twice (as built and
upsized), float64, with margin."""
SECONDS_PER_ELEMENT_HOUR = 2e-5
"""Wall time per node or link and hour of one design day on this machine (the bundled run)."""


def check(config: TownSupplyFile, ctx: CheckContext) -> None:
    """The network must exist: ``[network] inp`` relative to the file, or the city's water layer."""
    if config.network.inp:
        ctx.file("[network] inp", config.network.inp)
    elif ctx.city.water_inp is None:
        raise ctx.fail("[network] inp", None, "the city has no water layer; add one with twin data import-inp")


def estimate(config: TownSupplyFile) -> SizeEstimate:
    """Every upsizing step solves the design day again: elements × hours × (steps + 2)."""
    inp = network_inp(config, load_city())
    size = 1000.0
    if inp.exists():
        sections = inp_sections(inp)
        size = float(sum(len(sections.get(k, [])) for k in ("JUNCTIONS", "PIPES", "PUMPS", "VALVES")))
    hours = float(config.demand.day_h)
    days = config.plan.max_upsizes + 2
    return SizeEstimate(size * hours * BYTES_PER_ELEMENT_HOUR * 2, size * hours * days * SECONDS_PER_ELEMENT_HOUR,
                        "[plan] max_upsizes")


def starter(city: City) -> str:
    """The design-year check of the city's network: +30 % demand, the GB 50013 six-storey head."""
    if city.water_inp is None:
        raise InputError("the city has no water layer; add one with twin data import-inp", city.data_dir)
    return STARTER.format(city=city.name)


STARTER = """# 城乡供水一体化 for {city}: do the mains keep the service head at every town at the design-year
# peak, and which mains to upsize if not? Written by `twin scenarios new town_supply`.
[scenario]
kind = "town_supply"
name = "town_supply"
description = "Town service pressure under the design-year peak (demand +30 %), and the mains to upsize."

[demand]
growth = 1.3                 # design-year demand over today's: a planning horizon of about ten years
day_h = 24                   # a whole day, so the morning and evening peaks both count

[plan]
service_head_m = 28.0        # GB 50013: six storeys
max_upsizes = 60             # one standard diameter per step; enough for a district network
"""


# ---- figures and the CIM's focus ---------------------------------------------------------------------
TEXT = {
    "as_built": {"zh": "现状", "en": "as built"},
    "upsized": {"zh": "扩径后", "en": "with upsized mains"},
    "head": {"zh": "服务水头 {head:g} 米", "en": "service head {head:g} m"},
    "least": {"zh": "设计日最低水压 (米)", "en": "least pressure over the design day (m)"},
    "title": {"zh": "设计年高峰各镇街服务水压", "en": "Service pressure at every town under the design-year peak"},
    "mains": {"zh": "需扩径干管", "en": "mains to upsize"},
    "sources": {"zh": "水厂与水池", "en": "plants and tanks"},
    "map_title": {"zh": "各镇街最低水压（现状）与需扩径干管",
                  "en": "Towns' least pressure (as built) and the mains to upsize"},
}


def _plots(before: pd.DataFrame, after: pd.DataFrame, service_head: float, lang: str) -> Figure:
    """Every town's least pressure as built and with the upsized mains, against the service head."""
    # deferred: matplotlib is slow to import, and the registry imports every kind to discover it
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred with matplotlib, after choosing its backend

    fig, ax = plt.subplots(figsize=(11, 5))
    x = np.arange(len(before))
    ax.bar(x - 0.2, before["min_pressure_m"], width=0.4, label=TEXT["as_built"][lang], color="#9ecae1")
    merged = after.set_index("town").reindex(before["town"])
    ax.bar(x + 0.2, merged["min_pressure_m"], width=0.4, label=TEXT["upsized"][lang], color="#3182bd")
    ax.axhline(service_head, color="red", ls="--", lw=1, label=TEXT["head"][lang].format(head=service_head))
    ax.set_xticks(x, before["town"], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel(TEXT["least"][lang])
    ax.set_title(TEXT["title"][lang])
    ax.legend()
    fig.tight_layout()
    return fig


def _map(net: CompiledNetwork, steps: list[dict], towns_frame: pd.DataFrame, lang: str) -> Figure:
    """The towns' least pressure (as built) on the map, and the mains to upsize."""
    # deferred: matplotlib is slow to import, and the registry imports every kind to discover it
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred with matplotlib, after choosing its backend
    from matplotlib.collections import LineCollection  # deferred with matplotlib

    xy = net.node_xy
    fig, ax = plt.subplots(figsize=(10, 9))
    pipes = np.stack([xy[net.start], xy[net.end]], axis=1)
    ax.add_collection(LineCollection(pipes, colors="#9ecae1", linewidths=0.3 + 3 * net.diameter_m))
    upsized = [net.link_index(s["pipe"]) for s in steps]
    if upsized:
        ax.add_collection(LineCollection(pipes[upsized], colors="#de2d26", linewidths=3, label=TEXT["mains"][lang]))
    for _, row in towns_frame.iterrows():
        i = net.node_index(row["worst_junction"])
        ax.scatter(*xy[i], s=30, color="#31a354" if row["meets_service_head"] else "#de2d26", zorder=3)
        ax.annotate(f"{row['town']} {row['min_pressure_m']:.0f} m", xy[i], fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    sources = np.flatnonzero(net.node_kind != 0)
    ax.scatter(xy[sources, 0], xy[sources, 1], marker="s", s=40, color="#2171b5", label=TEXT["sources"][lang])
    ax.set_aspect("equal")
    ax.autoscale_view()
    lonlat_ticks(ax, lang)
    ax.set_title(TEXT["map_title"][lang])
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def _focus_on(net: CompiledNetwork, failing: pd.DataFrame, label: str, city: City | None) -> pd.DataFrame:
    """A ``cim_focus`` row around the worst junctions of the towns below the service head, or
    over the whole network when every town passes."""
    if failing.empty:
        if city is not None and city.boundary is not None:
            centre = city.boundary.geometry.iloc[0].centroid
            return focus_table([centre.x], [centre.y], label, min_radius_m=16_000.0)
        lon, lat = to_storage(np.array([np.nanmean(net.node_xy[:, 0])]), np.array([np.nanmean(net.node_xy[:, 1])]))
        return focus_table(lon, lat, label, min_radius_m=3_000.0)
    index = {name: i for i, name in enumerate(net.node_names)}
    xy = net.node_xy[[index[name] for name in failing["worst_junction"]]]
    towns = "、".join(str(town) for town in failing["town"])
    return focus_table(*to_storage(xy[:, 0], xy[:, 1]), f"{label}: {towns}", min_radius_m=3_000.0, margin_m=2_500.0)


scenario_kind(
    "town_supply", TownSupplyFile, "城乡供水一体化: town service pressure at the peak, mains to upsize",
    check=check, estimate=estimate, answer=answer, replications=1, starter=starter,
)(run)
