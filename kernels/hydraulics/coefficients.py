"""Link coefficients of one GGA iteration: each link's head loss linearised at its current flow.

For every link, :func:`link_coefficients` gives the inverse head-loss gradient ``p = 1/(dh/dq)``
and the flow correction ``y = p * h(q)`` (EPANET's ``P`` and ``Y``, ``hydcoeffs.c``), one small
function per kind of link:

* pipes (:func:`_pipe_coefficients`): Hazen-Williams, Darcy-Weisbach (:func:`friction_factor`) or
  Chezy-Manning friction plus minor losses;
* pumps (:func:`_pump_coefficients`): power-function, constant-power and custom head curves, at
  the pump's speed;
* valves (:func:`valve_coefficients` and the PBV, TCV and GPV rules); an active PRV, PSV or FCV
  gets ``p = 0`` here and is pinned by the assembly (``kernels.hydraulics.equations``).

Reference twins: :func:`pipe_coefficients_reference` (vectorised NumPy) and
:func:`pump_coefficients_reference` (written from the pump's head-gain curve).

Units are SI (m, m³/s); the caller passes EPANET's tolerances converted.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.hydraulics.codes import (
    CLOSED,
    CONST_HP,
    CUSTOM,
    DARCY_WEISBACH,
    GPV,
    MISSING,
    NOCURVE,
    PBV,
    PIPE,
    PUMP,
    TCV,
)

TINY = 1.0e-6
"""EPANET's TINY: a pump exponent this close to 1 is 1, and the smallest GPV flow and slope."""

# Darcy-Weisbach friction-factor constants, as in EPANET's hydcoeffs.c
_A1 = 3.14159265358979323850e03  # 1000*PI
_A2 = 1.57079632679489661930e03  # 500*PI
_A8 = 4.61841319859066668690e00  # 5.74*(PI/4)^.9
_A9 = -8.68588963806503655300e-01  # -2/ln(10)
_AB = 3.28895476345399058690e-03  # 5.74/(4000^.9)
_AC = -5.14214965799093883760e-03  # AA*AB


@njit(cache=True, error_model="numpy")
def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


@njit(cache=True, error_model="numpy")
def friction_factor(q: float, rel_roughness: float, visc_diam: float) -> tuple[float, float]:
    """Darcy-Weisbach friction factor and its derivative w.r.t. flow.

    Swamee-Jain above Re = 4000, Dunlop's cubic interpolation in 2000 < Re < 4000 (EPANET 2.2).

    Parameters
    ----------
    q
        Absolute flow (m³/s).
    rel_roughness
        Roughness over diameter (-).
    visc_diam
        Kinematic viscosity times diameter (m³/s), so that ``q / visc_diam = Re * pi / 4``.
    """
    w = q / visc_diam
    if w >= _A1:
        y1 = _A8 / w**0.9
        y2 = rel_roughness / 3.7 + y1
        y3 = _A9 * math.log(y2)
        f = 1.0 / (y3 * y3)
        dfdq = 1.8 * f * y1 * _A9 / y2 / y3 / q
    else:
        y2 = rel_roughness / 3.7 + _AB
        y3 = _A9 * math.log(y2)
        fa = 1.0 / (y3 * y3)
        fb = (2.0 + _AC / (y2 * y3)) * fa
        r = w / _A2
        x1 = 7.0 * fa - fb
        x2 = 0.128 - 17.0 * fa + 2.5 * fb
        x3 = -0.128 + 13.0 * fa - (fb + fb)
        x4 = 0.032 - 3.0 * fa + 0.5 * fb
        f = x1 + r * (x2 + r * (x3 + r * x4))
        dfdq = (x2 + r * (2.0 * x3 + r * 3.0 * x4)) / visc_diam / _A2
    return f, dfdq


@njit(cache=True, error_model="numpy")
def _curve_segment(x: np.ndarray, y: np.ndarray, q: float) -> tuple[float, float]:
    """Intercept and slope of the piecewise-linear curve segment bracketing ``q`` (EPANET curvecoeff)."""
    npts = x.shape[0]
    k2 = 0
    while k2 < npts and x[k2] < q:
        k2 += 1
    if k2 == 0:
        k2 += 1
    elif k2 == npts:
        k2 -= 1
    k1 = k2 - 1
    r = (y[k2] - y[k1]) / (x[k2] - x[k1])
    h0 = y[k1] - r * x[k1]
    return h0, r


@njit(cache=True, error_model="numpy")
def valve_coefficients(flow: float, status: int, km: float, rq_tol: float, c_big: float,
                       c_small: float) -> tuple[float, float]:
    """P, Y of an open, closed or throttled valve (EPANET valvecoeff)."""
    if status <= CLOSED:
        return 1.0 / c_big, flow
    if km > 0.0:
        q = abs(flow)
        hgrad = 2.0 * km * q
        if hgrad < rq_tol:
            hgrad = rq_tol
            hloss = flow * hgrad
        else:
            hloss = flow * hgrad / 2.0
        return 1.0 / hgrad, hloss / hgrad
    return 1.0 / c_small, flow


