"""Contaminant injections on fixed hydraulics: the ensemble a contamination study runs.

An :class:`Injection` puts a conservative contaminant into the network at one node as a mass
booster (EPANET ``MASS`` source: the node's outflow gains ``rate / outflow`` mg/L) from a start
time for a duration. :func:`route_injections` solves the hydraulics once (the contaminant does
not change them) and routes each injection with the quality kernel, returning every node's peak
concentration and first time above a threshold per injection. Start and duration must fall on
pattern steps, where the hydraulic intervals are cut, so that an injection switches on and off
exactly where EPANET's patterned source would.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from kernels.quality.codes import CHEMICAL, MASS, MIX1, NO_SOURCE
from twin.errors import InputError
from twin.water.network import CompiledNetwork
from twin.water.quality import HydraulicIntervals, route
from twin.water.quality_setup import CHLORINE_DIFFUSIVITY_M2_PER_S, QualitySetup


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
                     quality_step_s: int = 300, threshold_mg_per_l: float = 0.01) -> InjectionImpacts:
    """Route each injection over the same hydraulics; peaks and first arrivals per node."""
    base = conservative_setup(net, quality_step_s)
    starts = hyd.time_s[:-1]
    peaks = np.zeros((len(injections), net.n_nodes))
    first = np.full((len(injections), net.n_nodes), np.nan)
    for i, injection in enumerate(injections):
        n = _check(injection, net, hyd)
        on = (starts >= injection.start_s) & (starts < injection.start_s + injection.duration_s)
        setup = replace(base, source_type=base.source_type.copy(), source_strength=base.source_strength.copy())
        setup.source_type[n] = MASS
        setup.source_strength[n] = injection.rate_g_per_s
        results = route(net, setup, hyd, source_on=on)
        peaks[i] = results.value.max(axis=0)
        above = results.value >= threshold_mg_per_l
        hit = above.any(axis=0)
        first[i, hit] = results.time_s[above.argmax(axis=0)[hit]]
    return InjectionImpacts(list(net.node_names), peaks, first, threshold_mg_per_l)
