"""The plain-Python twin of :func:`kernels.quality.transport.route_quality`, for the property tests.

The same EPANET 2.2 rules written with Python lists: each link's and tank's contents are a list of
``[volume m³, quality]`` segments, downstream first (``chain[0]`` is EPANET's ``FirstSeg``, and
``chain[-1]`` its ``LastSeg``). Over each quality step every segment reacts (explicit Euler, first
order), then each node in topological order of the flow takes its inflow off the downstream ends,
mixes it, adds any source and appends its outflow to the upstream ends. Same arguments and
results as the kernel (without the pool: lists grow as they need).
"""

from __future__ import annotations

import numpy as np

from kernels.hydraulics.codes import JUNCTION, PIPE, RESERVOIR, TANK
from kernels.quality.codes import (
    AGE,
    CONCEN,
    FIFO,
    MASS,
    MIX1,
    MIX2,
    NO_SOURCE,
    Q_STAGNANT_M3_PER_S,
    SETPOINT,
    TRACE,
)


def _direction(q: float) -> int:
    if abs(q) < Q_STAGNANT_M3_PER_S:
        return 0
    return 1 if q > 0 else -1


def _links_of(n_nodes: int, adj_ptr: np.ndarray, adj_link: np.ndarray) -> list[list[int]]:
    return [[int(k) for k in adj_link[adj_ptr[n]:adj_ptr[n + 1]]] for n in range(n_nodes)]


def _topological_order(direction, start, end, links_of) -> list[int]:
    """Kahn's sort on the links with flow, from a stack; a cycle is broken next to the most
    recently sorted node (EPANET ``sortnodes``)."""
    n_nodes = len(links_of)
    indegree = [0] * n_nodes
    for k, d in enumerate(direction):
        if d:
            indegree[end[k] if d > 0 else start[k]] += 1
    stack = [i for i in range(n_nodes) if indegree[i] == 0]
    order: list[int] = []
    while len(order) < n_nodes:
        if not stack:
            near = [end[k] if start[k] == m else start[k] for m in reversed(order) for k in links_of[m]]
            waiting = [n for n in near if indegree[n] > 0] or [i for i in range(n_nodes) if indegree[i] > 0]
            if not waiting:
                break
            indegree[waiting[0]] = 0
            stack = [waiting[0]]
        i = stack.pop()
        order.append(i)
        for k in links_of[i]:
            if direction[k] == 0:
                continue
            n = start[k] if direction[k] < 0 else end[k]
            if n != i and indegree[n] > 0:
                indegree[n] -= 1
                if indegree[n] == 0:
                    stack.append(n)
    return order


def _take(chain: list, volume: float) -> tuple[float, float]:
    """Volume and mass taken off the downstream end of a chain."""
    vol = mass = 0.0
    while volume > 0.0 and chain:
        seg = chain[0]
        part = min(seg[0], volume)
        vol += part
        mass += part * seg[1]
        volume -= part
        if volume >= 0.0 and part >= seg[0]:
            chain.pop(0)
        else:
            seg[0] -= part
    return vol, mass


def _give(chain: list, volume: float, c: float, ctol: float) -> None:
    if volume == 0.0:
        return
    if chain and abs(chain[-1][1] - c) < ctol:
        seg = chain[-1]
        seg[1] = (seg[1] * seg[0] + c * volume) / (seg[0] + volume)
        seg[0] += volume
    else:
        chain.append([volume, c])


def _withdraw(chain: list, volume: float) -> tuple[float, float]:
    """Take from the front of a tank chain; its last segment gives whatever remains."""
    vol = mass = 0.0
    while volume > 0.0 and chain:
        seg = chain[0]
        part = volume if len(chain) == 1 else min(seg[0], volume)
        vol += part
        mass += seg[1] * part
        volume -= part
        if volume >= 0.0 and part >= seg[0]:
            if len(chain) > 1:
                chain.pop(0)
        else:
            seg[0] -= part
    return vol, mass


