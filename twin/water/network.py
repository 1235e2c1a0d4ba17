"""The water network: compiled from a WNTR model, simulated over time (extended period).

* :func:`compile_network` turns a ``wntr.network.WaterNetworkModel`` (any EPANET ``.inp`` read by
  WNTR) into a :class:`twin.hydraulics.CompiledNetwork` in SI units.
* :class:`ExtendedPeriodSimulation` is EPANET 2.2's extended-period driver (``hydraul.c``): at
  each hydraulic time it applies demand patterns and simple controls, solves the steady state
  with :class:`twin.hydraulics.GGASolver`, then picks the next time step as the shortest of the
  hydraulic step, the next pattern change, the next reporting time, the time for a tank to fill
  or empty and the time for a control to fire, and moves tank levels on by an Euler step.
  Scenarios can stop it at any time (:meth:`ExtendedPeriodSimulation.run_until`), change link
  statuses or open leaks, and carry on.
* :class:`HydraulicResults` holds the reported times as arrays, with long tables for Parquet.

Non-convergence never passes silently: by default it raises
:class:`twin.errors.ConvergenceError` naming the time, the iterations, the element with the
largest flow change and the residual; ``on_unbalanced`` chooses a fallback instead (``relax``:
re-solve the step with damped flow updates and twice the trials; ``pdd``: re-solve it with
pressure-driven demand; ``continue``: keep EPANET's unbalanced solution and flag it in the
results).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from twin.errors import ConvergenceError, InputError
from twin.water.hydraulics import (
    ACTIVE,
    CFS_M3_PER_S,
    CHEZY_MANNING,
    CLOSED,
    CONST_HP,
    CUSTOM,
    CVPIPE,
    DARCY_WEISBACH,
    FCV,
    FT_M,
    GPV,
    HAZEN_WILLIAMS,
    HILEVEL,
    HP_HEAD_FT_CFS,
    JUNCTION,
    KW_PER_HP,
    LOWLEVEL,
    MISSING,
    NOCURVE,
    OPEN,
    PBV,
    PIPE,
    POWER_FUNC,
    PRV,
    PSV,
    PUMP,
    QZERO,
    RESERVOIR,
    TANK,
    TCV,
    TIMEOFDAY,
    TIMER,
    CompiledNetwork,
    GGASolver,
    HydraulicOptions,
    HydraulicState,
    SolveReport,
    TimeSettings,
    initial_state,
    raise_unconverged,
)

if TYPE_CHECKING:
    import pandas as pd
    import wntr

log = logging.getLogger(__name__)

UnbalancedPolicy = Literal["error", "relax", "pdd", "continue"]
SECONDS_PER_DAY = 86400
BIG = 1.0e10
_VALVE_KINDS = {"PRV": PRV, "PSV": PSV, "PBV": PBV, "FCV": FCV, "TCV": TCV, "GPV": GPV}


# ------------------------------------------------------------------------------------------------
# Compiling a WNTR model
# ------------------------------------------------------------------------------------------------
def _power_curve(h0: float, h1: float, h2: float, q1: float, q2: float) -> tuple[float, float, float] | None:
    """EPANET's ``powercurve``: fit ``H = a - b Q^c`` through shutoff, design and max-flow points."""
    tiny = 1e-6
    if h0 < tiny or h0 - h1 < tiny or h1 - h2 < tiny or q1 < tiny or q2 - q1 < tiny:
        return None
    h4, h5 = h0 - h1, h0 - h2
    c = math.log(h5 / h4) / math.log(q2 / q1)
    if c <= 0.0 or c > 20.0:
        return None
    b = -h4 / q1**c
    if b >= 0.0:
        return None
    return h0, b, c


