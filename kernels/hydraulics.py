"""Hydraulic kernels of the Global Gradient Algorithm (Todini & Pilati, 1988), as EPANET 2.2 does it.

Three hot loops of each Newton iteration live here, each with a plain NumPy/Python reference:

* :func:`link_coefficients` - for every link the inverse head-loss gradient ``p = 1/(dh/dq)`` and
  the flow correction ``y = p * h(q)`` at the current flows (pipes with Hazen-Williams,
  Darcy-Weisbach or Chezy-Manning friction plus minor losses, pumps, valves);
* :func:`assemble_system` - the symmetric positive-definite system ``A h = F`` over junction
  heads, including emitters, pressure-driven demands, leaks and active PRV/PSV/FCV valves;
* :func:`update_flows` - the flow update ``q -= y - p * (h1 - h2)`` for links, emitters, demands
  and leaks, returning EPANET's convergence measure ``sum|dq| / sum|q|``.

Units are SI (m, m³/s). EPANET's tolerances are given in feet and cfs; the caller passes them
converted (see ``twin.hydraulics``), so the same numbers come out. Kernels are pure functions over
arrays: no twin imports, no I/O.

Link kinds follow EPANET's codes (``CVPIPE=0, PIPE=1, PUMP=2, PRV=3, PSV=4, PBV=5, FCV=6, TCV=7,
GPV=8``); statuses too (``XHEAD=0, TEMPCLOSED=1, CLOSED=2, OPEN=3, ACTIVE=4, XFLOW=5, XFCV=6,
XPRESSURE=7``), so that ``status <= CLOSED`` means "not carrying flow". ``MISSING`` (-1e10) marks
a valve setting that is not set (valve fixed open or closed).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Link kinds (EPANET LinkType)
CVPIPE, PIPE, PUMP, PRV, PSV, PBV, FCV, TCV, GPV = 0, 1, 2, 3, 4, 5, 6, 7, 8
# Link statuses (EPANET StatusType)
XHEAD, TEMPCLOSED, CLOSED, OPEN, ACTIVE, XFLOW, XFCV, XPRESSURE = 0, 1, 2, 3, 4, 5, 6, 7
# Pump curve types (EPANET PumpType)
CONST_HP, POWER_FUNC, CUSTOM, NOCURVE = 0, 1, 2, 3
# Head-loss formulas
HAZEN_WILLIAMS, DARCY_WEISBACH, CHEZY_MANNING = 0, 1, 2

MISSING = -1.0e10
TINY = 1.0e-6

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
def _valve_py(flow: float, status: int, km: float, rq_tol: float, c_big: float,
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
        Outputs, one per link.
    """
    n_links = kind.shape[0]
    for k in range(n_links):
        t = kind[k]
        q_signed = flow[k]
        s = status[k]
        if t <= PIPE:
            if s <= CLOSED:
                p[k] = 1.0 / c_big
                y[k] = q_signed
                continue
            q = abs(q_signed)
            ml = minor_loss[k]
            r = resistance[k]
            if formula == DARCY_WEISBACH:
                vd = visc_diam[k]
                if q <= _A2 * vd:
                    r = 16.0 * math.pi * vd * r
                    hloss = q_signed * (r + ml * q)
                    hgrad = r + 2.0 * ml * q
                else:
                    f, dfdq = friction_factor(q, rel_roughness[k], vd)
                    r1 = f * r + ml
                    hloss = r1 * q * q_signed
                    hgrad = 2.0 * r1 * q + dfdq * r * q * q
                p[k] = 1.0 / hgrad
                y[k] = hloss / hgrad
                continue
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
            p[k] = 1.0 / hgrad
            y[k] = hloss / hgrad
        elif t == PUMP:
            speed = setting[k]
            if s <= CLOSED or speed == 0.0:
                p[k] = 1.0 / c_big
                y[k] = q_signed
                continue
            q = abs(q_signed)
            ptype = pump_type[k]
            if ptype == NOCURVE:
                p[k] = 1.0 / c_small
                y[k] = q_signed
                continue
            if ptype == CUSTOM:
                c = curve_index[k]
                a, b = curve_ptr[c], curve_ptr[c + 1]
                h0, slope = _curve_segment(curve_x[a:b], curve_y[a:b], q / speed)
                hgrad = -slope * speed
                hloss = -h0 * speed * speed + hgrad * q_signed
            else:
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
            p[k] = 1.0 / hgrad
            y[k] = hloss / hgrad
        elif t == PBV:
            sv = setting[k]
            if sv == MISSING or sv == 0.0 or minor_loss[k] * q_signed * q_signed > sv:
                p[k], y[k] = _valve_py(q_signed, s, minor_loss[k], rq_tol, c_big, c_small)
            else:
                p[k] = c_big_cond
                y[k] = sv * c_big_cond
        elif t == TCV:
            km = minor_loss[k]
            if setting[k] != MISSING:
                km = tcv_factor[k] * setting[k]
            p[k], y[k] = _valve_py(q_signed, s, km, rq_tol, c_big, c_small)
        elif t == GPV:
            if s == CLOSED:
                p[k], y[k] = _valve_py(q_signed, s, minor_loss[k], rq_tol, c_big, c_small)
            else:
                c = curve_index[k]
                a, b = curve_ptr[c], curve_ptr[c + 1]
                q = max(abs(q_signed), TINY)
                h0, slope = _curve_segment(curve_x[a:b], curve_y[a:b], q)
                slope = max(slope, TINY)
                p[k] = 1.0 / slope
                y[k] = (h0 / slope + q) * _sign(q_signed)
        else:  # PRV, PSV, FCV
            if setting[k] == MISSING:
                p[k], y[k] = _valve_py(q_signed, s, minor_loss[k], rq_tol, c_big, c_small)
            else:
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


