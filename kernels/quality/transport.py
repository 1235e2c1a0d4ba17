"""EPANET 2.2's Lagrangian time-driven water-quality transport as a Numba kernel.

Each pipe holds a chain of segments (volume m³, quality), the downstream one first; each tank one
chain too (one segment when completely mixed, two for the two-compartment model, many for FIFO
and LIFO). Over each quality step the kernel reacts every segment (first-order bulk and wall
terms, explicit Euler, as EPANET), then visits the nodes in topological order of the flow: a
node takes the flow volume ``|q| dt`` off the downstream end of each inflowing link, mixes it
(flow-weighted at a junction, by the mixing model in a tank), adds any source, and releases its
outflow quality into the upstream end of each outflowing link (a new segment unless the last one
is within ``ctol`` of it). The hydraulics come in as one row per hydraulic interval.

Units: volumes m³, flows m³/s, times s; quality in the analysis' units (mg/L for a chemical, hours
for age, percent for trace). A mass source's strength is in (mg/L)·m³/s, i.e. g/s.

Storage: segments live in a pool (``seg_v``, ``seg_c``, ``seg_prev`` toward upstream) with a free
list; ``pool = [free head, high-water mark, overflow flag]``. When the pool runs out the kernel
stops and returns ``status = 1``; the caller runs it again with a bigger pool.

The helpers called per link and node in every step are inlined at Numba's level
(``inline="always"``): a call between jitted functions increfs and decrefs each array argument,
and with ten arrays a call that did not inline cost more than the work (2.2x on the Changle net).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.hydraulics.codes import JUNCTION, PIPE, RESERVOIR, TANK
from kernels.quality.codes import (
    AGE,
    CONCEN,
    FIFO,
    FLOWPACED,
    MASS,
    MIX1,
    MIX2,
    NO_SOURCE,
    Q_STAGNANT_M3_PER_S,
    SECONDS_PER_HOUR,
    SETPOINT,
    TRACE,
)

# balance slots: stored at the start, mass in, mass out, mass reacted, stored at the end
B_INITIAL, B_IN, B_OUT, B_REACTED, B_FINAL = 0, 1, 2, 3, 4


@njit(cache=True, inline="always")
def _add_seg(chain, v, c, seg_v, seg_c, seg_prev, first, last, pool):
    """EPANET ``addseg``: a new segment at the upstream end of ``chain``; ``c`` is its concentration
    (a number, or one per scenario in the ensemble kernel, whose ``seg_c`` has a row per segment)."""
    s = pool[0]
    if s >= 0:
        pool[0] = seg_prev[s]
    else:
        s = pool[1]
        if s >= len(seg_v):
            pool[2] = 1
            return
        pool[1] += 1
    seg_v[s] = v
    seg_c[s] = c
    seg_prev[s] = -1
    if first[chain] < 0:
        first[chain] = s
    if last[chain] >= 0:
        seg_prev[last[chain]] = s
    last[chain] = s


@njit(cache=True)
def _reverse(chain, seg_prev, first, last):
    """EPANET ``reversesegs``: the chain's upstream end becomes its downstream end."""
    s = first[chain]
    first[chain] = last[chain]
    last[chain] = s
    before = -1
    while s >= 0:
        after = seg_prev[s]
        seg_prev[s] = before
        before = s
        s = after


@njit(cache=True, inline="always")
def _pop_first(chain, seg_prev, first, last, pool):
    """Recycle the chain's downstream segment; the one behind it leads."""
    s = first[chain]
    first[chain] = seg_prev[s]
    if first[chain] < 0:
        last[chain] = -1
    seg_prev[s] = pool[0]
    pool[0] = s


@njit(cache=True)
def _stored_mass(seg_v, seg_c, seg_prev, first):
    total = 0.0
    for chain in range(len(first)):
        s = first[chain]
        while s >= 0:
            total += seg_v[s] * seg_c[s]
            s = seg_prev[s]
    return total


