"""One hydraulic steady state by the Global Gradient Algorithm, the way EPANET 2.2 solves it.

A :class:`CompiledNetwork` holds a water network as flat arrays (SI units: m, m³/s, s). A
:class:`GGASolver` owns what can be reused between solves - the sparsity pattern of the head
equations and its fill-reducing ordering/symbolic factorisation - and solves one steady state
of a :class:`HydraulicState` in place:

1. per iteration, Numba kernels (``kernels/hydraulics.py``) compute each link's inverse head-loss
   gradient ``p`` and flow correction ``y``, assemble ``A h = F`` over junction heads, a sparse
   symmetric solver gives ``h``, and the flows are updated ``q -= y - p (h1 - h2)``;
2. status logic follows EPANET 2.2 exactly: control valves are re-examined every iteration,
   pumps, check valves and links to full/empty tanks every ``checkfreq`` iterations up to
   ``maxcheck`` and again at convergence, and junction-pressure controls at convergence;
3. convergence is EPANET's: ``sum|dq| / sum|q| <= accuracy`` (plus the optional head-error and
   flow-change limits, and the pressure-driven-demand check).

EPANET's tolerances are defined in feet and cfs; they are converted here once, so that the same
iterations happen in SI. A solve that does not converge returns ``converged=False`` with the
element whose flow changed most; the EPS driver (``twin.water``) decides what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from twin.errors import ConvergenceError

# --- EPANET's codes (mirrored from kernels.hydraulics, which this module must not import at
# start-up: numba is heavy) -----------------------------------------------------------------------
CVPIPE, PIPE, PUMP, PRV, PSV, PBV, FCV, TCV, GPV = 0, 1, 2, 3, 4, 5, 6, 7, 8
XHEAD, TEMPCLOSED, CLOSED, OPEN, ACTIVE, XFLOW, XFCV, XPRESSURE = 0, 1, 2, 3, 4, 5, 6, 7
CONST_HP, POWER_FUNC, CUSTOM, NOCURVE = 0, 1, 2, 3
HAZEN_WILLIAMS, DARCY_WEISBACH, CHEZY_MANNING = 0, 1, 2
LOWLEVEL, HILEVEL, TIMER, TIMEOFDAY = 0, 1, 2, 3
JUNCTION, RESERVOIR, TANK = 0, 1, 2
MISSING = -1.0e10

LINK_KIND_NAMES = ("CV", "PIPE", "PUMP", "PRV", "PSV", "PBV", "FCV", "TCV", "GPV")
STATUS_NAMES = ("XHEAD", "TEMPCLOSED", "CLOSED", "OPEN", "ACTIVE", "XFLOW", "XFCV", "XPRESSURE")

# --- Unit conversions of EPANET's internal constants ----------------------------------------------
FT_M = 0.3048
"""Metres in a foot."""
CFS_M3_PER_S = FT_M**3
"""m³/s in one cubic foot per second."""
GRADIENT_SI = FT_M / CFS_M3_PER_S
"""A head-loss gradient of 1 ft/cfs in s/m²."""
GRAVITY_M_PER_S2 = 32.2 * FT_M
"""EPANET's g (32.2 ft/s²), kept so that Darcy-Weisbach and minor losses agree to the digit."""
KW_PER_HP = 0.7457
"""EPANET's horsepower, used for constant-power pumps."""
HP_HEAD_FT_CFS = 8.814
"""EPANET: head gain (ft) of 1 hp delivered to 1 cfs of water."""