@njit(cache=True, error_model="numpy")
def _outflow_headloss(q: float, ke: float, n: float, rq_tol: float, c_big: float,
                      nonnegative: bool) -> tuple[float, float]:
    """Head loss ``ke * q^n`` of an outflow element (emitter or leak) and its gradient.

    A gradient below ``rq_tol`` switches to a linear law (EPANET's emitter rule). With
    ``nonnegative`` (leaks) a negative flow meets a steep barrier instead, so no water enters
    the network through the hole.
    """
    if nonnegative and q <= 0.0:
        return c_big * q, c_big
    hgrad = n * ke * abs(q) ** (n - 1.0)
    if hgrad < rq_tol:
        hgrad = rq_tol
        return hgrad * q, hgrad
    return hgrad * q / n, hgrad


@njit(cache=True, error_model="numpy")
def _barrier(dq: float, upper: bool, scale: float, flow_unit: float, head_unit: float) -> tuple[float, float]:
    """EPANET's smooth barrier keeping a flow above (or below) a limit: head loss and gradient.

    ``a = 1e9 dq``, ``b = sqrt(a² + 1e-6)`` in ft and cfs; ``flow_unit``/``head_unit`` convert
    (m³/s per cfs, m per ft), ``scale`` = 1e9 in SI gradient units.
    """
    a = 1.0e9 * dq / flow_unit
    b = math.sqrt(a * a + 1.0e-6)
    if upper:
        return (a + b) / 2.0 * head_unit, scale / 2.0 * (1.0 + a / b)
    return (a - b) / 2.0 * head_unit, scale / 2.0 * (1.0 - a / b)


@njit(cache=True, error_model="numpy")
def _demand_headloss(d: float, dfull: float, dp: float, n: float, barrier_scale: float,
                     flow_unit: float, head_unit: float) -> tuple[float, float]:
    """Wagner pressure-driven demand written as a head loss ``dp (d/dfull)^n`` and its gradient.

    Smooth barriers (EPANET 2.3's formulation, which converges where 2.2.0's kinked one stalls)
    keep ``0 <= d <= dfull``.
    """
    r = abs(d) / dfull
    hgrad = n * dp * r ** (n - 1.0) / dfull
    hloss = hgrad * d / n
    lo, glo = _barrier(d, False, barrier_scale, flow_unit, head_unit)
    hi, ghi = _barrier(d - dfull, True, barrier_scale, flow_unit, head_unit)
    return hloss + lo + hi, hgrad + glo + ghi