@njit(cache=True, error_model="numpy")
def _pipe_coefficients(q_signed: float, status: int, r: float, ml: float, rel_roughness: float,
                       vd: float, formula: int, hexp: float, rq_tol: float,
                       c_big: float) -> tuple[float, float]:
    """P, Y of a pipe (EPANET pipecoeff, DWpipecoeff): friction ``r`` plus minor loss ``ml q²``."""
    if status <= CLOSED:
        return 1.0 / c_big, q_signed
    q = abs(q_signed)
    if formula == DARCY_WEISBACH:
        if q <= _A2 * vd:  # laminar: Hagen-Poiseuille
            r = 16.0 * math.pi * vd * r
            hloss = q_signed * (r + ml * q)
            hgrad = r + 2.0 * ml * q
        else:
            f, dfdq = friction_factor(q, rel_roughness, vd)
            r1 = f * r + ml
            hloss = r1 * q * q_signed
            hgrad = 2.0 * r1 * q + dfdq * r * q * q
        return 1.0 / hgrad, hloss / hgrad
    hgrad = hexp * r * q ** (hexp - 1.0)
    if hgrad < rq_tol:
        hgrad = rq_tol
        hloss = hgrad * q
    else:
        hloss = hgrad * q / hexp
    if ml > 0.0:
        hloss += ml * q * q
        hgrad += 2.0 * ml * q
    hloss *= _sign(q_signed)
    return 1.0 / hgrad, hloss / hgrad


@njit(cache=True, error_model="numpy")
def _pump_coefficients(
    k: int, q_signed: float, status: int, speed: float, pump_type: np.ndarray, pump_h0: np.ndarray,
    pump_r: np.ndarray, pump_n: np.ndarray, curve_index: np.ndarray, curve_ptr: np.ndarray,
    curve_x: np.ndarray, curve_y: np.ndarray, rq_tol: float, c_big: float, c_small: float,
) -> tuple[float, float]:
    """P, Y of pump ``k`` at relative ``speed`` (EPANET pumpcoeff): head loss ``h0 + r q^n``."""
    if status <= CLOSED or speed == 0.0:
        return 1.0 / c_big, q_signed
    q = abs(q_signed)
    ptype = pump_type[k]
    if ptype == NOCURVE:
        return 1.0 / c_small, q_signed
    if ptype == CUSTOM:
        c = curve_index[k]
        a, b = curve_ptr[c], curve_ptr[c + 1]
        h0, slope = _curve_segment(curve_x[a:b], curve_y[a:b], q / speed)
        hgrad = -slope * speed
        hloss = -h0 * speed * speed + hgrad * q_signed
        return 1.0 / hgrad, hloss / hgrad
    h0 = speed * speed * pump_h0[k]
    n = pump_n[k]
    if abs(n - 1.0) < TINY:
        n = 1.0
    r = pump_r[k] * speed ** (2.0 - n)
    if ptype == CONST_HP:
        hgrad = -r / q / q
        if hgrad > c_big:
            hgrad = c_big
            hloss = -hgrad * q_signed
        elif hgrad < rq_tol:
            hgrad = rq_tol
            hloss = -hgrad * q_signed
        else:
            hloss = r / q_signed
    elif n != 1.0:
        hgrad = n * r * q ** (n - 1.0)
        if hgrad < rq_tol:
            hgrad = rq_tol
            hloss = h0 + hgrad * q_signed
        else:
            hloss = h0 + hgrad * q_signed / n
    else:
        hgrad = r
        hloss = h0 + hgrad * q_signed
    return 1.0 / hgrad, hloss / hgrad


@njit(cache=True, error_model="numpy")
def _pbv_coefficients(q_signed: float, status: int, setting: float, km: float, rq_tol: float,
                      c_big: float, c_small: float, c_big_cond: float) -> tuple[float, float]:
    """P, Y of a pressure-breaker valve: a fixed head loss ``setting`` while the valve's own
    minor loss is smaller, pinned by the large conductance ``c_big_cond`` (EPANET pbvcoeff)."""
    if setting == MISSING or setting == 0.0 or km * q_signed * q_signed > setting:
        return valve_coefficients(q_signed, status, km, rq_tol, c_big, c_small)
    return c_big_cond, setting * c_big_cond