class _Curves:
    """Collects curves into flat ``curve_ptr``/``curve_x``/``curve_y`` arrays."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.x: list[np.ndarray] = []
        self.y: list[np.ndarray] = []

    def add(self, name: str, points: list[tuple[float, float]]) -> int:
        if name not in self.index:
            pts = np.asarray(points, dtype=float).reshape(-1, 2)
            self.index[name] = len(self.x)
            self.x.append(pts[:, 0])
            self.y.append(pts[:, 1])
        return self.index[name]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ptr = np.zeros(len(self.x) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(x) for x in self.x]) if self.x else []
        x = np.concatenate(self.x) if self.x else np.zeros(0)
        y = np.concatenate(self.y) if self.y else np.zeros(0)
        return ptr, x, y


def _pump_parameters(pump, curves: _Curves, source: str) -> dict:
    """EPANET's pump curve processing (``updatepumpparams``) in SI."""
    if pump.pump_type == "POWER":
        power_hp = float(pump.power) / 1000.0 / KW_PER_HP
        if power_hp <= 0:
            raise InputError(f"pump {pump.name}: power {pump.power} W must be > 0", source)
        return {
            "type": CONST_HP, "h0": 0.0, "r": -HP_HEAD_FT_CFS * power_hp * FT_M * CFS_M3_PER_S,
            "n": -1.0, "hmax": BIG, "q0": 1.0 * CFS_M3_PER_S, "curve": -1,
        }
    curve = pump.get_pump_curve()
    points = [(float(q), float(h)) for q, h in curve.points]
    if len(points) == 1:
        q1, h1 = points[0]
        fit = (1.33334 * h1, h1, 0.0, q1, 2.0 * q1)
    elif len(points) == 3 and points[0][0] == 0.0:
        fit = (points[0][1], points[1][1], points[2][1], points[1][0], points[2][0])
    else:
        fit = None
    if fit is not None:
        coeffs = _power_curve(*fit)
        if coeffs is None:
            raise InputError(f"pump {pump.name}: head curve {curve.name} is not a valid pump curve "
                             "(heads must fall as flow rises)", source)
        a, b, c = coeffs
        return {"type": POWER_FUNC, "h0": -a, "r": -b, "n": c, "hmax": fit[0],
                "q0": fit[3], "curve": -1}
    heads = [h for _, h in points]
    if any(h2 >= h1 for h1, h2 in zip(heads, heads[1:], strict=False)):
        raise InputError(f"pump {pump.name}: head curve {curve.name} must have decreasing heads", source)
    return {"type": CUSTOM, "h0": 0.0, "r": 0.0, "n": 1.0, "hmax": points[0][1],
            "q0": (points[0][0] + points[-1][0]) / 2.0, "curve": curves.add(curve.name, points)}


def _control_action(action, link_kind: int, source: str, name: str) -> tuple[int, float]:
    """EPANET (status, setting) of a simple control's action, from WNTR's ControlAction."""
    attribute = action._attribute
    value = action._value
    if attribute == "status":
        code = int(value)  # wntr LinkStatus: 0 closed, 1 open, 2 active
        if code == 2:
            raise InputError(f"control {name}: status ACTIVE is not a simple-control action", source)
        status = OPEN if code == 1 else CLOSED
        if link_kind == PUMP:
            return status, 1.0 if status == OPEN else 0.0
        if link_kind == GPV:
            return status, MISSING  # GPV keeps its curve: see _apply_control_setting
        return status, MISSING
    if attribute in ("base_speed", "setting", "speed"):
        setting = float(value)
        if link_kind in (PUMP, PIPE):
            if setting < 0:
                raise InputError(f"control {name}: negative setting {setting}", source)
            return (CLOSED if setting == 0.0 else OPEN), setting
        return ACTIVE, setting
    raise InputError(f"control {name}: action on attribute {attribute!r} is not supported "
                     "(expected status, speed or setting)", source)


