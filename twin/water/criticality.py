"""Pipe criticality: burst each pipe in turn, isolate it, and count the service lost.

For every selected pipe the burst is followed through its consequence that lasts: the crew shuts
the valves around the pipe's segment (:mod:`twin.water_segments`) and the segment stays off for
the outage (detection, travel, isolation and repair; default 6 h from the morning peak). An
extended-period, pressure-driven simulation of that window counts the person-hours without
adequate service (GB 50013 service head) - the segment's own residents and anyone elsewhere whose
pressure falls below the service head because the closure reroutes the flow - minus what the same
window costs without the burst. Pipes are ranked by those person-hours.

The short pre-isolation leak is left out here (the ``pipe_burst`` scenario follows it in detail):
it lasts minutes to an hour against hours of isolation, and the ranking is about which closures
hurt.

Every burst reuses one :class:`twin.hydraulics.GGASolver` - closing links changes values, not the
sparsity pattern, so the symbolic factorisation is done once for the whole sweep - and starts from
a copy of the baseline state at the start of the window (tank levels included). Pipes in the same
valve segment share one simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.progress import progress_bar
from twin.water.hydraulics import CompiledNetwork, GGASolver, HydraulicState, initial_state
from twin.water.network import ExtendedPeriodSimulation
from twin.water.segments import Segments, ValveLayer, isolation_plan, valve_segments
from twin.water.service import SERVICE_HEAD_M, below_service, person_hours_below, population_served


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


def service_network(net: CompiledNetwork, service_head: float = SERVICE_HEAD_M) -> CompiledNetwork:
    """A pressure-driven copy of ``net``: full demand from the service head, none at zero pressure."""
    copy = net.copy()
    copy.options.pressure_driven = True
    copy.pdd_pmin_m[:] = 0.0
    copy.pdd_preq_m[:] = service_head
    return copy


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
    on_unbalanced: str = "continue",
):
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
):
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
    import pandas as pd

    window = window or OutageWindow()
    service = service_network(net, service_head)
    solver = GGASolver(service)
    population = population_served(net) if population is None else population
    segments = segments or valve_segments(service, valves)
    start = spin_up(service, solver, window)
    if not warm_start:
        # as a fresh EPANET run would: first-guess flows and file statuses, spun-up tank levels
        cold = initial_state(service)
        cold.tank_volume[:] = start.tank_volume
        cold.head[service.tank_node] = start.head[service.tank_node]
        start = cold
    baseline = simulate_outage(service, solver, start, window, np.zeros(0, dtype=np.int64))
    base_hours = person_hours_below(baseline, population, window.end_s, service_head)
    base_below = below_service(baseline, service_head)
    by_segment: dict[int, tuple[float, float, int]] = {}
    rows = []
    nj = service.n_junctions
    with progress_bar(len(pipes), "pipe bursts") as bar:
        for pipe in pipes:
            pipe = int(pipe)
            close, links, nodes = isolation_plan(service, valves, segments, pipe)
            segment = segments.segment_of_link(pipe)
            if segment not in by_segment:
                result = simulate_outage(service, solver, start, window, links)
                hours = person_hours_below(result, population, window.end_s, service_head) - base_hours
                below = below_service(result, service_head) & ~base_below
                peak = float((below * population[None, :]).sum(axis=1).max())
                unbalanced = sum(not entry["converged"] for entry in result.solver_log)
                by_segment[segment] = (max(hours, 0.0), peak, unbalanced)
            hours, peak, unbalanced = by_segment[segment]
            cut = nodes[nodes < nj]
            rows.append(
                {
                    "pipe": service.link_names[pipe],
                    "segment": segment,
                    "valves_to_close": " ".join(valves.valve_id[v] for v in close),
                    "links_closed_count": len(links),
                    "population_cut_off_count": float(population[cut].sum()),
                    "person_hours_lost_person_h": hours,
                    "peak_population_below_count": peak,
                    "diameter_mm": float(service.diameter_m[pipe] * 1000.0),
                    "length_m": float(service.length_m[pipe]),
                    "unbalanced_steps_count": unbalanced,
                }
            )
            bar.advance()
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table = table.sort_values(["person_hours_lost_person_h", "pipe"], ascending=[False, True], kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)


def select_pipes(
    net: CompiledNetwork, which: str, trunk_min_diameter_m: float = 0.3, tags: dict[str, str] | None = None
) -> np.ndarray:
    """Pipe indices for ``which``: ``all`` pipes, or ``trunk`` mains.

    Trunk mains are pipes tagged ``trunk`` (the bundled network's tags) or, without tags, pipes
    of at least ``trunk_min_diameter_m``.
    """
    pipes = np.flatnonzero(net.kind <= 1)
    if which == "all":
        return pipes
    if which != "trunk":
        raise ValueError(f"unknown pipe selection {which!r}")
    if tags:
        tagged = np.array([tags.get(net.link_names[k]) == "trunk" for k in pipes])
        if tagged.any():
            return pipes[tagged]
    return pipes[net.diameter_m[pipes] >= trunk_min_diameter_m]


__all__ = [
    "OutageWindow",
    "pipe_criticality",
    "select_pipes",
    "service_network",
    "valve_segments",
]


def criticality_map(net: CompiledNetwork, table, title: str = "Pipe criticality"):
    """A map of the network with pipes coloured by person-hours lost when each bursts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

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
    out,
    pipes: str = "trunk",
    inp=None,
    valves_csv=None,
    start_h: float = 7.0,
    outage_h: float = 6.0,
    step_s: int = 3600,
    service_head: float = SERVICE_HEAD_M,
    force: bool = False,
):
    """``twin water criticality``: rank pipes of a network and write ``criticality.parquet``/``.csv``
    and ``criticality_map.png`` to ``out``. Default network: the bundled Changle one."""
    from pathlib import Path

    import pandas as pd

    from twin.errors import InputError
    from twin.paths import data_dir
    from twin.results import atomic_dir, refuse_existing, write_figure, write_table
    from twin.water.epanet_io import read_inp
    from twin.water.network import compile_network

    out = Path(out)
    refuse_existing(out, force)
    inp = Path(inp) if inp is not None else data_dir() / "changle_water.inp"
    valves_csv = Path(valves_csv) if valves_csv is not None else inp.with_name(inp.stem + "_valves.csv")
    if not valves_csv.exists():
        raise InputError("valve layer not found (give --valves FILE.csv: valve_id, link, node)", valves_csv)
    if pipes not in ("trunk", "all"):
        raise InputError(f"--pipes {pipes!r}: expected trunk or all")
    if not 0 <= start_h < 24 or not 0 < outage_h <= 48:
        raise InputError(f"--start-h {start_h} / --outage-h {outage_h}: expected 0-24 h and 0-48 h")
    wn = read_inp(inp)
    net = compile_network(wn, str(inp))
    try:
        valves = ValveLayer.from_frame(pd.read_csv(valves_csv), net)
    except (KeyError, ValueError) as exc:
        raise InputError(f"not a valve layer (valve_id, link, node): {exc}", valves_csv) from None
    tags = {name: str(wn.get_link(name).tag) for name in wn.link_name_list if wn.get_link(name).tag}
    chosen = select_pipes(net, pipes, tags=tags)
    window = OutageWindow(int(round(start_h * 3600)), int(round(outage_h * 3600)), int(step_s))
    table = pipe_criticality(net, valves, chosen, window, service_head)
    with atomic_dir(out, force) as tmp:
        write_table(tmp, "criticality", table)
        if net.node_xy is not None and np.isfinite(net.node_xy).all():
            write_figure(tmp, "criticality_map", criticality_map(net, table, f"Pipe criticality: {inp.name}"))
    return table