def _mix(chain: list, mix: int, vmix: float, vin: float, win: float, vout: float,
         ctol: float) -> float:  # long: four models
    """The tank's outflow quality under its mixing model (EPANET ``tankmix1``-``4``)."""
    if not chain:
        return 0.0
    vnet = vin - vout
    if mix == MIX1:
        seg = chain[0]
        if seg[0] + vin > 0.0:
            seg[1] = (seg[1] * seg[0] + win) / (seg[0] + vin)
        seg[0] = max(0.0, seg[0] + vnet)
        return seg[1]
    if mix == MIX2:
        stag, zone = chain[0], chain[-1]
        moved = 0.0
        if vnet > 0.0:
            moved = max(0.0, zone[0] + vnet - vmix)
            if vin > 0.0:
                zone[1] = (zone[1] * zone[0] + win) / (zone[0] + vin)
            if moved > 0.0:
                stag[1] = (stag[1] * stag[0] + zone[1] * moved) / (stag[0] + moved)
        elif vnet < 0.0:
            moved = min(stag[0], -vnet) if stag[0] > 0.0 else 0.0
            if vin + moved > 0.0:
                zone[1] = (zone[1] * zone[0] + win + stag[1] * moved) / (zone[0] + vin + moved)
        if moved > 0.0:
            zone[0] = vmix
            stag[0] = stag[0] + moved if vnet > 0.0 else max(0.0, stag[0] - moved)
        else:
            zone[0] = max(0.0, min(zone[0] + vnet, vmix))
            stag[0] = 0.0
        return zone[1]
    if mix == FIFO:
        if vin > 0.0:
            cin = win / vin
            if abs(chain[-1][1] - cin) < ctol:
                chain[-1][0] += vin
            else:
                chain.append([vin, cin])
        vol, mass = _withdraw(chain, vin - vnet)
        return mass / vol if vol > 0.0 else chain[0][1]
    cin = win / vin if vin > 0.0 else 0.0  # LIFO
    if vnet > 0.0:
        if abs(chain[-1][1] - cin) < ctol:
            chain[-1][0] += vnet
        else:
            chain.append([vnet, cin])
        return chain[-1][1]
    if vnet < 0.0:
        chain.reverse()
        vol, mass = _withdraw(chain, -vnet)
        chain.reverse()
        return (mass + win) / (vol + vin)
    return chain[-1][1]


def _react_chains(chains, mode, dt, kb_per_s, kw_row, tank_kb_per_s, n_links) -> float:
    """Explicit Euler, first order in bulk and at the wall (or ``dt`` hours of age); mass reacted."""
    reacted = 0.0
    for idx, chain in enumerate(chains):
        bulk = kb_per_s[idx] if idx < n_links else tank_kb_per_s[idx - n_links]
        wall = kw_row[idx] if idx < n_links else 0.0
        for seg in chain:
            c = seg[1]
            cnew = c + dt / 3600.0 if mode == AGE else c + (bulk * max(c, 0.0) + wall * c) * dt
            cnew = max(cnew, 0.0)
            reacted += (c - cnew) * seg[0]
            seg[1] = cnew
    return reacted


def _source_added(stype: int, strength: float, kind: int, demand: float, vout: float, dt: float,
                  node_q: float) -> float:
    """The quality a chemical source adds to a node's outflow."""
    if stype == CONCEN:
        if kind != JUNCTION:
            return strength
        return -strength * demand * dt / vout if demand < 0.0 else 0.0
    if stype == MASS:
        return strength * dt / vout
    if stype == SETPOINT:
        return max(strength - node_q, 0.0)
    return strength