def compile_network(wn: wntr.network.WaterNetworkModel, source: str = "network") -> CompiledNetwork:
    """Compile a WNTR model into arrays for the solver (SI units throughout).

    Supported: junctions with multiple demands and patterns, emitters, reservoirs (with head
    patterns), tanks (cylindrical or with a volume curve), pipes (with check valves and minor
    losses), pumps (head curves of 1, 3 or more points, constant power, speed patterns), all
    EPANET valve types, and simple controls (``[CONTROLS]``: tank level, junction pressure, time
    and time of day). ``[RULES]`` are rejected with an :class:`InputError`.

    Parameters
    ----------
    wn
        The model, e.g. from :func:`twin.io.epanet.read_inp`.
    source
        Name used in error messages (usually the ``.inp`` path).
    """
    opts = wn.options
    junctions = list(wn.junction_name_list)
    reservoirs = list(wn.reservoir_name_list)
    tanks = list(wn.tank_name_list)
    node_names = junctions + reservoirs + tanks
    node_index = {name: i for i, name in enumerate(node_names)}
    nj, n_nodes = len(junctions), len(node_names)
    if n_nodes < 2 or not (reservoirs or tanks):
        raise InputError("a network needs at least two nodes and one reservoir or tank", source)

    patterns: list[np.ndarray] = []
    pattern_names: list[str] = []
    pattern_index: dict[str, int] = {}
    for name in wn.pattern_name_list:
        values = np.asarray(wn.get_pattern(name).multipliers, dtype=float)
        if values.size == 0:
            values = np.ones(1)
        pattern_index[name] = len(patterns)
        patterns.append(values)
        pattern_names.append(name)
    default_pattern = pattern_index.get(str(opts.hydraulic.pattern), -1) if opts.hydraulic.pattern else -1

    def pattern_of(name: str | None) -> int:
        if name is None or name == "":
            return default_pattern
        if name not in pattern_index:
            raise InputError(f"unknown pattern {name!r}", source)
        return pattern_index[name]

    node_kind = np.zeros(n_nodes, dtype=np.int8)
    elevation = np.zeros(n_nodes)
    demand_node, demand_base, demand_pat, demand_cat = [], [], [], []
    emitter_ke = np.zeros(nj)
    pmin = np.full(nj, float(opts.hydraulic.minimum_pressure))
    preq = np.full(nj, float(opts.hydraulic.required_pressure))
    gamma = float(opts.hydraulic.emitter_exponent)
    for i, name in enumerate(junctions):
        j = wn.get_node(name)
        elevation[i] = j.elevation
        for demand in j.demand_timeseries_list:
            demand_node.append(i)
            demand_base.append(float(demand.base_value))
            demand_pat.append(pattern_of(demand.pattern_name))
            demand_cat.append(str(demand.category or ""))
        if j.emitter_coefficient:
            emitter_ke[i] = float(j.emitter_coefficient) ** (-1.0 / gamma)
        if j.minimum_pressure is not None:
            pmin[i] = j.minimum_pressure
        if j.required_pressure is not None:
            preq[i] = j.required_pressure
    fixed_head_pattern = np.full(n_nodes, -1, dtype=np.int64)
    for name in reservoirs:
        i = node_index[name]
        r = wn.get_node(name)
        node_kind[i] = RESERVOIR
        elevation[i] = r.head_timeseries.base_value
        if r.head_timeseries.pattern_name:
            fixed_head_pattern[i] = pattern_of(r.head_timeseries.pattern_name)

    curves = _Curves()
    t_node, t_area, t_hmin, t_hmax, t_h0, t_vmin, t_vmax, t_v0, t_curve, t_over = ([] for _ in range(10))
    for name in tanks:
        i = node_index[name]
        t = wn.get_node(name)
        node_kind[i] = TANK
        elevation[i] = t.elevation
        area = math.pi * t.diameter**2 / 4.0
        hmin, hmax, h0 = t.elevation + t.min_level, t.elevation + t.max_level, t.elevation + t.init_level
        if t.vol_curve_name:
            c = wn.get_curve(t.vol_curve_name)
            pts = sorted((float(x), float(y)) for x, y in c.points)
            ci = curves.add(c.name, pts)
            xs, ys = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
            levels = (t.min_level, t.max_level, t.init_level)
            vmin, vmax, v0 = (float(np.interp(level, xs, ys)) for level in levels)
            area = (ys[-1] - ys[0]) / (xs[-1] - xs[0]) if xs[-1] > xs[0] else area
        else:
            ci = -1
            vmin = t.min_vol if t.min_vol else area * t.min_level
            vmax = vmin + (hmax - hmin) * area
            v0 = vmin + (h0 - hmin) * area
        t_node.append(i)
        t_area.append(area)
        t_hmin.append(hmin)
        t_hmax.append(hmax)
        t_h0.append(h0)
        t_vmin.append(vmin)
        t_vmax.append(vmax)
        t_v0.append(v0)
        t_curve.append(ci)
        t_over.append(bool(getattr(t, "overflow", False)))

    link_names = list(wn.pipe_name_list) + list(wn.pump_name_list) + list(wn.valve_name_list)
    n_links = len(link_names)
    start = np.zeros(n_links, dtype=np.int64)
    end = np.zeros(n_links, dtype=np.int64)
    kind = np.zeros(n_links, dtype=np.int8)
    diameter = np.zeros(n_links)
    length = np.zeros(n_links)
    roughness = np.zeros(n_links)
    minor = np.zeros(n_links)
    status0 = np.full(n_links, OPEN, dtype=np.int8)
    setting0 = np.full(n_links, MISSING)
    pump_type = np.full(n_links, NOCURVE, dtype=np.int8)
    pump_h0, pump_r, pump_n = np.zeros(n_links), np.zeros(n_links), np.ones(n_links)
    pump_hmax, pump_q0 = np.zeros(n_links), np.zeros(n_links)
    pump_pattern = np.full(n_links, -1, dtype=np.int64)
    curve_index = np.full(n_links, -1, dtype=np.int64)
    for k, name in enumerate(link_names):
        link = wn.get_link(name)
        start[k] = node_index[link.start_node_name]
        end[k] = node_index[link.end_node_name]
        closed = int(link.initial_status) == 0
        if link.link_type == "Pipe":
            kind[k] = CVPIPE if link.check_valve else PIPE
            diameter[k], length[k] = link.diameter, link.length
            roughness[k], minor[k] = link.roughness, link.minor_loss
            setting0[k] = link.roughness
            status0[k] = CLOSED if closed and not link.check_valve else OPEN
            if diameter[k] <= 0 or length[k] <= 0 or roughness[k] <= 0:
                raise InputError(f"pipe {name}: diameter, length and roughness must be > 0", source)
        elif link.link_type == "Pump":
            kind[k] = PUMP
            params = _pump_parameters(link, curves, source)
            pump_type[k] = params["type"]
            pump_h0[k], pump_r[k], pump_n[k] = params["h0"], params["r"], params["n"]
            pump_hmax[k], pump_q0[k], curve_index[k] = params["hmax"], params["q0"], params["curve"]
            setting0[k] = float(link.speed_timeseries.base_value)
            speed_pattern = link.speed_timeseries.pattern_name
            pump_pattern[k] = pattern_of(speed_pattern) if speed_pattern else -1
            status0[k] = CLOSED if closed else OPEN
        else:
            vkind = _VALVE_KINDS[link.valve_type]
            kind[k] = vkind
            diameter[k], minor[k] = link.diameter, link.minor_loss
            status_code = int(link.initial_status)
            if vkind == GPV:
                c = wn.get_curve(link.headloss_curve_name)
                curve_index[k] = curves.add(c.name, [(float(x), float(y)) for x, y in c.points])
                setting0[k] = float(curve_index[k])
                status0[k] = CLOSED if status_code == 0 else OPEN
            elif status_code == 2:  # Active: the setting applies
                setting0[k] = float(link.initial_setting)
                status0[k] = ACTIVE
            else:
                setting0[k] = MISSING
                status0[k] = CLOSED if status_code == 0 else OPEN
    curve_ptr, curve_x, curve_y = curves.arrays()

    c_link, c_node, c_type, c_grade, c_time, c_status, c_setting = ([] for _ in range(7))
    link_index = {name: k for k, name in enumerate(link_names)}
    for cname in wn.control_name_list:
        control = wn.get_control(cname)
        if type(control).__name__ != "Control":
            raise InputError(f"control {cname}: rule-based controls ([RULES]) are not supported; "
                             "use simple [CONTROLS]", source)
        actions = list(control.actions())
        if len(actions) != 1 or getattr(control, "_else_actions", None):
            raise InputError(f"control {cname}: only one action per simple control is supported", source)
        action = actions[0]
        target = action._target_obj
        if target.name not in link_index:
            raise InputError(f"control {cname}: target {target.name} is not a link", source)
        k = link_index[target.name]
        status, setting = _control_action(action, int(kind[k]), source, cname)
        if kind[k] == GPV:
            setting = setting0[k]
        cond = control.condition
        cond_type = type(cond).__name__
        node, ctype, grade, time_s = -1, TIMER, 0.0, 0
        if cond_type in ("ValueCondition", "TankLevelCondition"):
            obj, attr, relation = cond._source_obj, cond._source_attr, cond._relation.symbol
            if obj.name not in node_index:
                raise InputError(f"control {cname}: condition on {obj.name} is not a node", source)
            node = node_index[obj.name]
            threshold = float(cond._threshold)
            if attr == "level":
                grade = elevation[node] + threshold
            elif attr == "pressure":
                grade = elevation[node] + threshold
            elif attr == "head":
                grade = threshold
            else:
                raise InputError(f"control {cname}: condition on {attr!r} is not supported", source)
            if relation in ("<", "<="):
                ctype = LOWLEVEL
            elif relation in (">", ">="):
                ctype = HILEVEL
            else:
                raise InputError(f"control {cname}: relation {relation!r} is not supported", source)
        elif cond_type == "SimTimeCondition":
            ctype, time_s = TIMER, int(round(float(cond._threshold)))
        elif cond_type == "TimeOfDayCondition":
            ctype, time_s = TIMEOFDAY, int(round(float(cond._threshold))) % SECONDS_PER_DAY
        else:
            raise InputError(f"control {cname}: condition {cond_type} is not a simple control", source)
        c_link.append(k)
        c_node.append(node)
        c_type.append(ctype)
        c_grade.append(grade)
        c_time.append(time_s)
        c_status.append(status)
        c_setting.append(setting)

    hyd = opts.hydraulic
    formula = {"H-W": HAZEN_WILLIAMS, "D-W": DARCY_WEISBACH, "C-M": CHEZY_MANNING}.get(hyd.headloss)
    if formula is None:
        raise InputError(f"[OPTIONS] HEADLOSS = {hyd.headloss!r}: expected H-W, D-W or C-M", source)
    unbalanced = str(hyd.unbalanced).upper()
    extra = -1 if unbalanced == "STOP" else int(hyd.unbalanced_value or 0)
    options = HydraulicOptions(
        formula=formula,
        viscosity_m2_per_s=float(hyd.viscosity) * 1.1e-5 * FT_M**2,
        trials=int(hyd.trials),
        accuracy=float(hyd.accuracy),
        extra_trials=extra,
        checkfreq=int(hyd.checkfreq),
        maxcheck=int(hyd.maxcheck),
        damplimit=float(hyd.damplimit),
        head_error_m=float(hyd.headerror or 0.0),
        flow_change_m3_per_s=float(hyd.flowchange or 0.0),
        pressure_driven=str(hyd.demand_model).upper() in ("PDD", "PDA"),
        pdd_exponent=float(hyd.pressure_exponent),
        emitter_exponent=gamma,
    )
    t = opts.time
    times = TimeSettings(
        duration_s=int(round(t.duration)),
        hydraulic_step_s=max(int(round(t.hydraulic_timestep)), 1),
        pattern_step_s=max(int(round(t.pattern_timestep)), 1),
        pattern_start_s=int(round(t.pattern_start)),
        report_step_s=max(int(round(t.report_timestep)), 1),
        report_start_s=int(round(t.report_start)),
        start_clocktime_s=int(round(t.start_clocktime)),
    )

    def ints(values, dtype=np.int64):
        return np.asarray(values, dtype=dtype)

    return CompiledNetwork(
        node_names=node_names, link_names=link_names, n_junctions=nj,
        node_kind=node_kind, elevation_m=elevation,
        demand_node=ints(demand_node), demand_base_m3_per_s=np.asarray(demand_base, dtype=float),
        demand_pattern=ints(demand_pat), demand_multiplier=float(hyd.demand_multiplier),
        patterns=patterns, pattern_names=pattern_names, fixed_head_pattern=fixed_head_pattern,
        emitter_ke=emitter_ke, leak_ke=np.zeros(nj), leak_n=np.full(nj, 2.0),
        pdd_pmin_m=pmin, pdd_preq_m=preq,
        tank_node=ints(t_node), tank_area_m2=np.asarray(t_area, dtype=float),
        tank_hmin_m=np.asarray(t_hmin, dtype=float), tank_hmax_m=np.asarray(t_hmax, dtype=float),
        tank_h0_m=np.asarray(t_h0, dtype=float), tank_vmin_m3=np.asarray(t_vmin, dtype=float),
        tank_vmax_m3=np.asarray(t_vmax, dtype=float), tank_v0_m3=np.asarray(t_v0, dtype=float),
        tank_curve=ints(t_curve), tank_overflow=np.asarray(t_over, dtype=bool),
        start=start, end=end, kind=kind, diameter_m=diameter, length_m=length,
        roughness=roughness, minor_loss=minor, initial_status=status0, initial_setting=setting0,
        pump_type=pump_type, pump_h0=pump_h0, pump_r=pump_r, pump_n=pump_n,
        pump_hmax_m=pump_hmax, pump_q0_m3_per_s=pump_q0, pump_speed_pattern=pump_pattern,
        curve_index=curve_index, curve_ptr=curve_ptr, curve_x=curve_x, curve_y=curve_y,
        control_link=ints(c_link), control_node=ints(c_node), control_type=ints(c_type, np.int8),
        control_grade_m=np.asarray(c_grade, dtype=float), control_time_s=ints(c_time),
        control_status=ints(c_status, np.int8), control_setting=np.asarray(c_setting, dtype=float),
        options=options, times=times, demand_category=demand_cat,
        node_xy=np.array([wn.get_node(n).coordinates or (np.nan, np.nan) for n in node_names], dtype=float),
    )