@njit(cache=True)
def _sort_nodes(direction, start, end, adj_ptr, adj_link, order):  # long: EPANET sortnodes + selectnonstacknode
    """EPANET ``sortnodes``: nodes upstream to downstream; links with stagnant flow are ignored;
    a cycle is broken at an unsorted node next to the most recently sorted one."""
    n_nodes = len(adj_ptr) - 1
    indegree = np.zeros(n_nodes, dtype=np.int64)
    for k in range(len(start)):
        if direction[k] > 0:
            indegree[end[k]] += 1
        elif direction[k] < 0:
            indegree[start[k]] += 1
    stack = np.empty(n_nodes + 1, dtype=np.int64)
    size = 0
    for i in range(n_nodes):
        if indegree[i] == 0:
            stack[size] = i
            size += 1
    count = 0
    while count < n_nodes:
        if size == 0:
            pick = -1
            for back in range(count - 1, -1, -1):
                m = order[back]
                for p in range(adj_ptr[m], adj_ptr[m + 1]):
                    k = adj_link[p]
                    other = end[k] if start[k] == m else start[k]
                    if indegree[other] > 0:
                        pick = other
                        break
                if pick >= 0:
                    break
            if pick < 0:
                for i in range(n_nodes):
                    if indegree[i] > 0:
                        pick = i
                        break
            if pick < 0:
                break
            indegree[pick] = 0
            stack[0] = pick
            size = 1
        size -= 1
        i = stack[size]
        order[count] = i
        count += 1
        for p in range(adj_ptr[i], adj_ptr[i + 1]):
            k = adj_link[p]
            if direction[k] == 0:
                continue
            n = start[k] if direction[k] < 0 else end[k]
            if n != i and indegree[n] > 0:
                indegree[n] -= 1
                if indegree[n] == 0:
                    stack[size] = n
                    size += 1
    return count


@njit(cache=True)
def _react(mode, dt, kb, kw, tank_kb, n_links, seg_v, seg_c, seg_prev, first):
    """EPANET ``reactpipes`` and ``reacttanks``: one explicit Euler step of first-order bulk and
    wall reactions (or ``dt`` hours of age) on every segment; returns the mass reacted."""
    reacted = 0.0
    for chain in range(len(first)):
        s = first[chain]
        if chain < n_links:
            bulk, wall = kb[chain], kw[chain]
        else:
            bulk, wall = tank_kb[chain - n_links], 0.0
        while s >= 0:
            c = seg_c[s]
            if mode == AGE:
                cnew = c + dt / SECONDS_PER_HOUR
            else:
                cnew = c + (bulk * max(c, 0.0) + wall * c) * dt
            cnew = max(cnew, 0.0)
            reacted += (c - cnew) * seg_v[s]
            seg_c[s] = cnew
            s = seg_prev[s]
    return reacted


@njit(cache=True, inline="always")
def _take_inflow(k, v, seg_v, seg_c, seg_prev, first, last, pool, acc):
    """EPANET ``evalnodeinflow``: take volume ``v`` off link ``k``'s downstream end into
    ``acc = [volume in, mass in]``."""
    while v > 0.0:
        s = first[k]
        if s < 0:
            break
        vseg = min(seg_v[s], v)
        acc[0] += vseg
        acc[1] += vseg * seg_c[s]
        v -= vseg
        if v >= 0.0 and vseg >= seg_v[s]:
            _pop_first(k, seg_prev, first, last, pool)
        else:
            seg_v[s] -= vseg


@njit(cache=True, inline="always")
def _release(k, v, c, ctol, seg_v, seg_c, seg_prev, first, last, pool):
    """EPANET ``evalnodeoutflow``: volume ``v`` at quality ``c`` into link ``k``'s upstream end."""
    if v == 0.0:
        return
    s = last[k]
    if s >= 0 and abs(seg_c[s] - c) < ctol:
        seg_c[s] = (seg_c[s] * seg_v[s] + c * v) / (seg_v[s] + v)
        seg_v[s] += v
    else:
        _add_seg(k, v, c, seg_v, seg_c, seg_prev, first, last, pool)


