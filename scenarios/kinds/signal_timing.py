"""Signal timing: which strategy cuts delay in a pilot area, by how much, and where it breaks down.

The scenario answers the district plan's 滨海新城 pilot question (智能信号优化, 红绿灯与摄像头智能联动):
it runs the AM peak on the road network with the pilot area's signals under each strategy —
the current fixed plans, Webster fixed time, actuated, max-pressure, a green wave on the main
arterial, and camera-linked adaptive — while the rest of the district runs its own (Webster)
plans around it. Every strategy sees the same vehicles (common random numbers: one demand draw,
same routes), all runs advance together on the engine's clock, and the warm-up before the
measured window is excluded.

It reports per pilot junction the control delay (s/veh) graded by HCM 6 and by a configurable
GB 50647 table, queues (mean and max, vehicles and metres), the degree of saturation (v/c) and
stops per vehicle; for the network the throughput, mean travel time and the congestion index
TTI (actual over free-flow trip time); a ranked table of strategies; a plot of delay by junction
and strategy; and the link travel times by time of day that other layers use.

``[network] source = "city"`` uses the bundled Changle layers (``twin.city.folder.load_city``);
``"grid"`` builds a small synthetic town (:func:`twin.generate.roads.grid_town`, for quick checks
and tests). The model lives in the library: the comparison in :mod:`twin.traffic.comparison`, the
strategies in :mod:`twin.traffic.signals.strategies`, the measures in :mod:`twin.traffic.metrics`;
this module reads the inputs, calls them, and words the KPIs, tables, figures and notes.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

import networkx as nx
import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from scenarios.registry import scenario_kind
from scenarios.validation import CheckContext
from twin.cim import focus_table
from twin.city.folder import City, load_city
from twin.city.roads import node_lonlat
from twin.city.travel_times import free_flow_time_s
from twin.config import ScenarioFile, StrictModel
from twin.engine import Engine
from twin.errors import InputError
from twin.generate.roads import grid_town
from twin.kpis import LANGS, catalogue
from twin.results import Answer, RunResult
from twin.traffic.comparison import ComparisonSetup, StrategyComparison, compare_strategies, pilot_controllers
from twin.traffic.demand import DemandConfig, gravity_od, sample_trips
from twin.traffic.metrics import junction_measures, network_measures, rank_strategies
from twin.traffic.network import TrafficNetwork, network_from_graph
from twin.traffic.params import TrafficParams
from twin.traffic.pilot_area import densest_signal_cluster, nodes_in_bbox
from twin.traffic.result_layers import signal_layers
from twin.traffic.signals.los import HCM_LOS_THRESHOLDS_S, GbLosTable
from twin.traffic.signals.strategies.green_wave import GreenWave
from twin.traffic.signals.strategies.registry import strategy_names
from twin.traffic.signals.timing import TimingParams

log = logging.getLogger(__name__)


class NetworkTable(StrictModel):
    """The ``[network]`` table: which roads, and which junctions form the pilot."""

    source: Literal["city", "grid"] = Field(
        default="city", description="city: the bundled Changle layers; grid: a synthetic town."
    )
    area_id: str = Field(default="binhai", description="Pilot area (areas layer / node attribute area_id).")
    bbox: list[float] | None = Field(
        default=None,
        min_length=4,
        max_length=4,
        description="Pilot as a box [lon_min, lat_min, lon_max, lat_max] (degrees), instead of area_id.",
    )
    scope: Literal["district", "area"] = Field(
        default="district",
        description="district: the whole road network around the pilot; area: the pilot alone.",
    )
    grid_size: int = Field(default=8, ge=3, le=30, description="Synthetic grid: junctions per side.")
    grid_spacing_m: float = Field(
        default=300.0, gt=50, le=2000, description="Synthetic grid: block length (m)."
    )
    grid_residents: float = Field(default=60_000.0, gt=0, description="Synthetic grid: total residents.")


    @model_validator(mode="after")
    def _box(self) -> NetworkTable:
        if self.bbox is not None:
            lon_min, lat_min, lon_max, lat_max = self.bbox
            if not (-180 <= lon_min < lon_max <= 180 and -90 <= lat_min < lat_max <= 90):
                raise ValueError(f"bbox = {self.bbox}: expected lon_min < lon_max in [-180, 180] and "
                                 "lat_min < lat_max in [-90, 90]")
        return self

    def pilot_label(self) -> str:
        """How the pilot is named in messages: its area id, or its box."""
        return f"bbox = {self.bbox}" if self.bbox is not None else f"area_id = {self.area_id!r}"


class StrategiesTable(StrictModel):
    """The ``[strategies]`` table: what is compared in the pilot and what runs elsewhere."""

    compare: list[str] = Field(
        default=list(strategy_names()), min_length=1, description="Strategies to compare."
    )
    baseline: str = Field(default="fixed", description="The strategy the others are measured against.")
    rest_of_district: str = Field(
        default="webster", description="Strategy of signals outside the pilot area."
    )
    green_wave_road: str | None = Field(
        default=None,
        description="Road name of the green-wave arterial (default: the one with most pilot signals).",
    )
    green_wave_max_junctions: int = Field(
        default=8, ge=2, le=50, description="Most junctions coordinated (the busiest consecutive ones)."
    )
    warmup_s: float = Field(
        default=900.0, ge=0, le=7200, description="Simulated before the measured window (s)."
    )

    @model_validator(mode="after")
    def _known(self) -> StrategiesTable:
        known = strategy_names()
        for name in [*self.compare, self.baseline, self.rest_of_district]:
            if name not in known:
                raise ValueError(f"unknown strategy {name!r} (expected one of {', '.join(known)})")
        if self.baseline not in self.compare:
            raise ValueError(f"baseline {self.baseline!r} must be one of compare")
        if len(set(self.compare)) != len(self.compare):
            raise ValueError("compare lists a strategy twice")
        return self


class SignalTimingFile(ScenarioFile):
    """A ``signal_timing`` scenario file."""

    network: NetworkTable = NetworkTable()
    strategies: StrategiesTable = StrategiesTable()
    demand: DemandConfig = DemandConfig()
    traffic: TrafficParams = TrafficParams()
    timing: TimingParams = TimingParams()
    gb_los: GbLosTable = GbLosTable()


# --------------------------------------------------------------------------------------------
# Inputs: the road graph, zones and the pilot's junctions
# --------------------------------------------------------------------------------------------


@dataclass
class CityInputs:
    """What the scenario needs of the city."""

    graph: nx.MultiDiGraph
    zones: pd.DataFrame  # zone_id, residents, jobs, node
    area_nodes: set  # nodes of the pilot area
    description: str


def load_inputs(table: NetworkTable) -> CityInputs:
    """The bundled Changle layers (or a synthetic grid), cut to the scope."""
    if table.source == "grid":
        town = grid_town(table.grid_size, table.grid_spacing_m, table.grid_residents)
        n = table.grid_size
        return CityInputs(town.graph, town.zones, town.centre_nodes, f"synthetic {n}×{n} grid town")
    city = load_city()
    graph = city.roads
    if graph is None:
        raise InputError("the city has no road layer; add one with twin data import-osm or import-sumo")
    zones = city.zones[["zone_id", "residents", "jobs", "node"]].copy()
    area = pilot_nodes(graph, table)
    if table.scope == "area":
        graph = _largest_strong_component(graph.subgraph(area).copy())
        zones = zones[zones["node"].isin(list(graph.nodes))]
    return CityInputs(
        graph,
        zones.reset_index(drop=True),
        area & set(graph.nodes),
        f"{city.name} road network ({table.scope}), pilot {table.pilot_label()}",
    )


def pilot_nodes(graph: nx.MultiDiGraph, table: NetworkTable) -> set:
    """The road nodes of the pilot (its box, else its area id); none is an error naming the key."""
    if table.bbox is not None:
        area = nodes_in_bbox(graph, tuple(table.bbox))
        if not area:
            raise InputError(f"[network] bbox = {table.bbox}: no road node inside the box")
        return area
    area = {n for n, d in graph.nodes(data=True) if d.get("area_id") == table.area_id}
    if not area:
        known = sorted({str(d.get("area_id")) for _, d in graph.nodes(data=True) if d.get("area_id")})
        raise InputError(
            f"[network] area_id = {table.area_id!r}: no road node in that area (known: {', '.join(known) or 'none'}; "
            "or give the pilot as [network] bbox)"
        )
    return area


def _largest_strong_component(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    keep = max(nx.strongly_connected_components(graph), key=len)
    return graph.subgraph(keep).copy()


# --------------------------------------------------------------------------------------------
# The model: one run per strategy
# --------------------------------------------------------------------------------------------


@dataclass
class Simulated:
    """The network, its pilot controllers, the runs of every strategy and the daily demand."""

    network: TrafficNetwork
    pilot: set[str]
    comparison: StrategyComparison
    od_daily_trips: float


def simulate_strategies(config: SignalTimingFile, inputs: CityInputs, engine: Engine) -> Simulated:
    """Demand, routes, plans and one traffic model per strategy, all advanced on ``engine``."""
    header = config.scenario
    warmup = config.strategies.warmup_s
    network = network_from_graph(inputs.graph, config.traffic)
    if not network.controllers:
        raise InputError("the road network has no signalised junction (highway = traffic_signals)")
    pilot = pilot_controllers(network, inputs.area_nodes)
    if not pilot:
        raise InputError(f"[network] {config.network.pilot_label()}: no signalised junction in the pilot")
    midnight = -(header.start.hour * 3600.0 + header.start.minute * 60.0 + header.start.second)
    od = gravity_od(inputs.zones, inputs.graph, config.demand)
    trips = sample_trips(
        od, network, config.demand, -warmup, header.duration_s, engine.rng("traffic_demand"), day_start_s=midnight
    )
    if not len(trips):
        raise InputError("the demand has no trip in the simulated window (check [demand] and the zones)")
    setup = ComparisonSetup(
        strategies=config.strategies.compare,
        duration_s=header.duration_s,
        warmup_s=warmup,
        rest_of_network=config.strategies.rest_of_district,
        msa_iterations=config.demand.msa_iterations,
        green_wave_road=config.strategies.green_wave_road,
        green_wave_max_junctions=config.strategies.green_wave_max_junctions,
    )
    comparison = compare_strategies(network, trips, pilot, setup, config.timing, engine)
    return Simulated(network, pilot, comparison, float(od.trips.sum() * 2.0))


# --------------------------------------------------------------------------------------------
# KPIs, tables, figures and notes
# --------------------------------------------------------------------------------------------


def delay_figure(junctions: pd.DataFrame, strategies: list[str], baseline: str, top: int = 25):  # noqa: ANN201
    """Control delay by junction and strategy.

    Top: grouped bars for the ``top`` pilot junctions with the most vehicle-delay under the
    baseline (where timing matters most). Bottom: every pilot junction, as the share of
    junctions at or under each delay, one line per strategy, with the HCM LOS bounds.
    """
    import matplotlib  # deferred: matplotlib is heavy and only the figures need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred with matplotlib

    base = junctions[junctions["strategy"] == baseline]
    weight = (base["control_delay_s_per_veh"] * base["volume_veh"]).to_numpy()
    nodes = list(base["node"].to_numpy()[np.argsort(-weight, kind="stable")][:top])
    width = 0.8 / len(strategies)
    fig, (ax, ax2) = plt.subplots(
        2, 1, figsize=(min(16.0, max(10.0, 0.5 * len(nodes))), 9.0), gridspec_kw={"height_ratios": [3, 2]}
    )
    x = np.arange(len(nodes))
    for i, strategy in enumerate(strategies):
        group = junctions[junctions["strategy"] == strategy].set_index("node").reindex(nodes)
        ax.bar(
            x + (i - (len(strategies) - 1) / 2) * width,
            group["control_delay_s_per_veh"],
            width,
            label=strategy,
        )
    for bound, letter in zip(HCM_LOS_THRESHOLDS_S, "ABCDE", strict=True):
        ax.axhline(bound, color="grey", lw=0.6, ls=":")
        ax.annotate(
            f"{letter}|",
            (1.0, bound),
            xycoords=("axes fraction", "data"),
            fontsize=7,
            color="grey",
            va="bottom",
            ha="left",
        )
    ax.set_xticks(x)
    ax.set_xticklabels(nodes, rotation=90, fontsize=7)
    ax.set_xlabel(f"pilot junction (road node): the {len(nodes)} with most vehicle-delay under {baseline}")
    ax.set_ylabel("control delay (s/veh)")
    ax.set_title("Control delay by junction and signal strategy (HCM LOS bounds dotted)")
    ax.legend(ncol=min(len(strategies), 6), fontsize=8, loc="upper right")
    for strategy in strategies:
        delays = np.sort(
            junctions.loc[junctions["strategy"] == strategy, "control_delay_s_per_veh"].to_numpy()
        )
        ax2.step(delays, np.arange(1, len(delays) + 1) / len(delays), where="post", label=strategy)
    for bound in HCM_LOS_THRESHOLDS_S:
        ax2.axvline(bound, color="grey", lw=0.6, ls=":")
    ax2.set_xscale("symlog", linthresh=10.0)
    ax2.set_xlim(left=0.0)
    ax2.set_xlabel(f"control delay (s/veh), all {junctions['node'].nunique()} pilot junctions")
    ax2.set_ylabel("share of junctions at or under")
    ax2.legend(ncol=min(len(strategies), 6), fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def ranking_figure(ranking: pd.DataFrame):  # noqa: ANN201 - matplotlib Figure
    """Pilot control delay and network TTI of each strategy, best at the top."""
    import matplotlib  # deferred: matplotlib is heavy and only the figures need it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred with matplotlib

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.barh(ranking["strategy"], ranking["pilot_delay_s_per_veh"], color="tab:blue")
    ax1.invert_yaxis()
    ax1.set_xlabel("pilot control delay (s/veh)")
    ax2.barh(ranking["strategy"], ranking["tti_ratio"], color="tab:orange")
    ax2.invert_yaxis()
    ax2.set_xlabel("network TTI (actual / free-flow)")
    fig.suptitle("Strategies ranked (best at the top)")
    fig.tight_layout()
    return fig


def strategy_label(strategy: str, lang: str) -> str:
    """A strategy as people call it (KPI catalogue qualifiers: ``actuated`` → 感应控制)."""
    return catalogue()["qualifiers"].get(strategy, {}).get(lang, strategy)


def options_table(ranking: pd.DataFrame) -> pd.DataFrame:
    """The options compared (viz/report/folders.py OPTIONS_TABLE): each strategy, its labels, its
    pilot delay, delay change against the baseline, TTI and throughput; the best is recommended."""
    table = pd.DataFrame({
        "option": ranking["strategy"].astype(str),
        "label_zh": [strategy_label(s, "zh") for s in ranking["strategy"]],
        "label_en": [strategy_label(s, "en") for s in ranking["strategy"]],
        "pilot_delay_s_per_veh": ranking["pilot_delay_s_per_veh"].astype(float),
        "delay_change_vs_baseline_pct": ranking["delay_change_vs_baseline_pct"].astype(float),
        "tti_ratio": ranking["tti_ratio"].astype(float),
        "throughput_veh_per_h": ranking["throughput_veh_per_h"].astype(float),
    })
    table["recommended"] = np.arange(len(table)) == 0  # the ranking is best first
    return table


ANSWER_TEXT = {
    "question": {
        "zh": "试点区哪种信号控制方案最能降低平均控制延误？",
        "en": "Which signal control strategy cuts the pilot area's average control delay most?",
    },
    "cut": {
        "zh": "{best}相比{base}使试点区平均控制延误降低{pct}{interval}（{best_s} 对 {base_s} 秒/车）；建议采用。",
        "en": "{best} cuts average delay by {pct}{interval} against {base} ({best_s} vs {base_s} s/veh); recommended.",
    },
    "none": {
        "zh": "没有方案比{base}更能降低试点区平均控制延误（{base_s} 秒/车）；建议保持{base}。",
        "en": "No strategy cuts average delay below {base} ({base_s} s/veh); keep {base}.",
    },
    "interval": {"zh": "（90%区间 {low}–{high}%）", "en": " (90 % interval {low}–{high} %)"},
}


def answer(config: SignalTimingFile, kpis: dict[str, float], result: RunResult) -> Answer:
    """The recommended strategy, its delay cut against the baseline and its 90 % interval."""
    baseline = config.strategies.baseline
    options = result.tables["options"]
    best = str(options.iloc[0]["option"])
    cut_pct = float(kpis["best_delay_reduction_pct"])
    interval = result.intervals.get("best_delay_reduction_pct")
    text, recommendation = {}, {}
    for lang in LANGS:
        values = {
            "best": strategy_label(best, lang), "base": strategy_label(baseline, lang),
            "pct": f"{cut_pct:.0f} %" if lang == "en" else f"{cut_pct:.0f}%",
            "best_s": f"{kpis[f'{best}_pilot_delay_s_per_veh']:.1f}",
            "base_s": f"{kpis[f'{baseline}_pilot_delay_s_per_veh']:.1f}",
            "interval": "",
        }
        if interval is not None and interval.get("n", 1) >= 2:
            values["interval"] = ANSWER_TEXT["interval"][lang].format(
                low=f"{interval['low']:.0f}", high=f"{interval['high']:.0f}")
        chosen = best if best != baseline and cut_pct > 0 else baseline
        text[lang] = ANSWER_TEXT["cut" if chosen != baseline else "none"][lang].format(**values)
        recommendation[lang] = strategy_label(chosen, lang)
    question = ANSWER_TEXT["question"]
    return Answer(text=text, question=dict(question), recommendation=recommendation,
                  metric="pilot_delay_s_per_veh", chosen=chosen, versus=baseline)


def check(config: SignalTimingFile, ctx: CheckContext) -> None:
    """Resolve the pilot against the city: its roads, the pilot's nodes and a signal among them."""
    if config.network.source != "city":
        return
    graph = ctx.city.roads
    if graph is None:
        raise ctx.fail("[network] source", "city", "the city has no road layer; add one with twin data import-osm "
                       "or twin data import-sumo")
    try:
        area = pilot_nodes(graph, config.network)
    except InputError as exc:
        raise InputError(exc.reason, ctx.source) from None
    if not any(graph.nodes[n].get("highway") == "traffic_signals" for n in area):
        raise InputError(f"[network] {config.network.pilot_label()}: no signalised junction in the pilot", ctx.source)


