"""Batch assignment: every ``batch_s`` seconds, match the waiting requests to the idle vehicles.

At each batch time ``T`` (multiples of ``batch_s``) the requests that have arrived and are still
waiting, and the vehicles that are idle (free by ``T``), form a cost matrix of pickup travel times
(s); a pair is infeasible if the vehicle lacks the seats or the charge for the pickup, the trip and
the drive on to the nearest station, or if the rider would wait longer than their maximum.
:func:`scipy.optimize.linear_sum_assignment` picks the matching of least total pickup time among
those with the most feasible pairs. A request still unmatched when ``T − request time`` passes its
maximum wait is unserved. Drop-offs and charging follow the same rules as
:func:`kernels.dispatch.loop.dispatch` (the same :func:`~kernels.dispatch.loop._charge`).

The loop over batch times is Python (the solver is SciPy's); the cost matrix and the serving of
the matched pairs are Numba kernels, mirrored in :mod:`kernels.dispatch.batch_reference`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
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
from kernels.dispatch.loop import _charge, nearest_stations, time_bin
from kernels.dispatch.pooling import insert_riders
from kernels.dispatch.rebalance import N_MOVE_INT, N_MOVE_OUT, rebalance


@njit(cache=True)
def batch_costs(t_now, waiting, idle, req_time_s, req_origin, req_dest, req_max_wait_s, req_party,
                bin_start_s, time_s, dist_km, pos, soc, veh_kwh_per_km, veh_seats, nearest, station_place):
    """Pickup time (s) of each (waiting request, idle vehicle) pair at ``t_now``; INFEASIBLE_S if
    the vehicle lacks seats or charge, or the rider would wait past their maximum."""
    cost = np.full((len(waiting), len(idle)), INFEASIBLE_S)
    b0 = time_bin(bin_start_s, t_now)
    for i in range(len(waiting)):
        r = waiting[i]
        o, d = req_origin[r], req_dest[r]
        for j in range(len(idle)):
            v = idle[j]
            if veh_seats[v] < req_party[r]:
                continue
            tt = time_s[b0, pos[v], o]
            pick = t_now + tt
            if pick - req_time_s[r] > req_max_wait_s[r]:
                continue
            b1 = time_bin(bin_start_s, pick)
            b2 = time_bin(bin_start_s, pick + time_s[b1, o, d])
            c = nearest[b2, d]
            on_km = dist_km[b2, d, station_place[c]] if c >= 0 else 0.0
            energy = (dist_km[b0, pos[v], o] + dist_km[b1, o, d] + on_km) * veh_kwh_per_km[v]
            if soc[v] - energy < 0:
                continue
            cost[i, j] = tt
    return cost


@njit(cache=True)
def serve_pairs(  # long: serves each matched pair as the nearest-vehicle kernel does one request
    t_now, reqs, vehs, req_origin, req_dest, bin_start_s, time_s, dist_km, veh_battery_kwh, veh_kwh_per_km,
    station_place, station_power_kw, plug_ptr, params, nearest, pos, soc, free, plug_free,
    req_vehicle, req_out, ses_out, ses_int, n_ses, open_req,
):
    """Send vehicle ``vehs[k]`` from its place at ``t_now`` to serve request ``reqs[k]``, in order,
    then to charge if the drop-off leaves it below the threshold. ``open_req[v]`` becomes the
    request if the vehicle does not go to charge after it (pooling may join it), else −1.
    Returns the session count."""
    below, target_frac, taper = params[P_CHARGE_BELOW], params[P_CHARGE_TO], params[P_TAPER_FROM]
    for k in range(len(reqs)):
        r, v = reqs[k], vehs[k]
        o, d = req_origin[r], req_dest[r]
        b0 = time_bin(bin_start_s, t_now)
        pick = t_now + time_s[b0, pos[v], o]
        b1 = time_bin(bin_start_s, pick)
        drop = pick + time_s[b1, o, d]
        b2 = time_bin(bin_start_s, drop)
        energy = (dist_km[b0, pos[v], o] + dist_km[b1, o, d]) * veh_kwh_per_km[v]
        req_vehicle[r] = v
        req_out[r, 0] = t_now
        req_out[r, 1] = pick
        req_out[r, 2] = drop
        req_out[r, 3] = dist_km[b0, pos[v], o]
        req_out[r, 4] = dist_km[b1, o, d]
        req_out[r, 5] = energy
        soc[v] -= energy
        pos[v] = d
        free[v] = drop
        open_req[v] = r
        c = nearest[b2, d]
        if c >= 0 and soc[v] < below * veh_battery_kwh[v]:
            _charge(v, r, c, drop, b2, d, time_s, dist_km, station_place, station_power_kw, plug_ptr, plug_free,
                    veh_battery_kwh, veh_kwh_per_km, soc, pos, free, target_frac, taper, ses_out, ses_int, n_ses)
            n_ses += 1
            open_req[v] = -1
    return n_ses


def batch_dispatch(  # long: the batch clock around the solver, the cost kernel and the serving kernel
    req_time_s, req_origin, req_dest, req_max_wait_s, req_party,
    bin_start_s, time_s, dist_km,
    veh_place, veh_soc_kwh, veh_battery_kwh, veh_kwh_per_km, veh_seats,
    station_place, station_power_kw, plug_ptr, params, batch_s,
    rebalance_s=0.0, lookahead_s=1800.0, place_zone=None, zone_anchor=None, forecast_bin_s=3600.0,
    forecast_rate=None, pooling=False, max_detour_s=300.0,
):
    """Serve requests (sorted by time, s) by batch assignment every ``batch_s`` seconds.

    Inputs and outputs as :func:`kernels.dispatch.loop.dispatch`, plus ``batch_s`` (s), and the
    rebalancing moves ``mov_out``, ``mov_int`` (:mod:`kernels.dispatch.rebalance`). With
    ``rebalance_s > 0``, at the first batch time of every ``rebalance_s`` (s) idle vehicles move
    toward the zones of largest deficit: ``place_zone[place]`` (−1: no zone), ``zone_anchor[z]``
    (the place a vehicle goes to), ``forecast_rate[k, z]`` (forecast requests/s from zone ``z`` in
    the ``k``-th ``forecast_bin_s`` of the run) over ``lookahead_s`` (s). With ``pooling``,
    requests left waiting after a batch's assignment may join a vehicle on its way to one rider
    (:mod:`kernels.dispatch.pooling`, detours up to ``max_detour_s``); the tenth output
    ``pool_with[r]`` is the co-rider of a pooled request (−1 if none).
    """
    n_req, n_veh = len(req_time_s), len(veh_place)
    pos = np.asarray(veh_place, np.int64).copy()
    soc = np.asarray(veh_soc_kwh, np.float64).copy()
    free = np.zeros(n_veh)
    plug_free = np.zeros(plug_ptr[-1] if len(plug_ptr) else 0)
    req_vehicle = np.full(n_req, -1, np.int64)
    req_out = np.full((n_req, N_REQ_OUT), np.nan)
    ses_out = np.zeros((n_req, N_SES_OUT))
    ses_int = np.zeros((n_req, N_SES_INT), np.int64)
    n_ses = 0
    nearest = nearest_stations(time_s, station_place)
    waiting = np.zeros(0, np.int64)
    nxt, t_now = 0, 0.0
    moves = []
    open_req = np.full(n_veh, -1, np.int64)
    pool_with = np.full(n_req, -1, np.int64)
    next_move_s = 0.0 if rebalance_s > 0 else math.inf
    while nxt < n_req or len(waiting):
        if not len(waiting):  # jump to the first batch time at or after the next request or move
            t_now = max(t_now, math.ceil(min(req_time_s[nxt], next_move_s) / batch_s) * batch_s)
        arrived = int(np.searchsorted(req_time_s, t_now, side="right"))
        waiting = np.concatenate([waiting, np.arange(nxt, arrived, dtype=np.int64)])
        nxt = arrived
        waiting = waiting[t_now - req_time_s[waiting] <= req_max_wait_s[waiting]]
        idle = np.flatnonzero(free <= t_now)
        if len(waiting) and len(idle):
            cost = batch_costs(t_now, waiting, idle, req_time_s, req_origin, req_dest, req_max_wait_s, req_party,
                               bin_start_s, time_s, dist_km, pos, soc, veh_kwh_per_km, veh_seats, nearest,
                               station_place)
            rows, cols = linear_sum_assignment(cost)
            ok = cost[rows, cols] < INFEASIBLE_S
            rows, cols = rows[ok], cols[ok]
            n_ses = serve_pairs(t_now, waiting[rows], idle[cols], req_origin, req_dest, bin_start_s, time_s,
                                dist_km, veh_battery_kwh, veh_kwh_per_km, station_place, station_power_kw,
                                plug_ptr, params, nearest, pos, soc, free, plug_free, req_vehicle, req_out,
                                ses_out, ses_int, n_ses, open_req)
            waiting = np.delete(waiting, rows)
        if pooling and len(waiting):
            inserted, n_ses = insert_riders(
                t_now, waiting, req_time_s, req_origin, req_dest, req_max_wait_s, req_party, float(max_detour_s),
                bin_start_s, time_s, dist_km, veh_seats, veh_battery_kwh, veh_kwh_per_km, station_place,
                station_power_kw, plug_ptr, params, nearest, pos, soc, free, plug_free, open_req, req_vehicle,
                req_out, pool_with, ses_out, ses_int, n_ses)
            waiting = waiting[~inserted]
        if t_now >= next_move_s:
            k = min(int(t_now // forecast_bin_s), len(forecast_rate) - 1)
            moves.append(rebalance(t_now, lookahead_s, forecast_rate[k] * lookahead_s, place_zone, zone_anchor,
                                   bin_start_s, time_s, dist_km, pos, soc, free, veh_battery_kwh, veh_kwh_per_km,
                                   params[P_CHARGE_BELOW], nearest, station_place))
            next_move_s = (math.floor(t_now / rebalance_s) + 1) * rebalance_s
        t_now += batch_s
    mov_out = np.concatenate([m[0] for m in moves]) if moves else np.zeros((0, N_MOVE_OUT))
    mov_int = np.concatenate([m[1] for m in moves]) if moves else np.zeros((0, N_MOVE_INT), np.int64)
    return (req_vehicle, req_out, ses_out[:n_ses].copy(), ses_int[:n_ses].copy(), soc, pos, free,
            mov_out, mov_int, pool_with)
