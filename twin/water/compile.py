"""Compiling a WNTR model (any EPANET ``.inp``) into a :class:`~twin.water.network.CompiledNetwork`.

:func:`compile_network` walks the model once, element kind by element kind, in EPANET's order:
the nodes (junctions, then reservoirs, then tanks), the patterns and curves they use, the links
(pipes, pumps, valves), the simple controls, and the ``[OPTIONS]`` and ``[TIMES]`` sections. It
converts nothing but what EPANET itself converts: WNTR has already put the model in SI units.
:func:`load_network` reads an ``.inp`` and compiles it.

Supported: junctions with multiple demands and patterns, emitters, reservoirs (with head
patterns), tanks (cylindrical or with a volume curve), pipes (with check valves and minor
losses), pumps (head curves of 1, 3 or more points, constant power, speed patterns), all EPANET
valve types, and simple controls (``[CONTROLS]``: tank level, junction pressure, time and time of
day). ``[RULES]`` are rejected with an :class:`~twin.errors.InputError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kernels.hydraulics.codes import (
    ACTIVE,
    CHEZY_MANNING,
    CLOSED,
    CONST_HP,
    CUSTOM,
    CVPIPE,
    DARCY_WEISBACH,
    FCV,
    GPV,
    HAZEN_WILLIAMS,
    HILEVEL,
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
    RESERVOIR,
    TANK,
    TCV,
    TIMEOFDAY,
    TIMER,
)
from twin.errors import InputError
from twin.water.epanet_constants import CFS_M3_PER_S, FT_M, HP_HEAD_FT_CFS, KW_PER_HP
from twin.water.epanet_io import read_inp
from twin.water.network import CompiledNetwork
from twin.water.options import HydraulicOptions, TimeSettings

if TYPE_CHECKING:
    import wntr

SECONDS_PER_DAY = 86400
BIG = 1.0e10
"""EPANET's BIG: the shutoff head of a constant-power pump, which has none."""
_VALVE_KINDS = {"PRV": PRV, "PSV": PSV, "PBV": PBV, "FCV": FCV, "TCV": TCV, "GPV": GPV}


def compile_network(wn: wntr.network.WaterNetworkModel, source: str = "network") -> CompiledNetwork:
    """Compile a WNTR model into arrays for the solver (SI units throughout).

    Parameters
    ----------
    wn
        The model, e.g. from :func:`twin.water.epanet_io.read_inp`.
    source
        Name used in error messages (usually the ``.inp`` path).

    Raises
    ------
    InputError
        For what the solver does not support or the file gets wrong: no reservoir or tank, an
        unknown pattern, a pipe without length, an invalid pump curve, a rule-based control.
    """
    nodes = _NodeOrder.of(wn, source)
    patterns = _Patterns(wn, source)
    curves = _Curves()
    elevation = np.zeros(len(nodes.names))
    node_kind = np.zeros(len(nodes.names), dtype=np.int8)
    junctions = _junction_fields(wn, nodes, patterns, elevation)
    reservoirs = _reservoir_fields(wn, nodes, patterns, node_kind, elevation)
    tanks = _tank_fields(wn, nodes, curves, node_kind, elevation)
    links = _LinkArrays.of(wn, nodes, patterns, curves, source)
    curve_ptr, curve_x, curve_y = curves.arrays()
    controls = _control_fields(wn, nodes, links, elevation, source)
    hydraulic = wn.options.hydraulic
    return CompiledNetwork(
        node_names=nodes.names, link_names=links.names, n_junctions=nodes.n_junctions,
        node_kind=node_kind, elevation_m=elevation,
        demand_multiplier=float(hydraulic.demand_multiplier),
        patterns=patterns.values, pattern_names=patterns.names,
        **junctions, **reservoirs, **tanks, **links.fields(), **controls,
        curve_ptr=curve_ptr, curve_x=curve_x, curve_y=curve_y,
        options=_hydraulic_options(hydraulic, source), times=_time_settings(wn.options.time),
        node_xy=np.array([wn.get_node(n).coordinates or (np.nan, np.nan) for n in nodes.names], dtype=float),
    )


def load_network(path: str | Path, source: str | None = None) -> CompiledNetwork:
    """Read an EPANET ``.inp`` (through WNTR) and compile it."""
    return compile_network(read_inp(path), source or str(path))