def starter(city: City) -> str:
    """The city's densest cluster of signals as the pilot, every strategy compared."""
    if city.roads is None:
        raise InputError("the city has no road layer; add one with twin data import-osm or import-sumo", city.data_dir)
    cluster = densest_signal_cluster(city.roads)
    if cluster is None:
        raise InputError("the city's roads have no signalised junction (highway = traffic_signals)", city.data_dir)
    where = f" around {cluster.junction}"
    return STARTER.format(city=city.name, name=f"signals_{cluster.centre}", signals=cluster.signals,
                          radius=cluster.radius_m, where=where, bbox=", ".join(f"{v:.5f}" for v in cluster.bbox))


STARTER = """# Signal timing in {city}'s densest cluster of signals (信号配时), written by `twin scenarios new`.
[scenario]
kind = "signal_timing"
name = "{name}"
description = "Signal strategies compared on the {signals} signals within {radius:.0f} m{where}."
start = 2025-06-03T07:00:00   # a weekday AM peak
duration_s = 3600             # the measured hour

[network]
source = "city"
bbox = [{bbox}]   # the {radius:.0f} m box around the node with most signals within {radius:.0f} m
scope = "district"            # the whole road network around the pilot

[strategies]
baseline = "fixed"            # untimed fixed plans (90 s, equal split) stand for today's
warmup_s = 900
"""