RQTOL = 1.0e-7 * GRADIENT_SI  # smallest head-loss gradient
CBIG = 1.0e8 * GRADIENT_SI  # gradient of a closed link
CSMALL = 1.0e-6 * GRADIENT_SI  # gradient of an open valve without minor loss
CBIG_CONDUCTANCE = 1.0e8 / GRADIENT_SI  # conductance pinning an active valve's head
HTOL = 0.0005 * FT_M  # head tolerance of status checks (m)
QTOL = 0.0001 * CFS_M3_PER_S  # flow tolerance of status checks (m³/s)
QZERO = 1.0e-6 * CFS_M3_PER_S  # a zero flow (m³/s)
MIN_PDIFF = 0.1 * FT_M  # smallest pressure range of pressure-driven demand (m)
PDA_QTOL = 0.0001 * CFS_M3_PER_S  # demand tolerance of pressure-driven convergence (m³/s)


@dataclass
class HydraulicOptions:
    """Solver options, named after their EPANET ``[OPTIONS]`` counterparts.

    Attributes
    ----------
    formula
        Head-loss formula: ``HAZEN_WILLIAMS``, ``DARCY_WEISBACH`` or ``CHEZY_MANNING``.
    viscosity_m2_per_s
        Kinematic viscosity of water (EPANET default 1.1e-5 ft²/s = 1.022e-6 m²/s).
    trials
        Maximum Newton iterations (EPANET ``TRIALS``, default 200).
    accuracy
        Convergence threshold on ``sum|dq| / sum|q|`` (EPANET ``ACCURACY``, default 0.001).
    extra_trials
        Extra iterations without status changes when ``trials`` is exhausted (EPANET
        ``UNBALANCED CONTINUE n``; -1 for ``STOP``, 0 for ``CONTINUE``).
    checkfreq, maxcheck
        Status checks of pumps, check valves and tank links every ``checkfreq`` iterations up to
        iteration ``maxcheck`` (EPANET defaults 2 and 10).
    damplimit
        Accuracy below which flow changes are damped to 60% (0 = never, the default).
    head_error_m, flow_change_m3_per_s
        Optional extra convergence limits (0 = not used).
    pressure_driven
        Pressure-driven demand (Wagner) instead of demand-driven.
    pdd_exponent
        Exponent of Wagner's demand function (default 0.5).
    emitter_exponent
        Pressure exponent of emitters (default 0.5).
    """

    formula: int = HAZEN_WILLIAMS
    viscosity_m2_per_s: float = 1.1e-5 * FT_M**2
    trials: int = 200
    accuracy: float = 0.001
    extra_trials: int = -1
    checkfreq: int = 2
    maxcheck: int = 10
    damplimit: float = 0.0
    head_error_m: float = 0.0
    flow_change_m3_per_s: float = 0.0
    pressure_driven: bool = False
    pdd_exponent: float = 0.5
    emitter_exponent: float = 0.5

    @property
    def hexp(self) -> float:
        """Flow exponent of the friction formula (1.852 for Hazen-Williams, 2 otherwise)."""
        return 1.852 if self.formula == HAZEN_WILLIAMS else 2.0


@dataclass
class TimeSettings:
    """EPANET ``[TIMES]`` in whole seconds (EPANET keeps time as integers)."""

    duration_s: int = 0
    hydraulic_step_s: int = 3600
    pattern_step_s: int = 3600
    pattern_start_s: int = 0
    report_step_s: int = 3600
    report_start_s: int = 0
    start_clocktime_s: int = 0


