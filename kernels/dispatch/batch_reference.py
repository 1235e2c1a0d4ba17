"""The plain-Python twin of :func:`kernels.dispatch.batch.batch_dispatch`, for the property tests.

Lists and dictionaries instead of arrays, the same rules: at every multiple ``T`` of ``batch_s``
(from the first one at or after the earliest waiting request), requests that have arrived join
the waiting list, those that have waited past their maximum leave it unserved, and the waiting
requests are matched to the idle vehicles (free by ``T``) by SciPy's assignment solver over pickup
travel times, infeasible pairs (seats, charge for pickup + trip + drive to the nearest station,
the rider's maximum wait) costing :data:`~kernels.dispatch.layout.INFEASIBLE_S`. Matched pairs are
served in the solver's row order; a drop-off below the threshold sends the vehicle to charge as in
:mod:`kernels.dispatch.reference`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import linear_sum_assignment

from kernels.dispatch.layout import (
    INFEASIBLE_S,
    N_REQ_OUT,
    N_SES_INT,
    N_SES_OUT,
    P_CHARGE_BELOW,
    P_CHARGE_TO,
    P_TAPER_FROM,
)
from kernels.dispatch.reference import _bin, _nearest_station, charge_time_reference


def _cost(t, r, v, case, pos, soc) -> float:
    """Pickup time of vehicle ``v`` for request ``r`` at batch time ``t``, or INFEASIBLE_S."""
    time_s, dist_km = case["time_s"], case["dist_km"]
    o, d = int(case["req_origin"][r]), int(case["req_dest"][r])
    if case["veh_seats"][v] < case["req_party"][r]:
        return INFEASIBLE_S
    b0 = _bin(case["bin_start_s"], t)
    pick = t + time_s[b0, pos[v], o]
    if pick - case["req_time_s"][r] > case["req_max_wait_s"][r]:
        return INFEASIBLE_S
    b1 = _bin(case["bin_start_s"], pick)
    b2 = _bin(case["bin_start_s"], pick + time_s[b1, o, d])
    c = _nearest_station(time_s, case["station_place"], b2, d)
    on_km = dist_km[b2, d, case["station_place"][c]] if c >= 0 else 0.0
    if soc[v] - (dist_km[b0, pos[v], o] + dist_km[b1, o, d] + on_km) * case["veh_kwh_per_km"][v] < 0:
        return INFEASIBLE_S
    return float(time_s[b0, pos[v], o])


def _serve(t, r, v, case, state, out) -> None:
    """Vehicle ``v`` serves request ``r`` from batch time ``t``, then charges if it must."""
    pos, soc, free, plug_free = state
    time_s, dist_km, bins = case["time_s"], case["dist_km"], case["bin_start_s"]
    o, d = int(case["req_origin"][r]), int(case["req_dest"][r])
    b0 = _bin(bins, t)
    pick = t + time_s[b0, pos[v], o]
    b1 = _bin(bins, pick)
    drop = pick + time_s[b1, o, d]
    b2 = _bin(bins, drop)
    energy = (dist_km[b0, pos[v], o] + dist_km[b1, o, d]) * case["veh_kwh_per_km"][v]
    out["vehicle"][r] = v
    out["req"][r] = (t, pick, drop, dist_km[b0, pos[v], o], dist_km[b1, o, d], energy)
    soc[v] -= energy
    pos[v], free[v] = d, drop
    out["open"][v] = r
    _maybe_charge(v, r, drop, b2, d, case, state, out)


def _maybe_charge(v, r, drop, b2, d, case, state, out) -> None:
    """After the drop-off of ``r`` at place ``d``: to the nearest station if below the threshold."""
    pos, soc, free, plug_free = state
    time_s, dist_km = case["time_s"], case["dist_km"]
    capacity, params = case["veh_battery_kwh"][v], case["params"]
    c = _nearest_station(time_s, case["station_place"], b2, d)
    if c < 0 or soc[v] >= params[P_CHARGE_BELOW] * capacity:
        return
    out["open"][v] = -1
    place = int(case["station_place"][c])
    drive = dist_km[b2, d, place] * case["veh_kwh_per_km"][v]
    arrive = drop + time_s[b2, d, place]
    soc[v] -= drive
    plug = min(range(int(case["plug_ptr"][c]), int(case["plug_ptr"][c + 1])), key=lambda p: (plug_free[p], p))
    begin = max(arrive, plug_free[plug])
    target = max(params[P_CHARGE_TO] * capacity, soc[v])
    end = begin + charge_time_reference(soc[v] / capacity, target / capacity, capacity,
                                        case["station_power_kw"][c], params[P_TAPER_FROM])
    plug_free[plug] = end
    out["ses"].append((arrive, begin, end, target - soc[v], soc[v] / capacity, target / capacity, drive))
    out["ses_int"].append((v, c, plug, r))
    soc[v], pos[v], free[v] = target, place, end


def _route(case, pick1, o1, o2, d1, d2, d1_first):
    """Arrival at ``o2``, at the first and the second drop-off, and the km, from ``o1`` at ``pick1``."""
    time_s, dist_km, bins = case["time_s"], case["dist_km"], case["bin_start_s"]
    stops = [o1, o2, d1, d2] if d1_first else [o1, o2, d2, d1]
    t, km, times = pick1, 0.0, []
    for a, b in zip(stops[:-1], stops[1:], strict=True):
        k = _bin(bins, t)
        t, km = t + time_s[k, a, b], km + dist_km[k, a, b]
        times.append(t)
    return times[0], times[1], times[2], km


def _insert(t, waiting, case, state, out) -> list[int]:
    """Pooling by insertion (the rules of :mod:`kernels.dispatch.pooling`); returns the inserted."""
    pos, soc, free, _ = state
    req, kwh_per_km, bins = out["req"], case["veh_kwh_per_km"], case["bin_start_s"]
    o_, d_, party = case["req_origin"], case["req_dest"], case["req_party"]
    done = []
    for r2 in waiting:
        options = []
        for v in range(len(pos)):
            r1 = out["open"][v]
            if r1 < 0 or req[r1][1] <= t or party[r1] + party[r2] > case["veh_seats"][v]:
                continue
            for order, d1_first in enumerate((True, False)):
                at_o2, t1, t2, km = _route(case, req[r1][1], int(o_[r1]), int(o_[r2]), int(d_[r1]), int(d_[r2]),
                                           d1_first)
                if at_o2 - case["req_time_s"][r2] > case["req_max_wait_s"][r2]:
                    continue
                drop1, drop2 = (t1, t2) if d1_first else (t2, t1)
                direct2 = case["time_s"][_bin(bins, at_o2), int(o_[r2]), int(d_[r2])]
                if drop1 - req[r1][2] > case["max_detour_s"] or (drop2 - at_o2) - direct2 > case["max_detour_s"]:
                    continue
                if t2 - req[r1][2] >= direct2:
                    continue
                last = int(d_[r2]) if d1_first else int(d_[r1])
                b3 = _bin(bins, t2)
                c = _nearest_station(case["time_s"], case["station_place"], b3, last)
                on_km = case["dist_km"][b3, last, case["station_place"][c]] if c >= 0 else 0.0
                extra_km = km - req[r1][4]
                if soc[v] - (extra_km + on_km) * kwh_per_km[v] < 0:
                    continue
                options.append((t2 - req[r1][2], v, order, r1, at_o2, drop1, drop2, t2, extra_km, last, b3))
        if not options:
            continue
        _, v, order, r1, at_o2, drop1, drop2, t2, extra_km, last, b3 = min(options, key=lambda x: x[:3])
        req[r1][2] = drop1
        out["vehicle"][r2] = v
        req[r2] = (req[r1][1], at_o2, drop2, 0.0, extra_km, extra_km * kwh_per_km[v])
        out["pool"][r1], out["pool"][r2] = r2, r1
        soc[v] -= extra_km * kwh_per_km[v]
        pos[v], free[v], out["open"][v] = last, t2, -1
        done.append(r2)
        _maybe_charge(v, r2 if order == 0 else r1, t2, b3, last, case, state, out)
    return done


def _rebalance(t, demand, case, state) -> list[tuple]:
    """One round of moves (the rules of :mod:`kernels.dispatch.rebalance`), as plain lists."""
    pos, soc, free, _ = state
    zone, anchor = case["place_zone"], case["zone_anchor"]
    time_s, dist_km, kwh_per_km = case["time_s"], case["dist_km"], case["veh_kwh_per_km"]
    b = _bin(case["bin_start_s"], t)
    available = sum(1.0 for v in range(len(pos)) if free[v] <= t + case["lookahead_s"])
    total = sum(float(x) for x in demand)
    deficit = [available * float(x) / total if total > 0 else 0.0 for x in demand]
    for v in range(len(pos)):
        if zone[pos[v]] >= 0 and free[v] <= t + case["lookahead_s"]:
            deficit[zone[pos[v]]] -= 1.0
    moves, moved = [], set()
    while deficit:
        zt = max(range(len(deficit)), key=lambda z: (deficit[z], -z))
        if deficit[zt] < 1.0:
            break
        a = int(anchor[zt])
        c = _nearest_station(time_s, case["station_place"], b, a)
        on_km = dist_km[b, a, case["station_place"][c]] if c >= 0 else 0.0
        options = []
        for v in range(len(pos)):
            zs = zone[pos[v]]
            if v in moved or free[v] > t or zs == zt or (zs >= 0 and deficit[zs] > -1.0):
                continue
            energy = dist_km[b, pos[v], a] * kwh_per_km[v]
            if soc[v] - energy < case["params"][P_CHARGE_BELOW] * case["veh_battery_kwh"][v]:
                continue
            if soc[v] - energy - on_km * kwh_per_km[v] < 0:
                continue
            options.append((time_s[b, pos[v], a], v))
        if not options:
            deficit[zt] = 0.0
            continue
        tt, v = min(options)
        km = dist_km[b, pos[v], a]
        moves.append(((t, t + tt, km, km * kwh_per_km[v]), (v, a)))
        if zone[pos[v]] >= 0:
            deficit[zone[pos[v]]] += 1.0
        deficit[zt] -= 1.0
        soc[v] -= km * kwh_per_km[v]
        pos[v], free[v] = a, t + tt
        moved.add(v)
    return moves


def batch_dispatch_reference(**case):
    """Same inputs (as keywords) and outputs as :func:`kernels.dispatch.batch.batch_dispatch`."""
    req_time, max_wait, batch_s = case["req_time_s"], case["req_max_wait_s"], case["batch_s"]
    n_req, n_veh = len(req_time), len(case["veh_place"])
    state = ([int(p) for p in case["veh_place"]], [float(s) for s in case["veh_soc_kwh"]], [0.0] * n_veh,
             [0.0] * (int(case["plug_ptr"][-1]) if len(case["plug_ptr"]) else 0))
    out = {"vehicle": np.full(n_req, -1, np.int64), "req": np.full((n_req, N_REQ_OUT), np.nan),
           "ses": [], "ses_int": [], "open": [-1] * n_veh, "pool": np.full(n_req, -1, np.int64)}
    pending = list(range(n_req))  # not yet arrived
    waiting: list[int] = []
    t = 0.0
    moves: list[tuple] = []
    rebalance_s = case.get("rebalance_s", 0.0)
    next_move = 0.0 if rebalance_s > 0 else math.inf
    while pending or waiting:
        if not waiting:
            t = max(t, math.ceil(min(req_time[pending[0]], next_move) / batch_s) * batch_s)
        while pending and req_time[pending[0]] <= t:
            waiting.append(pending.pop(0))
        waiting = [r for r in waiting if t - req_time[r] <= max_wait[r]]
        idle = [v for v in range(n_veh) if state[2][v] <= t]
        if waiting and idle:
            cost = np.array([[_cost(t, r, v, case, state[0], state[1]) for v in idle] for r in waiting])
            rows, cols = linear_sum_assignment(cost)
            matched = [(waiting[i], idle[j]) for i, j in zip(rows, cols, strict=True) if cost[i, j] < INFEASIBLE_S]
            for r, v in matched:
                _serve(t, r, v, case, state, out)
            served = {r for r, _ in matched}
            waiting = [r for r in waiting if r not in served]
        if case.get("pooling", False) and waiting:
            inserted = set(_insert(t, waiting, case, state, out))
            waiting = [r for r in waiting if r not in inserted]
        if t >= next_move:
            rate = case["forecast_rate"][min(int(t // case["forecast_bin_s"]), len(case["forecast_rate"]) - 1)]
            moves += _rebalance(t, [x * case["lookahead_s"] for x in rate], case, state)
            next_move = (math.floor(t / rebalance_s) + 1) * rebalance_s
        t += batch_s
    return (out["vehicle"], out["req"], np.array(out["ses"], float).reshape(-1, N_SES_OUT),
            np.array(out["ses_int"], np.int64).reshape(-1, N_SES_INT), np.array(state[1], float),
            np.array(state[0], np.int64), np.array(state[2], float),
            np.array([m[0] for m in moves], float).reshape(-1, 4),
            np.array([m[1] for m in moves], np.int64).reshape(-1, 2), out["pool"])