# ---- nodes, patterns and curves -------------------------------------------------------------------
@dataclass(frozen=True)
class _NodeOrder:
    """EPANET's node order: junctions first, then reservoirs, then tanks."""

    names: list[str]
    index: dict[str, int]
    junctions: list[str]
    reservoirs: list[str]
    tanks: list[str]

    @classmethod
    def of(cls, wn: wntr.network.WaterNetworkModel, source: str) -> _NodeOrder:
        junctions = list(wn.junction_name_list)
        reservoirs = list(wn.reservoir_name_list)
        tanks = list(wn.tank_name_list)
        names = junctions + reservoirs + tanks
        if len(names) < 2 or not (reservoirs or tanks):
            raise InputError("a network needs at least two nodes and one reservoir or tank", source)
        return cls(names, {name: i for i, name in enumerate(names)}, junctions, reservoirs, tanks)

    @property
    def n_junctions(self) -> int:
        return len(self.junctions)


class _Patterns:
    """The model's patterns as arrays, and each pattern's index by name (-1: none, multiplier 1)."""

    def __init__(self, wn: wntr.network.WaterNetworkModel, source: str) -> None:
        self.source = source
        self.values: list[np.ndarray] = []
        self.names: list[str] = []
        self._index: dict[str, int] = {}
        for name in wn.pattern_name_list:
            values = np.asarray(wn.get_pattern(name).multipliers, dtype=float)
            if values.size == 0:
                values = np.ones(1)
            self._index[name] = len(self.values)
            self.values.append(values)
            self.names.append(name)
        default = wn.options.hydraulic.pattern
        self._default = self._index.get(str(default), -1) if default else -1

    def index_of(self, name: str | None) -> int:
        """The pattern named ``name``; no name means the ``[OPTIONS] PATTERN`` default."""
        if name is None or name == "":
            return self._default
        if name not in self._index:
            raise InputError(f"unknown pattern {name!r}", self.source)
        return self._index[name]


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



def _junction_fields(wn: wntr.network.WaterNetworkModel, nodes: _NodeOrder, patterns: _Patterns,
                     elevation: np.ndarray) -> dict:
    """Junctions' demands (one entry per demand, with pattern and category), emitters and
    pressure-driven-demand pressures; fills the junctions' ``elevation``."""
    hydraulic = wn.options.hydraulic
    nj = nodes.n_junctions
    demand_node, demand_base, demand_pat, demand_cat = [], [], [], []
    emitter_ke = np.zeros(nj)
    pmin = np.full(nj, float(hydraulic.minimum_pressure))
    preq = np.full(nj, float(hydraulic.required_pressure))
    gamma = float(hydraulic.emitter_exponent)
    for i, name in enumerate(nodes.junctions):
        j = wn.get_node(name)
        elevation[i] = j.elevation
        for demand in j.demand_timeseries_list:
            demand_node.append(i)
            demand_base.append(float(demand.base_value))
            demand_pat.append(patterns.index_of(demand.pattern_name))
            demand_cat.append(str(demand.category or ""))
        if j.emitter_coefficient:
            emitter_ke[i] = float(j.emitter_coefficient) ** (-1.0 / gamma)
        if j.minimum_pressure is not None:
            pmin[i] = j.minimum_pressure
        if j.required_pressure is not None:
            preq[i] = j.required_pressure
    return {
        "demand_node": np.asarray(demand_node, dtype=np.int64),
        "demand_base_m3_per_s": np.asarray(demand_base, dtype=float),
        "demand_pattern": np.asarray(demand_pat, dtype=np.int64), "demand_category": demand_cat,
        "emitter_ke": emitter_ke, "leak_ke": np.zeros(nj), "leak_n": np.full(nj, 2.0),
        "pdd_pmin_m": pmin, "pdd_preq_m": preq,
    }


def _reservoir_fields(wn: wntr.network.WaterNetworkModel, nodes: _NodeOrder, patterns: _Patterns,
                      node_kind: np.ndarray, elevation: np.ndarray) -> dict:
    """Reservoirs' head patterns; a reservoir's elevation is its base head."""
    fixed_head_pattern = np.full(len(nodes.names), -1, dtype=np.int64)
    for name in nodes.reservoirs:
        i = nodes.index[name]
        r = wn.get_node(name)
        node_kind[i] = RESERVOIR
        elevation[i] = r.head_timeseries.base_value
        if r.head_timeseries.pattern_name:
            fixed_head_pattern[i] = patterns.index_of(r.head_timeseries.pattern_name)
    return {"fixed_head_pattern": fixed_head_pattern}


