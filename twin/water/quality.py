"""Water quality on our own hydraulics: water age, a reacting chemical or a source trace.

:func:`hydraulic_intervals` runs :class:`twin.water.simulation.ExtendedPeriodSimulation` step by
step and keeps every hydraulic interval's link flows and node demands (not only the reported
ones: tanks filling and controls cut steps, and quality must follow each of them).
:func:`route` hands them, with the :class:`twin.water.quality_setup.QualitySetup` of the
``.inp``, to the kernel :func:`kernels.quality.transport.route_quality` (EPANET 2.2's Lagrangian
time-driven method) and returns :class:`QualityResults`, a node × time table at the reporting
times. :func:`simulate_quality` does both from a file.

Wall reactions follow EPANET's ``piperate``: the first-order wall coefficient ``kw`` (m/s) is
limited by mass transfer to the wall, ``kf = Sh D / d``, with the Sherwood number from
Notter-Sleicher (turbulent), Graetz (laminar) or 2 (stagnant), giving ``4 kw kf / (d (kf + |kw|))``
per second, recomputed for every hydraulic interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kernels.hydraulics.codes import CLOSED, PIPE
from kernels.quality.transport import route_quality
from twin.errors import InputError
from twin.water.compile import compile_network
from twin.water.epanet_io import read_inp
from twin.water.network import CompiledNetwork
from twin.water.quality_setup import QualitySetup, quality_setup
from twin.water.simulation import ExtendedPeriodSimulation, UnbalancedPolicy

if TYPE_CHECKING:
    import pandas as pd

POOL_SEGMENTS_CAP = 2**21
"""Largest first guess at the segment pool (48 MiB); past it the pool doubles when a run needs more."""


@dataclass
class HydraulicIntervals:
    """Every hydraulic interval of a run: ``time_s`` has one more entry than the rows.

    ``flow_m3_per_s`` is 0 on closed links (as EPANET hands flows to its quality solver);
    ``demand_m3_per_s`` is each junction's outflow (demand, emitters and leaks).
    """

    time_s: np.ndarray
    flow_m3_per_s: np.ndarray
    demand_m3_per_s: np.ndarray
    report_start_s: int
    report_step_s: int

    @property
    def interval_s(self) -> np.ndarray:
        return np.diff(self.time_s)


@dataclass
class QualityResults:
    """Node quality at the reporting times, in ``units`` (mg/L, h or %).

    ``balance`` is the whole run's mass balance in quality units × m³ (for mg/L: grams):
    ``initial``, ``inflow``, ``outflow``, ``reacted``, ``final`` stored.
    """

    time_s: np.ndarray
    node_names: list[str]
    value: np.ndarray
    parameter: str
    units: str
    balance: dict[str, float]

    def frame(self) -> pd.DataFrame:
        """Long table ``node, time_s, value``."""
        # deferred: pandas is slow to import, and only writing tables needs it
        import pandas as pd

        nt, nn = self.value.shape
        return pd.DataFrame({
            "node": np.tile(np.asarray(self.node_names, dtype=object), nt),
            "time_s": np.repeat(self.time_s.astype(float), nn),
            "value": self.value.ravel(),
        })

    def at(self, node: str) -> np.ndarray:
        """The series of one node."""
        return self.value[:, self.node_names.index(node)]


def hydraulic_intervals(net: CompiledNetwork, duration_s: int | None = None,
                        on_unbalanced: UnbalancedPolicy = "error") -> HydraulicIntervals:
    """Simulate the hydraulics and keep each interval's flows (m³/s) and junction outflows."""
    sim = ExtendedPeriodSimulation(net, duration_s=duration_s, on_unbalanced=on_unbalanced,
                                   record_determinacy=False)
    times, flows, demands = [0], [], []
    nj = net.n_junctions
    while True:
        tstep = sim.step()
        if tstep == 0:
            break
        st = sim.state
        flows.append(np.where(st.status <= CLOSED, 0.0, st.flow))
        demand = st.node_outflow.copy()
        demand[:nj] += st.leak_flow
        demands.append(demand)
        times.append(sim.time_s)
    shape_f, shape_d = (0, net.n_links), (0, net.n_nodes)
    return HydraulicIntervals(
        time_s=np.asarray(times, dtype=np.int64),
        flow_m3_per_s=np.array(flows) if flows else np.zeros(shape_f),
        demand_m3_per_s=np.array(demands) if demands else np.zeros(shape_d),
        report_start_s=int(sim.rstart_s), report_step_s=int(sim.rstep_s),
    )


def wall_rates_per_s(net: CompiledNetwork, setup: QualitySetup, flow_m3_per_s: np.ndarray) -> np.ndarray:
    """EPANET ``piperate``: first-order wall rate (1/s) per interval and link, mass-transfer limited."""
    kw = setup.wall_m_per_s
    d = np.where(net.diameter_m > 0, net.diameter_m, 1.0)
    rates = np.zeros_like(flow_m3_per_s)
    has_wall = (kw != 0) & (net.diameter_m > 0)
    if not has_wall.any():
        return rates
    if setup.diffusivity_m2_per_s <= 0:  # EPANET ignores mass transfer when the Schmidt number is 0
        rates[:, has_wall] = (kw * 4.0 / d)[has_wall]
        return rates
    nu = net.options.viscosity_m2_per_s
    schmidt = nu / setup.diffusivity_m2_per_s
    area = np.pi * d**2 / 4.0
    reynolds = np.abs(flow_m3_per_s) / area * d / nu
    length = np.where(net.length_m > 0, net.length_m, 1.0)
    y = d / length * reynolds * schmidt
    sherwood = np.where(
        reynolds < 1.0, 2.0,
        np.where(reynolds >= 2300.0, 0.0149 * reynolds**0.88 * schmidt**0.333,
                 3.65 + 0.0668 * y / (1.0 + 0.04 * y**0.667)))
    kf = sherwood * setup.diffusivity_m2_per_s / d
    with np.errstate(divide="ignore", invalid="ignore"):
        limited = (4.0 / d) * kw * kf / (kf + np.abs(kw))
    rates[:, has_wall] = np.nan_to_num(limited)[:, has_wall]
    return rates