@dataclass
class CompiledNetwork:
    """A water network as arrays, ready for :class:`GGASolver`.

    Nodes ``0 .. n_junctions-1`` are junctions, then the fixed-grade nodes (reservoirs and tanks).
    All quantities are SI. Build one with :func:`twin.water.compile_network`.
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


@dataclass
class HydraulicState:
    """The mutable state of a network: heads, flows, statuses, settings, demands, tank volumes.

    ``node_outflow`` after a solve is EPANET's ``NodeDemand``: each junction's delivered demand
    plus emitter flow (leak flow is kept apart in ``leak_flow``), each fixed-grade node's net
    inflow (negative when it supplies the network).
    """

    head: np.ndarray
    flow: np.ndarray
    status: np.ndarray
    setting: np.ndarray
    demand_full: np.ndarray
    demand_flow: np.ndarray
    emitter_flow: np.ndarray
    leak_flow: np.ndarray
    node_outflow: np.ndarray
    tank_volume: np.ndarray

    def copy(self) -> HydraulicState:
        return HydraulicState(**{k: v.copy() for k, v in self.__dict__.items()})

    def restore(self, other: HydraulicState) -> None:
        """Overwrite this state's arrays with ``other``'s values, in place."""
        for key, value in other.__dict__.items():
            getattr(self, key)[...] = value


def initial_state(net: CompiledNetwork) -> HydraulicState:
    """EPANET's ``inithyd``: tank levels, link statuses, settings and first-guess flows."""
    n_nodes, n_links, nj = net.n_nodes, net.n_links, net.n_junctions
    head = net.elevation_m.astype(float).copy()
    head[net.tank_node] = net.tank_h0_m
    status = net.initial_status.astype(np.int8).copy()
    setting = net.initial_setting.astype(float).copy()
    controlled = np.isin(net.kind, (PRV, PSV, FCV)) & (setting != MISSING)
    status[controlled] = ACTIVE
    flow = np.zeros(n_links)
    area = np.pi * net.diameter_m**2 / 4.0
    flow[:] = area * FT_M  # 1 ft/s
    pumps = net.kind == PUMP
    flow[pumps] = setting[pumps] * net.pump_q0_m3_per_s[pumps]
    flow[status <= CLOSED] = QZERO
    emitter_flow = np.where(net.emitter_ke > 0, 1.0 * CFS_M3_PER_S, 0.0)
    leak_flow = np.zeros(nj)
    return HydraulicState(
        head=head,
        flow=flow,
        status=status,
        setting=setting,
        demand_full=np.zeros(nj),
        demand_flow=np.zeros(nj),
        emitter_flow=emitter_flow,
        leak_flow=leak_flow,
        node_outflow=np.zeros(n_nodes),
        tank_volume=net.tank_v0_m3.astype(float).copy(),
    )


@dataclass
class SolveReport:
    """How a steady-state solve went."""

    converged: bool
    iterations: int
    relative_error: float
    max_flow_change_m3_per_s: float
    worst_element: str
    """The link (``link X``) or node (``node X``) whose flow changed most in the last iteration."""
    ill_conditioned: str = ""
    """Non-empty when the linear system could not be solved: names the node concerned."""


def fill_reducing_order(n: int, pair_i: np.ndarray, pair_j: np.ndarray) -> np.ndarray:
    """A fill-reducing ordering of the head equations, as ``new -> old`` junction indices.

    SciPy has no stand-alone minimum-degree routine, but SuperLU computes one (``MMD_AT_PLUS_A``,
    multiple minimum degree on ``A + Aᵀ``, the ordering EPANET uses too) when it factorises; we
    factorise a diagonally dominant matrix of the same pattern once and keep its column
    permutation (``perm_c[old] = new``).
    """
    import scipy.sparse as sp
    import scipy.sparse.linalg as sla

    if n == 0:
        return np.zeros(0, dtype=np.int64)
    m = len(pair_i)
    rows = np.concatenate([np.arange(n), pair_i, pair_j])
    cols = np.concatenate([np.arange(n), pair_j, pair_i])
    degree = np.bincount(np.concatenate([pair_i, pair_j]), minlength=n).astype(float)
    data = np.concatenate([degree + 1.0, -np.ones(2 * m)])
    probe = sp.csc_matrix((data, (rows, cols)), shape=(n, n))
    perm_c = sla.splu(probe, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                      options={"SymmetricMode": True}).perm_c
    return np.argsort(perm_c).astype(np.int64)


