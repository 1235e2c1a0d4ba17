"""The extended-period simulation: EPANET 2.2's driver (``hydraul.c``) over a compiled network.

:class:`ExtendedPeriodSimulation`, at each hydraulic time, applies demand patterns and simple
controls, solves the steady state with :class:`twin.water.hydraulics.GGASolver`, then picks the
next time step as the shortest of the hydraulic step, the next pattern change, the next reporting
time, the time for a tank to fill or empty and the time for a control to fire, and moves tank
levels on by an Euler step. Scenarios can stop it at any time
(:meth:`ExtendedPeriodSimulation.run_until`), change link statuses or open leaks, and carry on.
:func:`simulate` runs one from start to end. Both return
:class:`twin.water.hydraulic_results.HydraulicResults`.

Non-convergence never passes silently: by default it raises
:class:`twin.errors.ConvergenceError` naming the time, the iterations, the element with the
largest flow change and the residual; ``on_unbalanced`` chooses a fallback instead (``relax``:
re-solve the step with damped flow updates and twice the trials; ``pdd``: re-solve it with
pressure-driven demand; ``continue``: keep EPANET's unbalanced solution and flag it in the
results).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from kernels.hydraulics.codes import (
    CLOSED,
    CONST_HP,
    CVPIPE,
    GPV,
    HILEVEL,
    JUNCTION,
    LOWLEVEL,
    MISSING,
    OPEN,
    PIPE,
    PUMP,
    TANK,
    TIMEOFDAY,
    TIMER,
)
from twin.errors import InputError
from twin.water.epanet_constants import QZERO
from twin.water.hydraulic_results import HydraulicResults, ResultsRecorder
from twin.water.hydraulics import GGASolver, SolveReport, raise_unconverged
from twin.water.network import CompiledNetwork
from twin.water.state import HydraulicState, initial_state

UnbalancedPolicy = Literal["error", "relax", "pdd", "continue"]
"""What to do when a step does not converge (see the module docstring)."""
SECONDS_PER_DAY = 86400


def _round(x: float) -> int:
    """EPANET's ROUND macro."""
    return int(x + 0.5) if x >= 0 else int(x - 0.5)