@njit(cache=True, inline="always")
def _no_flow_quality(n, direction, start, end, adj_ptr, adj_link, seg_c, first, last):
    """EPANET ``noflowqual``: a junction without inflow takes the mean of its links' near ends."""
    total = 0.0
    count = 0
    for p in range(adj_ptr[n], adj_ptr[n + 1]):
        k = adj_link[p]
        inflow = (end[k] == n and direction[k] >= 0) or (start[k] == n and direction[k] < 0)
        if inflow and first[k] >= 0:
            total += seg_c[first[k]]
            count += 1
        elif not inflow and last[k] >= 0:
            total += seg_c[last[k]]
            count += 1
    return total / count if count > 0 else 0.0


@njit(cache=True)
def _withdraw(chain, vout, seg_v, seg_c, seg_prev, first, last, pool, acc):
    """Take ``vout`` off a tank chain's first segment onward (FIFO, and LIFO reversed) into
    ``acc = [volume, mass]``; the last segment gives whatever remains (EPANET ``tankmix3/4``)."""
    while vout > 0.0:
        s = first[chain]
        if s < 0:
            break
        vseg = min(seg_v[s], vout)
        if s == last[chain]:
            vseg = vout
        acc[0] += vseg
        acc[1] += seg_c[s] * vseg
        vout -= vseg
        if vout >= 0.0 and vseg >= seg_v[s]:
            if seg_prev[s] >= 0:
                first[chain] = seg_prev[s]
                seg_prev[s] = pool[0]
                pool[0] = s
        else:
            seg_v[s] -= vseg


@njit(cache=True)
def _mix_tank(chain, mix, vmix_max, volin, massin, volout, ctol, seg_v, seg_c, seg_prev, first, last,
              pool):  # long: the four mixing models of EPANET's tankmix1-4 side by side
    """EPANET ``mixtank``: the tank's new outflow quality under its mixing model."""
    vnet = volin - volout
    s, t = first[chain], last[chain]
    if s < 0 or t < 0:
        return 0.0
    if mix == MIX1:
        vnew = seg_v[s] + volin
        if vnew > 0.0:
            seg_c[s] = (seg_c[s] * seg_v[s] + massin) / vnew
        seg_v[s] = max(0.0, seg_v[s] + vnet)
        return seg_c[s]
    if mix == MIX2:  # first segment: stagnant zone; last: mixing zone of volume up to vmix_max
        vt = 0.0
        if vnet > 0.0:
            vt = max(0.0, seg_v[t] + vnet - vmix_max)
            if volin > 0.0:
                seg_c[t] = (seg_c[t] * seg_v[t] + massin) / (seg_v[t] + volin)
            if vt > 0.0:
                seg_c[s] = (seg_c[s] * seg_v[s] + seg_c[t] * vt) / (seg_v[s] + vt)
        elif vnet < 0.0:
            if seg_v[s] > 0.0:
                vt = min(seg_v[s], -vnet)
            if volin + vt > 0.0:
                seg_c[t] = (seg_c[t] * seg_v[t] + massin + seg_c[s] * vt) / (seg_v[t] + volin + vt)
        if vt > 0.0:
            seg_v[t] = vmix_max
            seg_v[s] = seg_v[s] + vt if vnet > 0.0 else max(0.0, seg_v[s] - vt)
        else:
            seg_v[t] = max(0.0, min(seg_v[t] + vnet, vmix_max))
            seg_v[s] = 0.0
        return seg_c[t]
    acc = np.zeros(2)
    if mix == FIFO:
        if volin > 0.0:
            cin = massin / volin
            if abs(seg_c[t] - cin) < ctol:
                seg_v[t] += volin
            else:
                _add_seg(chain, volin, cin, seg_v, seg_c, seg_prev, first, last, pool)
        _withdraw(chain, volin - vnet, seg_v, seg_c, seg_prev, first, last, pool, acc)
        if acc[0] > 0.0:
            return acc[1] / acc[0]
        return seg_c[first[chain]] if first[chain] >= 0 else 0.0
    # LIFO
    cin = massin / volin if volin > 0.0 else 0.0
    if vnet > 0.0:
        if abs(seg_c[t] - cin) < ctol:
            seg_v[t] += vnet
        else:
            _add_seg(chain, vnet, cin, seg_v, seg_c, seg_prev, first, last, pool)
        return seg_c[last[chain]]
    if vnet < 0.0:
        _reverse(chain, seg_prev, first, last)
        _withdraw(chain, -vnet, seg_v, seg_c, seg_prev, first, last, pool, acc)
        _reverse(chain, seg_prev, first, last)
        return (acc[1] + massin) / (acc[0] + volin)
    return seg_c[t]