def _tank_fields(wn: wntr.network.WaterNetworkModel, nodes: _NodeOrder, curves: _Curves,
                 node_kind: np.ndarray, elevation: np.ndarray) -> dict:
    """Tanks' levels as heads, volumes and volume curves (EPANET ``inittanks``)."""
    rows = []
    for name in nodes.tanks:
        i = nodes.index[name]
        t = wn.get_node(name)
        node_kind[i] = TANK
        elevation[i] = t.elevation
        rows.append((i, *_tank_geometry(wn, t, curves), bool(getattr(t, "overflow", False))))
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in range(10)]
    t_node, t_area, t_hmin, t_hmax, t_h0, t_vmin, t_vmax, t_v0, t_curve, t_over = columns
    return {
        "tank_node": np.asarray(t_node, dtype=np.int64), "tank_area_m2": np.asarray(t_area, dtype=float),
        "tank_hmin_m": np.asarray(t_hmin, dtype=float), "tank_hmax_m": np.asarray(t_hmax, dtype=float),
        "tank_h0_m": np.asarray(t_h0, dtype=float), "tank_vmin_m3": np.asarray(t_vmin, dtype=float),
        "tank_vmax_m3": np.asarray(t_vmax, dtype=float), "tank_v0_m3": np.asarray(t_v0, dtype=float),
        "tank_curve": np.asarray(t_curve, dtype=np.int64), "tank_overflow": np.asarray(t_over, dtype=bool),
    }


def _tank_geometry(wn: wntr.network.WaterNetworkModel, t, curves: _Curves) -> tuple:
    """``(area, hmin, hmax, h0, vmin, vmax, v0, curve)`` of tank ``t`` (m², m, m³; curve -1 if
    cylindrical). With a volume curve the area is the curve's mean slope."""
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
    return area, hmin, hmax, h0, vmin, vmax, v0, ci


