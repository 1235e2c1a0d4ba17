"""What a pipe burst's report shows besides the story: the answer (valves to close, the crew's
depot, hours and people without water by place), the options table of the depots compared, the
map layers of ``results.gpkg`` and the CIM's tables.

Everything here reads the tables and KPIs of a burst run (see ``scenarios/kinds/pipe_burst.py``);
depots are passed as written in the scenario file, ``[crew] depot`` first.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.kpis import LANGS, kpi_info
from twin.results import Answer
from twin.water.places import OPTIONS_TABLE, PEOPLE_TABLE, junction_layer, link_layer

if TYPE_CHECKING:
    import pandas as pd

    from twin.water.burst import BurstOutcome

OPTION_METRICS = ("time_to_isolate_s", "crew_travel_s", "water_lost_m3", "person_hours_lost_person_h")
"""What the options table compares the depots by."""
RANK_BY = "person_hours_lost_person_h"
"""The metric that ranks the depots: person-hours below the service head beyond the same day's."""

TEXT = {
    "question": {"zh": "{pipe}爆管：关哪些阀门、抢修队从哪里出发、多少人停水或水压不足、多久恢复？",
                 "en": "Burst on {pipe}: which valves to close, where the crew starts, how many people lose "
                       "water or pressure, and for how long?"},
    "answer": {"zh": "关闭{valves}（{n}个阀门）隔离{pipe}；抢修队从{depot}出发，{isolate}后隔离、{restore}后恢复供水。"
                     "停水人口{cut}，水压不足人口{below}（{hours}），以{places}为主；漏失{lost}。",
               "en": "Close {valves} ({n} valves) to isolate {pipe}; the crew from {depot} isolates it after "
                     "{isolate} and service is back after {restore}. {cut} lose water and {below} fall "
                     "below service pressure ({hours}), mostly in {places}; {lost} of water is lost."},
    "options": {"zh": "比较的{n}个抢修站中，{best}损失最小（{metric}{value}）。",
                "en": "Of the {n} depots compared, {best} loses least ({metric} {value})."},
    "auto": {"zh": "水厂旁(自动)", "en": "by the plant (auto)"},
    "recommend": {"zh": "{depot}，关闭{n}个阀门", "en": "{depot}, closing {n} valves"},
    "none": {"zh": "无", "en": "none"},
    "join": {"zh": "、", "en": ", "},
}


def depot_kpis(kpis_by_depot: list[dict[str, float]]) -> dict[str, float]:
    """``depot_<k>_<metric>`` for every depot (k from 1) and metric of :data:`OPTION_METRICS`."""
    return {f"depot_{k}_{m}": kpis.get(m, math.nan) for k, kpis in enumerate(kpis_by_depot, start=1)
            for m in OPTION_METRICS}


def options_table(depots: list[str], kpis: dict[str, float]) -> pd.DataFrame:
    """One row per depot with its metrics (from ``kpis``), the one losing least marked."""
    import pandas as pd  # deferred: pandas is slow to import

    rows = []
    for k, depot in enumerate(depots, start=1):
        zh, en = (TEXT["auto"]["zh"], TEXT["auto"]["en"]) if depot == "auto" else (depot, depot)
        rows.append({"option": f"depot_{k}", "label_zh": f"抢修站{k}：{zh}", "label_en": f"depot {k}: {en}",
                     **{m: kpis.get(f"depot_{k}_{m}", math.nan) for m in OPTION_METRICS}})
    table = pd.DataFrame(rows)
    ranks = table[RANK_BY].to_numpy(float)
    best = int(np.nanargmin(ranks)) if np.isfinite(ranks).any() else 0
    table["recommended"] = np.arange(len(table)) == best
    return table


