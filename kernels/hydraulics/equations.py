"""The GGA's equations over junction heads, on each side of the linear solve.

Each Newton iteration (after :func:`kernels.hydraulics.coefficients.link_coefficients`):

1. :func:`assemble_system` builds the symmetric positive-definite system ``A h = F`` over the
   junction heads (EPANET ``matrixcoeffs``): the links, then the junctions' outflows (emitters and
   leaks), pressure-driven demands, the flow balance, and last the control valves whose setting is
   in force;
2. the caller solves it (``kernels.hydraulics.cholesky``);
3. :func:`update_flows` moves every flow by its Newton correction, ``q -= y - p (h1 - h2)`` for
   links and the same for emitters, leaks and demands (EPANET ``newflows``), and returns EPANET's
   convergence measure ``sum|dq| / sum|q|``.

Both sides share the laws of a junction's outflows, written as head losses with their gradients:
:func:`_outflow_headloss` (emitters and leaks) and :func:`_demand_headloss` (Wagner's
pressure-driven demand with smooth barriers). Reference twins: :func:`assemble_system_reference`
(the dense ``Bᵀ P B`` form) and :func:`update_link_flows_reference` (vectorised).

The order of every sum is EPANET's (and fixed): changing it changes the last bits of heads and
flows, and with them the status decisions of later iterations.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.hydraulics.codes import ACTIVE, CLOSED, FCV, MISSING, PRV, PSV

# Numba caches each kernel by its own file: after editing valve_coefficients, clear
# kernels/hydraulics/__pycache__ so that the kernels here that call it are compiled again.
from kernels.hydraulics.coefficients import valve_coefficients


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
def _add_links(n_junctions: int, start: np.ndarray, end: np.ndarray, link_pair: np.ndarray,
               p: np.ndarray, y: np.ndarray, flow: np.ndarray, head: np.ndarray, diag: np.ndarray,
               ground: np.ndarray, offdiag: np.ndarray, rhs: np.ndarray, xflow: np.ndarray) -> None:
    """Every link with a conductance ``p``: its share of ``A`` and ``F`` and of the flow excess."""
    for k in range(start.shape[0]):
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


@njit(cache=True, error_model="numpy")
def _add_outflows(n_junctions: int, elevation: np.ndarray, emitter_ke: np.ndarray,
                  emitter_flow: np.ndarray, emitter_n: float, leak_ke: np.ndarray, leak_n: np.ndarray,
                  leak_flow: np.ndarray, rq_tol: float, c_big: float, c_small: float, diag: np.ndarray,
                  ground: np.ndarray, rhs: np.ndarray, xflow: np.ndarray) -> None:
    """Emitters and leaks: each a fictitious pipe to a reservoir at the junction's elevation."""
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


@njit(cache=True, error_model="numpy")
def _add_demands(n_junctions: int, elevation: np.ndarray, demand_full: np.ndarray,
                 demand_flow: np.ndarray, pdd_pmin: np.ndarray, pdd_preq: np.ndarray, pdd_exponent: float,
                 c_big: float, flow_unit: float, head_unit: float, diag: np.ndarray, ground: np.ndarray,
                 rhs: np.ndarray) -> None:
    """Pressure-driven demands: each a fictitious pipe to a reservoir at elevation + ``pmin``."""
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