@njit(cache=True, error_model="numpy")
def _add_valve_conductance(n_junctions: int, n1: int, n2: int, pair: int, pk: float,
                           head: np.ndarray, diag: np.ndarray, ground: np.ndarray,
                           offdiag: np.ndarray, rhs: np.ndarray) -> None:
    """Add a control valve's conductance ``pk`` between its end nodes.

    Unlike EPANET's ``valvecoeffs`` this also adds ``pk * h`` of a fixed-grade end to the other
    end's right-hand side, so an open PRV next to a reservoir sees the reservoir's head (EPANET
    leaves that term out; no bundled network has such a valve).
    """
    if pair >= 0:
        offdiag[pair] -= pk
    if n1 < n_junctions:
        diag[n1] += pk
        if n2 >= n_junctions:
            ground[n1] += pk
            rhs[n1] += pk * head[n2]
    if n2 < n_junctions:
        diag[n2] += pk
        if n1 >= n_junctions:
            ground[n2] += pk
            rhs[n2] += pk * head[n1]


@njit(cache=True, error_model="numpy")
def assemble_system(
    n_junctions: int, start: np.ndarray, end: np.ndarray, kind: np.ndarray,
    link_pair: np.ndarray, p: np.ndarray, y: np.ndarray, flow: np.ndarray,
    status: np.ndarray, setting: np.ndarray, minor_loss: np.ndarray,
    head: np.ndarray, elevation: np.ndarray,
    demand_full: np.ndarray, demand_flow: np.ndarray, pressure_driven: bool,
    pdd_pmin: np.ndarray, pdd_preq: np.ndarray, pdd_exponent: float,
    emitter_ke: np.ndarray, emitter_flow: np.ndarray, emitter_n: float,
    leak_ke: np.ndarray, leak_n: np.ndarray, leak_flow: np.ndarray,
    control_valves: np.ndarray,
    rq_tol: float, c_big: float, c_small: float, c_big_cond: float,
    diag: np.ndarray, ground: np.ndarray, offdiag: np.ndarray, rhs: np.ndarray, xflow: np.ndarray,
    flow_unit: float, head_unit: float,
) -> None:
    """Assemble ``A h = F`` over junction heads (EPANET matrixcoeffs).

    ``flow_unit`` and ``head_unit`` (m³/s per cfs, m per ft) scale EPANET's demand barriers.

    ``A`` is returned as its diagonal (one entry per junction) and its off-diagonal entries, one
    per junction pair joined by at least one link (``link_pair[k]``, -1 when an end is a tank or
    reservoir); it is symmetric, so one triangle suffices. ``ground`` receives each row's sum
    ``A 1`` accumulated directly (conductance to fixed heads, outflows, active valves), never by
    subtraction, for the cancellation-free factorisation. ``xflow`` receives each node's flow
    excess (inflow minus outflow minus demand).

    Nodes ``0..n_junctions-1`` are junctions, the rest fixed-grade (tanks, reservoirs), whose
    heads in ``head`` are known.
    """
    diag[:] = 0.0
    ground[:] = 0.0
    offdiag[:] = 0.0
    rhs[:] = 0.0
    xflow[:] = 0.0
    n_links = start.shape[0]
    for k in range(n_links):
        pk = p[k]
        if pk == 0.0:
            continue
        n1, n2 = start[k], end[k]
        xflow[n1] -= flow[k]
        xflow[n2] += flow[k]
        pair = link_pair[k]
        if pair >= 0:
            offdiag[pair] -= pk
        # (a link between two fixed-grade nodes touches no equation but its own flow update)
        if n1 < n_junctions:
            diag[n1] += pk
            rhs[n1] += y[k]
            if n2 >= n_junctions:
                ground[n1] += pk
        elif n2 < n_junctions:
            rhs[n2] += pk * head[n1]
        if n2 < n_junctions:
            diag[n2] += pk
            rhs[n2] -= y[k]
            if n1 >= n_junctions:
                ground[n2] += pk
        elif n1 < n_junctions:
            rhs[n1] += pk * head[n2]
    # emitters: a fictitious pipe to a reservoir at the junction's elevation
    for i in range(n_junctions):
        if emitter_ke[i] > 0.0:
            ke = max(c_small, emitter_ke[i])
            hloss, hgrad = _outflow_headloss(emitter_flow[i], ke, emitter_n, rq_tol, c_big, False)
            diag[i] += 1.0 / hgrad
            ground[i] += 1.0 / hgrad
            rhs[i] += (hloss + elevation[i]) / hgrad
            xflow[i] -= emitter_flow[i]
        if leak_ke[i] > 0.0:
            hloss, hgrad = _outflow_headloss(leak_flow[i], leak_ke[i], leak_n[i], rq_tol, c_big, True)
            diag[i] += 1.0 / hgrad
            ground[i] += 1.0 / hgrad
            rhs[i] += (hloss + elevation[i]) / hgrad
            xflow[i] -= leak_flow[i]
    # pressure-driven demands: a fictitious pipe to a reservoir at elevation + pmin
    if pressure_driven:
        for i in range(n_junctions):
            if demand_full[i] <= 0.0:
                continue
            dp = pdd_preq[i] - pdd_pmin[i]
            hloss, hgrad = _demand_headloss(demand_flow[i], demand_full[i], dp, 1.0 / pdd_exponent,
                                            c_big * 10.0, flow_unit, head_unit)
            if hgrad > 0.0:
                diag[i] += 1.0 / hgrad
                ground[i] += 1.0 / hgrad
                rhs[i] += (hloss + elevation[i] + pdd_pmin[i]) / hgrad
    for i in range(n_junctions):
        xflow[i] -= demand_flow[i]
        rhs[i] += xflow[i]
    # control valves whose setting is in force (EPANET valvecoeffs)
    for m in range(control_valves.shape[0]):
        k = control_valves[m]
        if setting[k] == MISSING:
            continue
        t = kind[k]
        n1, n2 = start[k], end[k]
        pair = link_pair[k]
        if t == PRV and status[k] == ACTIVE:
            p[k] = 0.0
            y[k] = flow[k] + xflow[n2]
            if n2 < n_junctions:
                rhs[n2] += (elevation[n2] + setting[k]) * c_big_cond
                diag[n2] += c_big_cond
                ground[n2] += c_big_cond
            if xflow[n2] < 0.0 and n1 < n_junctions:
                rhs[n1] += xflow[n2]
            continue
        if t == PSV and status[k] == ACTIVE:
            p[k] = 0.0
            y[k] = flow[k] - xflow[n1]
            if n1 < n_junctions:
                rhs[n1] += (elevation[n1] + setting[k]) * c_big_cond
                diag[n1] += c_big_cond
                ground[n1] += c_big_cond
            if xflow[n1] > 0.0 and n2 < n_junctions:
                rhs[n2] += xflow[n1]
            continue
        if t == FCV and status[k] == ACTIVE:
            q = setting[k]
            xflow[n1] -= q
            xflow[n2] += q
            y[k] = flow[k] - q
            p[k] = 1.0 / c_big
            _add_valve_conductance(n_junctions, n1, n2, pair, p[k], head, diag, ground, offdiag, rhs)
            if n1 < n_junctions:
                rhs[n1] -= q
            if n2 < n_junctions:
                rhs[n2] += q
            continue
        # open, closed or otherwise inactive: an ordinary valve
        pk, yk = _valve_py(flow[k], status[k], minor_loss[k], rq_tol, c_big, c_small)
        p[k] = pk
        y[k] = yk
        _add_valve_conductance(n_junctions, n1, n2, pair, pk, head, diag, ground, offdiag, rhs)
        if n1 < n_junctions:
            rhs[n1] += yk - flow[k]
        if n2 < n_junctions:
            rhs[n2] -= yk - flow[k]