class ExtendedPeriodSimulation:
    """EPANET 2.2's extended-period hydraulics on a compiled network.

    Parameters
    ----------
    net
        The network. The simulation owns it: scenarios may change its leak arrays while running.
    duration_s, hydraulic_step_s, report_step_s
        Override the network's ``[TIMES]`` (whole seconds).
    on_unbalanced
        What to do when a step does not converge (see the module docstring).
    solver
        A prepared :class:`GGASolver` of ``net`` to reuse (its symbolic factorisation is kept).
    pressure_driven
        Override the network's demand model.
    start_s, initial
        Start at time ``start_s`` from state ``initial`` (e.g. a copy of another run's state then)
        instead of at 0 from the ``.inp``'s initial state.
    record_determinacy
        Flag junctions whose heads the equations leave open at every reported time (a graph search
        per report; sweeps may skip it).
    """

    def __init__(
        self,
        net: CompiledNetwork,
        duration_s: int | None = None,
        hydraulic_step_s: int | None = None,
        report_step_s: int | None = None,
        on_unbalanced: UnbalancedPolicy = "error",
        solver: GGASolver | None = None,
        pressure_driven: bool | None = None,
        linear_solver: str = "cholesky",
        start_s: int = 0,
        initial: HydraulicState | None = None,
        record_determinacy: bool = True,
    ) -> None:
        self.net = net
        self.pressure_driven = None if pressure_driven is None else bool(pressure_driven)
        t = net.times
        self.duration_s = int(t.duration_s if duration_s is None else duration_s)
        self.hstep_s = int(t.hydraulic_step_s if hydraulic_step_s is None else hydraulic_step_s)
        self.rstep_s = int(t.report_step_s if report_step_s is None else report_step_s)
        self.rstart_s = int(t.report_start_s)
        self.pstep_s = int(t.pattern_step_s)
        self.pstart_s = int(t.pattern_start_s)
        self.tstart_s = int(t.start_clocktime_s)
        if self.hstep_s <= 0 or self.rstep_s <= 0 or self.duration_s < 0:
            raise InputError("time steps must be > 0 and the duration >= 0")
        self.on_unbalanced = on_unbalanced
        self.solver = solver if solver is not None else GGASolver(net, linear_solver)
        self.state: HydraulicState = initial.copy() if initial is not None else initial_state(net)
        self.time_s = int(start_s)
        self._rtime = (self.time_s // self.rstep_s + 1) * self.rstep_s
        self.record_determinacy = record_determinacy
        self._required = np.zeros(net.n_junctions)
        self._cut_off = np.zeros(net.n_junctions, dtype=bool)
        self._cut_key = b""
        self._recorder = ResultsRecorder()
        self.solver_log: list[dict] = []
        self.warnings: list[str] = []
        self.last_report: SolveReport | None = None
        self._needs_solve = True
        self.is_fixed = net.node_kind != JUNCTION

    # ---- EPANET's per-time routines --------------------------------------------------------------
    def _pattern_period(self) -> int:
        return (self.time_s + self.pstart_s) // self.pstep_s

    def _apply_demands(self) -> None:
        """EPANET ``demands``: junction demands, reservoir head patterns, pump speed patterns."""
        net, st = self.net, self.state
        p = self._pattern_period()
        st.demand_full[:] = net.junction_demands(p)
        st.demand_flow[:] = st.demand_full
        for i in np.flatnonzero(net.fixed_head_pattern >= 0):
            st.head[i] = net.elevation_m[i] * net.pattern_value(int(net.fixed_head_pattern[i]), p)
        for k in np.flatnonzero(net.pump_speed_pattern >= 0):
            self._set_pump_speed(int(k), net.pattern_value(int(net.pump_speed_pattern[k]), p))

    def _set_pump_speed(self, k: int, value: float) -> None:
        st = self.state
        st.setting[k] = value
        if value > 0 and st.status[k] <= CLOSED:
            self._reset_pump_flow(k)
            st.status[k] = OPEN
        if value == 0 and st.status[k] > CLOSED:
            st.status[k] = CLOSED

    def _reset_pump_flow(self, k: int) -> None:
        if self.net.pump_type[k] == CONST_HP:
            self.state.flow[k] = self.net.pump_q0_m3_per_s[k]

    def _apply_controls(self) -> None:
        """EPANET ``controls``: fire simple controls on tank levels and times."""
        net, st = self.net, self.state
        for c in range(len(net.control_link)):
            k = int(net.control_link[c])
            n = int(net.control_node[c])
            ctype = net.control_type[c]
            reset = False
            if n >= net.n_junctions:
                tank = self.solver.tank_of_node[n]
                if tank >= 0 and net.node_kind[n] == TANK:
                    vplus = abs(st.node_outflow[n])
                    v1 = net.tank_volume(tank, st.head[n])
                    v2 = net.tank_volume(tank, net.control_grade_m[c])
                    reset = ((ctype == LOWLEVEL and v1 <= v2 + vplus)
                             or (ctype == HILEVEL and v1 >= v2 - vplus))
                else:  # a reservoir: compare heads
                    reset = (ctype == LOWLEVEL and st.head[n] <= net.control_grade_m[c]) or (
                        ctype == HILEVEL and st.head[n] >= net.control_grade_m[c])
            if ctype == TIMER and net.control_time_s[c] == self.time_s:
                reset = True
            clock_s = (self.time_s + self.tstart_s) % SECONDS_PER_DAY
            if ctype == TIMEOFDAY and clock_s == net.control_time_s[c]:
                reset = True
            if not reset:
                continue
            s1 = CLOSED if st.status[k] <= CLOSED else OPEN
            s2 = int(net.control_status[c])
            k1 = st.setting[k]
            k2 = net.control_setting[c] if net.kind[k] > PIPE else k1
            if net.kind[k] == PUMP and s1 == CLOSED and s2 == OPEN:
                self._reset_pump_flow(k)
            if s1 != s2 or k1 != k2:
                st.status[k] = s2
                st.setting[k] = k2

    def _tank_timestep(self, tstep: int) -> int:
        net, st = self.net, self.state
        for tank, n in enumerate(net.tank_node):
            q = st.node_outflow[n]
            if abs(q) <= QZERO:
                continue
            h = st.head[n]
            if q > 0.0 and h < net.tank_hmax_m[tank]:
                v = net.tank_vmax_m3[tank] - st.tank_volume[tank]
            elif q < 0.0 and h > net.tank_hmin_m[tank]:
                v = net.tank_vmin_m3[tank] - st.tank_volume[tank]
            else:
                continue
            t = _round(v / q)
            if 0 < t < tstep:
                tstep = t
        return tstep

    def _control_timestep(self, tstep: int) -> int:
        net, st = self.net, self.state
        for c in range(len(net.control_link)):
            t = 0
            n = int(net.control_node[c])
            ctype = net.control_type[c]
            if n >= 0:
                if n < net.n_junctions:
                    continue
                tank = self.solver.tank_of_node[n]
                if tank < 0 or net.node_kind[n] != TANK:
                    continue
                q = st.node_outflow[n]
                if abs(q) <= QZERO:
                    continue
                h = st.head[n]
                grade = net.control_grade_m[c]
                rising = h < grade and ctype == HILEVEL and q > 0.0
                falling = h > grade and ctype == LOWLEVEL and q < 0.0
                if rising or falling:
                    v = net.tank_volume(tank, grade) - st.tank_volume[tank]
                    t = _round(v / q)
            if ctype == TIMER and net.control_time_s[c] > self.time_s:
                t = int(net.control_time_s[c]) - self.time_s
            if ctype == TIMEOFDAY:
                t1 = (self.time_s + self.tstart_s) % SECONDS_PER_DAY
                t2 = int(net.control_time_s[c])
                t = t2 - t1 if t2 >= t1 else SECONDS_PER_DAY - t1 + t2
            if 0 < t < tstep:
                k = int(net.control_link[c])
                if (net.kind[k] > PIPE and st.setting[k] != net.control_setting[c]) or (
                    st.status[k] != net.control_status[c]
                ):
                    tstep = t
        return tstep

    def _tank_levels(self, tstep: int) -> None:
        net, st = self.net, self.state
        for tank, n in enumerate(net.tank_node):
            q = st.node_outflow[n]
            st.tank_volume[tank] += q * tstep
            if st.tank_volume[tank] + q >= net.tank_vmax_m3[tank] and not net.tank_overflow[tank]:
                st.tank_volume[tank] = net.tank_vmax_m3[tank]
            elif st.tank_volume[tank] - q <= net.tank_vmin_m3[tank]:
                st.tank_volume[tank] = net.tank_vmin_m3[tank]
            st.head[n] = net.tank_head(tank, st.tank_volume[tank])

    def _next_step(self, limit_s: int) -> int:
        """EPANET ``timestep`` (limited to ``limit_s``), then move tank levels on."""
        tstep = min(self.hstep_s, limit_s)
        n = (self.time_s + self.pstart_s) // self.pstep_s + 1
        t = n * self.pstep_s - self.time_s
        if 0 < t < tstep:
            tstep = t
        t = self._rtime - self.time_s
        if 0 < t < tstep:
            tstep = t
        next_report = self._next_report_time()
        if next_report is not None and 0 < next_report - self.time_s < tstep:
            tstep = next_report - self.time_s
        tstep = self._tank_timestep(tstep)
        tstep = self._control_timestep(tstep)
        self._tank_levels(tstep)
        return tstep

    def _next_report_time(self) -> int | None:
        if self.time_s < self.rstart_s:
            return self.rstart_s
        k = (self.time_s - self.rstart_s) // self.rstep_s + 1
        return self.rstart_s + k * self.rstep_s

    # ---- solving and recording -------------------------------------------------------------------
    def _solve(self) -> SolveReport:
        st = self.state
        policy = self.on_unbalanced
        snapshot = st.copy() if policy in ("relax", "pdd") else None
        pdd = self.pressure_driven
        report = self.solver.solve(st, pressure_driven=pdd)
        fallback = ""
        if not report.converged and policy in ("relax", "pdd"):
            first = report
            st.restore(snapshot)
            if policy == "relax":
                report = self.solver.solve(st, pressure_driven=pdd, damplimit=np.inf,
                                           trials=2 * self.net.options.trials)
            else:
                report = self.solver.solve(st, pressure_driven=True)
            fallback = policy
            if report.converged:
                self.warnings.append(
                    f"t = {self.time_s} s: not converged ({first.relative_error:.3g} at "
                    f"{first.worst_element}); solved again with fallback '{policy}'")
        if not report.converged:
            if policy == "continue" and not report.ill_conditioned:
                self.warnings.append(
                    f"t = {self.time_s} s: UNBALANCED after {report.iterations} iterations, relative "
                    f"flow change {report.relative_error:.3g}, largest at {report.worst_element}")
            else:
                raise_unconverged(report, self.time_s, f"{fallback} fallback failed: " if fallback else "")
        self.solver_log.append({
            "time_s": self.time_s, "iterations": report.iterations,
            "relative_error": report.relative_error,
            "max_flow_change_m3_per_s": report.max_flow_change_m3_per_s, "converged": report.converged,
            "fallback": fallback,
        })
        self.last_report = report
        return report

    def _is_report_time(self) -> bool:
        return self.time_s >= self.rstart_s and (self.time_s - self.rstart_s) % self.rstep_s == 0

    def _record(self) -> None:
        determinate = (self.solver.determinate_junctions(self.state) if self.record_determinacy
                       else np.ones(self.net.n_junctions, dtype=bool))
        self._recorder.record(self.time_s, self.state, self._required, self._cut_off, determinate)

    def _cut_off_junctions(self) -> np.ndarray:
        """Junctions with no path to a tank or reservoir except through links shut now.

        Only a link closed outright - a pipe, pump or fixed valve whose status is CLOSED, as the
        user, a scenario or a control leaves it - cuts; check valves and regulating valves, and
        links closed only for the moment (a full tank, a pump short of head), may carry flow
        again within the solve.
        """
        # deferred: scipy is slow to import, and only this search needs connected components
        import scipy.sparse as sp
        from scipy.sparse.csgraph import connected_components  # deferred, as above

        net, st = self.net, self.state
        cut = (st.status == CLOSED) & (net.kind != CVPIPE) & (
            (net.kind <= PUMP) | (st.setting == MISSING) | (net.kind == GPV))
        key = np.packbits(cut).tobytes()
        if key == self._cut_key:  # nothing was shut or opened since the last look
            return self._cut_off
        self._cut_key = key
        keep = ~cut
        n = net.n_nodes
        graph = sp.coo_matrix((np.ones(int(keep.sum())), (net.start[keep], net.end[keep])), shape=(n, n))
        _, label = connected_components(graph, directed=False)
        fed = np.zeros(label.max() + 1, dtype=bool)
        fed[label[net.node_kind != JUNCTION]] = True
        return ~fed[label[: net.n_junctions]]

    def solve_now(self) -> SolveReport:
        """Apply patterns and controls at the current time and solve (EPANET ``runhyd``).

        Junctions cut off from every source by closed links get no demand for this step (their
        pattern demand is still reported as required), as WNTR's own simulator does: there is no
        water to give them, and leaving the demand in would make the equations singular under
        demand-driven analysis and stall pressure-driven demand at zero pressure.
        """
        self._apply_demands()
        self._apply_controls()
        self._required = self.state.demand_full.copy()
        self._cut_off = self._cut_off_junctions()
        if self._cut_off.any():
            self.state.demand_full[self._cut_off] = 0.0
            self.state.demand_flow[self._cut_off] = 0.0
        report = self._solve()
        self._needs_solve = False
        if self._is_report_time():
            self._record()
        return report

    def run_until(self, until_s: int) -> None:
        """Simulate up to ``until_s`` (capped at the duration); the state there is not yet solved.

        Steps are cut at ``until_s``, so a scenario can change the network exactly then and
        continue; the next call (or :meth:`finish`) solves at that time first.
        """
        until_s = min(int(until_s), self.duration_s)
        while self.time_s < until_s:
            if self._needs_solve:
                self.solve_now()
            tstep = self._next_step(until_s - self.time_s)
            self.time_s += tstep
            if self.time_s >= self._rtime:
                self._rtime += self.rstep_s
            self._needs_solve = True

    def step(self) -> int:
        """Solve at the current time if needed, then move on one hydraulic step (EPANET
        ``runhyd`` + ``nexthyd``) and return its length (s); 0 once the duration is reached.

        The state's flows and demands are then still those of the step just taken (the next
        solve happens on the next call), which is what the water-quality router reads.
        """
        if self.time_s >= self.duration_s:
            return 0
        if self._needs_solve:
            self.solve_now()
        tstep = self._next_step(self.duration_s - self.time_s)
        self.time_s += tstep
        if self.time_s >= self._rtime:
            self._rtime += self.rstep_s
        self._needs_solve = True
        return tstep

    def finish(self) -> HydraulicResults:
        """Run to the end of the duration, solve the last time and return the results."""
        self.run_until(self.duration_s)
        if self._needs_solve:
            self.solve_now()
        return self.results()

    def run(self) -> HydraulicResults:
        """The whole extended-period simulation."""
        return self.finish()

    def results(self) -> HydraulicResults:
        """What has been reported so far."""
        return self._recorder.results(self.net, self.solver_log, self.warnings)

    # ---- changes a scenario can make mid-run -------------------------------------------------------
    def set_link_status(self, k: int, open_: bool) -> None:
        """Open or close link ``k`` now (EPANET ``setlinkstatus``)."""
        st, net = self.state, self.net
        t = net.kind[k]
        if open_:
            if t == PUMP:
                st.setting[k] = 1.0
                if st.status[k] == CLOSED:
                    self._reset_pump_flow(k)
            if t > PUMP and t != GPV:
                st.setting[k] = MISSING
            st.status[k] = OPEN
        else:
            if t == PUMP:
                st.setting[k] = 0.0
            if t > PUMP and t != GPV:
                st.setting[k] = MISSING
            st.status[k] = CLOSED
            st.flow[k] = QZERO
        self._needs_solve = True

    def set_leak(self, node: int, ke: float, exponent_n: float) -> None:
        """Open (``ke > 0``) or close (``ke = 0``) a leak at junction ``node``.

        ``ke`` and ``exponent_n`` give the leak's head loss ``ke q^n`` (see :mod:`twin.water.leaks`).
        """
        net, st = self.net, self.state
        net.leak_ke[node] = ke
        net.leak_n[node] = exponent_n
        if ke > 0:
            pressure = max(st.head[node] - net.elevation_m[node], 1.0)
            st.leak_flow[node] = (pressure / ke) ** (1.0 / exponent_n)
        else:
            st.leak_flow[node] = 0.0
        self._needs_solve = True


def simulate(net: CompiledNetwork, duration_s: int | None = None, hydraulic_step_s: int | None = None,
             report_step_s: int | None = None, on_unbalanced: UnbalancedPolicy = "error",
             pressure_driven: bool | None = None, linear_solver: str = "cholesky") -> HydraulicResults:
    """Run an extended-period simulation of ``net`` and return its reported results."""
    sim = ExtendedPeriodSimulation(net, duration_s, hydraulic_step_s, report_step_s, on_unbalanced,
                                   pressure_driven=pressure_driven, linear_solver=linear_solver)
    return sim.run()
