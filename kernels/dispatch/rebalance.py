"""Rebalancing: send idle vehicles toward the zone with the largest forecast demand deficit.

At a rebalancing time ``T`` the vehicles free by ``T + lookahead_s`` are *available*. Each zone's
*share* of them is proportional to its forecast requests over the look-ahead (``demand[z]``), and
its *deficit* is that share minus its *supply*: the available vehicles whose place (where they
are, or where they will be when free) is in the zone. While some zone
has a deficit of at least one vehicle, the idle vehicle nearest (by time) to that zone's anchor
place is sent there, taken from a zone with a surplus of at least one vehicle or from outside
every zone (a station); ties go to the lower zone and the lower vehicle index. A vehicle moves only
if it arrives with at least ``charge_below`` of its battery and enough charge to reach the
anchor's nearest station. A zone that no vehicle can serve drops out of this round. Each vehicle
moves at most once per round. The drive's energy is recorded, so the energy balance stays exact.

Used by :func:`kernels.dispatch.batch.batch_dispatch`; the plain-Python twin is
:func:`kernels.dispatch.batch_reference._rebalance`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.dispatch.loop import time_bin

N_MOVE_OUT = 4  # start_s, end_s, km, kwh
M_START, M_END, M_KM, M_KWH = 0, 1, 2, 3
N_MOVE_INT = 2  # vehicle, destination place
MI_VEHICLE, MI_PLACE = 0, 1


@njit(cache=True)
def rebalance(  # long: one round of moves; the zone and vehicle searches are one loop
    t_now, lookahead_s, demand, place_zone, zone_anchor, bin_start_s, time_s, dist_km, pos, soc, free,
    veh_battery_kwh, veh_kwh_per_km, below, nearest, station_place,
):
    """One round of moves at ``t_now`` (s). Updates ``pos``, ``soc`` (kWh) and ``free`` (s) in
    place; returns the moves as ``(mov_out[n, N_MOVE_OUT], mov_int[n, N_MOVE_INT])``."""
    n_veh, n_zones = len(pos), len(zone_anchor)
    available = 0.0
    for v in range(n_veh):
        if free[v] <= t_now + lookahead_s:
            available += 1.0
    total = 0.0
    for z in range(n_zones):
        total += demand[z]
    deficit = np.zeros(n_zones)
    if total > 0:
        for z in range(n_zones):
            deficit[z] = available * demand[z] / total
    for v in range(n_veh):
        z = place_zone[pos[v]]
        if z >= 0 and free[v] <= t_now + lookahead_s:
            deficit[z] -= 1.0
    mov_out = np.zeros((n_veh, N_MOVE_OUT))
    mov_int = np.zeros((n_veh, N_MOVE_INT), np.int64)
    moved = np.zeros(n_veh, np.bool_)
    n = 0
    b = time_bin(bin_start_s, t_now)
    while n_zones > 0:
        zt = 0
        for z in range(1, n_zones):
            if deficit[z] > deficit[zt]:
                zt = z
        if deficit[zt] < 1.0:
            break
        a = zone_anchor[zt]
        c = nearest[b, a]
        on_km = dist_km[b, a, station_place[c]] if c >= 0 else 0.0
        best_v, best_t = -1, math.inf
        for v in range(n_veh):
            if moved[v] or free[v] > t_now:
                continue
            zs = place_zone[pos[v]]
            if zs == zt or (zs >= 0 and deficit[zs] > -1.0):
                continue
            energy = dist_km[b, pos[v], a] * veh_kwh_per_km[v]
            if soc[v] - energy < below * veh_battery_kwh[v] or soc[v] - energy - on_km * veh_kwh_per_km[v] < 0:
                continue
            if time_s[b, pos[v], a] < best_t:
                best_v, best_t = v, time_s[b, pos[v], a]
        if best_v < 0:
            deficit[zt] = 0.0  # no vehicle can go: this zone drops out of the round
            continue
        v = best_v
        zs = place_zone[pos[v]]
        km = dist_km[b, pos[v], a]
        mov_out[n, M_START] = t_now
        mov_out[n, M_END] = t_now + best_t
        mov_out[n, M_KM] = km
        mov_out[n, M_KWH] = km * veh_kwh_per_km[v]
        mov_int[n, MI_VEHICLE] = v
        mov_int[n, MI_PLACE] = a
        n += 1
        soc[v] -= km * veh_kwh_per_km[v]
        pos[v] = a
        free[v] = t_now + best_t
        moved[v] = True
        deficit[zt] -= 1.0
        if zs >= 0:
            deficit[zs] += 1.0
    return mov_out[:n].copy(), mov_int[:n].copy()