@scenario_kind(
    "signal_timing", SignalTimingFile, "Signal timing strategies compared in a pilot area (AM peak)",
    answer=answer, check=check, starter=starter,
)
def run(config: SignalTimingFile, engine: Engine) -> RunResult:
    """Compare signal strategies in the pilot area; rank them; report junction and network measures."""
    inputs = load_inputs(config.network)
    done = simulate_strategies(config, inputs, engine)
    network, pilot, runs = done.network, done.pilot, done.comparison.runs
    junctions = pd.concat(
        [junction_measures(r, network, pilot, config.gb_los) for r in runs], ignore_index=True
    )
    network_rows = {r.strategy: network_measures(r, config.scenario.duration_s) for r in runs}
    baseline = config.strategies.baseline
    ranking = rank_strategies(junctions, network_rows, baseline)
    wave = next((r.plans.coordination for r in runs if isinstance(r.plans.coordination, GreenWave)), None)
    best_name = str(ranking.iloc[0]["strategy"])
    notes = _notes(config, inputs, ranking, junctions, runs, wave, done, best_name)
    figures = {
        "delay_by_junction": delay_figure(junctions, [r.strategy for r in runs], baseline),
        "strategy_ranking": ranking_figure(ranking),
    }
    tables = _tables(config, inputs, done, ranking, junctions, wave, best_name)
    layers = {}  # a synthetic grid has no map; the city's roads are in lon/lat
    if "cim_road_links" in tables:
        best_rows = junctions[junctions["strategy"] == best_name]
        layers = signal_layers(inputs.graph, inputs.area_nodes, tables["cim_road_links"], best_rows)
    return RunResult(
        kpis=_kpis(done, ranking, baseline, wave),
        tables=tables,
        layers=layers,
        figures=figures,
        notes=notes,
        headline=[
            "best_delay_reduction_pct",
            "best_pilot_delay_s_per_veh",
            "baseline_pilot_delay_s_per_veh",
            "best_tti_ratio",
        ],
    )


