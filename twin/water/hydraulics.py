"""One hydraulic steady state by the Global Gradient Algorithm, the way EPANET 2.2 solves it.

A :class:`GGASolver` owns what can be reused between solves of one
:class:`~twin.water.network.CompiledNetwork` - the sparsity pattern of the head equations and its
fill-reducing ordering and symbolic factorisation (:mod:`twin.water.linear_systems`) - and solves
one steady state of a :class:`~twin.water.state.HydraulicState` in place:

1. per iteration, Numba kernels (``kernels/hydraulics/``) compute each link's inverse head-loss
   gradient ``p`` and flow correction ``y``, assemble ``A h = F`` over junction heads, a sparse
   symmetric solver gives ``h``, and the flows are updated ``q -= y - p (h1 - h2)``;
2. status logic follows EPANET 2.2 exactly: control valves are re-examined every iteration,
   pumps, check valves and links to full/empty tanks every ``checkfreq`` iterations up to
   ``maxcheck`` and again at convergence, and junction-pressure controls at convergence;
3. convergence is EPANET's: ``sum|dq| / sum|q| <= accuracy`` (plus the optional head-error and
   flow-change limits, and the pressure-driven-demand check).

EPANET's tolerances are defined in feet and cfs; they are converted once
(:mod:`twin.water.epanet_constants`), so that the same iterations happen in SI. A solve that does
not converge returns ``converged=False`` with the element whose flow changed most; the
extended-period driver (:mod:`twin.water.simulation`) decides what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kernels.hydraulics import coefficients, equations, status
from kernels.hydraulics.codes import (
    ACTIVE,
    CLOSED,
    CONST_HP,
    CVPIPE,
    FCV,
    HILEVEL,
    LOWLEVEL,
    MISSING,
    PIPE,
    PRV,
    PSV,
    PUMP,
    XFCV,
    XPRESSURE,
)
from twin.errors import ConvergenceError
from twin.water.epanet_constants import (
    CBIG,
    CBIG_CONDUCTANCE,
    CFS_M3_PER_S,
    CSMALL,
    FT_M,
    HTOL,
    MIN_PDIFF,
    PDA_QTOL,
    QTOL,
    RQTOL,
)
from twin.water.linear_systems import CholeskySystem, SuperLUSystem
from twin.water.network import CompiledNetwork
from twin.water.state import HydraulicState


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



class GGASolver:
    """Steady-state solver of one :class:`CompiledNetwork`, reusable across steps and scenarios.

    Parameters
    ----------
    net
        The network. Its structure (nodes, links, end nodes) must not change afterwards; statuses,
        settings, demands, leaks and heads live in the :class:`HydraulicState`.
    linear_solver
        ``"cholesky"`` (default): a sparse Cholesky factorisation whose symbolic analysis is done
        once (``kernels/hydraulics/cholesky.py``); ``"superlu"``: SciPy's SuperLU on a fixed pattern.
    """

    def __init__(self, net: CompiledNetwork, linear_solver: str = "cholesky") -> None:
        self.net = net
        nj = net.n_junctions
        self.link_pair, pair_i, pair_j = net.junction_pairs()
        if linear_solver == "superlu":
            self.system = SuperLUSystem(nj, pair_i, pair_j)
        elif linear_solver == "cholesky":
            self.system = CholeskySystem(nj, pair_i, pair_j)
        else:
            raise ValueError(f"unknown linear solver {linear_solver!r}")
        self.linear_solver = linear_solver
        self._res = net.link_resistance()
        # the kernels' work arrays, allocated once
        self.p = np.zeros(net.n_links)
        self.y = np.zeros(net.n_links)
        self.diag = np.zeros(nj)
        self.ground = np.zeros(nj)
        self.offdiag = np.zeros(len(pair_i))
        self.rhs = np.zeros(nj)
        self.xflow = np.zeros(net.n_nodes)
        self._out = np.zeros(3)
        self._index_links_by_role()
        self.trace: Callable[[int, float, HydraulicState], None] | None = None
        """Optional per-iteration callback ``(iteration, relative_error, state)`` for debugging."""

    def _index_links_by_role(self) -> None:
        """The links (and controls) each status rule looks at, found once."""
        net = self.net
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
        self.junction_controls = np.flatnonzero(
            (net.control_node >= 0) & (net.control_node < net.n_junctions))

    # ---- one Newton iteration's pieces ---------------------------------------------------------------
    def _coefficients(self, state: HydraulicState, p: np.ndarray, y: np.ndarray) -> None:
        net, res, opts = self.net, self._res, self.net.options
        coefficients.link_coefficients(
            net.kind, state.status, state.setting, state.flow,
            res["resistance"], res["minor_loss"], res["rel_roughness"], res["visc_diam"],
            res["tcv_factor"], opts.formula, opts.hexp, RQTOL, CBIG, CSMALL, CBIG_CONDUCTANCE,
            net.pump_type, net.pump_h0, net.pump_r, net.pump_n,
            net.curve_index, net.curve_ptr, net.curve_x, net.curve_y, p, y,
        )

    def _assemble(self, state: HydraulicState, pressure_driven: bool) -> None:
        net, opts = self.net, self.net.options
        equations.assemble_system(
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
        equations.update_flows(
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
        return bool(status.pressure_valve_status(
            self.pressure_valves, net.kind, net.start, net.end, state.status, state.setting,
            state.flow, state.head, net.elevation_m, self._res["minor_loss"], HTOL, QTOL))

    def _link_status(self, state: HydraulicState) -> bool:
        """EPANET ``linkstatus`` on pumps, check valves, FCVs and tank links (kernel ``link_status``)."""
        net = self.net
        return bool(status.link_status(
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
        # deferred: scipy is slow to import, and only this diagnosis needs connected components
        import scipy.sparse as sp
        from scipy.sparse.csgraph import connected_components  # deferred, as above

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
            relax, valve_change = self._damped_valve_status(state, relerr, damp)
            if self._converged(state, relerr, max_dq, pdd):
                # past the trials (extra trials of UNBALANCED CONTINUE n) statuses stay as they are
                if iteration > max_iter or not self._statuses_changed(state, valve_change):
                    converged = True
                    break
                nextcheck = iteration + opts.checkfreq
            elif iteration <= opts.maxcheck and iteration == nextcheck:
                self._link_status(state)
                nextcheck += opts.checkfreq
            iteration += 1
        # EPANET: NodeDemand of junctions = delivered demand + emitter flow
        state.node_outflow[:nj] = state.demand_flow + state.emitter_flow
        return SolveReport(
            converged=converged and not ill,
            iterations=min(iteration, maxtrials),
            relative_error=relerr,
            max_flow_change_m3_per_s=max_dq,
            worst_element=self._element_name(element),
            ill_conditioned=ill,
        )

    def _damped_valve_status(self, state: HydraulicState, relerr: float, damp: float) -> tuple[float, bool]:
        """The next iteration's relaxation and whether a PRV/PSV changed status (EPANET DAMPLIMIT:
        once the error is below ``damp``, flow changes are damped to 60% and valves re-examined;
        with ``damp = 0`` valves are re-examined every iteration, undamped)."""
        if damp > 0.0:
            if relerr <= damp:
                return 0.6, self._valve_status(state)
            return 1.0, False
        return 1.0, self._valve_status(state)

    def _statuses_changed(self, state: HydraulicState, valve_change: bool) -> bool:
        """The status checks at convergence: links, then junction-pressure controls (both run)."""
        changed = valve_change
        changed = self._link_status(state) or changed
        changed = self._pressure_switch(state) or changed
        return changed

    def _element_name(self, element: int) -> str:
        """``link X`` or ``node X`` for the kernels' element code (see ``update_flows``)."""
        net = self.net
        if element >= 0:
            return f"link {net.link_names[element]}" if net.n_links else ""
        return f"node {net.node_names[-element - 1]}"


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