# long: the whole EPANET step in one place, as in the kernel it mirrors
def route_quality_reference(
    mode, react, trace_node, qstep_s, ctol,
    node_kind, c0, start, end, link_kind, volume_m3, adj_ptr, adj_link,
    tank_node, tank_v0_m3, tank_vmix_m3, tank_kb_per_s, tank_mix,
    interval_s, flow_m3_per_s, demand_m3_per_s, kb_per_s, kw_per_s, source_type, source_strength,
    capacity=None,
):
    """Route quality as :func:`kernels.quality.transport.route_quality` (``capacity`` unused)."""
    n_nodes, n_links = len(node_kind), len(start)
    start, end = [int(x) for x in start], [int(x) for x in end]
    links_of = _links_of(n_nodes, adj_ptr, adj_link)
    tank_of = {int(n): i for i, n in enumerate(tank_node)}
    node_q = [0.0] * n_nodes if mode == TRACE else [float(c) for c in c0]
    if mode == TRACE:
        node_q[trace_node] = 100.0
    chains = [[[float(volume_m3[k]), node_q[end[k]]]] if link_kind[k] == PIPE else [] for k in range(n_links)]
    for i, n in enumerate(tank_node):
        v, c = float(tank_v0_m3[i]), float(c0[n])
        if tank_mix[i] == MIX2:
            stagnant = max(0.0, v - tank_vmix_m3[i])
            chains.append([[stagnant, c], [v - stagnant, c]])
        else:
            chains.append([[v, c]])
    stored = lambda: sum(v * c for chain in chains for v, c in chain)  # noqa: E731
    balance = [stored(), 0.0, 0.0, 0.0, 0.0]
    quality = [list(node_q)]
    direction = [0] * n_links
    order: list[int] = []
    for h, length_s in enumerate(interval_s):
        q = [float(x) for x in flow_m3_per_s[h]]
        new = [_direction(x) for x in q]
        for k in range(n_links):
            if new[k] * direction[k] < 0:
                chains[k].reverse()
        if new != direction or h == 0:
            direction = new
            order = _topological_order(direction, start, end, links_of)
        elapsed = 0
        while elapsed < length_s:
            dt = float(min(qstep_s, length_s - elapsed))
            elapsed += int(dt)
            if react:
                balance[3] += _react_chains(chains, mode, dt, kb_per_s, kw_per_s[h], tank_kb_per_s, n_links)
            demand = demand_m3_per_s[h]
            for n in order:
                vin = win = vout = 0.0
                for k in links_of[n]:
                    if (start[k] if direction[k] < 0 else end[k]) == n:
                        v, m = _take(chains[k], abs(q[k]) * dt)
                        vin += v
                        win += m
                    else:
                        vout += abs(q[k])
                kind = node_kind[n]
                if kind == JUNCTION:
                    vout += max(0.0, demand[n])
                vout *= dt
                if kind == JUNCTION:
                    vin_all = vin - min(0.0, demand[n]) * dt
                    if vin_all > 0.0:
                        node_q[n] = win / vin_all
                    elif react:
                        near = []
                        for k in links_of[n]:
                            inflow = (end[k] == n and direction[k] >= 0) or (start[k] == n and direction[k] < 0)
                            if chains[k]:
                                near.append(chains[k][0][1] if inflow else chains[k][-1][1])
                        node_q[n] = sum(near) / len(near) if near else 0.0
                elif kind == TANK:
                    i = tank_of[n]
                    node_q[n] = _mix(chains[n_links + i], int(tank_mix[i]), float(tank_vmix_m3[i]), vin, win,
                                     vout, ctol)
                added = 0.0
                c_out = node_q[n]
                if mode == TRACE:
                    if n == trace_node:
                        added = 100.0 if kind == RESERVOIR else max(100.0 - node_q[n], 0.0)
                        node_q[n] = c_out = 100.0
                elif mode != AGE and source_type[n] != NO_SOURCE and source_strength[h][n] != 0.0 \
                        and vout / dt > Q_STAGNANT_M3_PER_S:
                    added = _source_added(int(source_type[n]), float(source_strength[h][n]), kind,
                                          float(demand[n]), vout, dt, node_q[n])
                    if added != 0.0:
                        if kind == JUNCTION:
                            node_q[n] += added
                            c_out = node_q[n]
                        elif kind == TANK:
                            c_out = node_q[n] + added
                        else:
                            node_q[n] = c_out = added
                for k in links_of[n]:
                    if (end[k] if direction[k] < 0 else start[k]) == n:
                        _give(chains[k], abs(q[k]) * dt, c_out, ctol)
                if kind == JUNCTION:
                    balance[2] += max(0.0, demand[n]) * dt * node_q[n]
                    balance[1] += added * vout
                elif kind == RESERVOIR:
                    balance[2] += win
                    balance[1] += (added if added > 0.0 else node_q[n]) * vout
                else:
                    balance[1] += added * vout
        quality.append(list(node_q))
    balance[4] = stored()
    return np.array(quality), np.array(balance), 0