@njit(cache=True, error_model="numpy")
def pressure_valve_status(
    valves: np.ndarray, kind: np.ndarray, start: np.ndarray, end: np.ndarray, status: np.ndarray,
    setting: np.ndarray, flow: np.ndarray, head: np.ndarray, elevation: np.ndarray,
    minor_loss: np.ndarray, htol: float, qtol: float,
) -> bool:
    """EPANET's ``valvestatus``: new status of every PRV and PSV with a setting; True on a change."""
    change = False
    for m in range(valves.shape[0]):
        k = valves[m]
        if setting[k] == MISSING:
            continue
        s = status[k]
        new = _pressure_valve_rule(kind[k], s, setting[k], flow[k], head[start[k]], head[end[k]],
                                   elevation[start[k]], elevation[end[k]], minor_loss[k], htol, qtol)
        if new != s:
            status[k] = new
            change = True
    return change


@njit(cache=True, error_model="numpy")
def _pressure_valve_rule(t: int, s: int, setting: float, q: float, h1: float, h2: float, el1: float,
                         el2: float, km: float, htol: float, qtol: float) -> int:
    hml = km * q * q
    if t == PRV:
        hset = el2 + setting
        if s == ACTIVE:
            if q < -qtol:
                return CLOSED
            return OPEN if h1 - hml < hset - htol else ACTIVE
        if s == OPEN:
            if q < -qtol:
                return CLOSED
            return ACTIVE if h2 >= hset + htol else OPEN
        if s == CLOSED:
            if h1 >= hset + htol and h2 < hset - htol:
                return ACTIVE
            if h1 < hset - htol and h1 > h2 + htol:
                return OPEN
            return CLOSED
        if s == XPRESSURE and q < -qtol:
            return CLOSED
        return s
    hset = el1 + setting  # PSV
    if s == ACTIVE:
        if q < -qtol:
            return CLOSED
        return OPEN if h2 + hml > hset + htol else ACTIVE
    if s == OPEN:
        if q < -qtol:
            return CLOSED
        return ACTIVE if h1 < hset - htol else OPEN
    if s == CLOSED:
        if h2 > hset + htol and h1 > h2 + htol:
            return OPEN
        if h1 >= hset + htol and h1 > h2 + htol:
            return ACTIVE
        return CLOSED
    if s == XPRESSURE and q < -qtol:
        return CLOSED
    return s