# ---- links ----------------------------------------------------------------------------------------
class _LinkArrays:
    """Per-link arrays in EPANET's link order: pipes, then pumps, then valves."""

    def __init__(self, names: list[str]) -> None:
        n_links = len(names)
        self.names = names
        self.index = {name: k for k, name in enumerate(names)}
        self.start = np.zeros(n_links, dtype=np.int64)
        self.end = np.zeros(n_links, dtype=np.int64)
        self.kind = np.zeros(n_links, dtype=np.int8)
        self.diameter = np.zeros(n_links)
        self.length = np.zeros(n_links)
        self.roughness = np.zeros(n_links)
        self.minor = np.zeros(n_links)
        self.status0 = np.full(n_links, OPEN, dtype=np.int8)
        self.setting0 = np.full(n_links, MISSING)
        self.pump_type = np.full(n_links, NOCURVE, dtype=np.int8)
        self.pump_h0, self.pump_r, self.pump_n = np.zeros(n_links), np.zeros(n_links), np.ones(n_links)
        self.pump_hmax, self.pump_q0 = np.zeros(n_links), np.zeros(n_links)
        self.pump_pattern = np.full(n_links, -1, dtype=np.int64)
        self.curve_index = np.full(n_links, -1, dtype=np.int64)

    @classmethod
    def of(cls, wn: wntr.network.WaterNetworkModel, nodes: _NodeOrder, patterns: _Patterns,
           curves: _Curves, source: str) -> _LinkArrays:
        links = cls(list(wn.pipe_name_list) + list(wn.pump_name_list) + list(wn.valve_name_list))
        for k, name in enumerate(links.names):
            link = wn.get_link(name)
            links.start[k] = nodes.index[link.start_node_name]
            links.end[k] = nodes.index[link.end_node_name]
            if link.link_type == "Pipe":
                links.add_pipe(k, link, source)
            elif link.link_type == "Pump":
                links.add_pump(k, link, patterns, curves, source)
            else:
                links.add_valve(k, link, wn, curves)
        return links

    def add_pipe(self, k: int, pipe, source: str) -> None:
        """A pipe; a check valve makes it a CVPIPE, which is never closed by its status."""
        closed = int(pipe.initial_status) == 0
        self.kind[k] = CVPIPE if pipe.check_valve else PIPE
        self.diameter[k], self.length[k] = pipe.diameter, pipe.length
        self.roughness[k], self.minor[k] = pipe.roughness, pipe.minor_loss
        self.setting0[k] = pipe.roughness
        self.status0[k] = CLOSED if closed and not pipe.check_valve else OPEN
        if self.diameter[k] <= 0 or self.length[k] <= 0 or self.roughness[k] <= 0:
            raise InputError(f"pipe {pipe.name}: diameter, length and roughness must be > 0", source)

    def add_pump(self, k: int, pump, patterns: _Patterns, curves: _Curves, source: str) -> None:
        """A pump: its head curve's coefficients, speed and speed pattern."""
        closed = int(pump.initial_status) == 0
        self.kind[k] = PUMP
        params = _pump_parameters(pump, curves, source)
        self.pump_type[k] = params["type"]
        self.pump_h0[k], self.pump_r[k], self.pump_n[k] = params["h0"], params["r"], params["n"]
        self.pump_hmax[k], self.pump_q0[k], self.curve_index[k] = params["hmax"], params["q0"], params["curve"]
        self.setting0[k] = float(pump.speed_timeseries.base_value)
        speed_pattern = pump.speed_timeseries.pattern_name
        self.pump_pattern[k] = patterns.index_of(speed_pattern) if speed_pattern else -1
        self.status0[k] = CLOSED if closed else OPEN

    def add_valve(self, k: int, valve, wn: wntr.network.WaterNetworkModel, curves: _Curves) -> None:
        """A valve: ACTIVE with its setting, or fixed OPEN or CLOSED (setting MISSING); a GPV's
        setting is its head-loss curve."""
        vkind = _VALVE_KINDS[valve.valve_type]
        self.kind[k] = vkind
        self.diameter[k], self.minor[k] = valve.diameter, valve.minor_loss
        status_code = int(valve.initial_status)
        if vkind == GPV:
            c = wn.get_curve(valve.headloss_curve_name)
            self.curve_index[k] = curves.add(c.name, [(float(x), float(y)) for x, y in c.points])
            self.setting0[k] = float(self.curve_index[k])
            self.status0[k] = CLOSED if status_code == 0 else OPEN
        elif status_code == 2:  # Active: the setting applies
            self.setting0[k] = float(valve.initial_setting)
            self.status0[k] = ACTIVE
        else:
            self.setting0[k] = MISSING
            self.status0[k] = CLOSED if status_code == 0 else OPEN

    def fields(self) -> dict:
        """The :class:`CompiledNetwork` fields of the links."""
        return {
            "start": self.start, "end": self.end, "kind": self.kind, "diameter_m": self.diameter,
            "length_m": self.length, "roughness": self.roughness, "minor_loss": self.minor,
            "initial_status": self.status0, "initial_setting": self.setting0,
            "pump_type": self.pump_type, "pump_h0": self.pump_h0, "pump_r": self.pump_r,
            "pump_n": self.pump_n, "pump_hmax_m": self.pump_hmax, "pump_q0_m3_per_s": self.pump_q0,
            "pump_speed_pattern": self.pump_pattern, "curve_index": self.curve_index,
        }


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


# ---- simple controls ------------------------------------------------------------------------------
def _control_fields(wn: wntr.network.WaterNetworkModel, nodes: _NodeOrder, links: _LinkArrays,
                    elevation: np.ndarray, source: str) -> dict:
    """Simple ``[CONTROLS]`` in file order, as arrays; rule-based controls are an error."""
    rows = [_simple_control(wn, cname, nodes, links, elevation, source) for cname in wn.control_name_list]
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in range(7)]
    c_link, c_node, c_type, c_grade, c_time, c_status, c_setting = columns
    return {
        "control_link": np.asarray(c_link, dtype=np.int64), "control_node": np.asarray(c_node, dtype=np.int64),
        "control_type": np.asarray(c_type, dtype=np.int8), "control_grade_m": np.asarray(c_grade, dtype=float),
        "control_time_s": np.asarray(c_time, dtype=np.int64),
        "control_status": np.asarray(c_status, dtype=np.int8),
        "control_setting": np.asarray(c_setting, dtype=float),
    }