class CholeskySystem:
    """``A h = F`` solved by sparse Cholesky with the symbolic analysis done once.

    Ordering (:func:`fill_reducing_order`) and the pattern of ``L`` are computed at construction;
    :meth:`solve` scatters the new values, factorises numerically and solves
    (``kernels/hydraulic_cholesky.py``). This is what EPANET does, and what SciPy cannot offer:
    ``scipy.sparse.linalg.splu`` re-does its symbolic work on every call (see :class:`SuperLUSystem`).
    """

    def __init__(self, n: int, pair_i: np.ndarray, pair_j: np.ndarray) -> None:
        from kernels import hydraulic_cholesky as chol

        self._chol = chol
        self.n = n
        self.new_to_old = fill_reducing_order(n, pair_i, pair_j)
        self.old_to_new = np.empty_like(self.new_to_old)
        self.old_to_new[self.new_to_old] = np.arange(n)
        a = self.old_to_new[pair_i]
        b = self.old_to_new[pair_j]
        lower_row = np.maximum(a, b).astype(np.int64)
        lower_col = np.minimum(a, b).astype(np.int64)
        self.colptr, self.rowidx, self.parent = chol.symbolic_cholesky(n, lower_row, lower_col)
        self.off_pos = chol.entry_positions(self.colptr, self.rowidx, lower_row, lower_col)
        self.values = np.zeros(len(self.rowidx))
        self._work = np.zeros(n)
        self._first = np.zeros(n, dtype=np.int64)
        self._link = np.zeros(n, dtype=np.int64)
        self._b = np.zeros(n)
        self._ground = np.zeros(n)
        self._ground_k = np.zeros(n)
        self._d = np.zeros(n)

    @property
    def factor_nonzeros(self) -> int:
        """Entries of ``L`` (fill included)."""
        return len(self.rowidx)

    def solve(self, diag: np.ndarray, ground: np.ndarray, offdiag: np.ndarray,
              rhs: np.ndarray) -> tuple[np.ndarray, int]:
        """Solve; return ``(h, -1)``, or ``(rhs, i)`` with ``i`` the junction whose pivot failed.

        Uses the cancellation-free ``L D Lᵀ`` of an M-matrix (``ground`` = row sums); ``diag``
        is not needed.
        """
        chol, n = self._chol, self.n
        chol.scatter_values(n, self.colptr, ground, offdiag, self.old_to_new, self.off_pos,
                            self.values, self._ground)
        bad = chol.numeric_ldl_mmatrix(n, self.colptr, self.rowidx, self.values, self._ground,
                                       self._d, self._ground_k, self._work, self._first, self._link)
        if bad >= 0:
            return rhs, int(self.new_to_old[bad])
        b = self._b
        b[:] = rhs[self.new_to_old]
        chol.ldl_solve(n, self.colptr, self.rowidx, self.values, self._d, b)
        x = np.empty(n)
        x[self.new_to_old] = b
        return x, -1


