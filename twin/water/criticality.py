"""Pipe criticality: burst each pipe in turn, isolate it, and count the service lost.

For every selected pipe the burst is followed through its consequence that lasts: the crew shuts
the valves around the pipe's segment (:mod:`twin.water.segments`) and the segment stays off for
the outage (detection, travel, isolation and repair; default 6 h from the morning peak). An
extended-period, pressure-driven simulation of that window counts the person-hours without
adequate service (GB 50013 service head) - the segment's own residents and anyone elsewhere whose
pressure falls below the service head because the closure reroutes the flow - minus what the same
window costs without the burst. Pipes are ranked by those person-hours (:func:`pipe_criticality`;
:func:`run_criticality` is ``twin water criticality``, table and map).

The short pre-isolation leak is left out here (the burst response, :mod:`twin.water.burst`,
follows it in detail): it lasts minutes to an hour against hours of isolation, and the ranking is
about which closures hurt.

Every burst reuses one :class:`twin.water.hydraulics.GGASolver` - closing links changes values,
not the sparsity pattern, so the symbolic factorisation is done once for the whole sweep - and
starts from a copy of the baseline state at the start of the window (tank levels included). Pipes
in the same valve segment share one simulation. The same sweep run through EPANET, burst by burst,
is the peer that validates it (:mod:`twin.water.criticality_epanet`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kernels.hydraulics.codes import PIPE
from twin.errors import InputError
from twin.paths import data_dir
from twin.progress import progress_bar
from twin.results import atomic_dir, refuse_existing, write_figure, write_table
from twin.water.compile import compile_network
from twin.water.epanet_io import link_tags, read_inp
from twin.water.hydraulic_results import HydraulicResults
from twin.water.hydraulics import GGASolver
from twin.water.network import CompiledNetwork
from twin.water.segments import Segments, ValveLayer, isolation_plan, read_valve_layer, valve_segments
from twin.water.service import (
    SERVICE_HEAD_M,
    below_service,
    person_hours_below,
    population_served,
    service_network,
)
from twin.water.simulation import ExtendedPeriodSimulation, UnbalancedPolicy
from twin.water.state import HydraulicState, initial_state

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class OutageWindow:
    """When the isolation lasts, and how finely it is simulated."""

    start_s: int = 7 * 3600
    """Start of the outage, seconds after midnight (default 07:00, the morning peak)."""
    outage_s: int = 6 * 3600
    """How long the segment stays shut (s)."""
    step_s: int = 3600
    """Hydraulic and reporting step (s)."""

    @property
    def end_s(self) -> int:
        return self.start_s + self.outage_s



def spin_up(net: CompiledNetwork, solver: GGASolver, window: OutageWindow) -> HydraulicState:
    """The network's state at the start of the window, simulated from midnight (tank levels)."""
    sim = ExtendedPeriodSimulation(
        net,
        duration_s=window.end_s,
        hydraulic_step_s=window.step_s,
        report_step_s=window.step_s,
        on_unbalanced="relax",
        solver=solver,
        record_determinacy=False,
    )
    sim.run_until(window.start_s)
    return sim.state.copy()


def simulate_outage(
    net: CompiledNetwork,
    solver: GGASolver,
    start: HydraulicState,
    window: OutageWindow,
    closed_links: np.ndarray,
    on_unbalanced: UnbalancedPolicy = "continue",
) -> HydraulicResults:
    """The window with ``closed_links`` shut from its start; returns the results.

    A sweep keeps going past a step that does not converge (``on_unbalanced="continue"``): the
    step is logged in the results' ``solver_log`` and counted in the sweep's table.
    """
    sim = ExtendedPeriodSimulation(
        net,
        duration_s=window.end_s,
        hydraulic_step_s=window.step_s,
        report_step_s=window.step_s,
        on_unbalanced=on_unbalanced,
        solver=solver,
        start_s=window.start_s,
        initial=start,
        record_determinacy=False,
    )
    for k in closed_links:
        sim.set_link_status(int(k), False)
    return sim.run()