def pressure_valve_status_reference(
    valves, kind, start, end, status, setting, flow, head, elevation, minor_loss, htol, qtol,
) -> bool:
    """Reference of :func:`pressure_valve_status`: EPANET's transition table, written as one.

    ``(current status) -> [(condition, new status), ...]``, first condition that holds wins.
    """
    change = False
    for k in valves:
        if setting[k] == MISSING:
            continue
        q, h1, h2 = flow[k], head[start[k]], head[end[k]]
        hml = minor_loss[k] * q * q
        reverse = q < -qtol
        if kind[k] == PRV:
            hset = elevation[end[k]] + setting[k]
            table = {
                ACTIVE: [(reverse, CLOSED), (h1 - hml < hset - htol, OPEN)],
                OPEN: [(reverse, CLOSED), (h2 >= hset + htol, ACTIVE)],
                CLOSED: [(h1 >= hset + htol and h2 < hset - htol, ACTIVE),
                         (h1 < hset - htol and h1 > h2 + htol, OPEN)],
                XPRESSURE: [(reverse, CLOSED)],
            }
        else:
            hset = elevation[start[k]] + setting[k]
            table = {
                ACTIVE: [(reverse, CLOSED), (h2 + hml > hset + htol, OPEN)],
                OPEN: [(reverse, CLOSED), (h1 < hset - htol, ACTIVE)],
                CLOSED: [(h2 > hset + htol and h1 > h2 + htol, OPEN),
                         (h1 >= hset + htol and h1 > h2 + htol, ACTIVE)],
                XPRESSURE: [(reverse, CLOSED)],
            }
        old = int(status[k])
        new = next((target for holds, target in table.get(old, []) if holds), old)
        if new != old:
            status[k] = new
            change = True
    return change