def _source_strengths(net: CompiledNetwork, setup: QualitySetup, time_s: np.ndarray) -> np.ndarray:
    """Per interval and node, the source strength under its pattern (EPANET ``sourcequal``)."""
    strength = np.tile(setup.source_strength, (len(time_s), 1))
    t = net.times
    period = (time_s + int(t.pattern_start_s)) // int(t.pattern_step_s)
    for n in np.flatnonzero(setup.source_pattern >= 0):
        pattern = int(setup.source_pattern[n])
        strength[:, n] *= [net.pattern_value(pattern, int(p)) for p in period]
    return strength


def adjacency(net: CompiledNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Node-to-link CSR, links in reverse order as EPANET's adjacency lists (built by prepending)."""
    nodes = np.concatenate([net.start, net.end])
    links = np.concatenate([np.arange(net.n_links), np.arange(net.n_links)])
    order = np.lexsort((-links, nodes))
    ptr = np.zeros(net.n_nodes + 1, dtype=np.int64)
    np.add.at(ptr, nodes + 1, 1)
    return np.cumsum(ptr), links[order].astype(np.int64)


def _pool_size(net: CompiledNetwork, setup: QualitySetup, interval_s: np.ndarray) -> int:
    """Segments enough for any run: a link gains at most one per quality step (and a FIFO or LIFO
    tank one per step), so links x steps bounds the pool; a reran kernel costs a whole run."""
    chains = net.n_links + len(net.tank_node)
    steps = int(np.sum(np.ceil(interval_s / max(setup.quality_step_s, 1)))) + 2
    return int(min(chains * steps, max(16 * chains, POOL_SEGMENTS_CAP))) + 64


def route(net: CompiledNetwork, setup: QualitySetup, hyd: HydraulicIntervals,
          source_on: np.ndarray | None = None) -> QualityResults:
    """Route quality over the hydraulic intervals and keep the reporting times.

    ``source_on`` (per interval) switches every source off where False, e.g. outside an
    injection's window.
    """
    interval = hyd.interval_s.astype(np.int64)
    starts = hyd.time_s[:-1]
    volume = np.where(net.kind <= PIPE, np.pi * net.diameter_m**2 / 4.0 * net.length_m, 0.0)
    adj_ptr, adj_link = adjacency(net)
    kw = wall_rates_per_s(net, setup, hyd.flow_m3_per_s)
    strength = _source_strengths(net, setup, starts)
    if source_on is not None:
        strength[~np.asarray(source_on, dtype=bool)] = 0.0
    capacity = _pool_size(net, setup, interval)
    while True:
        quality, balance, status = route_quality(
            setup.mode, setup.reactive, setup.trace_node, int(setup.quality_step_s), float(setup.tolerance),
            net.node_kind.astype(np.int64), setup.initial.astype(float), net.start.astype(np.int64),
            net.end.astype(np.int64), net.kind.astype(np.int64), volume, adj_ptr, adj_link,
            net.tank_node.astype(np.int64), net.tank_v0_m3.astype(float), setup.tank_mix_volume_m3,
            setup.tank_bulk_per_s, setup.tank_mix, interval, hyd.flow_m3_per_s, hyd.demand_m3_per_s,
            setup.bulk_per_s, kw, setup.source_type, strength, capacity)
        if status == 0:
            break
        capacity *= 2
    reported = (hyd.time_s >= hyd.report_start_s) & ((hyd.time_s - hyd.report_start_s) % hyd.report_step_s == 0)
    keys = ("initial", "inflow", "outflow", "reacted", "final")
    return QualityResults(time_s=hyd.time_s[reported], node_names=list(net.node_names),
                          value=quality[reported], parameter=setup.parameter, units=setup.units,
                          balance={k: float(v) for k, v in zip(keys, balance, strict=True)})


def simulate_quality(inp: str | Path, parameter: str | None = None, trace_node: str | None = None,
                     duration_s: int | None = None, quality_step_s: int | None = None,
                     on_unbalanced: UnbalancedPolicy = "error") -> tuple[QualityResults, CompiledNetwork]:
    """Read an ``.inp``, simulate its hydraulics and route its quality (see :func:`route`)."""
    wn = read_inp(inp)
    net = compile_network(wn, str(inp))
    setup = quality_setup(wn, net, parameter, trace_node, quality_step_s, source=inp)
    if duration_s is not None and duration_s < 0:
        raise InputError(f"--duration-h {duration_s / 3600:g}: must be >= 0")
    return route(net, setup, hydraulic_intervals(net, duration_s, on_unbalanced)), net