def pipe_criticality(
    net: CompiledNetwork,
    valves: ValveLayer,
    pipes: list[int] | np.ndarray,
    window: OutageWindow | None = None,
    service_head: float = SERVICE_HEAD_M,
    population: np.ndarray | None = None,
    segments: Segments | None = None,
    warm_start: bool = True,
) -> pd.DataFrame:
    """Rank ``pipes`` (link indices) by person-hours of lost service when each is isolated.

    ``warm_start`` (default) starts every burst from the solved baseline state at the window's
    start; ``False`` starts from the file's statuses and first-guess flows with the spun-up tank
    levels, as a separate EPANET run of the window does (both give the same hours from the second
    step on; at the first, a network with many regulating stations can settle either way).

    Returns a table, most critical first: ``rank, pipe, segment, valves_to_close,
    links_closed_count, population_cut_off_count, person_hours_lost_person_h,
    peak_population_below_count, diameter_mm, length_m, unbalanced_steps_count`` (hydraulic steps
    that did not converge to the accuracy and were kept, flagged, as EPANET keeps them).
    """
    # deferred: pandas is slow to import, and only the finished table needs it
    import pandas as pd

    window = window or OutageWindow()
    service = service_network(net, service_head)
    solver = GGASolver(service)
    population = population_served(net) if population is None else population
    segments = segments or valve_segments(service, valves)
    start = window_start(service, solver, window, warm_start)
    sweep = _Sweep(service, solver, start, window, valves, segments, population, service_head)
    with progress_bar(len(pipes), "pipe bursts") as bar:
        rows = []
        for pipe in pipes:
            rows.append(sweep.burst(int(pipe)))
            bar.advance()
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table = table.sort_values(["person_hours_lost_person_h", "pipe"], ascending=[False, True], kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)


def window_start(net: CompiledNetwork, solver: GGASolver, window: OutageWindow, warm: bool = True) -> HydraulicState:
    """The state every burst of a sweep starts from at the window's start.

    Warm: the solved state of a run from midnight. Cold, as a fresh EPANET run would: first-guess
    flows and the file's statuses, with that run's tank levels.
    """
    start = spin_up(net, solver, window)
    if warm:
        return start
    cold = initial_state(net)
    cold.tank_volume[:] = start.tank_volume
    cold.head[net.tank_node] = start.head[net.tank_node]
    return cold