@njit(cache=True, error_model="numpy")
def _cv_rule(s: int, dh: float, q: float, htol: float, qtol: float) -> int:
    """EPANET ``cvstatus``: a check valve closes against reverse head or flow."""
    if abs(dh) > htol:
        if dh < -htol or q < -qtol:
            return CLOSED
        return OPEN
    return CLOSED if q < -qtol else s


@njit(cache=True, error_model="numpy")
def link_status(
    links: np.ndarray, kind: np.ndarray, start: np.ndarray, end: np.ndarray, status: np.ndarray,
    setting: np.ndarray, flow: np.ndarray, head: np.ndarray, pump_type: np.ndarray,
    pump_hmax: np.ndarray, tank_of_node: np.ndarray, node_kind: np.ndarray, tank_hmax: np.ndarray,
    tank_hmin: np.ndarray, tank_overflow: np.ndarray, n_junctions: int, htol: float, qtol: float,
) -> bool:
    """EPANET's ``linkstatus`` on ``links``: check valves, pumps beyond their shutoff head, flow
    control valves, and links that would fill a full tank or drain an empty one. True on a change.
    """
    change = False
    for m in range(links.shape[0]):
        k = links[m]
        n1, n2 = start[k], end[k]
        dh = head[n1] - head[n2]
        s = status[k]
        new = OPEN if (s == XHEAD or s == TEMPCLOSED) else s
        t = kind[k]
        if t == CVPIPE:
            new = _cv_rule(new, dh, flow[k], htol, qtol)
        if t == PUMP and new >= OPEN and setting[k] > 0.0:
            # EPANET pumpstatus: OPEN, or XHEAD beyond the speed-adjusted shutoff head
            new = OPEN
            if pump_type[k] != CONST_HP and -dh > setting[k] * setting[k] * pump_hmax[k] + htol:
                new = XHEAD
        if t == FCV and setting[k] != MISSING:
            # EPANET fcvstatus starts from the status before the XHEAD/TEMPCLOSED reset
            new = s
            if dh < -htol or flow[k] < -qtol:
                new = XFCV
            elif s == XFCV and flow[k] >= setting[k]:
                new = ACTIVE
        if (n1 >= n_junctions or n2 >= n_junctions) and new > CLOSED:
            a, b, q = n1, n2, flow[k]
            tank = tank_of_node[a] if node_kind[a] == 2 else -1
            if tank < 0:
                tank = tank_of_node[b] if node_kind[b] == 2 else -1
                a, b, q = n2, n1, -flow[k]
            if tank >= 0:
                h = head[a] - head[b]
                if head[a] >= tank_hmax[tank] - htol and not tank_overflow[tank]:
                    if t == PUMP:
                        if end[k] == a:
                            new = TEMPCLOSED
                    elif _cv_rule(OPEN, h, q, htol, qtol) == CLOSED:
                        new = TEMPCLOSED
                if head[a] <= tank_hmin[tank] + htol:
                    if t == PUMP:
                        if start[k] == a:
                            new = TEMPCLOSED
                    elif _cv_rule(CLOSED, h, q, htol, qtol) == OPEN:
                        new = TEMPCLOSED
        if new != s:
            status[k] = new
            change = True
    return change


