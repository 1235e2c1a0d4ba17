"""The water network compiled to arrays: :class:`CompiledNetwork`, what the solver works on.

A network is held as flat NumPy arrays in SI units (m, m³/s, s), in EPANET's model: junctions
first, then the fixed-grade nodes (reservoirs and tanks); pipes, pumps and valves as links with
EPANET's integer codes (``kernels.hydraulics.codes``); patterns, curves and simple controls as
arrays too. :func:`twin.water.compile.compile_network` builds one from any EPANET ``.inp`` read by
WNTR. The structure (nodes, links, end nodes) is fixed once built; what changes while a
simulation runs - statuses, settings, flows, heads, tank volumes - lives in
:class:`twin.water.state.HydraulicState`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from kernels.hydraulics.codes import DARCY_WEISBACH, HAZEN_WILLIAMS, PIPE, PUMP, TCV
from twin.water.epanet_constants import CFS_M3_PER_S, FT_M
from twin.water.options import HydraulicOptions, TimeSettings


@dataclass
class CompiledNetwork:
    """A water network as arrays, ready for :class:`GGASolver`.

    Nodes ``0 .. n_junctions-1`` are junctions, then the fixed-grade nodes (reservoirs and tanks).
    All quantities are SI. Build one with :func:`twin.water.compile.compile_network`.
    """

    node_names: list[str]
    link_names: list[str]
    n_junctions: int
    node_kind: np.ndarray  # JUNCTION / RESERVOIR / TANK per node
    elevation_m: np.ndarray  # per node; a reservoir's elevation is its base head
    # demands: entries (node, base, pattern) summed per junction
    demand_node: np.ndarray
    demand_base_m3_per_s: np.ndarray
    demand_pattern: np.ndarray  # pattern index, -1 for none (multiplier 1)
    demand_multiplier: float
    patterns: list[np.ndarray]
    pattern_names: list[str]
    fixed_head_pattern: np.ndarray  # per node, reservoirs only: head = elevation * pattern
    # outflow elements at junctions
    emitter_ke: np.ndarray  # head loss = ke * q^(1/emitter_exponent); 0 = none
    leak_ke: np.ndarray  # leak orifice, head loss = ke * q^leak_n, q >= 0; 0 = none
    leak_n: np.ndarray
    pdd_pmin_m: np.ndarray
    pdd_preq_m: np.ndarray
    # tanks
    tank_node: np.ndarray
    tank_area_m2: np.ndarray
    tank_hmin_m: np.ndarray
    tank_hmax_m: np.ndarray
    tank_h0_m: np.ndarray
    tank_vmin_m3: np.ndarray
    tank_vmax_m3: np.ndarray
    tank_v0_m3: np.ndarray
    tank_curve: np.ndarray  # volume curve index (level m -> volume m³), -1 for cylindrical
    tank_overflow: np.ndarray
    # links
    start: np.ndarray
    end: np.ndarray
    kind: np.ndarray
    diameter_m: np.ndarray
    length_m: np.ndarray
    roughness: np.ndarray  # HW C, DW absolute roughness (m) or Manning n
    minor_loss: np.ndarray  # dimensionless K (velocity-head basis)
    initial_status: np.ndarray
    initial_setting: np.ndarray  # pump speed, valve setting (SI) or MISSING
    pump_type: np.ndarray
    pump_h0: np.ndarray
    pump_r: np.ndarray
    pump_n: np.ndarray
    pump_hmax_m: np.ndarray
    pump_q0_m3_per_s: np.ndarray
    pump_speed_pattern: np.ndarray
    curve_index: np.ndarray  # per link: pump head curve (CUSTOM) or GPV curve, -1 otherwise
    curve_ptr: np.ndarray
    curve_x: np.ndarray
    curve_y: np.ndarray
    # simple controls, in file order
    control_link: np.ndarray
    control_node: np.ndarray  # -1 for time controls
    control_type: np.ndarray
    control_grade_m: np.ndarray
    control_time_s: np.ndarray
    control_status: np.ndarray
    control_setting: np.ndarray
    options: HydraulicOptions = field(default_factory=HydraulicOptions)
    times: TimeSettings = field(default_factory=TimeSettings)
    demand_category: list[str] = field(default_factory=list)
    """Per demand entry, its category (EPANET ``[DEMANDS]`` comment), e.g. ``residents``."""
    node_xy: np.ndarray | None = None
    """``(node, 2)`` map coordinates from the ``.inp`` (the bundled network: EPSG:4549 m)."""
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    # ---- sizes and lookups --------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.node_names)

    @property
    def n_links(self) -> int:
        return len(self.link_names)

    def node_index(self, name: str) -> int:
        """Index of node ``name`` (KeyError if absent)."""
        lookup = self._derived.get("node_lookup")
        if lookup is None:
            lookup = self._derived["node_lookup"] = {n: i for i, n in enumerate(self.node_names)}
        return lookup[name]

    def link_index(self, name: str) -> int:
        """Index of link ``name`` (KeyError if absent)."""
        lookup = self._derived.get("link_lookup")
        if lookup is None:
            lookup = self._derived["link_lookup"] = {n: i for i, n in enumerate(self.link_names)}
        return lookup[name]

    def copy(self, **changes) -> CompiledNetwork:
        """A copy sharing no mutable arrays, with ``changes`` applied."""
        fields = {}
        for name in self.__dataclass_fields__:
            if name == "_derived":
                continue
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                value = value.copy()
            elif isinstance(value, list):
                value = list(value)
            fields[name] = value
        fields.update(changes)
        fields["options"] = replace(fields["options"])
        fields["times"] = replace(fields["times"])
        return CompiledNetwork(**fields)

    def set_pipe_diameter(self, link: int, diameter_m: float) -> None:
        """Give pipe ``link`` a new diameter (m), in place; its resistance follows when next asked."""
        self.diameter_m[link] = diameter_m
        self._derived.pop("resistance", None)

    # ---- derived arrays (cached) ----------------------------------------------------------------
    def link_resistance(self) -> dict[str, np.ndarray]:
        """Friction resistance, minor-loss coefficient and Darcy-Weisbach helpers per link (SI)."""
        cached = self._derived.get("resistance")
        if cached is not None:
            return cached
        opts = self.options
        d_ft = self.diameter_m / FT_M
        length_ft = self.length_m / FT_M
        is_pipe = self.kind <= PIPE
        with np.errstate(divide="ignore", invalid="ignore"):
            if opts.formula == HAZEN_WILLIAMS:
                r_ft = 4.727 * length_ft / self.roughness**opts.hexp / d_ft**4.871
            elif opts.formula == DARCY_WEISBACH:
                r_ft = length_ft / 2.0 / 32.2 / d_ft / (np.pi * d_ft**2 / 4.0) ** 2
            else:
                manning = (4.0 * self.roughness / (1.49 * np.pi * d_ft**2)) ** 2
                r_ft = manning * (d_ft / 4.0) ** -1.333 * length_ft
            # h_m = FT * r_ft * (q / CFS)^hexp
            resistance = np.where(is_pipe, r_ft * FT_M / CFS_M3_PER_S**opts.hexp, 0.0)
            km_ft = 0.02517 * self.minor_loss / d_ft**4
            minor = np.where(self.kind != PUMP, km_ft * FT_M / CFS_M3_PER_S**2, 0.0)
            tcv = np.where(self.kind == TCV, 0.02517 / d_ft**4 * FT_M / CFS_M3_PER_S**2, 0.0)
            rel_rough = np.where(is_pipe, self.roughness / self.diameter_m, 0.0)
            visc_diam = self.options.viscosity_m2_per_s * self.diameter_m
        cached = {
            "resistance": np.nan_to_num(resistance),
            "minor_loss": np.nan_to_num(minor),
            "tcv_factor": np.nan_to_num(tcv),
            "rel_roughness": np.nan_to_num(rel_rough),
            "visc_diam": np.where(visc_diam > 0, visc_diam, 1.0),
        }
        self._derived["resistance"] = cached
        return cached

    def junction_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Off-diagonal structure of the head equations.

        Returns ``(link_pair, pair_i, pair_j)``: each link's pair index (-1 if an end is
        fixed-grade or both ends coincide) and the junction pairs, ``pair_i < pair_j``.
        """
        cached = self._derived.get("pairs")
        if cached is not None:
            return cached
        nj = self.n_junctions
        both = (self.start < nj) & (self.end < nj) & (self.start != self.end)
        lo = np.minimum(self.start, self.end)[both]
        hi = np.maximum(self.start, self.end)[both]
        keys = lo.astype(np.int64) * nj + hi
        unique, inverse = np.unique(keys, return_inverse=True)
        link_pair = np.full(self.n_links, -1, dtype=np.int64)
        link_pair[both] = inverse
        cached = (link_pair, (unique // nj).astype(np.int64), (unique % nj).astype(np.int64))
        self._derived["pairs"] = cached
        return cached

    def pattern_value(self, pattern: int, period: int) -> float:
        """Multiplier of ``pattern`` in pattern period ``period`` (1 for pattern -1)."""
        if pattern < 0:
            return 1.0
        values = self.patterns[pattern]
        return float(values[period % len(values)])

    def junction_demands(self, period: int) -> np.ndarray:
        """Required demand of every junction in pattern period ``period`` (m³/s)."""
        mult = np.ones(len(self.demand_pattern))
        for pattern in np.unique(self.demand_pattern):
            if pattern >= 0:
                mult[self.demand_pattern == pattern] = self.pattern_value(int(pattern), period)
        return np.bincount(
            self.demand_node, weights=self.demand_base_m3_per_s * mult * self.demand_multiplier,
            minlength=self.n_junctions,
        )[: self.n_junctions]

    def base_demands(self) -> np.ndarray:
        """Sum of base demands per junction, before patterns and multiplier (m³/s)."""
        return np.bincount(self.demand_node, weights=self.demand_base_m3_per_s,
                           minlength=self.n_junctions)[: self.n_junctions]

    # ---- tanks ------------------------------------------------------------------------------------
    def tank_volume(self, tank: int, head_m: float) -> float:
        """Volume (m³) of tank ``tank`` (index into the tank arrays) at water head ``head_m``."""
        curve = self.tank_curve[tank]
        if curve < 0:
            rise = head_m - self.tank_hmin_m[tank]
            return float(self.tank_vmin_m3[tank] + rise * self.tank_area_m2[tank])
        a, b = self.curve_ptr[curve], self.curve_ptr[curve + 1]
        level = head_m - self.elevation_m[self.tank_node[tank]]
        return _interp(self.curve_x[a:b], self.curve_y[a:b], level)

    def tank_head(self, tank: int, volume_m3: float) -> float:
        """Water head (m) of tank ``tank`` holding ``volume_m3``."""
        curve = self.tank_curve[tank]
        if curve < 0:
            extra = volume_m3 - self.tank_vmin_m3[tank]
            return float(self.tank_hmin_m[tank] + extra / self.tank_area_m2[tank])
        a, b = self.curve_ptr[curve], self.curve_ptr[curve + 1]
        level = _interp(self.curve_y[a:b], self.curve_x[a:b], volume_m3)
        return float(self.elevation_m[self.tank_node[tank]] + level)


def _interp(x: np.ndarray, y: np.ndarray, value: float) -> float:
    """EPANET's ``interp``: piecewise linear, clamped at both ends."""
    if value <= x[0]:
        return float(y[0])
    for k in range(1, len(x)):
        if x[k] >= value:
            dx = x[k] - x[k - 1]
            if abs(dx) < 1e-6:
                return float(y[k])
            return float(y[k] - (x[k] - value) * (y[k] - y[k - 1]) / dx)
    return float(y[-1])

