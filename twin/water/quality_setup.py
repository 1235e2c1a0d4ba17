"""What a water-quality run needs from an ``.inp`` besides the hydraulics: :class:`QualitySetup`.

:func:`quality_setup` reads the ``[OPTIONS]`` quality keys (``QUALITY``, ``DIFFUSIVITY``,
``TOLERANCE``), ``[TIMES] QUALITY TIMESTEP``, ``[QUALITY]`` initial values, ``[REACTIONS]``
(orders, global and per-pipe bulk and wall coefficients, tank bulk coefficients), ``[SOURCES]``
and ``[MIXING]`` from the WNTR model of the file, and converts them to the kernel's units:
quality in mg/L (chemical), hours (age) or percent (trace); rate coefficients per second; a
mass source's strength in g/s. What our solver does not model is refused with an
:class:`~twin.errors.InputError` naming the key and value rather than silently ignored:
reaction orders other than 1, a limiting potential, a roughness correlation, and decay rates
of the wrong sign where ``forbid_growth`` asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kernels.hydraulics.codes import PIPE, RESERVOIR
from kernels.quality.codes import (
    AGE,
    CHEMICAL,
    MIX1,
    MIX2,
    MIX_NAMES,
    NO_SOURCE,
    PARAMETER_NAMES,
    SOURCE_NAMES,
    TRACE,
)
from twin.errors import InputError
from twin.water.epanet_constants import FT_M
from twin.water.network import CompiledNetwork

if TYPE_CHECKING:
    import wntr

CHLORINE_DIFFUSIVITY_M2_PER_S = 1.3e-8 * FT_M**2
"""EPANET's molecular diffusivity of chlorine (1.3e-8 ft²/s), scaled by ``DIFFUSIVITY``."""
KG_PER_M3_TO_MG_PER_L = 1000.0
MG_PER_G = 1000.0
UNITS = {CHEMICAL: "mg/L", AGE: "h", TRACE: "%"}


@dataclass
class QualitySetup:
    """The water-quality inputs of a network, in the kernel's units.

    Quality is in mg/L (chemical), hours (age) or percent (trace). Arrays are per node, per link
    or per tank (``net.tank_node`` order).
    """

    mode: int
    trace_node: int
    """Index of the traced node, -1 unless tracing."""
    quality_step_s: int
    tolerance: float
    """Quality difference below which released water joins a link's last segment (quality units)."""
    initial: np.ndarray
    bulk_per_s: np.ndarray
    """Per link, first-order bulk rate coefficient (1/s; negative for decay)."""
    wall_m_per_s: np.ndarray
    """Per link, first-order wall rate coefficient (m/s; negative for decay)."""
    tank_bulk_per_s: np.ndarray
    tank_mix: np.ndarray
    tank_mix_volume_m3: np.ndarray
    """Per tank, the two-compartment model's mixing-zone volume (fraction × maximum volume)."""
    source_type: np.ndarray
    source_strength: np.ndarray
    """Per node, the source's base strength (mg/L; mass sources g/s)."""
    source_pattern: np.ndarray
    """Per node, the source's pattern index in ``net.patterns`` (-1 for none)."""
    diffusivity_m2_per_s: float
    chemical_name: str = "Chemical"

    @property
    def parameter(self) -> str:
        return PARAMETER_NAMES[self.mode]

    @property
    def units(self) -> str:
        return UNITS[self.mode]

    @property
    def reactive(self) -> bool:
        """EPANET ``setreactflag``: age always reacts, trace never, a chemical if any rate is set."""
        if self.mode == AGE:
            return True
        if self.mode == TRACE:
            return False
        return bool(np.any(self.bulk_per_s != 0) or np.any(self.wall_m_per_s != 0)
                    or np.any(self.tank_bulk_per_s != 0))