def load_network(path, source: str | None = None) -> CompiledNetwork:
    """Read an EPANET ``.inp`` (through WNTR) and compile it."""
    from twin.water.epanet_io import read_inp

    return compile_network(read_inp(path), source or str(path))


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------
@dataclass
class HydraulicResults:
    """Reported states of an extended-period simulation (SI units).

    Arrays are ``(time, node)`` or ``(time, link)``. ``demand_m3_per_s`` is what each junction
    delivers (demand plus emitter flow; leaks are in ``leak_m3_per_s``), and each tank's or
    reservoir's net inflow (negative when it supplies water). ``required_m3_per_s`` is the
    junction demand the patterns ask for.
    """

    time_s: np.ndarray
    node_names: list[str]
    link_names: list[str]
    elevation_m: np.ndarray
    head_m: np.ndarray
    demand_m3_per_s: np.ndarray
    required_m3_per_s: np.ndarray
    leak_m3_per_s: np.ndarray
    flow_m3_per_s: np.ndarray
    status: np.ndarray
    link_area_m2: np.ndarray
    link_start: np.ndarray
    link_end: np.ndarray
    determinate: np.ndarray
    """``(time, junction)``: False where the head is not determined by the equations (a pocket
    behind closed links; see :meth:`twin.hydraulics.GGASolver.determinate_junctions`)."""
    cut_off: np.ndarray
    """``(time, junction)``: True where closed links cut the junction off from every source (it
    gets no water, whatever head the closed links leave it)."""
    solver_log: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def pressure_m(self) -> np.ndarray:
        """Pressure head (m); a tank's is its water level."""
        return self.head_m - self.elevation_m[None, :]

    @property
    def velocity_m_per_s(self) -> np.ndarray:
        """Mean velocity |q| / A (m/s); 0 for pumps."""
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.abs(self.flow_m3_per_s) / self.link_area_m2[None, :]
        return np.where(self.link_area_m2[None, :] > 0, v, 0.0)

    @property
    def headloss_m(self) -> np.ndarray:
        """Head at the start node minus head at the end node (m); negative across a running pump."""
        return self.head_m[:, self.link_start] - self.head_m[:, self.link_end]

    def nodes_frame(self) -> pd.DataFrame:
        """Long table ``time_s, node, head_m, pressure_m, demand_m3_per_s``."""
        import pandas as pd

        nt, nn = self.head_m.shape
        return pd.DataFrame({
            "time_s": np.repeat(self.time_s, nn),
            "node": np.tile(np.asarray(self.node_names, dtype=object), nt),
            "head_m": self.head_m.ravel(),
            "pressure_m": self.pressure_m.ravel(),
            "demand_m3_per_s": self.demand_m3_per_s.ravel(),
        })

    def links_frame(self) -> pd.DataFrame:
        """Long table ``time_s, link, flow_m3_per_s, velocity_m_per_s, headloss_m``."""
        import pandas as pd

        nt, nl = self.flow_m3_per_s.shape
        return pd.DataFrame({
            "time_s": np.repeat(self.time_s, nl),
            "link": np.tile(np.asarray(self.link_names, dtype=object), nt),
            "flow_m3_per_s": self.flow_m3_per_s.ravel(),
            "velocity_m_per_s": self.velocity_m_per_s.ravel(),
            "headloss_m": self.headloss_m.ravel(),
        })