def _kpis(done: Simulated, ranking: pd.DataFrame, baseline: str, wave: GreenWave | None) -> dict[str, float]:
    """The pilot's answer (best strategy against the baseline), every strategy's measures, the green
    wave, the MSA gap and the model's own counts."""
    runs = done.comparison.runs
    best = ranking.iloc[0]
    base_row = ranking[ranking["strategy"] == baseline].iloc[0]
    kpis: dict[str, float] = {
        "pilot_junctions_count": len(done.pilot),
        "signalised_junctions_count": len(done.network.controllers),
        "trips_simulated_veh": len(done.comparison.trips),
        "daily_vehicle_trips_veh": done.od_daily_trips,
        "baseline_pilot_delay_s_per_veh": float(base_row["pilot_delay_s_per_veh"]),
        "best_pilot_delay_s_per_veh": float(best["pilot_delay_s_per_veh"]),
        "best_delay_reduction_pct": -float(best["delay_change_vs_baseline_pct"]),
        "best_tti_ratio": float(best["tti_ratio"]),
        "baseline_tti_ratio": float(base_row["tti_ratio"]),
        "baseline_throughput_veh_per_h": float(base_row["throughput_veh_per_h"]),
        "baseline_mean_travel_time_s": float(base_row["mean_travel_time_s"]),
    }
    for _, row in ranking.iterrows():
        s = row["strategy"]
        kpis[f"{s}_pilot_delay_s_per_veh"] = float(row["pilot_delay_s_per_veh"])
        kpis[f"{s}_tti_ratio"] = float(row["tti_ratio"])
        kpis[f"{s}_throughput_veh_per_h"] = float(row["throughput_veh_per_h"])
        kpis[f"{s}_mean_travel_time_s"] = float(row["mean_travel_time_s"])
    if wave is not None:
        kpis["green_wave_cycle_s"] = wave.cycle_s
        kpis["green_wave_bandwidth_outbound_s"] = wave.bandwidth_outbound_s
        kpis["green_wave_bandwidth_inbound_s"] = wave.bandwidth_inbound_s
        kpis["green_wave_junctions_count"] = len(wave.controllers)
    if done.comparison.relative_gaps:
        kpis["msa_relative_gap_ratio"] = done.comparison.relative_gaps[-1]
    kpis["gridlocks_count"] = sum(r.model.kpis()["gridlocks_count"] for r in runs)
    kpis["vehicle_link_updates_count"] = sum(r.model.vehicle_link_updates for r in runs)
    return kpis


