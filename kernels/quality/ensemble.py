"""Many contaminant injections in one pass: the quality kernel with a concentration per scenario.

The injection ensemble of a contamination study routes a conservative chemical over the same
hydraulics once per injection. Transported volumes do not depend on the concentrations, so all
scenarios can share one set of segments: each segment has one volume and a vector of ``S``
concentrations. A release joins the link's last segment only if every scenario's concentration
is within ``ctol`` of it (with ``ctol = 0``, never, and then each scenario is exactly what
:func:`kernels.quality.transport.route_quality` gives it alone, which the property tests check).
Nodes, links and segments are visited once per step for all scenarios instead of once each.

Scope: a non-reacting chemical, completely mixed tanks, and per scenario one mass booster
(``rate`` (mg/L)·m³/s = g/s) switched on in the intervals its mask marks. Instead of the whole
node × time table per scenario it keeps what a study asks: each node's peak over the reported
times and the first reported time at or above a threshold. Units as in
:mod:`kernels.quality.transport`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.hydraulics.codes import JUNCTION, PIPE, TANK
from kernels.quality.codes import Q_STAGNANT_M3_PER_S
from kernels.quality.transport import _add_seg, _flow_directions, _sort_nodes


@njit(cache=True, inline="always")
def _take(k, v, seg_v, seg_c, seg_prev, first, last, pool, mass):
    """Volume ``v`` off link ``k``'s downstream end; adds its mass per scenario, returns the volume."""
    vol = 0.0
    while v > 0.0:
        s = first[k]
        if s < 0:
            break
        vseg = min(seg_v[s], v)
        vol += vseg
        mass += vseg * seg_c[s, :]
        v -= vseg
        if v >= 0.0 and vseg >= seg_v[s]:
            first[k] = seg_prev[s]
            if first[k] < 0:
                last[k] = -1
            seg_prev[s] = pool[0]
            pool[0] = s
        else:
            seg_v[s] -= vseg
    return vol


@njit(cache=True, inline="always")
def _give(k, v, c, ctol, seg_v, seg_c, seg_prev, first, last, pool):
    """Volume ``v`` at concentrations ``c`` into link ``k``'s upstream end."""
    if v == 0.0:
        return
    s = last[k]
    if s >= 0 and np.max(np.abs(seg_c[s, :] - c)) < ctol:
        seg_c[s, :] = (seg_c[s, :] * seg_v[s] + c * v) / (seg_v[s] + v)
        seg_v[s] += v
    else:
        _add_seg(k, v, c, seg_v, seg_c, seg_prev, first, last, pool)


@njit(cache=True)
def _step(dt, q, demand, on, src_node, src_rate, node_kind, tank_of_node, ctol, direction, start, end,
          adj_ptr, adj_link, order, node_q, seg_v, seg_c, seg_prev, first, last, pool):  # long: one pass, all scenarios
    """One quality step for all scenarios: the nodes in topological order take, mix and release."""
    n_links = len(start)
    n_scen = node_q.shape[1]
    mass = np.zeros(n_scen)
    c_out = np.zeros(n_scen)
    for j in range(len(order)):
        n = order[j]
        mass[:] = 0.0
        volin = 0.0
        volout = 0.0
        for p in range(adj_ptr[n], adj_ptr[n + 1]):
            k = adj_link[p]
            if (start[k] if direction[k] < 0 else end[k]) == n:
                volin += _take(k, abs(q[k]) * dt, seg_v, seg_c, seg_prev, first, last, pool, mass)
            else:
                volout += abs(q[k])
        kind = node_kind[n]
        if kind == JUNCTION:
            volout += max(0.0, demand[n])
            volin -= min(0.0, demand[n]) * dt
            if volin > 0.0:
                node_q[n, :] = mass / volin
        elif kind == TANK:
            s = first[n_links + tank_of_node[n]]
            if s >= 0:
                vnew = seg_v[s] + volin
                if vnew > 0.0:
                    seg_c[s, :] = (seg_c[s, :] * seg_v[s] + mass) / vnew
                seg_v[s] = max(0.0, seg_v[s] + volin - volout * dt)
                node_q[n, :] = seg_c[s, :]
        volout *= dt
        c_out[:] = node_q[n, :]
        if on and volout / dt > Q_STAGNANT_M3_PER_S:
            for i in range(n_scen):
                if src_node[i] == n and src_rate[i] != 0.0:
                    added = src_rate[i] * dt / volout
                    if kind == JUNCTION:
                        node_q[n, i] += added
                        c_out[i] = node_q[n, i]
                    elif kind == TANK:
                        c_out[i] = node_q[n, i] + added
                    else:
                        node_q[n, i] = added
                        c_out[i] = added
        for p in range(adj_ptr[n], adj_ptr[n + 1]):
            k = adj_link[p]
            if (end[k] if direction[k] < 0 else start[k]) == n:
                _give(k, abs(q[k]) * dt, c_out, ctol, seg_v, seg_c, seg_prev, first, last, pool)