def quality_setup(  # long: one pass over the quality sections, each checked where it is read
    wn: wntr.network.WaterNetworkModel, net: CompiledNetwork, parameter: str | None = None,
    trace_node: str | None = None, quality_step_s: int | None = None, source: str | Path = "network",
    forbid_growth: bool = False,
) -> QualitySetup:
    """Read the quality options of ``wn`` (compiled as ``net``), overridden by the arguments.

    Parameters
    ----------
    parameter
        ``age``, ``chemical`` or ``trace`` (default: the file's ``QUALITY`` option).
    trace_node
        Node to trace (default: the file's ``QUALITY TRACE id``).
    quality_step_s
        Quality time step (s; default ``[TIMES] QUALITY TIMESTEP``, as EPANET at most the hydraulic
        step, and a tenth of it when 0).
    forbid_growth
        Refuse positive bulk or wall coefficients (a disinfectant that only decays).
    """
    opts = wn.options
    file_parameter = str(opts.quality.parameter or "NONE").upper()
    mode = _mode(parameter, file_parameter, source)
    if parameter is not None and mode == CHEMICAL and file_parameter != "CHEMICAL":
        raise InputError(f"--parameter chemical: the file's QUALITY is {file_parameter}, so it names "
                         "no chemical, initial values or sources to route", source)
    trace = -1
    if mode == TRACE:
        name = trace_node if trace_node is not None else opts.quality.trace_node
        if not name:
            raise InputError("QUALITY = TRACE: no trace node given (QUALITY TRACE id or --trace-node)", source)
        if str(name) not in net.node_names:
            raise InputError(f"trace node = {name}: not a node of the network", source)
        trace = net.node_index(str(name))
    elif trace_node is not None:
        raise InputError(f"--trace-node {trace_node}: only with --parameter trace", source)
    if mode == CHEMICAL:
        _check_reaction_options(opts.reaction, source)
    bulk, wall = _pipe_rates(wn, net, mode, opts.reaction, source)
    tank_bulk = np.array([_coefficient(wn.get_node(net.node_names[n]).bulk_coeff, opts.reaction.bulk_coeff)
                          for n in net.tank_node], dtype=float)
    if mode != CHEMICAL:
        tank_bulk[:] = 0.0
    if forbid_growth:
        _check_decay(net, bulk, wall, tank_bulk, source)
    tank_mix, tank_mix_volume = _tank_mixing(wn, net, source)
    stype, strength, pattern = _sources(wn, net, mode, source)
    return QualitySetup(
        mode=mode, trace_node=trace, quality_step_s=_quality_step(wn, net, quality_step_s, source),
        tolerance=float(opts.quality.tolerance), initial=_initial(wn, net, mode),
        bulk_per_s=bulk, wall_m_per_s=wall, tank_bulk_per_s=tank_bulk, tank_mix=tank_mix,
        tank_mix_volume_m3=tank_mix_volume, source_type=stype, source_strength=strength,
        source_pattern=pattern,
        diffusivity_m2_per_s=CHLORINE_DIFFUSIVITY_M2_PER_S * float(opts.quality.diffusivity),
        chemical_name=str(opts.quality.chemical_name or "Chemical"),
    )


def _mode(parameter: str | None, file_parameter: str, source) -> int:
    if parameter is None:
        if file_parameter == "NONE":
            raise InputError("QUALITY = NONE: the file asks for no quality analysis; give --parameter", source)
        if file_parameter not in ("CHEMICAL", "AGE", "TRACE"):
            raise InputError(f"QUALITY = {file_parameter}: expected CHEMICAL, AGE or TRACE", source)
        return {"CHEMICAL": CHEMICAL, "AGE": AGE, "TRACE": TRACE}[file_parameter]
    name = parameter.lower()
    if name not in PARAMETER_NAMES:
        raise InputError(f"--parameter {parameter}: expected age, chemical or trace")
    return PARAMETER_NAMES.index(name)


def _check_reaction_options(reaction, source) -> None:
    """Only first-order reactions without a limiting potential are modelled (for now)."""
    for key, value in (("ORDER BULK", reaction.bulk_order), ("ORDER WALL", reaction.wall_order),
                       ("ORDER TANK", reaction.tank_order)):
        if float(value) != 1.0:
            raise InputError(f"[REACTIONS] {key} = {value:g}: only first-order reactions (1) are modelled", source)
    if float(reaction.limiting_potential or 0.0) != 0.0:
        raise InputError(f"[REACTIONS] LIMITING POTENTIAL = {reaction.limiting_potential:g}: "
                         "not modelled (expected 0)", source)
    if float(reaction.roughness_correl or 0.0) != 0.0:
        raise InputError(f"[REACTIONS] ROUGHNESS CORRELATION = {reaction.roughness_correl:g}: "
                         "not modelled (expected 0; give wall coefficients per pipe)", source)


def _coefficient(value, default) -> float:
    return float(default if value is None else value)