def _simple_control(wn: wntr.network.WaterNetworkModel, cname: str, nodes: _NodeOrder, links: _LinkArrays,
                    elevation: np.ndarray, source: str) -> tuple[int, int, int, float, int, int, float]:
    """``(link, node, type, grade, time, status, setting)`` of simple control ``cname``."""
    control = wn.get_control(cname)
    if type(control).__name__ != "Control":
        raise InputError(f"control {cname}: rule-based controls ([RULES]) are not supported; "
                         "use simple [CONTROLS]", source)
    actions = list(control.actions())
    if len(actions) != 1 or getattr(control, "_else_actions", None):
        raise InputError(f"control {cname}: only one action per simple control is supported", source)
    action = actions[0]
    target = action._target_obj
    if target.name not in links.index:
        raise InputError(f"control {cname}: target {target.name} is not a link", source)
    k = links.index[target.name]
    status, setting = _control_action(action, int(links.kind[k]), source, cname)
    if links.kind[k] == GPV:
        setting = links.setting0[k]
    node, ctype, grade, time_s = _control_condition(control.condition, cname, nodes, elevation, source)
    return k, node, ctype, grade, time_s, status, setting


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
            return status, MISSING  # a GPV keeps its curve (see _simple_control)
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


def _control_condition(cond, cname: str, nodes: _NodeOrder, elevation: np.ndarray,
                       source: str) -> tuple[int, int, float, int]:
    """``(node, type, grade, time)`` of a simple control's condition: a tank level or junction
    pressure as a grade (m) at ``node``, or a time (s) with node -1."""
    cond_type = type(cond).__name__
    if cond_type == "SimTimeCondition":
        return -1, TIMER, 0.0, int(round(float(cond._threshold)))
    if cond_type == "TimeOfDayCondition":
        return -1, TIMEOFDAY, 0.0, int(round(float(cond._threshold))) % SECONDS_PER_DAY
    if cond_type not in ("ValueCondition", "TankLevelCondition"):
        raise InputError(f"control {cname}: condition {cond_type} is not a simple control", source)
    obj, attr, relation = cond._source_obj, cond._source_attr, cond._relation.symbol
    if obj.name not in nodes.index:
        raise InputError(f"control {cname}: condition on {obj.name} is not a node", source)
    node = nodes.index[obj.name]
    threshold = float(cond._threshold)
    if attr in ("level", "pressure"):
        grade = elevation[node] + threshold
    elif attr == "head":
        grade = threshold
    else:
        raise InputError(f"control {cname}: condition on {attr!r} is not supported", source)
    if relation in ("<", "<="):
        return node, LOWLEVEL, grade, 0
    if relation in (">", ">="):
        return node, HILEVEL, grade, 0
    raise InputError(f"control {cname}: relation {relation!r} is not supported", source)


# ---- options and times ----------------------------------------------------------------------------
def _hydraulic_options(hyd, source: str) -> HydraulicOptions:
    """``[OPTIONS]`` for the solver (WNTR's ``options.hydraulic``)."""
    formula = {"H-W": HAZEN_WILLIAMS, "D-W": DARCY_WEISBACH, "C-M": CHEZY_MANNING}.get(hyd.headloss)
    if formula is None:
        raise InputError(f"[OPTIONS] HEADLOSS = {hyd.headloss!r}: expected H-W, D-W or C-M", source)
    unbalanced = str(hyd.unbalanced).upper()
    extra = -1 if unbalanced == "STOP" else int(hyd.unbalanced_value or 0)
    return HydraulicOptions(
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
        emitter_exponent=float(hyd.emitter_exponent),
    )


def _time_settings(t) -> TimeSettings:
    """``[TIMES]`` in whole seconds (WNTR's ``options.time``); steps are at least 1 s."""
    return TimeSettings(
        duration_s=int(round(t.duration)),
        hydraulic_step_s=max(int(round(t.hydraulic_timestep)), 1),
        pattern_step_s=max(int(round(t.pattern_timestep)), 1),
        pattern_start_s=int(round(t.pattern_start)),
        report_step_s=max(int(round(t.report_timestep)), 1),
        report_start_s=int(round(t.report_start)),
        start_clocktime_s=int(round(t.start_clocktime)),
    )