def _tables(
    config: SignalTimingFile,
    inputs: CityInputs,
    done: Simulated,
    ranking: pd.DataFrame,
    junctions: pd.DataFrame,
    wave: GreenWave | None,
    best_name: str,
) -> dict[str, pd.DataFrame]:
    """The ranking, the junctions, the link times of the baseline and the best strategy, the green
    wave, the CIM layers (bundled city) and the adaptive re-timings."""
    runs = done.comparison.runs
    best_run = next(r for r in runs if r.strategy == best_name)
    base_run = next(r for r in runs if r.strategy == config.strategies.baseline)
    tables = {
        "options": options_table(ranking),
        "strategies": ranking,
        "junctions": junctions,
        "link_times_baseline": base_run.model.link_table(),
        "link_times_best": best_run.model.link_table(),
    }
    if wave is not None:
        tables["green_wave"] = pd.DataFrame(
            {
                "controller": wave.controllers,
                "offset_s": wave.offsets_s,
                "travel_time_to_next_s": [*wave.travel_times_s, math.nan],
            }
        )
    if config.network.source == "city":
        pilot = config.network.area_id if config.network.bbox is None else "box"
        label = f"{pilot} pilot, {best_name} control: travel-time index"
        tables.update(cim_tables(inputs.graph, inputs.area_nodes, tables["link_times_best"], label))
    adaptive = next((r for r in runs if r.strategy == "adaptive"), None)
    if adaptive is not None and adaptive.model.controller.history:
        tables["adaptive_retiming"] = pd.DataFrame(adaptive.model.controller.history)
    return tables