@dataclass
class _Sweep:
    """One criticality sweep: the shared solver and start, the baseline, and the outage of every
    segment simulated so far (pipes of one segment share it)."""

    net: CompiledNetwork
    solver: GGASolver
    start: HydraulicState
    window: OutageWindow
    valves: ValveLayer
    segments: Segments
    population: np.ndarray
    service_head: float
    by_segment: dict[int, tuple[float, float, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        baseline = simulate_outage(self.net, self.solver, self.start, self.window, np.zeros(0, dtype=np.int64))
        self.base_hours = person_hours_below(baseline, self.population, self.window.end_s, self.service_head)
        self.base_below = below_service(baseline, self.service_head)

    def outage(self, links: np.ndarray) -> tuple[float, float, int]:
        """``(person-hours lost, peak population below the service head, unbalanced steps)`` with
        ``links`` shut for the window, beyond what the window costs without the burst."""
        result = simulate_outage(self.net, self.solver, self.start, self.window, links)
        hours = person_hours_below(result, self.population, self.window.end_s, self.service_head) - self.base_hours
        below = below_service(result, self.service_head) & ~self.base_below
        peak = float((below * self.population[None, :]).sum(axis=1).max())
        unbalanced = sum(not entry["converged"] for entry in result.solver_log)
        return max(hours, 0.0), peak, unbalanced

    def burst(self, pipe: int) -> dict:
        """The table row of ``pipe``: what isolating it takes and costs."""
        net, valves = self.net, self.valves
        close, links, nodes = isolation_plan(net, valves, self.segments, pipe)
        segment = self.segments.segment_of_link(pipe)
        if segment not in self.by_segment:
            self.by_segment[segment] = self.outage(links)
        hours, peak, unbalanced = self.by_segment[segment]
        cut = nodes[nodes < net.n_junctions]
        return {
            "pipe": net.link_names[pipe],
            "segment": segment,
            "valves_to_close": " ".join(valves.valve_id[v] for v in close),
            "links_closed_count": len(links),
            "population_cut_off_count": float(self.population[cut].sum()),
            "person_hours_lost_person_h": hours,
            "peak_population_below_count": peak,
            "diameter_mm": float(net.diameter_m[pipe] * 1000.0),
            "length_m": float(net.length_m[pipe]),
            "unbalanced_steps_count": unbalanced,
        }


def select_pipes(
    net: CompiledNetwork, which: str, trunk_min_diameter_m: float = 0.3, tags: dict[str, str] | None = None
) -> np.ndarray:
    """Pipe indices for ``which``: ``all`` pipes, or ``trunk`` mains.

    Trunk mains are pipes tagged ``trunk`` (the bundled network's tags) or, without tags, pipes
    of at least ``trunk_min_diameter_m``.
    """
    pipes = np.flatnonzero(net.kind <= PIPE)
    if which == "all":
        return pipes
    if which != "trunk":
        raise ValueError(f"unknown pipe selection {which!r}")
    if tags:
        tagged = np.array([tags.get(net.link_names[k]) == "trunk" for k in pipes])
        if tagged.any():
            return pipes[tagged]
    return pipes[net.diameter_m[pipes] >= trunk_min_diameter_m]



def criticality_map(net: CompiledNetwork, table: pd.DataFrame, title: str = "Pipe criticality") -> Figure:
    """A map of the network with pipes coloured by person-hours lost when each bursts."""
    # deferred: matplotlib is slow to import, and only the map needs it
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred with matplotlib, after choosing its backend
    from matplotlib.collections import LineCollection  # deferred with matplotlib

    xy = net.node_xy
    fig, ax = plt.subplots(figsize=(10, 9))
    segments = np.stack([xy[net.start], xy[net.end]], axis=1)
    ax.add_collection(LineCollection(segments, colors="#cccccc", linewidths=0.6, zorder=1))
    hours = dict(zip(table["pipe"], table["person_hours_lost_person_h"], strict=True))
    ranked = [net.link_index(p) for p in table["pipe"]]
    values = np.array([hours[net.link_names[k]] for k in ranked])
    if len(ranked):
        widths = 0.8 + 2.5 * net.diameter_m[ranked] / max(net.diameter_m[ranked].max(), 1e-9)
        lines = LineCollection(segments[ranked], array=values, cmap="inferno_r", linewidths=widths, zorder=2)
        ax.add_collection(lines)
        fig.colorbar(lines, ax=ax, shrink=0.7, label="person-hours without adequate service")
        for i, (_, row) in enumerate(table.head(5).iterrows()):
            k = net.link_index(row["pipe"])
            mid = xy[[net.start[k], net.end[k]]].mean(axis=0)
            ax.annotate(
                f"#{row['rank']} {row['pipe']}",
                mid,
                fontsize=8,
                color="#08306b",
                xytext=(12, 14 - 12 * i),
                textcoords="offset points",
                arrowprops={"arrowstyle": "-", "color": "#08306b", "lw": 0.5},
            )
    sources = np.flatnonzero(net.node_kind != 0)
    ax.scatter(
        xy[sources, 0],
        xy[sources, 1],
        marker="s",
        s=40,
        color="#2171b5",
        zorder=3,
        label="reservoirs and tanks",
    )
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_title(title)
    ax.set_xlabel("map x (the bundled network: EPSG:4549 m)")
    ax.set_ylabel("map y")
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def run_criticality(
    out: Path,
    pipes: str = "trunk",
    inp: Path | None = None,
    valves_csv: Path | None = None,
    start_h: float = 7.0,
    outage_h: float = 6.0,
    step_s: int = 3600,
    service_head: float = SERVICE_HEAD_M,
    force: bool = False,
) -> pd.DataFrame:
    """``twin water criticality``: rank pipes of a network and write ``criticality.parquet``/``.csv``
    and ``criticality_map.png`` to ``out``. Default network: the bundled Changle one."""
    out = Path(out)
    refuse_existing(out, force)
    inp = Path(inp) if inp is not None else data_dir() / "water.inp"
    valves_csv = Path(valves_csv) if valves_csv is not None else inp.with_name(inp.stem + "_valves.csv")
    if not valves_csv.exists():
        raise InputError("valve layer not found (give --valves FILE.csv: valve_id, link, node)", valves_csv)
    if pipes not in ("trunk", "all"):
        raise InputError(f"--pipes {pipes!r}: expected trunk or all")
    if not 0 <= start_h < 24 or not 0 < outage_h <= 48:
        raise InputError(f"--start-h {start_h} / --outage-h {outage_h}: expected 0-24 h and 0-48 h")
    wn = read_inp(inp)
    net = compile_network(wn, str(inp))
    valves = read_valve_layer(valves_csv, net)
    chosen = select_pipes(net, pipes, tags=link_tags(wn))
    window = OutageWindow(int(round(start_h * 3600)), int(round(outage_h * 3600)), int(step_s))
    table = pipe_criticality(net, valves, chosen, window, service_head)
    with atomic_dir(out, force) as tmp:
        write_table(tmp, "criticality", table)
        if net.node_xy is not None and np.isfinite(net.node_xy).all():
            write_figure(tmp, "criticality_map", criticality_map(net, table, f"Pipe criticality: {inp.name}"))
    return table