@njit(cache=True, error_model="numpy")
def _gpv_coefficients(q_signed: float, status: int, km: float, curve: int, curve_ptr: np.ndarray,
                      curve_x: np.ndarray, curve_y: np.ndarray, rq_tol: float, c_big: float,
                      c_small: float) -> tuple[float, float]:
    """P, Y of a general-purpose valve following its head-loss curve ``curve`` (EPANET gpvcoeff)."""
    if status == CLOSED:
        return valve_coefficients(q_signed, status, km, rq_tol, c_big, c_small)
    a, b = curve_ptr[curve], curve_ptr[curve + 1]
    q = max(abs(q_signed), TINY)
    h0, slope = _curve_segment(curve_x[a:b], curve_y[a:b], q)
    slope = max(slope, TINY)
    return 1.0 / slope, (h0 / slope + q) * _sign(q_signed)


@njit(cache=True, error_model="numpy")
def link_coefficients(
    kind: np.ndarray, status: np.ndarray, setting: np.ndarray, flow: np.ndarray,
    resistance: np.ndarray, minor_loss: np.ndarray, rel_roughness: np.ndarray,
    visc_diam: np.ndarray, tcv_factor: np.ndarray,
    formula: int, hexp: float, rq_tol: float, c_big: float, c_small: float, c_big_cond: float,
    pump_type: np.ndarray, pump_h0: np.ndarray, pump_r: np.ndarray, pump_n: np.ndarray,
    curve_index: np.ndarray, curve_ptr: np.ndarray, curve_x: np.ndarray, curve_y: np.ndarray,
    p: np.ndarray, y: np.ndarray,
) -> None:
    """Fill ``p`` (1 / head-loss gradient) and ``y`` (head loss / gradient) for every link.

    Parameters
    ----------
    kind, status, setting, flow
        Link kind, status, setting (pump speed, valve setting in SI, or MISSING) and flow (m³/s).
    resistance
        Friction resistance: ``h = r q^hexp`` for HW/CM, ``h = f r q²`` for DW (SI).
    minor_loss
        Minor-loss coefficient on a flow basis, ``h = km q²`` (s²/m⁵).
    rel_roughness, visc_diam
        Darcy-Weisbach only: roughness/diameter and viscosity*diameter (m³/s).
    tcv_factor
        ``km`` per unit TCV setting (a TCV's setting is its loss coefficient).
    formula, hexp
        Head-loss formula code and flow exponent.
    rq_tol, c_big, c_small
        Smallest gradient, closed-link gradient and open-valve gradient (s/m², SI).
    c_big_cond
        The large conductance that pins a pressure-breaker valve's head loss (m²/s).
    pump_type, pump_h0, pump_r, pump_n
        Pump curve type and coefficients, head loss ``h0 + r q^n`` (``r/q`` for constant power).
    curve_index, curve_ptr, curve_x, curve_y
        Custom pump and GPV curves: link -> curve, curve -> slice of ``curve_x``/``curve_y``.
    p, y
        Outputs, one per link. An active PRV, PSV or FCV gets ``p = 0`` and keeps its ``y``:
        :func:`kernels.hydraulics.equations.assemble_system` sets both.
    """
    for k in range(kind.shape[0]):
        t = kind[k]
        q_signed = flow[k]
        s = status[k]
        if t <= PIPE:
            p[k], y[k] = _pipe_coefficients(q_signed, s, resistance[k], minor_loss[k], rel_roughness[k],
                                            visc_diam[k], formula, hexp, rq_tol, c_big)
        elif t == PUMP:
            p[k], y[k] = _pump_coefficients(k, q_signed, s, setting[k], pump_type, pump_h0, pump_r, pump_n,
                                            curve_index, curve_ptr, curve_x, curve_y, rq_tol, c_big, c_small)
        elif t == PBV:
            p[k], y[k] = _pbv_coefficients(q_signed, s, setting[k], minor_loss[k], rq_tol, c_big, c_small,
                                           c_big_cond)
        elif t == TCV:
            km = minor_loss[k] if setting[k] == MISSING else tcv_factor[k] * setting[k]
            p[k], y[k] = valve_coefficients(q_signed, s, km, rq_tol, c_big, c_small)
        elif t == GPV:
            p[k], y[k] = _gpv_coefficients(q_signed, s, minor_loss[k], curve_index[k], curve_ptr, curve_x,
                                           curve_y, rq_tol, c_big, c_small)
        elif setting[k] == MISSING:  # a PRV, PSV or FCV fixed open or closed
            p[k], y[k] = valve_coefficients(q_signed, s, minor_loss[k], rq_tol, c_big, c_small)
        else:  # an active PRV, PSV or FCV: the assembly pins its head or flow
            p[k] = 0.0