@njit(cache=True, inline="always")
def _source_quality(n, kind, stype, strength, demand, volout, dt, node_q):
    """EPANET ``findsourcequal``: the quality a chemical source adds to node ``n``'s outflow."""
    if stype == NO_SOURCE or strength == 0.0 or volout / dt <= Q_STAGNANT_M3_PER_S:
        return 0.0
    c = strength
    if stype == CONCEN:
        if kind == JUNCTION:
            c = -c * demand * dt / volout if demand < 0.0 else 0.0
    elif stype == MASS:
        c = c * dt / volout
    elif stype == SETPOINT:
        c = max(c - node_q, 0.0)
    elif stype == FLOWPACED:
        pass
    return c


@njit(cache=True, inline="always")
def _node_quality(n, kind, volin, massin, volout, dt, demand_n, react, mode, trace_node, stype,
                  strength, chain, mix, vmix_max, ctol, direction, start, end, adj_ptr, adj_link,
                  node_q, seg_v, seg_c, seg_prev, first, last, pool):
    """EPANET ``findnodequal``: node ``n``'s new quality and the quality of its outflow, and the
    quality a source adds (returned as ``(outflow quality, source quality)``)."""
    if kind == JUNCTION:
        volin -= min(0.0, demand_n) * dt
        if volin > 0.0:
            node_q[n] = massin / volin
        elif react:
            node_q[n] = _no_flow_quality(n, direction, start, end, adj_ptr, adj_link, seg_c, first, last)
    elif kind == TANK:
        node_q[n] = _mix_tank(chain, mix, vmix_max, volin, massin, volout, ctol, seg_v, seg_c,
                              seg_prev, first, last, pool)
    if mode == TRACE:
        added = 0.0
        if n == trace_node:
            added = 100.0 if kind == RESERVOIR else max(100.0 - node_q[n], 0.0)
            node_q[n] = 100.0
        return node_q[n], added
    added = 0.0
    if mode != AGE:
        added = _source_quality(n, kind, stype, strength, demand_n, volout, dt, node_q[n])
    if added == 0.0:
        return node_q[n], 0.0
    if kind == JUNCTION:
        node_q[n] += added
        return node_q[n], added
    if kind == TANK:
        return node_q[n] + added, added
    node_q[n] = added
    return added, added


@njit(cache=True)
def _transport(dt, q, demand, react, mode, trace_node, source_type, strength, node_kind, tank_of_node,
               tank_mix, tank_vmix_m3, ctol, direction, start, end, adj_ptr, adj_link, order, node_q,
               seg_v, seg_c, seg_prev, first, last, pool, balance):  # long: EPANET transport, one pass
    """EPANET ``transport`` after the reactions: every node in topological order takes its
    inflow, mixes it and releases its outflow; the mass balance collects what enters and leaves."""
    n_links = len(start)
    acc = np.zeros(2)
    for j in range(len(order)):
        n = order[j]
        acc[0] = 0.0
        acc[1] = 0.0
        volout = 0.0
        for p in range(adj_ptr[n], adj_ptr[n + 1]):
            k = adj_link[p]
            downstream = start[k] if direction[k] < 0 else end[k]
            if downstream == n:
                _take_inflow(k, abs(q[k]) * dt, seg_v, seg_c, seg_prev, first, last, pool, acc)
            else:
                volout += abs(q[k])
        kind = node_kind[n]
        if kind == JUNCTION:
            volout += max(0.0, demand[n])
        volout *= dt
        tank = tank_of_node[n]
        chain = n_links + tank if tank >= 0 else -1
        mix = tank_mix[tank] if tank >= 0 else MIX1
        vmix = tank_vmix_m3[tank] if tank >= 0 else 0.0
        c_out, added = _node_quality(
            n, kind, acc[0], acc[1], volout, dt, demand[n], react, mode, trace_node, source_type[n],
            strength[n], chain, mix, vmix, ctol, direction, start, end, adj_ptr, adj_link, node_q,
            seg_v, seg_c, seg_prev, first, last, pool)
        for p in range(adj_ptr[n], adj_ptr[n + 1]):
            k = adj_link[p]
            upstream = end[k] if direction[k] < 0 else start[k]
            if upstream == n:
                _release(k, abs(q[k]) * dt, c_out, ctol, seg_v, seg_c, seg_prev, first, last, pool)
        if kind == JUNCTION:
            balance[B_OUT] += max(0.0, demand[n]) * dt * node_q[n]
            balance[B_IN] += added * volout
        elif kind == RESERVOIR:
            balance[B_OUT] += acc[1]
            balance[B_IN] += (added if added > 0.0 else node_q[n]) * volout
        else:
            balance[B_IN] += added * volout