def cim_tables(graph: nx.MultiDiGraph, area_nodes: set, links: pd.DataFrame, label: str) -> dict[str, pd.DataFrame]:
    """The run on the CIM (viz/results_overlay.py): per road link the time-mean travel-time index
    (``tti``, ratio to free flow, at least 1; a link no vehicle left in the hour counts as free),
    speed and queue (``cim_road_links``), and the pilot area as the focus (``cim_focus``)."""
    grouped = links.groupby(["u", "v", "key"], sort=True)
    roads = pd.DataFrame({
        "travel_time_s": grouped["mean_travel_time_s"].mean(),
        "speed_m_per_s": grouped["mean_speed_m_per_s"].mean(),
        "queue_veh": grouped["mean_queue_veh"].mean(),
    }).reset_index()
    node_type = type(next(iter(graph.nodes)))  # the link table stores node ids as text
    roads["u"], roads["v"] = roads["u"].map(node_type), roads["v"].map(node_type)
    edges = zip(roads["u"], roads["v"], roads["key"], strict=True)
    free_s = np.array([free_flow_time_s(graph.edges[edge]) for edge in edges])
    roads["tti"] = np.fmax(roads.pop("travel_time_s").to_numpy() / free_s, 1.0)  # NaN (no exits) → 1
    focus = focus_table(*node_lonlat(graph, sorted(area_nodes)), label, min_radius_m=1_500.0)
    return {"cim_road_links": roads, "cim_focus": focus}


