"""What a town-supply (城乡供水一体化) report shows besides the town table: the answer (which
towns fall short at the design-year peak, which mains to upsize, at what indicative cost), the
options (as built against the upsized mains), the people short of the service head by town, and
the map layers of ``results.gpkg``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from twin.kpis import LANGS, kpi_info
from twin.results import Answer
from twin.water.network import CompiledNetwork
from twin.water.places import PEOPLE_TABLE, junction_layer, link_layer, people_by_place

if TYPE_CHECKING:
    import pandas as pd

    from twin.water.town_supply import TownSupply

OPTION_METRICS = ("towns_below_service_head_count", "population_below_service_head_count", "min_town_pressure_m",
                  "mains_to_upsize_count", "upsizing_cost_cny")
"""What the options table compares: the network as built and with the planned mains."""

TEXT = {
    "question": {"zh": "城乡供水一体化：设计年高峰（需水×{growth:g}）各镇街能否保证{head:g}米服务水头？"
                       "不能的话扩径哪些干管？",
                 "en": "Town supply: at the design-year peak (demand × {growth:g}) does every town keep the "
                       "{head:g} m service head, and if not, which mains to upsize?"},
    "ok": {"zh": "能：设计年高峰各镇街最低水压{least}，均不低于{head:g}米服务水头，无需扩径。",
           "en": "Yes: at the design-year peak every town keeps at least {least}, above the {head:g} m service "
                 "head; no main needs upsizing."},
    "short": {"zh": "不能：{towns}在设计年高峰低于{head:g}米服务水头（最低{least}；这些镇街共{people}，"
                    "其中{short}所在节点水压不足）。"
                    "扩径{mains}条干管（{pipes}；{km}，估算{cost}）后最低水压升至{after}，"
                    "仍不足的镇街{left}个。",
              "en": "No: {towns} fall below the {head:g} m service head at the design-year peak (least {least}; "
                    "{people} live there; {short} are at junctions short of it). Upsizing {mains} mains "
                    "({pipes}; {km}, indicative {cost}) lifts the least "
                    "town pressure to {after}, with {left} towns still short."},
    "as_built": {"zh": "现状管网", "en": "as built"},
    "upsized": {"zh": "扩径方案", "en": "upsized mains"},
    "join": {"zh": "、", "en": ", "},
    "more": {"zh": "等{n}条", "en": " and {n} more"},
}


def supply_options(supply: TownSupply, kpis: dict[str, float]) -> pd.DataFrame:
    """Two rows: the network as built and with the planned mains; the upsized one is recommended
    when a town falls short as built."""
    import pandas as pd  # deferred: pandas is slow to import

    after = supply.towns_after
    failing_after = after[~after["meets_service_head"]]
    rows = [
        {"option": "as_built", "label_zh": TEXT["as_built"]["zh"], "label_en": TEXT["as_built"]["en"],
         "towns_below_service_head_count": kpis["towns_below_service_head_count"],
         "population_below_service_head_count": kpis["population_below_service_head_count"],
         "min_town_pressure_m": kpis["min_town_pressure_m"], "mains_to_upsize_count": 0.0,
         "upsizing_cost_cny": 0.0},
        {"option": "upsized", "label_zh": TEXT["upsized"]["zh"], "label_en": TEXT["upsized"]["en"],
         "towns_below_service_head_count": float(len(failing_after)),
         "population_below_service_head_count": float(failing_after["population"].sum()),
         "min_town_pressure_m": kpis["min_town_pressure_after_upsizing_m"],
         "mains_to_upsize_count": kpis["mains_to_upsize_count"], "upsizing_cost_cny": kpis["upsizing_cost_cny"]},
    ]
    table = pd.DataFrame(rows)
    table["recommended"] = [kpis["towns_below_service_head_count"] == 0, kpis["towns_below_service_head_count"] > 0]
    return table


def people_short(net: CompiledNetwork, supply: TownSupply, towns: list[str], service_head_m: float) -> pd.DataFrame:
    """People at junctions below the service head at some hour of the design day, by town, as
    built and with the planned mains."""
    nj = net.n_junctions
    least = supply.as_built.pressure_m[:, :nj].min(axis=0)
    least_after = supply.plan.design_day.pressure_m[:, :nj].min(axis=0)
    short = np.where(least < service_head_m - 1e-6, supply.population, 0.0)
    short_after = np.where(least_after < service_head_m - 1e-6, supply.population, 0.0)
    table = people_by_place(towns[:nj], {"population_below_service_head_count": short,
                                         "population_below_service_head_after_upsizing_count": short_after},
                            "population_below_service_head_count")
    lows = {town: float(least[[i for i in range(nj) if towns[i] == town]].min()) for town in table["place"]}
    table["min_pressure_m"] = table["place"].map(lows)
    return table


def supply_layers(net: CompiledNetwork, supply: TownSupply) -> dict[str, Any]:
    """``results.gpkg``: each town's worst junction with its least pressures, and the mains to upsize."""
    towns = supply.towns
    after = supply.towns_after.set_index("town").reindex(towns["town"])
    worst = np.array([net.node_index(name) for name in towns["worst_junction"]], dtype=np.int64)
    layers = {"town_worst_junctions": junction_layer(net, worst, {
        "place": towns["town"].to_numpy(), "min_pressure_m": towns["min_pressure_m"].to_numpy(),
        "min_pressure_after_upsizing_m": after["min_pressure_m"].to_numpy(),
        "meets_service_head": towns["meets_service_head"].to_numpy(), "population": towns["population"].to_numpy()})}
    mains = supply.mains
    if len(mains):
        layers["mains_to_upsize"] = link_layer(net, [net.link_index(p) for p in mains["pipe"]], {
            "from_dn_mm": mains["from_dn_mm"].to_numpy(), "to_dn_mm": mains["to_dn_mm"].to_numpy(),
            "length_m": mains["length_m"].to_numpy(), "cost_cny": mains["cost_cny"].to_numpy()})
    return layers