@njit(cache=True, error_model="numpy")
def _add_control_valves(
    n_junctions: int, start: np.ndarray, end: np.ndarray, kind: np.ndarray, link_pair: np.ndarray,
    p: np.ndarray, y: np.ndarray, flow: np.ndarray, status: np.ndarray, setting: np.ndarray,
    minor_loss: np.ndarray, head: np.ndarray, elevation: np.ndarray, control_valves: np.ndarray,
    rq_tol: float, c_big: float, c_small: float, c_big_cond: float, diag: np.ndarray,
    ground: np.ndarray, offdiag: np.ndarray, rhs: np.ndarray, xflow: np.ndarray,
) -> None:
    """PRVs, PSVs and FCVs whose setting is in force (EPANET valvecoeffs).

    An active PRV (PSV) pins the head downstream (upstream) with the conductance ``c_big_cond``;
    an active FCV fixes its flow; any other becomes an ordinary open or closed valve.
    """
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
        pk, yk = valve_coefficients(flow[k], status[k], minor_loss[k], rq_tol, c_big, c_small)
        p[k] = pk
        y[k] = yk
        _add_valve_conductance(n_junctions, n1, n2, pair, pk, head, diag, ground, offdiag, rhs)
        if n1 < n_junctions:
            rhs[n1] += yk - flow[k]
        if n2 < n_junctions:
            rhs[n2] -= yk - flow[k]


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
    _add_links(n_junctions, start, end, link_pair, p, y, flow, head, diag, ground, offdiag, rhs, xflow)
    _add_outflows(n_junctions, elevation, emitter_ke, emitter_flow, emitter_n, leak_ke, leak_n, leak_flow,
                  rq_tol, c_big, c_small, diag, ground, rhs, xflow)
    if pressure_driven:
        _add_demands(n_junctions, elevation, demand_full, demand_flow, pdd_pmin, pdd_preq, pdd_exponent,
                     c_big, flow_unit, head_unit, diag, ground, rhs)
    for i in range(n_junctions):
        xflow[i] -= demand_flow[i]
        rhs[i] += xflow[i]
    _add_control_valves(n_junctions, start, end, kind, link_pair, p, y, flow, status, setting, minor_loss,
                        head, elevation, control_valves, rq_tol, c_big, c_small, c_big_cond, diag, ground,
                        offdiag, rhs, xflow)


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
def _update_link_flows(
    n_junctions: int, start: np.ndarray, end: np.ndarray, p: np.ndarray, y: np.ndarray,
    flow: np.ndarray, status: np.ndarray, is_const_hp: np.ndarray, head: np.ndarray, relax: float,
    node_inflow: np.ndarray,
) -> tuple[float, float, float, float]:
    """Links' Newton corrections; returns ``(sum|q|, sum|dq|, max|dq|, link of the max)``."""
    qsum = 0.0
    dqsum = 0.0
    max_dq = 0.0
    element = 0.0
    for k in range(start.shape[0]):
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
    return qsum, dqsum, max_dq, element


@njit(cache=True, error_model="numpy")
def _update_outflows(
    n_junctions: int, head: np.ndarray, elevation: np.ndarray, relax: float, emitter_ke: np.ndarray,
    emitter_flow: np.ndarray, emitter_n: float, leak_ke: np.ndarray, leak_n: np.ndarray,
    leak_flow: np.ndarray, rq_tol: float, c_big: float, c_small: float,
    qsum: float, dqsum: float, max_dq: float, element: float,
) -> tuple[float, float, float, float]:
    """Emitters' and leaks' Newton corrections, added to the running sums of :func:`update_flows`."""
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
    return qsum, dqsum, max_dq, element


@njit(cache=True, error_model="numpy")
def _update_demands(
    n_junctions: int, head: np.ndarray, elevation: np.ndarray, relax: float, demand_full: np.ndarray,
    demand_flow: np.ndarray, pdd_pmin: np.ndarray, pdd_preq: np.ndarray, pdd_exponent: float,
    min_pdiff: float, c_big: float, flow_unit: float, head_unit: float,
    qsum: float, dqsum: float, max_dq: float, element: float,
) -> tuple[float, float, float, float]:
    """Pressure-driven demands' Newton corrections (each at most 40% of the full demand), added
    to the running sums of :func:`update_flows`."""
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
    return qsum, dqsum, max_dq, element


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
    qsum, dqsum, max_dq, element = _update_link_flows(
        n_junctions, start, end, p, y, flow, status, is_const_hp, head, relax, node_inflow)
    qsum, dqsum, max_dq, element = _update_outflows(
        n_junctions, head, elevation, relax, emitter_ke, emitter_flow, emitter_n, leak_ke, leak_n,
        leak_flow, rq_tol, c_big, c_small, qsum, dqsum, max_dq, element)
    if pressure_driven:
        qsum, dqsum, max_dq, element = _update_demands(
            n_junctions, head, elevation, relax, demand_full, demand_flow, pdd_pmin, pdd_preq,
            pdd_exponent, min_pdiff, c_big, flow_unit, head_unit, qsum, dqsum, max_dq, element)
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