# ------------------------------------------------------------------------------------------------
# The extended-period driver
# ------------------------------------------------------------------------------------------------
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
        self._keys = ("t", "head", "demand", "required", "leak", "flow", "status", "determinate", "cut_off")
        self._required = np.zeros(net.n_junctions)
        self._cut_off = np.zeros(net.n_junctions, dtype=bool)
        self._cut_key = b""
        self._records: dict[str, list] = {k: [] for k in self._keys}
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
        st, rec = self.state, self._records
        if rec["t"] and rec["t"][-1] == self.time_s:
            for key in self._keys:
                rec[key].pop()
        rec["t"].append(self.time_s)
        rec["head"].append(st.head.copy())
        rec["demand"].append(st.node_outflow.copy())
        rec["required"].append(self._required.copy())
        rec["cut_off"].append(self._cut_off.copy())
        rec["leak"].append(st.leak_flow.copy())
        # like EPANET's savehyd: a closed link carries no flow (a closed constant-power pump keeps
        # a halving residual inside the iterations, which is not water moving)
        rec["flow"].append(np.where(st.status <= CLOSED, 0.0, st.flow))
        rec["status"].append(st.status.copy())
        rec["determinate"].append(self.solver.determinate_junctions(st) if self.record_determinacy
                                  else np.ones(self.net.n_junctions, dtype=bool))

    def _cut_off_junctions(self) -> np.ndarray:
        """Junctions with no path to a tank or reservoir except through links shut now.

        Only a link closed outright - a pipe, pump or fixed valve whose status is CLOSED, as the
        user, a scenario or a control leaves it - cuts; check valves and regulating valves, and
        links closed only for the moment (a full tank, a pump short of head), may carry flow
        again within the solve.
        """
        import scipy.sparse as sp
        from scipy.sparse.csgraph import connected_components

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
        rec, net = self._records, self.net
        area = np.where(net.kind == PUMP, 0.0, np.pi * net.diameter_m**2 / 4.0)

        def stack(key, width):
            return np.vstack(rec[key]) if rec[key] else np.zeros((0, width))

        return HydraulicResults(
            time_s=np.asarray(rec["t"], dtype=float),
            node_names=net.node_names, link_names=net.link_names,
            elevation_m=net.elevation_m.copy(),
            head_m=stack("head", net.n_nodes), demand_m3_per_s=stack("demand", net.n_nodes),
            required_m3_per_s=stack("required", net.n_junctions),
            leak_m3_per_s=stack("leak", net.n_junctions),
            flow_m3_per_s=stack("flow", net.n_links), status=stack("status", net.n_links),
            determinate=stack("determinate", net.n_junctions).astype(bool),
            cut_off=stack("cut_off", net.n_junctions).astype(bool),
            link_area_m2=area, link_start=net.start, link_end=net.end,
            solver_log=list(self.solver_log), warnings=list(self.warnings),
        )

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

        ``ke`` and ``exponent_n`` give the leak's head loss ``ke q^n`` (see :mod:`twin.leaks`).
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