def supply_answer(kpis: dict[str, float], tables: dict[str, pd.DataFrame], growth: float, head_m: float) -> Answer:
    """Which towns fall short at the peak, and which mains to upsize at what cost."""
    towns, mains = tables["towns"], tables["mains_to_upsize"]
    failing = towns[~towns["meets_service_head"]].sort_values("min_pressure_m")
    text, recommendation = {}, {}
    for lang in LANGS:
        def fmt(name: str, lang: str = lang) -> str:
            return kpi_info(name).format(kpis[name], lang)

        join = TEXT["join"][lang]
        if failing.empty:
            text[lang] = TEXT["ok"][lang].format(least=fmt("min_town_pressure_m"), head=head_m)
            recommendation[lang] = TEXT["as_built"][lang]
            continue
        shown = mains["pipe"].astype(str).tolist()
        pipes = join.join(shown[:5]) + (TEXT["more"][lang].format(n=len(shown) - 5 if lang == "en" else len(shown))
                                        if len(shown) > 5 else "")
        people = tables.get(PEOPLE_TABLE)
        short = float(people["people"].sum()) if people is not None else 0.0
        text[lang] = TEXT["short"][lang].format(
            towns=join.join(failing["town"].astype(str)), head=head_m, least=fmt("min_town_pressure_m"),
            people=fmt("population_below_service_head_count"), mains=len(mains), pipes=pipes,
            short=kpi_info("population_below_service_head_count").format(short, lang),
            km=fmt("upsized_length_km"), cost=fmt("upsizing_cost_cny"), after=fmt("min_town_pressure_after_upsizing_m"),
            left=int(kpis["towns_below_service_head_after_upsizing_count"]))
        recommendation[lang] = TEXT["upsized"][lang]
    question = {lang: TEXT["question"][lang].format(growth=growth, head=head_m) for lang in LANGS}
    return Answer(text=text, recommendation=recommendation, question=question)
