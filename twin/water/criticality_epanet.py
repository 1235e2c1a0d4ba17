"""The peer of the criticality sweep: the same bursts run one by one through EPANET 2.2 (WNTR).

:func:`pipe_criticality_epanet` is what a user looping EPANET would do, and what validates
:func:`twin.water.criticality.pipe_criticality` (tests) and measures it (benchmarks): the same
window, the same closures, the same pressure-driven demand, with tank levels from an EPANET run up
to the window's start.

Each EPANET run starts one step before the window with the network open and closes the segment at
the window's start by a time control: the first step of a fresh EPANET run settles the regulating
stations from the file's statuses and can leave hundreds of junctions at transient pressures
(seen: 551 below the service head at that step, 19 at every later one), which our sweep avoids by
starting from the solved state.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from twin.water.criticality import OutageWindow
from twin.water.network import CompiledNetwork
from twin.water.segments import ValveLayer, isolation_plan, valve_segments
from twin.water.service import SERVICE_HEAD_M, population_served

if TYPE_CHECKING:
    import pandas as pd
    import wntr


def pipe_criticality_epanet(
    wn: wntr.network.WaterNetworkModel,
    net: CompiledNetwork,
    valves: ValveLayer,
    pipes: list[int] | np.ndarray,
    window: OutageWindow | None = None,
    service_head: float = SERVICE_HEAD_M,
    population: np.ndarray | None = None,
    workdir: Path | None = None,
) -> pd.DataFrame:
    """The criticality sweep with EPANET 2.2 through WNTR's EpanetSimulator, burst by burst.

    ``wn`` is the model ``net`` was compiled from; its options are changed for the sweep and
    restored afterwards. EPANET's files go to ``workdir`` (default: a new temporary folder).

    Returns a table ``pipe, person_hours_lost_person_h, converged``: ``converged`` is False where
    EPANET 2.2.0's pressure-driven analysis left a step unbalanced (WNTR warns), returned pressures
    a kilometre or more below or above ground (it does, flagged as converged), or failed (NaN).
    """
    # deferred: pandas is slow to import, and only the finished table needs it
    import pandas as pd

    window = window or OutageWindow()
    population = population_served(net) if population is None else population
    segments = valve_segments(net, valves)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="criticality_epanet_"))
    junctions = list(wn.junction_name_list)
    service = _ServiceInWindow(junctions, population[[net.node_index(j) for j in junctions]], window,
                               service_head)
    rows = []
    with _outage_options(wn, window, service_head):
        _spin_up_tank_levels(wn, window, workdir)
        _window_times(wn, window)
        base = service.hours_below(_run(wn, workdir / "base"))
        by_segment: dict[int, tuple[float, bool]] = {}
        for pipe in pipes:
            pipe = int(pipe)
            segment = segments.segment_of_link(pipe)
            if segment not in by_segment:
                _, links, _ = isolation_plan(net, valves, segments, pipe)
                by_segment[segment] = _burst(wn, [net.link_names[k] for k in links], service, base, workdir)
            hours, converged = by_segment[segment]
            rows.append(
                {"pipe": net.link_names[pipe], "person_hours_lost_person_h": hours, "converged": converged}
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class _ServiceInWindow:
    """Person-hours below the service head over the window, read from EPANET's results."""

    junctions: list[str]
    population: np.ndarray
    window: OutageWindow
    service_head: float

    @property
    def lead_s(self) -> int:
        """The settling step before the window, where every EPANET run starts."""
        return self.window.step_s

    def window_pressure(self, result) -> np.ndarray:
        """Junction pressures at the window's report times (the settling step dropped)."""
        frame = result.node["pressure"][self.junctions]
        return frame[frame.index >= self.lead_s].to_numpy()

    def hours_below(self, result) -> float:
        """Person-hours below the service head in EPANET results ``result``."""
        pressure = self.window_pressure(result)
        times = result.node["pressure"].index.to_numpy(dtype=float)
        times = times[times >= self.lead_s]
        durations = np.diff(np.append(times, self.lead_s + self.window.outage_s))
        below = (pressure < self.service_head - 1e-6) * self.population[None, :]
        return float(below.sum(axis=1) @ durations / 3600.0)


@contextmanager
def _outage_options(wn: wntr.network.WaterNetworkModel, window: OutageWindow,
                    service_head: float) -> Iterator[None]:
    """Pressure-driven demand from the service head, hourly steps of the window, and keep going
    past an unbalanced step (as our sweep does); every option and tank level is restored after."""
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
    opts.hydraulic.unbalanced = "CONTINUE"
    opts.hydraulic.minimum_pressure = 0.0
    opts.hydraulic.required_pressure = service_head
    opts.time.hydraulic_timestep = window.step_s
    opts.time.report_timestep = window.step_s
    try:
        yield
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


def _run(wn: wntr.network.WaterNetworkModel, prefix: Path):
    """One EPANET run of ``wn``, its files named ``prefix``."""
    # deferred: wntr is slow to import, and only the peer needs it
    import wntr

    return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(prefix))


def _spin_up_tank_levels(wn: wntr.network.WaterNetworkModel, window: OutageWindow, workdir: Path) -> None:
    """Start the tanks at the levels an EPANET run from midnight reaches by the settling step."""
    wn.options.time.duration = window.start_s - window.step_s
    spin = _run(wn, workdir / "spinup")
    for tank in wn.tank_name_list:
        level = float(spin.node["pressure"][tank].iloc[-1])
        node = wn.get_node(tank)
        # strictly inside the range: a level written back a hair above the maximum is an
        # EPANET input error (225) that leaves no results at all
        node.init_level = min(max(level, node.min_level + 0.001), node.max_level - 0.001)


def _window_times(wn: wntr.network.WaterNetworkModel, window: OutageWindow) -> None:
    """Runs from the settling step before the window to the window's end, on the day's clock."""
    lead_s = window.step_s
    wn.options.time.duration = lead_s + window.outage_s
    wn.options.time.pattern_start = window.start_s - lead_s
    wn.options.time.start_clocktime = window.start_s - lead_s


def _burst(wn: wntr.network.WaterNetworkModel, closed: list[str], service: _ServiceInWindow, base: float,
           workdir: Path) -> tuple[float, bool]:
    """``(person-hours lost, converged)`` with the links ``closed`` shut from the window's start."""
    # deferred: wntr is slow to import, and only the peer needs it
    import wntr
    from wntr.network.controls import Control, ControlAction, SimTimeCondition  # deferred with wntr

    for name in closed:  # closed at the window's start, after the settling step
        action = ControlAction(wn.get_link(name), "status", wntr.network.LinkStatus.Closed)
        wn.add_control(f"isolate_{name}", Control(SimTimeCondition(wn, "=", service.lead_s), action))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = _run(wn, workdir / "burst")
        unbalanced = any("did not converge" in str(w.message) for w in caught)
        # EPANET 2.2.0's PDA sometimes "converges" to pressures a kilometre or more below
        # or above ground (seen: +7,515 m behind a closure at a run's first step)
        unbalanced |= bool((np.abs(service.window_pressure(result)) > 1000.0).any())
        return max(service.hours_below(result) - base, 0.0), not unbalanced
    except Exception:  # noqa: BLE001 - EPANET 2.2.0's PDA fails on some closures
        return float("nan"), False
    finally:
        for name in closed:
            wn.remove_control(f"isolate_{name}")