__all__ = [
    "ConvergenceError",
    "ExtendedPeriodSimulation",
    "HydraulicResults",
    "compile_network",
    "load_network",
    "simulate",
]


def solve_inp(
    inp: Path,
    out: Path,
    duration_h: float | None = None,
    step_s: int | None = None,
    demand_model: str | None = None,
    on_unbalanced: UnbalancedPolicy = "error",
    force: bool = False,
) -> tuple[HydraulicResults, CompiledNetwork]:
    """``twin water solve``: simulate an ``.inp`` and write ``nodes``/``links`` tables to ``out``.

    Writes ``nodes.parquet`` (``time_s, node, head_m, pressure_m, demand_m3_per_s``),
    ``links.parquet`` (``time_s, link, flow_m3_per_s, velocity_m_per_s, headloss_m``), CSV copies,
    ``solver_log.csv`` (iterations and residual per solved time, fallbacks) and
    ``indeterminate_nodes.csv`` (junction heads the equations leave undetermined), all SI.

    ``step_s`` sets both the hydraulic and the reporting step; ``duration_h`` and
    ``demand_model`` (``dda``/``pdd``) override the file's options.
    """
    import pandas as pd

    from twin.results import atomic_dir, refuse_existing, write_table

    refuse_existing(out, force)
    net = load_network(inp)
    if duration_h is not None:
        if duration_h < 0:
            raise InputError(f"--duration-h {duration_h}: must be >= 0")
        duration_s = int(round(duration_h * 3600.0))
    else:
        duration_s = None
    if step_s is not None and step_s <= 0:
        raise InputError(f"--step-s {step_s}: must be > 0")
    pdd = None
    if demand_model is not None:
        if demand_model.lower() not in ("dda", "pdd"):
            raise InputError(f"--demand-model {demand_model!r}: expected dda or pdd")
        pdd = demand_model.lower() == "pdd"
    sim = ExtendedPeriodSimulation(net, duration_s=duration_s, hydraulic_step_s=step_s,
                                   report_step_s=step_s, on_unbalanced=on_unbalanced,
                                   pressure_driven=pdd)
    results = sim.run()
    with atomic_dir(out, force) as tmp:
        write_table(tmp, "nodes", results.nodes_frame())
        write_table(tmp, "links", results.links_frame())
        pd.DataFrame(results.solver_log).to_csv(tmp / "solver_log.csv", index=False)
        bad_t, bad_j = np.nonzero(~results.determinate)
        pd.DataFrame({
            "time_s": results.time_s[bad_t],
            "node": [results.node_names[j] for j in bad_j],
        }).to_csv(tmp / "indeterminate_nodes.csv", index=False)
    return results, net