@njit(cache=True)
def _init_segments(c0, node_q, end, link_kind, volume_m3, tank_node, tank_v0_m3, tank_vmix_m3, tank_mix,
                   seg_v, seg_c, seg_prev, first, last, pool):
    """EPANET ``initsegs``: one segment per pipe at its end node's quality, one per tank (two for
    the two-compartment model) at the tank's initial quality."""
    n_links = len(end)
    for k in range(n_links):
        if link_kind[k] == PIPE:
            _add_seg(k, volume_m3[k], node_q[end[k]], seg_v, seg_c, seg_prev, first, last, pool)
    for i in range(len(tank_node)):
        chain = n_links + i
        v = tank_v0_m3[i]
        c = c0[tank_node[i]]
        _add_seg(chain, v, c, seg_v, seg_c, seg_prev, first, last, pool)
        if tank_mix[i] == MIX2:
            v1 = max(0.0, v - tank_vmix_m3[i])
            seg_v[first[chain]] = v1
            _add_seg(chain, v - v1, c, seg_v, seg_c, seg_prev, first, last, pool)


@njit(cache=True)
def _flow_directions(q, direction, seg_prev, first, last):
    """EPANET ``flowdirchanged``: new directions (0 below Q_STAGNANT); a link whose flow turns
    from one sign to the other has its segments reversed. Returns whether any direction changed."""
    changed = False
    for k in range(len(q)):
        new = 1 if q[k] > 0.0 else (-1 if q[k] < 0.0 else 0)
        if abs(q[k]) < Q_STAGNANT_M3_PER_S:
            new = 0
        if new * direction[k] < 0:
            _reverse(k, seg_prev, first, last)
        if new != direction[k]:
            changed = True
        direction[k] = new
    return changed


