"""Contaminant injections on fixed hydraulics: the ensemble a contamination study runs.

An :class:`Injection` puts a conservative contaminant into the network at one node as a mass
booster (EPANET ``MASS`` source: the node's outflow gains ``rate / outflow`` mg/L) from a start
time for a duration. :func:`route_injections` solves the hydraulics once (the contaminant does
not change them) and routes each injection with the quality kernel, returning every node's peak
concentration and first time above a threshold per injection, either all at once with the
ensemble kernel (:mod:`kernels.quality.ensemble`, segments shared by the scenarios) or one
after another with the single-run kernel. Start and duration must fall on
pattern steps, where the hydraulic intervals are cut, so that an injection switches on and off
exactly where EPANET's patterned source would.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from kernels.hydraulics.codes import PIPE
from kernels.quality.codes import CHEMICAL, MASS, MIX1, NO_SOURCE
from kernels.quality.ensemble import route_injections_kernel
from twin.errors import InputError
from twin.water.network import CompiledNetwork
from twin.water.quality import HydraulicIntervals, adjacency, route
from twin.water.quality_setup import CHLORINE_DIFFUSIVITY_M2_PER_S, QualitySetup

ENSEMBLE_BATCH = 64
"""Injections routed together in one pass (memory: segments x batch x 8 bytes)."""


@dataclass(frozen=True)
class Injection:
    """A contaminant entering at ``node`` at ``rate_g_per_s`` from ``start_s`` for ``duration_s``."""

    node: str
    start_s: int
    duration_s: int
    rate_g_per_s: float


@dataclass
class InjectionImpacts:
    """Per injection (rows) and node (columns): peak concentration (mg/L) and the first reported
    time (s) at or above the threshold (NaN if never)."""

    node_names: list[str]
    peak_mg_per_l: np.ndarray
    first_above_s: np.ndarray
    threshold_mg_per_l: float


def conservative_setup(net: CompiledNetwork, quality_step_s: int, tolerance_mg_per_l: float = 0.01) -> QualitySetup:
    """A non-reacting chemical starting at 0 everywhere, tanks completely mixed, no sources."""
    n_tanks = len(net.tank_node)
    return QualitySetup(
        mode=CHEMICAL, trace_node=-1, quality_step_s=int(quality_step_s), tolerance=tolerance_mg_per_l,
        initial=np.zeros(net.n_nodes), bulk_per_s=np.zeros(net.n_links), wall_m_per_s=np.zeros(net.n_links),
        tank_bulk_per_s=np.zeros(n_tanks), tank_mix=np.full(n_tanks, MIX1, dtype=np.int64),
        tank_mix_volume_m3=np.zeros(n_tanks), source_type=np.full(net.n_nodes, NO_SOURCE, dtype=np.int64),
        source_strength=np.zeros(net.n_nodes), source_pattern=np.full(net.n_nodes, -1, dtype=np.int64),
        diffusivity_m2_per_s=CHLORINE_DIFFUSIVITY_M2_PER_S, chemical_name="contaminant",
    )


def _check(injection: Injection, net: CompiledNetwork, hyd: HydraulicIntervals) -> int:
    if injection.node not in net.node_names:
        raise InputError(f"injection node = {injection.node}: not a node of the network")
    step = int(net.times.pattern_step_s)
    for key, value in (("start_s", injection.start_s), ("duration_s", injection.duration_s)):
        if value < 0 or value % step:
            raise InputError(f"injection {key} = {value}: expected a multiple of the pattern step ({step} s) >= 0")
    if not injection.rate_g_per_s > 0:
        raise InputError(f"injection rate_g_per_s = {injection.rate_g_per_s}: expected > 0")
    return net.node_index(injection.node)


def route_injections(net: CompiledNetwork, hyd: HydraulicIntervals, injections: list[Injection],
                     quality_step_s: int = 300, threshold_mg_per_l: float = 0.01, method: str = "ensemble",
                     batch: int = ENSEMBLE_BATCH, tolerance_mg_per_l: float = 0.01) -> InjectionImpacts:
    """Route each injection over the same hydraulics; peaks and first arrivals per node.

    ``method="ensemble"`` routes ``batch`` injections per pass of
    :func:`kernels.quality.ensemble.route_injections_kernel` (segments shared by the scenarios);
    ``"loop"`` runs :func:`twin.water.quality.route` once per injection (EPANET's way).
    """
    if not threshold_mg_per_l > 0:
        raise InputError(f"threshold_mg_per_l = {threshold_mg_per_l}: expected > 0")
    nodes = np.array([_check(injection, net, hyd) for injection in injections], dtype=np.int64)
    starts = hyd.time_s[:-1]
    on = np.stack([(starts >= j.start_s) & (starts < j.start_s + j.duration_s) for j in injections], axis=1) \
        if injections else np.zeros((len(starts), 0), dtype=bool)
    rates = np.array([j.rate_g_per_s for j in injections], dtype=float)
    if method == "loop":
        return _loop(net, hyd, nodes, rates, on, quality_step_s, threshold_mg_per_l, tolerance_mg_per_l)
    if method != "ensemble":
        raise InputError(f"method = {method}: expected ensemble or loop")
    peaks = np.zeros((len(injections), net.n_nodes))
    first = np.full((len(injections), net.n_nodes), np.nan)
    reported = (hyd.time_s >= hyd.report_start_s) & ((hyd.time_s - hyd.report_start_s) % hyd.report_step_s == 0)
    volume = np.where(net.kind <= PIPE, np.pi * net.diameter_m**2 / 4.0 * net.length_m, 0.0)
    adj_ptr, adj_link = adjacency(net)
    for lo in range(0, len(injections), batch):
        hi = min(lo + batch, len(injections))
        capacity = 8 * (net.n_links + len(net.tank_node)) + 64
        while True:
            peak, arrival, status = route_injections_kernel(
                int(quality_step_s), float(tolerance_mg_per_l), float(threshold_mg_per_l),
                net.node_kind.astype(np.int64), net.start.astype(np.int64), net.end.astype(np.int64),
                net.kind.astype(np.int64), volume, adj_ptr, adj_link, net.tank_node.astype(np.int64),
                net.tank_v0_m3.astype(float), hyd.interval_s.astype(np.int64), reported, hyd.flow_m3_per_s,
                hyd.demand_m3_per_s, nodes[lo:hi], rates[lo:hi], np.ascontiguousarray(on[:, lo:hi]), capacity)
            if status == 0:
                break
            capacity *= 2
        peaks[lo:hi] = peak
        first[lo:hi] = np.where(arrival >= 0, arrival, np.nan)
    return InjectionImpacts(list(net.node_names), peaks, first, threshold_mg_per_l)


def _loop(net, hyd, nodes, rates, on, quality_step_s, threshold, tolerance) -> InjectionImpacts:
    """One :func:`route` per injection."""
    base = conservative_setup(net, quality_step_s, tolerance)
    peaks = np.zeros((len(nodes), net.n_nodes))
    first = np.full((len(nodes), net.n_nodes), np.nan)
    for i, n in enumerate(nodes):
        setup = replace(base, source_type=base.source_type.copy(), source_strength=base.source_strength.copy())
        setup.source_type[n] = MASS
        setup.source_strength[n] = rates[i]
        results = route(net, setup, hyd, source_on=on[:, i])
        later = results.time_s > 0
        values = results.value[later]
        peaks[i] = np.maximum(values.max(axis=0), 0.0) if len(values) else 0.0
        above = values >= threshold
        hit = above.any(axis=0)
        first[i, hit] = results.time_s[later][above.argmax(axis=0)[hit]]
    return InjectionImpacts(list(net.node_names), peaks, first, threshold)