def link_status_reference(links, kind, start, end, status, setting, flow, head, pump_type, pump_hmax,
                          tank_of_node, node_kind, tank_hmax, tank_hmin, tank_overflow, n_junctions,
                          htol, qtol) -> bool:
    """Reference of :func:`link_status`, following EPANET's hydstatus.c function by function."""

    def cvstatus(s, dh, q):
        if abs(dh) > htol:
            return CLOSED if (dh < -htol or q < -qtol) else OPEN
        return CLOSED if q < -qtol else s

    def pumpstatus(k, gain):
        if pump_type[k] == CONST_HP:
            return OPEN
        return XHEAD if gain > setting[k] ** 2 * pump_hmax[k] + htol else OPEN

    def fcvstatus(k, s, h1, h2):
        if h1 - h2 < -htol or flow[k] < -qtol:
            return XFCV
        if s == XFCV and flow[k] >= setting[k]:
            return ACTIVE
        return s

    def tankstatus(k, s, n1, n2):
        q = flow[k]
        if node_kind[n1] != 2:
            if node_kind[n2] != 2:
                return s
            n1, n2, q = n2, n1, -q
        tank = tank_of_node[n1]
        h = head[n1] - head[n2]
        if head[n1] >= tank_hmax[tank] - htol and not tank_overflow[tank]:
            if kind[k] == PUMP:
                if end[k] == n1:
                    s = TEMPCLOSED
            elif cvstatus(OPEN, h, q) == CLOSED:
                s = TEMPCLOSED
        if head[n1] <= tank_hmin[tank] + htol:
            if kind[k] == PUMP:
                if start[k] == n1:
                    s = TEMPCLOSED
            elif cvstatus(CLOSED, h, q) == OPEN:
                s = TEMPCLOSED
        return s

    change = False
    for k in links:
        n1, n2 = int(start[k]), int(end[k])
        dh = head[n1] - head[n2]
        old = int(status[k])
        s = OPEN if old in (XHEAD, TEMPCLOSED) else old
        if kind[k] == CVPIPE:
            s = cvstatus(s, dh, flow[k])
        if kind[k] == PUMP and s >= OPEN and setting[k] > 0.0:
            s = pumpstatus(k, -dh)
        if kind[k] == FCV and setting[k] != MISSING:
            s = fcvstatus(k, old, head[n1], head[n2])
        if (n1 >= n_junctions or n2 >= n_junctions) and s > CLOSED:
            s = tankstatus(k, s, n1, n2)
        if s != old:
            status[k] = s
            change = True
    return change