def _pipe_rates(wn, net: CompiledNetwork, mode: int, reaction, source) -> tuple[np.ndarray, np.ndarray]:
    """Per link bulk (1/s) and wall (m/s) coefficients; 0 for pumps and valves, as in EPANET."""
    bulk = np.zeros(net.n_links)
    wall = np.zeros(net.n_links)
    if mode != CHEMICAL:
        return bulk, wall
    for k in np.flatnonzero(net.kind <= PIPE):
        pipe = wn.get_link(net.link_names[k])
        bulk[k] = _coefficient(pipe.bulk_coeff, reaction.bulk_coeff)
        wall[k] = _coefficient(pipe.wall_coeff, reaction.wall_coeff)
    if not (np.all(np.isfinite(bulk)) and np.all(np.isfinite(wall))):
        raise InputError("[REACTIONS]: a bulk or wall coefficient is not a number", source)
    return bulk, wall


def _check_decay(net: CompiledNetwork, bulk, wall, tank_bulk, source) -> None:
    """Refuse growth (a positive rate) of a chemical that can only decay, in the file's per-day terms."""
    for label, values, names, unit in (
        ("BULK", bulk, net.link_names, "per day"), ("WALL", wall, net.link_names, "m/day"),
        ("TANK", tank_bulk, [net.node_names[n] for n in net.tank_node], "per day"),
    ):
        bad = np.flatnonzero(values > 0)
        if bad.size:
            i = int(bad[0])
            raise InputError(f"[REACTIONS] {label} {names[i]} = {values[i] * 86400.0:g} {unit}: free chlorine "
                             "only decays (expected <= 0)", source)


def _tank_mixing(wn, net: CompiledNetwork, source) -> tuple[np.ndarray, np.ndarray]:
    mix = np.full(len(net.tank_node), MIX1, dtype=np.int64)
    volume = np.zeros(len(net.tank_node))
    for i, n in enumerate(net.tank_node):
        tank = wn.get_node(net.node_names[n])
        model = tank.mixing_model
        name = "MIXED" if model is None else str(getattr(model, "name", model)).upper()
        name = {"MIX1": "MIXED", "MIX2": "2COMP", "0": "MIXED", "1": "2COMP", "2": "FIFO", "3": "LIFO"}.get(name, name)
        if name not in MIX_NAMES:
            raise InputError(f"[MIXING] {tank.name} = {name}: expected one of {', '.join(MIX_NAMES)}", source)
        mix[i] = MIX_NAMES.index(name)
        if mix[i] == MIX2:
            fraction = float(tank.mixing_fraction if tank.mixing_fraction is not None else 1.0)
            if not 0.0 < fraction <= 1.0:
                raise InputError(f"[MIXING] {tank.name} 2COMP fraction = {fraction:g}: expected 0 < f <= 1", source)
            volume[i] = fraction * net.tank_vmax_m3[i]
    return mix, volume


def _sources(wn, net: CompiledNetwork, mode: int, source) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    stype = np.full(net.n_nodes, NO_SOURCE, dtype=np.int64)
    strength = np.zeros(net.n_nodes)
    pattern = np.full(net.n_nodes, -1, dtype=np.int64)
    if mode != CHEMICAL:
        return stype, strength, pattern
    for name in wn.source_name_list:
        src = wn.get_source(name)
        kind = str(src.source_type).upper()
        if kind not in SOURCE_NAMES:
            raise InputError(f"[SOURCES] {src.node_name} type = {kind}: expected one of "
                             f"{', '.join(SOURCE_NAMES)}", source)
        if src.node_name not in net.node_names:
            raise InputError(f"[SOURCES] node = {src.node_name}: not a node of the network", source)
        n = net.node_index(src.node_name)
        base = float(src.strength_timeseries.base_value)
        if not np.isfinite(base) or base < 0:
            raise InputError(f"[SOURCES] {src.node_name} strength = {base:g}: expected a number >= 0", source)
        stype[n] = SOURCE_NAMES.index(kind)
        if kind == "MASS":
            # WNTR 1.x's reader tests the node name, not the type, for MASS (io.py _read_sources),
            # so it converts a mass rate as a concentration: base = rate x (kg per file mass unit
            # per litre). Undo that and convert mass/min to g/s: base / 60 for mg and ug alike.
            # The EPANET validation test of a mass booster fails if WNTR changes this.
            strength[n] = base * KG_PER_M3_TO_MG_PER_L / 60.0 / MG_PER_G
        else:
            strength[n] = base * KG_PER_M3_TO_MG_PER_L
        pat = src.strength_timeseries.pattern_name
        if pat:
            if pat not in net.pattern_names:
                raise InputError(f"[SOURCES] {src.node_name} pattern = {pat}: no such pattern", source)
            pattern[n] = net.pattern_names.index(pat)
    return stype, strength, pattern