class SuperLUSystem:
    """``A h = F`` on a fixed sparsity pattern, solved with SciPy's SuperLU.

    The CSC pattern and the ordering are fixed at construction (the matrix is stored already
    permuted by :func:`fill_reducing_order`); each solve writes the values into the CSC data array
    in place and factorises with the natural ordering, so SuperLU never re-orders. SciPy exposes
    no separate symbolic factorisation, so the numeric factorisation starts from scratch per solve.
    Kept as the independent check of :class:`CholeskySystem` and as a fallback.
    """

    def __init__(self, n: int, pair_i: np.ndarray, pair_j: np.ndarray) -> None:
        import scipy.sparse as sp
        import scipy.sparse.linalg as sla

        self._sp, self._sla = sp, sla
        self.n = n
        m = len(pair_i)
        self.new_to_old = fill_reducing_order(n, pair_i, pair_j)
        old_to_new = np.empty_like(self.new_to_old)
        old_to_new[self.new_to_old] = np.arange(n)
        rows = old_to_new[np.concatenate([np.arange(n), pair_i, pair_j])]
        cols = old_to_new[np.concatenate([np.arange(n), pair_j, pair_i])]
        # mark each value slot (diagonal, pair, mirrored pair) to find where CSC stores it
        marker = sp.csc_matrix((np.arange(1, n + 2 * m + 1, dtype=float), (rows, cols)), shape=(n, n))
        marker.sort_indices()
        self.indptr = marker.indptr.copy()
        self.indices = marker.indices.copy()
        self.gather = marker.data.astype(np.int64) - 1
        self._values = np.empty(n + 2 * m)
        self._data = np.empty(len(self.gather))

    def solve(self, diag: np.ndarray, ground: np.ndarray, offdiag: np.ndarray,
              rhs: np.ndarray) -> tuple[np.ndarray, int]:
        """Solve; return ``(h, -1)``, or ``(rhs, i)`` with ``i`` a junction with no positive pivot."""
        bad = np.flatnonzero(diag <= 0.0)
        if bad.size:
            return rhs, int(bad[0])
        n, m = self.n, len(offdiag)
        values = self._values
        values[:n] = diag
        values[n:n + m] = offdiag
        values[n + m:] = offdiag
        np.take(values, self.gather, out=self._data)
        matrix = self._sp.csc_matrix((self._data, self.indices, self.indptr), shape=(n, n))
        try:
            lu = self._sla.splu(matrix, permc_spec="NATURAL", diag_pivot_thresh=0.0,
                                options={"SymmetricMode": True})
        except RuntimeError:
            return rhs, int(np.argmin(diag))
        x = np.empty(n)
        x[self.new_to_old] = lu.solve(rhs[self.new_to_old])
        return x, -1