def _notes(config, inputs, ranking, junctions, runs, wave, done, best_name) -> list[str]:  # noqa: ANN001
    """The report's notes: the setup, the answer, where it breaks down, the green wave, gridlocks,
    oversaturation, MSA gaps and the GB 50647 caveat."""
    baseline = config.strategies.baseline
    best = ranking.iloc[0]
    base = ranking[ranking["strategy"] == baseline].iloc[0]
    notes = [
        f"{inputs.description}: {len(done.pilot)} signalised pilot junctions among "
        f"{len(done.network.controllers)}; {len(done.comparison.trips):,} vehicle trips simulated "
        f"({config.strategies.warmup_s:.0f} s warm-up, then {config.scenario.duration_s:.0f} s measured "
        f"from {config.scenario.start:%H:%M}), identical for every strategy.",
        f"Best strategy: **{best_name}**, pilot control delay {best['pilot_delay_s_per_veh']:.1f} s/veh "
        f"against {base['pilot_delay_s_per_veh']:.1f} s/veh for {baseline} "
        f"({best['delay_change_vs_baseline_pct']:+.1f} %); network TTI {best['tti_ratio']:.2f} against "
        f"{base['tti_ratio']:.2f}.",
    ]
    best_junctions = junctions[junctions["strategy"] == best_name]
    failing = best_junctions[best_junctions["los_hcm"].isin(["E", "F"])]
    if len(failing):
        worst = failing.sort_values("control_delay_s_per_veh", ascending=False).head(5)
        where = ", ".join(
            f"{r.node} ({r.control_delay_s_per_veh:.0f} s, v/c {r.v_over_c_ratio:.2f})"
            for r in worst.itertuples()
        )
        over = int((failing["v_over_c_ratio"] > 1.0).sum())
        notes.append(
            f"Where it breaks down: under {best_name}, {len(failing)} pilot junctions stay at LOS E/F "
            f"(HCM 6): {where}. Over capacity (v/c > 1), needing capacity or demand measures: {over}; "
            f"held up by queues spilling back from downstream, which coordination or downstream "
            f"capacity can relieve: {len(failing) - over}."
        )
    else:
        notes.append(f"Under {best_name} every pilot junction is at LOS D or better (HCM 6).")
    if wave is not None:
        notes.append(
            f"Green wave on {wave.road}: {len(wave.controllers)} junctions, common cycle "
            f"{wave.cycle_s:.0f} s, bandwidth {wave.bandwidth_outbound_s:.0f} s outbound and "
            f"{wave.bandwidth_inbound_s:.0f} s inbound "
            f"({100 * wave.bandwidth_outbound_s / wave.cycle_s:.0f} % / "
            f"{100 * wave.bandwidth_inbound_s / wave.cycle_s:.0f} % of the cycle)."
        )
    for r in runs:
        notes += r.plans.notes
        for g in r.model.gridlocks:
            nodes = ", ".join(map(str, g.nodes[:6]))
            notes.append(f"Gridlock under {r.strategy} at {g.time_s:.0f} s around nodes {nodes}.")
    oversaturated = sum(p.oversaturated for p in next(r for r in runs if r.strategy == best_name).plans.plans)
    if oversaturated:
        notes.append(
            f"{oversaturated} junctions have Y ≥ {config.timing.oversaturation_y} in the design flows "
            f"(oversaturated: Webster uses the maximum cycle {config.timing.max_cycle_s:.0f} s)."
        )
    gaps = done.comparison.relative_gaps
    if gaps:
        notes.append("MSA rerouting relative gaps by iteration: " + ", ".join(f"{g:.3f}" for g in gaps) + ".")
    notes.append(
        "GB 50647 grades use the configurable table in [gb_los] (default: GB 50647-2011 表 B.0.1 as "
        "commonly cited: 一级 < 30 s, 二级 30–50 s, 三级 50–60 s, 四级 > 60 s; 负荷度 < 0.6 / 0.8 / 0.9)."
    )
    return notes