def _initial(wn, net: CompiledNetwork, mode: int) -> np.ndarray:
    """Initial quality per node: WNTR holds kg/m³ (chemical) and seconds (age)."""
    values = np.array([float(wn.get_node(name).initial_quality or 0.0) for name in net.node_names])
    if mode == CHEMICAL:
        return values * KG_PER_M3_TO_MG_PER_L
    if mode == AGE:
        return values / 3600.0
    return values


def _quality_step(wn, net: CompiledNetwork, quality_step_s: int | None, source) -> int:
    hstep = int(net.times.hydraulic_step_s)
    if quality_step_s is not None:
        if quality_step_s <= 0:
            raise InputError(f"--quality-step-s {quality_step_s}: must be > 0")
        return int(min(quality_step_s, hstep))
    step = int(wn.options.time.quality_timestep or 0)
    if step < 0:
        raise InputError(f"[TIMES] QUALITY TIMESTEP = {step} s: must be >= 0", source)
    return min(step, hstep) if step > 0 else max(hstep // 10, 1)




DEFAULT_BULK_PER_DAY = -0.5
"""Bulk decay of free chlorine when dosing from the command line (per day; EPANET's Net1 example)."""
DEFAULT_WALL_M_PER_DAY = -0.3048
"""Wall decay of free chlorine when dosing from the command line (m/day: Net1's -1 ft/day)."""


def chlorine_dosing(net: CompiledNetwork, dose_mg_per_l: float, bulk_per_day: float | None = None,
                    wall_m_per_day: float | None = None, quality_step_s: int | None = None) -> QualitySetup:
    """Free chlorine dosed at every reservoir (the plants) at ``dose_mg_per_l``, decaying in bulk
    (per day; default :data:`DEFAULT_BULK_PER_DAY`, also in tanks) and at the pipe wall (m/day;
    default :data:`DEFAULT_WALL_M_PER_DAY`), starting from 0 mg/L everywhere else, whatever the
    ``.inp``'s quality options say: what a planner asks of a network that carries none (the
    bundled one)."""
    bulk_per_day = DEFAULT_BULK_PER_DAY if bulk_per_day is None else float(bulk_per_day)
    wall_m_per_day = DEFAULT_WALL_M_PER_DAY if wall_m_per_day is None else float(wall_m_per_day)
    if not (np.isfinite(dose_mg_per_l) and 0 < dose_mg_per_l <= 10):
        raise InputError(f"--chlorine-dose-mg-per-l {dose_mg_per_l}: expected 0 < dose <= 10 mg/L")
    for key, value in (("--bulk-per-day", bulk_per_day), ("--wall-m-per-day", wall_m_per_day)):
        if not np.isfinite(value) or value > 0:
            raise InputError(f"{key} {value}: free chlorine only decays (expected <= 0)")
    pipes = net.kind <= PIPE
    n_tanks = len(net.tank_node)
    initial = np.zeros(net.n_nodes)
    initial[net.node_kind == RESERVOIR] = dose_mg_per_l
    hstep = int(net.times.hydraulic_step_s)
    step = min(int(quality_step_s), hstep) if quality_step_s else max(hstep // 10, 1)
    if quality_step_s is not None and quality_step_s <= 0:
        raise InputError(f"--quality-step-s {quality_step_s}: must be > 0")
    return QualitySetup(
        mode=CHEMICAL, trace_node=-1, quality_step_s=step, tolerance=0.01, initial=initial,
        bulk_per_s=np.where(pipes, bulk_per_day / 86400.0, 0.0),
        wall_m_per_s=np.where(pipes, wall_m_per_day / 86400.0, 0.0),
        tank_bulk_per_s=np.full(n_tanks, bulk_per_day / 86400.0), tank_mix=np.full(n_tanks, MIX1, dtype=np.int64),
        tank_mix_volume_m3=np.zeros(n_tanks), source_type=np.full(net.n_nodes, NO_SOURCE, dtype=np.int64),
        source_strength=np.zeros(net.n_nodes), source_pattern=np.full(net.n_nodes, -1, dtype=np.int64),
        diffusivity_m2_per_s=CHLORINE_DIFFUSIVITY_M2_PER_S, chemical_name="Chlorine",
    )