# long: the driver (EPANET runqual/nextqual) and the per-report peak and arrival bookkeeping
@njit(cache=True)
def route_injections_kernel(
    qstep_s, ctol, threshold, node_kind, start, end, link_kind, volume_m3, adj_ptr, adj_link,
    tank_node, tank_v0_m3, interval_s, reported, flow_m3_per_s, demand_m3_per_s,
    src_node, src_rate, src_on, capacity,
):
    """Route ``S`` injections of a conservative chemical at once (all start at 0 everywhere).

    Parameters
    ----------
    qstep_s, ctol, threshold
        Quality step (s), merge tolerance and detection threshold (mg/L).
    node_kind, start, end, link_kind, volume_m3, adj_ptr, adj_link, tank_node, tank_v0_m3
        As for :func:`kernels.quality.transport.route_quality`.
    interval_s, reported, flow_m3_per_s, demand_m3_per_s
        Per hydraulic interval its length, flows and demands; ``reported`` per time (one more
        than the intervals) whether it is a reporting time.
    src_node, src_rate, src_on
        Per scenario the injection node and rate (g/s), and per interval and scenario whether
        it injects.
    capacity
        Segments in the pool.

    Returns
    -------
    peak, first_above, status
        ``(scenario, node)`` peak concentration over the reported times (mg/L) and first
        reported time at or above ``threshold`` (s; -1 if never); 0, or 1 if the pool ran out.
    """
    n_nodes, n_links, n_scen = len(node_kind), len(start), len(src_node)
    seg_v = np.zeros(capacity)
    seg_c = np.zeros((capacity, n_scen))
    seg_prev = np.full(capacity, -1, dtype=np.int64)
    first = np.full(n_links + len(tank_node), -1, dtype=np.int64)
    last = np.full(n_links + len(tank_node), -1, dtype=np.int64)
    pool = np.array([-1, 0, 0], dtype=np.int64)
    zero = np.zeros(n_scen)
    for k in range(n_links):
        if link_kind[k] == PIPE:
            _add_seg(k, volume_m3[k], zero, seg_v, seg_c, seg_prev, first, last, pool)
    tank_of_node = np.full(n_nodes, -1, dtype=np.int64)
    for i in range(len(tank_node)):
        tank_of_node[tank_node[i]] = i
        _add_seg(n_links + i, tank_v0_m3[i], zero, seg_v, seg_c, seg_prev, first, last, pool)
    node_q = np.zeros((n_nodes, n_scen))
    peak = np.zeros((n_scen, n_nodes))
    first_above = np.full((n_scen, n_nodes), -1.0)
    direction = np.zeros(n_links, dtype=np.int64)
    order = np.zeros(n_nodes, dtype=np.int64)
    time_s = 0
    for h in range(len(interval_s)):
        q = flow_m3_per_s[h]
        if _flow_directions(q, direction, seg_prev, first, last) or h == 0:
            _sort_nodes(direction, start, end, adj_ptr, adj_link, order)
        rate = src_rate * src_on[h]
        elapsed = 0
        while elapsed < interval_s[h]:
            dt = min(qstep_s, interval_s[h] - elapsed)
            elapsed += dt
            _step(float(dt), q, demand_m3_per_s[h], src_on[h].any(), src_node, rate, node_kind, tank_of_node,
                  ctol, direction, start, end, adj_ptr, adj_link, order, node_q, seg_v, seg_c, seg_prev,
                  first, last, pool)
            if pool[2]:
                return peak, first_above, 1
        time_s += interval_s[h]
        if reported[h + 1]:
            for n in range(n_nodes):
                for i in range(n_scen):
                    c = node_q[n, i]
                    if c > peak[i, n]:
                        peak[i, n] = c
                    if c >= threshold and first_above[i, n] < 0:
                        first_above[i, n] = time_s
    return peak, first_above, 0