def pipe_coefficients_reference(
    status: np.ndarray, flow: np.ndarray, resistance: np.ndarray, minor_loss: np.ndarray,
    rel_roughness: np.ndarray, visc_diam: np.ndarray,
    formula: int, hexp: float, rq_tol: float, c_big: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised NumPy reference of :func:`link_coefficients` for pipes (kinds CVPIPE and PIPE)."""
    q = np.abs(flow)
    with np.errstate(divide="ignore", invalid="ignore"):
        if formula == DARCY_WEISBACH:
            laminar = q <= _A2 * visc_diam
            r_lam = 16.0 * np.pi * visc_diam * resistance
            w = q / visc_diam
            turbulent = w >= _A1
            y1 = _A8 / np.where(turbulent, w, 1.0) ** 0.9
            y2t = rel_roughness / 3.7 + y1
            y3t = _A9 * np.log(y2t)
            ft = 1.0 / y3t**2
            dft = 1.8 * ft * y1 * _A9 / y2t / y3t / np.where(q > 0, q, 1.0)
            y2 = rel_roughness / 3.7 + _AB
            y3 = _A9 * np.log(y2)
            fa = 1.0 / y3**2
            fb = (2.0 + _AC / (y2 * y3)) * fa
            r = w / _A2
            x1, x2 = 7.0 * fa - fb, 0.128 - 17.0 * fa + 2.5 * fb
            x3, x4 = -0.128 + 13.0 * fa - 2.0 * fb, 0.032 - 3.0 * fa + 0.5 * fb
            fx = x1 + r * (x2 + r * (x3 + r * x4))
            dfx = (x2 + r * (2.0 * x3 + r * 3.0 * x4)) / visc_diam / _A2
            f = np.where(turbulent, ft, fx)
            dfdq = np.where(turbulent, dft, dfx)
            r1 = f * resistance + minor_loss
            hloss = np.where(laminar, flow * (r_lam + minor_loss * q), r1 * q * flow)
            hgrad = np.where(laminar, r_lam + 2.0 * minor_loss * q,
                             2.0 * r1 * q + dfdq * resistance * q * q)
        else:
            hgrad = hexp * resistance * q ** (hexp - 1.0)
            small = hgrad < rq_tol
            hgrad = np.where(small, rq_tol, hgrad)
            hloss = np.where(small, hgrad * q, hgrad * q / hexp)
            hloss = hloss + minor_loss * q * q
            hgrad = hgrad + 2.0 * minor_loss * q
            hloss = hloss * np.sign(flow)
    closed = status <= CLOSED
    p = np.where(closed, 1.0 / c_big, 1.0 / hgrad)
    y = np.where(closed, flow, hloss / hgrad)
    return p, y


def pump_coefficients_reference(
    status: int, speed: float, flow: float, ptype: int, h0: float, r: float, n: float,
    curve_x: np.ndarray | None, rq_tol: float, c_big: float, c_small: float,
) -> tuple[float, float]:
    """Reference of :func:`link_coefficients` for one pump, written from the head-gain curve.

    The head *gain* of a speed-``s`` pump is ``s² H(q/s)`` (affinity laws); its head loss is the
    negative. The gradient is taken from that curve directly rather than from EPANET's
    pre-multiplied coefficients.
    """
    if status <= CLOSED or speed == 0.0:
        return 1.0 / c_big, flow
    if ptype == NOCURVE:
        return 1.0 / c_small, flow
    q = abs(flow)
    if ptype == CUSTOM:
        xs, ys = curve_x
        k = int(np.clip(np.searchsorted(xs, q / speed, side="left"), 1, len(xs) - 1))
        slope = (ys[k] - ys[k - 1]) / (xs[k] - xs[k - 1])
        intercept = ys[k - 1] - slope * xs[k - 1]
        hgrad = -slope * speed
        hloss = -(intercept * speed**2 + slope * speed * flow)
        return 1.0 / hgrad, hloss / hgrad
    if abs(n - 1.0) < TINY:
        n = 1.0
    if ptype == CONST_HP:
        # gain = P / q: loss = r / q with r < 0, gradient -r / q²
        hgrad = -r * speed ** (2.0 - n) / (q * q) if q > 0 else np.inf
        if hgrad > c_big or hgrad < rq_tol:
            hgrad = min(max(hgrad, rq_tol), c_big)
            return 1.0 / hgrad, -flow
        return 1.0 / hgrad, (r * speed ** (2.0 - n) / flow) / hgrad
    rs = r * speed ** (2.0 - n)
    hgrad = n * rs * q ** (n - 1.0) if n != 1.0 else rs
    if n != 1.0 and hgrad < rq_tol:
        hgrad = rq_tol
        return 1.0 / hgrad, (h0 * speed**2 + hgrad * flow) / hgrad
    # loss = h0 s² + r s^(2-n) |q|^(n-1) q, whose q-derivative is hgrad
    hloss = h0 * speed**2 + rs * q ** (n - 1.0) * flow
    return 1.0 / hgrad, hloss / hgrad