class GGASolver:
    """Steady-state solver of one :class:`CompiledNetwork`, reusable across steps and scenarios.

    Parameters
    ----------
    net
        The network. Its structure (nodes, links, end nodes) must not change afterwards; statuses,
        settings, demands, leaks and heads live in the :class:`HydraulicState`.
    linear_solver
        ``"cholesky"`` (default): a sparse Cholesky factorisation whose symbolic analysis is done
        once (``kernels/hydraulic_cholesky.py``); ``"superlu"``: SciPy's SuperLU on a fixed pattern.
    """

    def __init__(self, net: CompiledNetwork, linear_solver: str = "cholesky") -> None:
        from kernels import hydraulics as kern

        self.net = net
        self._k = kern
        nj = net.n_junctions
        self.link_pair, pair_i, pair_j = net.junction_pairs()
        if linear_solver == "superlu":
            self.system = SuperLUSystem(nj, pair_i, pair_j)
        elif linear_solver == "cholesky":
            self.system = CholeskySystem(nj, pair_i, pair_j)
        else:
            raise ValueError(f"unknown linear solver {linear_solver!r}")
        self.linear_solver = linear_solver
        res = net.link_resistance()
        self._res = res
        self.p = np.zeros(net.n_links)
        self.y = np.zeros(net.n_links)
        self.diag = np.zeros(nj)
        self.ground = np.zeros(nj)
        self.offdiag = np.zeros(len(pair_i))
        self.rhs = np.zeros(nj)
        self.xflow = np.zeros(net.n_nodes)
        self._out = np.zeros(3)
        self.is_const_hp = (net.kind == PUMP) & (net.pump_type == CONST_HP)
        self.control_valves = np.flatnonzero(np.isin(net.kind, (PRV, PSV, FCV))).astype(np.int64)
        self.pressure_valves = np.flatnonzero(np.isin(net.kind, (PRV, PSV))).astype(np.int64)
        fixed = np.zeros(net.n_nodes, dtype=bool)
        fixed[net.tank_node] = True
        touches_tank = fixed[net.start] | fixed[net.end]
        self.status_links = np.flatnonzero(
            (net.kind == CVPIPE) | (net.kind == PUMP) | (net.kind == FCV) | touches_tank
        ).astype(np.int64)
        self.tank_of_node = np.full(net.n_nodes, -1)
        self.tank_of_node[net.tank_node] = np.arange(len(net.tank_node))
        self.junction_controls = np.flatnonzero((net.control_node >= 0) & (net.control_node < nj))
        self.trace: Callable[[int, float, HydraulicState], None] | None = None
        """Optional per-iteration callback ``(iteration, relative_error, state)`` for debugging."""

    # ---- one Newton iteration's pieces ---------------------------------------------------------------
    def _coefficients(self, state: HydraulicState, p: np.ndarray, y: np.ndarray) -> None:
        net, res, opts = self.net, self._res, self.net.options
        self._k.link_coefficients(
            net.kind, state.status, state.setting, state.flow,
            res["resistance"], res["minor_loss"], res["rel_roughness"], res["visc_diam"],
            res["tcv_factor"], opts.formula, opts.hexp, RQTOL, CBIG, CSMALL, CBIG_CONDUCTANCE,
            net.pump_type, net.pump_h0, net.pump_r, net.pump_n,
            net.curve_index, net.curve_ptr, net.curve_x, net.curve_y, p, y,
        )

    def _assemble(self, state: HydraulicState, pressure_driven: bool) -> None:
        net, opts = self.net, self.net.options
        self._k.assemble_system(
            net.n_junctions, net.start, net.end, net.kind, self.link_pair, self.p, self.y,
            state.flow, state.status, state.setting, self._res["minor_loss"],
            state.head, net.elevation_m, state.demand_full, state.demand_flow, pressure_driven,
            net.pdd_pmin_m, net.pdd_preq_m, opts.pdd_exponent,
            net.emitter_ke, state.emitter_flow, 1.0 / opts.emitter_exponent,
            net.leak_ke, net.leak_n, state.leak_flow, self.control_valves,
            RQTOL, CBIG, CSMALL, CBIG_CONDUCTANCE, self.diag, self.ground, self.offdiag, self.rhs,
            self.xflow, CFS_M3_PER_S, FT_M,
        )

    def _update_flows(self, state: HydraulicState, relax: float,
                      pressure_driven: bool) -> tuple[float, float, int]:
        net, opts = self.net, self.net.options
        self._k.update_flows(
            net.n_junctions, net.start, net.end, net.kind, self.p, self.y, state.flow,
            state.status, self.is_const_hp, state.head, net.elevation_m, relax,
            state.demand_full, state.demand_flow, pressure_driven,
            net.pdd_pmin_m, net.pdd_preq_m, opts.pdd_exponent, MIN_PDIFF,
            net.emitter_ke, state.emitter_flow, 1.0 / opts.emitter_exponent,
            net.leak_ke, net.leak_n, state.leak_flow,
            RQTOL, CBIG, CSMALL, opts.accuracy * CFS_M3_PER_S, state.node_outflow, self._out,
            CFS_M3_PER_S, FT_M,
        )
        return float(self._out[0]), float(self._out[1]), int(self._out[2])

    # ---- status logic (EPANET hydstatus.c / hydsolver.c) ------------------------------------------
    def _valve_status(self, state: HydraulicState) -> bool:
        """EPANET ``valvestatus`` on every PRV/PSV (kernel ``pressure_valve_status``)."""
        net = self.net
        return bool(self._k.pressure_valve_status(
            self.pressure_valves, net.kind, net.start, net.end, state.status, state.setting,
            state.flow, state.head, net.elevation_m, self._res["minor_loss"], HTOL, QTOL))

    def _link_status(self, state: HydraulicState) -> bool:
        """EPANET ``linkstatus`` on pumps, check valves, FCVs and tank links (kernel ``link_status``)."""
        net = self.net
        return bool(self._k.link_status(
            self.status_links, net.kind, net.start, net.end, state.status, state.setting, state.flow,
            state.head, net.pump_type, net.pump_hmax_m, self.tank_of_node, net.node_kind,
            net.tank_hmax_m, net.tank_hmin_m, net.tank_overflow, net.n_junctions, HTOL, QTOL))

    def _pressure_switch(self, state: HydraulicState) -> bool:
        net = self.net
        anychange = False
        for c in self.junction_controls:
            k, n = int(net.control_link[c]), int(net.control_node[c])
            ctype = net.control_type[c]
            grade = net.control_grade_m[c]
            reset = (ctype == LOWLEVEL and state.head[n] <= grade + HTOL) or (
                ctype == HILEVEL and state.head[n] >= grade - HTOL
            )
            if not reset:
                continue
            t = net.kind[k]
            s = int(state.status[k])
            target_status, target_setting = int(net.control_status[c]), net.control_setting[c]
            change = False
            if t == PIPE:
                change = s != target_status
            if t == PUMP:
                change = state.setting[k] != target_setting
            if t >= PRV:
                change = state.setting[k] != target_setting or (
                    state.setting[k] == MISSING and s != target_status
                )
            if change:
                state.status[k] = target_status
                if t > PIPE:
                    state.setting[k] = target_setting
                anychange = True
        return anychange

    def _bad_valve(self, node: int, state: HydraulicState) -> bool:
        net = self.net
        for k in self.control_valves:
            if node in (net.start[k], net.end[k]):
                if state.status[k] == ACTIVE:
                    state.status[k] = XFCV if net.kind[k] == FCV else XPRESSURE
                    return True
                return False
        return False

    def _head_error(self, state: HydraulicState) -> float:
        p = np.zeros_like(self.p)
        y = np.zeros_like(self.y)
        self._coefficients(state, p, y)
        ok = (state.status > CLOSED) & (p != 0.0)
        dh = state.head[self.net.start] - state.head[self.net.end]
        err = np.abs(dh[ok] - y[ok] / p[ok])
        return float(err.max()) if err.size else 0.0

    def _pda_converged(self, state: HydraulicState) -> bool:
        net = self.net
        nj = net.n_junctions
        dfull = state.demand_full
        mask = dfull > 0.0
        pressure = state.head[:nj] - net.elevation_m[:nj]
        dp = net.pdd_preq_m - net.pdd_pmin_m
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.clip((pressure - net.pdd_pmin_m) / dp, 0.0, 1.0)
            expected = dfull * ratio ** net.options.pdd_exponent
        expected = np.where(pressure >= net.pdd_preq_m, dfull, expected)
        expected = np.where(pressure <= net.pdd_pmin_m, 0.0, expected)
        return not np.any(np.abs(expected - state.demand_flow)[mask] > PDA_QTOL)

    def _converged(self, state: HydraulicState, relerr: float, max_dq: float, pressure_driven: bool) -> bool:
        opts = self.net.options
        if relerr > opts.accuracy:
            return False
        if opts.head_error_m > 0.0 and self._head_error(state) > opts.head_error_m:
            return False
        if opts.flow_change_m3_per_s > 0.0 and max_dq > opts.flow_change_m3_per_s:
            return False
        if pressure_driven:
            return self._pda_converged(state)
        return True

    def determinate_junctions(self, state: HydraulicState) -> np.ndarray:
        """Which junctions have a head the equations actually determine (bool per junction).

        A junction's head is determined when it is joined, through links that conduct (more than
        a closed link's 1/CBIG: open pipes and valves, running pumps), to something that fixes
        heads: a tank or reservoir, an active PRV/PSV, an emitter, leak or pressure-driven demand.
        A pocket cut off by closed links, an active PRV's upstream side with nowhere to go or a
        pump that cannot deliver has a head set only by the 1e-8 conductances of closed links -
        EPANET reports a number for it, but that number is rounding noise.
        Uses the coefficients of the last iteration of :meth:`solve`.
        """
        import scipy.sparse as sp
        from scipy.sparse.csgraph import connected_components

        net = self.net
        nj = net.n_junctions
        threshold = 10.0 / CBIG
        conductive = self.p > threshold
        both = conductive & (net.start < nj) & (net.end < nj)
        graph = sp.coo_matrix((np.ones(both.sum()), (net.start[both], net.end[both])), shape=(nj, nj))
        _, label = connected_components(graph, directed=False)
        grounded = self.ground > threshold
        anchored = np.zeros(label.max() + 1 if nj else 0, dtype=bool)
        anchored[label[grounded]] = True
        return anchored[label]

    # ---- the solve ----------------------------------------------------------------------------------
    def solve(self, state: HydraulicState, pressure_driven: bool | None = None,
              damplimit: float | None = None, trials: int | None = None) -> SolveReport:
        """Solve one steady state in place (EPANET ``hydsolve``); see the module docstring.

        ``pressure_driven``, ``damplimit`` and ``trials`` override the network's options for
        this solve (used by the non-convergence fallbacks).
        """
        net, opts = self.net, self.net.options
        nj = net.n_junctions
        pdd = opts.pressure_driven if pressure_driven is None else pressure_driven
        damp = opts.damplimit if damplimit is None else damplimit
        max_iter = opts.trials if trials is None else trials
        maxtrials = max_iter + max(opts.extra_trials, 0)
        nextcheck = opts.checkfreq
        relax = 1.0
        relerr, max_dq, element = np.inf, np.inf, 0
        iteration = 1
        ill = ""
        converged = False
        while iteration <= maxtrials:
            self._coefficients(state, self.p, self.y)
            self._assemble(state, pdd)
            heads, bad = self.system.solve(self.diag, self.ground, self.offdiag, self.rhs)
            if bad >= 0:
                if self._bad_valve(bad, state):
                    continue
                ill = net.node_names[bad]
                break
            state.head[:nj] = heads
            relerr, max_dq, element = self._update_flows(state, relax, pdd)
            if self.trace is not None:
                self.trace(iteration, relerr, state)
            relax = 1.0
            valve_change = False
            if damp > 0.0:
                if relerr <= damp:
                    relax = 0.6
                    valve_change = self._valve_status(state)
            else:
                valve_change = self._valve_status(state)
            if self._converged(state, relerr, max_dq, pdd):
                if iteration > max_iter:
                    converged = True
                    break
                changed = valve_change
                changed = self._link_status(state) or changed
                changed = self._pressure_switch(state) or changed
                if not changed:
                    converged = True
                    break
                nextcheck = iteration + opts.checkfreq
            elif iteration <= opts.maxcheck and iteration == nextcheck:
                self._link_status(state)
                nextcheck += opts.checkfreq
            iteration += 1
        # EPANET: NodeDemand of junctions = delivered demand + emitter flow
        state.node_outflow[:nj] = state.demand_flow + state.emitter_flow
        if element >= 0:
            worst = f"link {net.link_names[element]}" if net.n_links else ""
        else:
            worst = f"node {net.node_names[-element - 1]}"
        return SolveReport(
            converged=converged and not ill,
            iterations=min(iteration, maxtrials),
            relative_error=relerr,
            max_flow_change_m3_per_s=max_dq,
            worst_element=worst,
            ill_conditioned=ill,
        )


def raise_unconverged(report: SolveReport, time_s: float, what: str = "") -> None:
    """Raise :class:`ConvergenceError` describing ``report`` at simulated time ``time_s``."""
    if report.ill_conditioned:
        raise ConvergenceError(
            f"{what}hydraulic equations cannot be solved at t = {time_s:.0f} s: ill-conditioned "
            f"at node {report.ill_conditioned} (isolated by closed links or active valves?)"
        )
    raise ConvergenceError(
        f"{what}hydraulics did not converge at t = {time_s:.0f} s after {report.iterations} "
        f"iterations: relative flow change {report.relative_error:.3g} (accuracy target "
        f"exceeded), largest change {report.max_flow_change_m3_per_s:.3g} m³/s at "
        f"{report.worst_element}"
    )