def burst_answer(depots: list[str], kpis: dict[str, float], tables: dict[str, pd.DataFrame]) -> Answer:
    """Which valves to close, the crew, hours and people without water by place; the best depot
    (and whether it beats the next by more than the noise: ``chosen``/``versus``)."""
    links = tables["cim_water_links"]
    pipe = str(links.loc[links["burst"], "link"].iloc[0]) if links["burst"].any() else "?"
    valves = tables["valves"]["valve_id"].astype(str).tolist()
    people = tables.get(PEOPLE_TABLE)
    places = people["place"].head(3).astype(str).tolist() if people is not None and len(people) else []
    options = options_table(depots, kpis)
    tables[OPTIONS_TABLE] = options  # ranked by the means over the replications
    best = int(np.flatnonzero(options["recommended"])[0])
    text, recommendation = {}, {}
    for lang in LANGS:
        def fmt(name: str, lang: str = lang) -> str:
            return kpi_info(name).format(kpis.get(name, math.nan), lang)

        depot = str(options[f"label_{lang}"].iloc[best])
        join = TEXT["join"][lang]
        text[lang] = TEXT["answer"][lang].format(
            valves=join.join(valves) or TEXT["none"][lang], n=len(valves), pipe=pipe, depot=depot,
            isolate=fmt("time_to_isolate_s"), restore=fmt("time_to_restore_s"), cut=fmt("population_cut_off_count"),
            below=fmt("peak_population_below_service_head_count"), hours=fmt("person_hours_lost_person_h"),
            lost=fmt("water_lost_m3"), places=join.join(places) or TEXT["none"][lang])
        if len(options) > 1:
            text[lang] += (" " if lang == "en" else "") + TEXT["options"][lang].format(
                n=len(options), best=depot, metric=kpi_info(RANK_BY).label[lang],
                value=fmt(f"depot_{best + 1}_{RANK_BY}"))
        recommendation[lang] = TEXT["recommend"][lang].format(depot=depot, n=len(valves))
    question = {lang: TEXT["question"][lang].format(pipe=pipe) for lang in LANGS}
    if len(options) < 2:
        return Answer(text=text, recommendation=recommendation, question=question)
    order = [int(i) for i in np.argsort(options[RANK_BY].to_numpy(float)) if int(i) != best]
    return Answer(text=text, recommendation=recommendation, question=question, metric=RANK_BY,
                  chosen=f"depot_{best + 1}", versus=f"depot_{order[0] + 1}")


def burst_layers(outcome: BurstOutcome, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """``results.gpkg``: affected junctions with their KPIs, the isolated pipes and the valves closed."""
    network = outcome.network
    service = network.service
    junctions = tables["junction_service"]
    hit = np.flatnonzero((junctions["hours_below_service_head_h"].to_numpy() > 0) | junctions["cut_off"].to_numpy())
    columns = {c: junctions[c].to_numpy()[hit] for c in ("place", "population", "hours_below_service_head_h",
                                                           "min_pressure_m", "cut_off")}
    isolated = sorted({int(k) for k in network.isolated_links})
    valves = tables["valves"]
    closed = [service.link_index(name) for name in valves["link"]]
    burst = [service.link_names[k].removesuffix("__b") == network.pipe for k in isolated]
    return {
        "affected_junctions": junction_layer(service, hit, columns),
        "isolated_pipes": link_layer(service, isolated, {"burst": burst}),
        "valves_closed": link_layer(service, closed, {"valve_id": valves["valve_id"].to_numpy(),
                                                      "closed_at_s": valves["closed_at_s"].to_numpy()}),
    }


def cim_tables(net: Any, junctions: pd.DataFrame, pipe: str, isolated_links: np.ndarray) -> dict[str, pd.DataFrame]:
    """The event on the CIM (viz/results_overlay.py): each junction's least pressure in the window
    and whether the isolation cut it off (``cim_water_nodes``), and the burst pipe with the links
    the isolation closes (``cim_water_links``), named as in the network file (the burst pipe's
    second half, ``<pipe>__b``, is the pipe itself)."""
    import pandas as pd  # deferred: pandas is slow to import

    nodes = pd.DataFrame({
        "node": junctions["junction"], "pressure_m": junctions["min_pressure_m"], "cut_off": junctions["cut_off"],
    })
    names = sorted({net.link_names[int(k)].removesuffix("__b") for k in isolated_links} | {pipe})
    links = pd.DataFrame({"link": names, "burst": [name == pipe for name in names], "isolated": True})
    return {"cim_water_nodes": nodes, "cim_water_links": links}