# long: the driver over hydraulic intervals and quality steps (EPANET runqual/nextqual), mostly its docstring
@njit(cache=True)
def route_quality(
    mode, react, trace_node, qstep_s, ctol,
    node_kind, c0, start, end, link_kind, volume_m3, adj_ptr, adj_link,
    tank_node, tank_v0_m3, tank_vmix_m3, tank_kb_per_s, tank_mix,
    interval_s, flow_m3_per_s, demand_m3_per_s, kb_per_s, kw_per_s, source_type, source_strength,
    capacity,
):
    """Route water quality over a sequence of hydraulic intervals.

    Parameters
    ----------
    mode, react, trace_node
        ``CHEMICAL``/``AGE``/``TRACE``; whether anything reacts (EPANET ``Reactflag``; age always
        does); the traced node (-1 unless ``TRACE``).
    qstep_s, ctol
        Quality time step (s) and the quality difference below which a release joins the last
        segment (EPANET ``TOLERANCE``, quality units).
    node_kind, c0
        Per node: ``JUNCTION``/``RESERVOIR``/``TANK`` and initial quality.
    start, end, link_kind, volume_m3
        Per link: end nodes, EPANET link type (only ``PIPE`` links get an initial segment, as in
        EPANET) and volume (m³; 0 for pumps and valves).
    adj_ptr, adj_link
        Node-to-link adjacency (CSR).
    tank_node, tank_v0_m3, tank_vmix_m3, tank_kb_per_s, tank_mix
        Per tank (not reservoirs): node, initial volume, mixing-zone volume of the two-compartment
        model (m³), bulk rate coefficient (1/s) and mixing model.
    interval_s, flow_m3_per_s, demand_m3_per_s
        Per hydraulic interval: its length (s), link flows (0 on closed links) and node outflows
        (a junction's demand; negative for an inflow).
    kb_per_s, kw_per_s
        Bulk rate coefficient per link (1/s) and first-order wall rate per interval and link (1/s,
        EPANET ``piperate``'s mass-transfer-limited ``4 kw kf / (d (kf + |kw|))``).
    source_type, source_strength
        Per node the source type (``NO_SOURCE`` if none) and per interval and node its strength
        (quality units; ``MASS``: (mg/L)·m³/s).
    capacity
        Segments in the pool.

    Returns
    -------
    quality, balance, status
        ``(interval + 1, node)`` node quality at the start of each interval and at the end;
        ``[stored at start, mass in, mass out, mass reacted, stored at end]`` (quality × m³);
        0, or 1 if the segment pool ran out.
    """
    n_nodes, n_links, n_tanks = len(node_kind), len(start), len(tank_node)
    n_int = len(interval_s)
    seg_v = np.zeros(capacity)
    seg_c = np.zeros(capacity)
    seg_prev = np.full(capacity, -1, dtype=np.int64)
    first = np.full(n_links + n_tanks, -1, dtype=np.int64)
    last = np.full(n_links + n_tanks, -1, dtype=np.int64)
    pool = np.array([-1, 0, 0], dtype=np.int64)
    tank_of_node = np.full(n_nodes, -1, dtype=np.int64)
    for i in range(n_tanks):
        tank_of_node[tank_node[i]] = i
    node_q = np.zeros(n_nodes) if mode == TRACE else c0.copy()
    if mode == TRACE:
        node_q[trace_node] = 100.0
    quality = np.zeros((n_int + 1, n_nodes))
    balance = np.zeros(5)
    # EPANET initsegs: a pipe starts at its end node's quality as initqual left it (trace: 0, or
    # 100 at the trace node), a tank at its [QUALITY] value
    _init_segments(c0, node_q, end, link_kind, volume_m3, tank_node, tank_v0_m3, tank_vmix_m3,
                   tank_mix, seg_v, seg_c, seg_prev, first, last, pool)
    balance[B_INITIAL] = _stored_mass(seg_v, seg_c, seg_prev, first)
    quality[0] = node_q
    direction = np.zeros(n_links, dtype=np.int64)
    order = np.zeros(n_nodes, dtype=np.int64)
    for h in range(n_int):
        q = flow_m3_per_s[h]
        if _flow_directions(q, direction, seg_prev, first, last) or h == 0:
            _sort_nodes(direction, start, end, adj_ptr, adj_link, order)
        elapsed = 0
        while elapsed < interval_s[h]:
            dt = min(qstep_s, interval_s[h] - elapsed)
            elapsed += dt
            if react:
                balance[B_REACTED] += _react(mode, float(dt), kb_per_s, kw_per_s[h], tank_kb_per_s, n_links,
                                             seg_v, seg_c, seg_prev, first)
            _transport(float(dt), q, demand_m3_per_s[h], react, mode, trace_node, source_type,
                       source_strength[h], node_kind, tank_of_node, tank_mix, tank_vmix_m3, ctol,
                       direction, start, end, adj_ptr, adj_link, order, node_q, seg_v, seg_c, seg_prev,
                       first, last, pool, balance)
            if pool[2]:
                return quality, balance, 1
        quality[h + 1] = node_q
    balance[B_FINAL] = _stored_mass(seg_v, seg_c, seg_prev, first)
    return quality, balance, 0