def assemble_system_reference(
    n_junctions: int, start: np.ndarray, end: np.ndarray, p: np.ndarray, y: np.ndarray,
    flow: np.ndarray, head: np.ndarray, demand: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Dense reference of :func:`assemble_system` for links and fixed demands only.

    Written from the GGA's matrix form with the link-node incidence matrix ``B = [B_j | B_f]``
    (+1 at a link's start, -1 at its end) and no sparse bookkeeping:
    ``A = B_jᵀ P B_j`` and ``F = B_jᵀ (y - q) - d - B_jᵀ P B_f h_f``, where links with
    ``p == 0`` (active control valves) are left out. Returns the dense ``A`` and ``F``.
    """
    n_nodes = head.shape[0]
    n_links = start.shape[0]
    incidence = np.zeros((n_links, n_nodes))
    incidence[np.arange(n_links), start] = 1.0
    incidence[np.arange(n_links), end] = -1.0
    bj = incidence[:, :n_junctions]
    bf = incidence[:, n_junctions:]
    active = p != 0.0
    weights = np.where(active, p, 0.0)
    a = bj.T @ (weights[:, None] * bj)
    rhs = -demand[:n_junctions] - bj.T @ np.where(active, flow - y, 0.0)
    rhs -= bj.T @ (weights * (bf @ head[n_junctions:]))
    return a, rhs


@njit(cache=True, error_model="numpy")
def update_flows(
    n_junctions: int, start: np.ndarray, end: np.ndarray, kind: np.ndarray,
    p: np.ndarray, y: np.ndarray, flow: np.ndarray, status: np.ndarray,
    is_const_hp: np.ndarray, head: np.ndarray, elevation: np.ndarray, relax: float,
    demand_full: np.ndarray, demand_flow: np.ndarray, pressure_driven: bool,
    pdd_pmin: np.ndarray, pdd_preq: np.ndarray, pdd_exponent: float, min_pdiff: float,
    emitter_ke: np.ndarray, emitter_flow: np.ndarray, emitter_n: float,
    leak_ke: np.ndarray, leak_n: np.ndarray, leak_flow: np.ndarray,
    rq_tol: float, c_big: float, c_small: float, hacc: float,
    node_inflow: np.ndarray, out: np.ndarray,
    flow_unit: float, head_unit: float,
) -> None:
    """Update link, emitter, demand and leak flows from new heads (EPANET newflows).

    ``node_inflow`` receives the net inflow of every fixed-grade node. ``out`` receives
    ``[relative_error, max_abs_flow_change, element]`` where ``element`` is the link index with the
    largest change, or ``-(1 + node)`` for a node's emitter/demand/leak.
    """
    for n in range(n_junctions, node_inflow.shape[0]):
        node_inflow[n] = 0.0
    qsum = 0.0
    dqsum = 0.0
    max_dq = 0.0
    element = 0.0
    n_links = start.shape[0]
    for k in range(n_links):
        n1, n2 = start[k], end[k]
        dh = head[n1] - head[n2]
        dq = (y[k] - p[k] * dh) * relax
        # a constant-power pump's flow must not go negative (EPANET halves it instead); a flow
        # that lands on zero within rounding is a tie, not a reversal, whatever the last bit says
        if is_const_hp[k] and dq - flow[k] > 1.0e-9 * abs(flow[k]):
            dq = flow[k] / 2.0
        flow[k] -= dq
        qsum += abs(flow[k])
        dqsum += abs(dq)
        if abs(dq) > max_dq:
            max_dq = abs(dq)
            element = k
        if status[k] > CLOSED:
            if n1 >= n_junctions:
                node_inflow[n1] -= flow[k]
            if n2 >= n_junctions:
                node_inflow[n2] += flow[k]
    for i in range(n_junctions):
        if emitter_ke[i] > 0.0:
            ke = max(c_small, emitter_ke[i])
            hloss, hgrad = _outflow_headloss(emitter_flow[i], ke, emitter_n, rq_tol, c_big, False)
            dq = (hloss - (head[i] - elevation[i])) / hgrad * relax
            emitter_flow[i] -= dq
            qsum += abs(emitter_flow[i])
            dqsum += abs(dq)
            if abs(dq) > max_dq:
                max_dq = abs(dq)
                element = -(1.0 + i)
        if leak_ke[i] > 0.0:
            hloss, hgrad = _outflow_headloss(leak_flow[i], leak_ke[i], leak_n[i], rq_tol, c_big, True)
            dq = (hloss - (head[i] - elevation[i])) / hgrad * relax
            leak_flow[i] -= dq
            qsum += abs(leak_flow[i])
            dqsum += abs(dq)
            if abs(dq) > max_dq:
                max_dq = abs(dq)
                element = -(1.0 + i)
    if pressure_driven:
        n = 1.0 / pdd_exponent
        for i in range(n_junctions):
            dfull = demand_full[i]
            if dfull <= 0.0:
                continue
            dp = max(pdd_preq[i] - pdd_pmin[i], min_pdiff)
            hloss, hgrad = _demand_headloss(demand_flow[i], dfull, dp, n, c_big * 10.0, flow_unit, head_unit)
            dq = (hloss - (head[i] - elevation[i] - pdd_pmin[i])) / hgrad * relax
            if abs(dq) > 0.4 * dfull:
                dq = 0.4 * dfull * (1.0 if dq > 0.0 else -1.0)
            demand_flow[i] -= dq
            qsum += abs(demand_flow[i])
            dqsum += abs(dq)
            if abs(dq) > max_dq:
                max_dq = abs(dq)
                element = -(1.0 + i)
    out[0] = dqsum / qsum if qsum > hacc else dqsum
    out[1] = max_dq
    out[2] = element


def update_link_flows_reference(
    start: np.ndarray, end: np.ndarray, p: np.ndarray, y: np.ndarray, flow: np.ndarray,
    head: np.ndarray, relax: float, hacc: float,
) -> tuple[np.ndarray, float]:
    """Vectorised reference of the link part of :func:`update_flows` (no constant-power pumps)."""
    dq = (y - p * (head[start] - head[end])) * relax
    new = flow - dq
    qsum = np.abs(new).sum()
    dqsum = np.abs(dq).sum()
    return new, dqsum / qsum if qsum > hacc else dqsum