def pipe_criticality_epanet(
    wn,
    net: CompiledNetwork,
    valves: ValveLayer,
    pipes,
    window: OutageWindow | None = None,
    service_head: float = SERVICE_HEAD_M,
    population: np.ndarray | None = None,
    workdir=None,
):
    """The same sweep with EPANET 2.2 through WNTR's EpanetSimulator, burst by burst (the peer).

    Same window, same closures, same pressure-driven demand, tank levels taken from an EPANET run
    up to the window's start. Each EPANET run starts one step before the window with the network
    open and closes the segment at the window's start by a time control: the first step of a fresh
    EPANET run settles the regulating stations from the file's statuses and can leave hundreds of
    junctions at transient pressures (seen: 551 below the service head at that step, 19 at every
    later one), which our sweep avoids by starting from the solved state. Used to validate
    :func:`pipe_criticality` and as the benchmark's peer; it is what a user looping EPANET would do.

    Returns a table ``pipe, person_hours_lost_person_h, converged``: ``converged`` is False where
    EPANET 2.2.0's pressure-driven analysis left a step unbalanced (WNTR warns), returned pressures
    a kilometre or more below or above ground (it does, flagged as converged), or failed (NaN).
    """
    import tempfile
    import warnings
    from pathlib import Path

    import pandas as pd
    import wntr
    from wntr.network.controls import Control, ControlAction, SimTimeCondition

    window = window or OutageWindow()
    population = population_served(net) if population is None else population
    segments = valve_segments(net, valves)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="criticality_epanet_"))
    opts = wn.options
    saved_unbalanced = (opts.hydraulic.unbalanced, opts.hydraulic.unbalanced_value)
    saved = (
        opts.hydraulic.demand_model,
        opts.hydraulic.minimum_pressure,
        opts.hydraulic.required_pressure,
        opts.time.duration,
        opts.time.hydraulic_timestep,
        opts.time.report_timestep,
        opts.time.pattern_start,
        opts.time.start_clocktime,
        {t: wn.get_node(t).init_level for t in wn.tank_name_list},
    )
    opts.hydraulic.demand_model = "PDA"
    opts.hydraulic.unbalanced = "CONTINUE"  # as our sweep does: keep going past a hard step
    opts.hydraulic.minimum_pressure = 0.0
    opts.hydraulic.required_pressure = service_head
    opts.time.hydraulic_timestep = window.step_s
    opts.time.report_timestep = window.step_s
    junctions = list(wn.junction_name_list)
    columns = [net.node_index(j) for j in junctions]
    pop = population[columns]

    lead_s = window.step_s  # the settling step, before the window

    def window_pressure(result) -> np.ndarray:
        """Junction pressures at the window's report times (the settling step dropped)."""
        frame = result.node["pressure"][junctions]
        return frame[frame.index >= lead_s].to_numpy()

    def hours_below(result) -> float:
        pressure = window_pressure(result)
        times = result.node["pressure"].index.to_numpy(dtype=float)
        times = times[times >= lead_s]
        durations = np.diff(np.append(times, lead_s + window.outage_s))
        return float(((pressure < service_head - 1e-6) * pop[None, :]).sum(axis=1) @ durations / 3600.0)

    try:
        opts.time.duration = window.start_s - lead_s
        spin = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(workdir / "spinup"))
        for tank in wn.tank_name_list:
            level = float(spin.node["pressure"][tank].iloc[-1])
            node = wn.get_node(tank)
            # strictly inside the range: a level written back a hair above the maximum is an
            # EPANET input error (225) that leaves no results at all
            node.init_level = min(max(level, node.min_level + 0.001), node.max_level - 0.001)
        opts.time.duration = lead_s + window.outage_s
        opts.time.pattern_start = window.start_s - lead_s
        opts.time.start_clocktime = window.start_s - lead_s
        base = hours_below(wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(workdir / "base")))
        rows = []
        by_segment: dict[int, tuple[float, bool]] = {}
        for pipe in pipes:
            pipe = int(pipe)
            segment = segments.segment_of_link(pipe)
            if segment not in by_segment:
                _, links, _ = isolation_plan(net, valves, segments, pipe)
                names = [net.link_names[k] for k in links]
                for name in names:  # closed at the window's start, after the settling step
                    action = ControlAction(wn.get_link(name), "status", wntr.network.LinkStatus.Closed)
                    wn.add_control(f"isolate_{name}", Control(SimTimeCondition(wn, "=", lead_s), action))
                try:
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        result = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(workdir / "burst"))
                    unbalanced = any("did not converge" in str(w.message) for w in caught)
                    # EPANET 2.2.0's PDA sometimes "converges" to pressures a kilometre or more below
                    # or above ground (seen: +7,515 m behind a closure at a run's first step)
                    unbalanced |= bool((np.abs(window_pressure(result)) > 1000.0).any())
                    by_segment[segment] = (max(hours_below(result) - base, 0.0), not unbalanced)
                except Exception:  # noqa: BLE001 - EPANET 2.2.0's PDA fails on some closures
                    by_segment[segment] = (float("nan"), False)
                finally:
                    for name in names:
                        wn.remove_control(f"isolate_{name}")
            hours, converged = by_segment[segment]
            rows.append(
                {"pipe": net.link_names[pipe], "person_hours_lost_person_h": hours, "converged": converged}
            )
        return pd.DataFrame(rows)
    finally:
        (
            opts.hydraulic.demand_model,
            opts.hydraulic.minimum_pressure,
            opts.hydraulic.required_pressure,
            opts.time.duration,
            opts.time.hydraulic_timestep,
            opts.time.report_timestep,
            opts.time.pattern_start,
            opts.time.start_clocktime,
            levels,
        ) = saved
        for tank, level in levels.items():
            wn.get_node(tank).init_level = level
        opts.hydraulic.unbalanced, opts.hydraulic.unbalanced_value = saved_unbalanced
