"""Ride pooling by insertion: a waiting rider joins a vehicle already on its way to one rider.

After each batch's assignment (:func:`kernels.dispatch.batch.batch_dispatch`), every request
still waiting (in order of request time) may be inserted into an *open* vehicle: one that is
driving to pick up a single rider ``r1`` (its pickup at ``o1`` is still ahead, at ``pick1 > T``),
that will not go to charge after ``r1``, and that has the seats for both parties. From ``o1`` the
vehicle drives to the new rider's origin ``o2``, then to both destinations in either order
(``o2 → d1 → d2`` or ``o2 → d2 → d1``), each leg on the table of the bin it starts in. An
insertion is feasible if the new rider waits no longer than their maximum, neither rider's ride
is more than ``max_detour_s`` longer (``r1``: than its planned drop-off; ``r2``: than its direct
trip), the insertion adds less time to the vehicle's route than the new rider's direct trip (else
sharing saves no driving), and the vehicle has the charge for the extra km and the drive on to the nearest station.
Among feasible insertions the one that adds the least time to the vehicle's route wins (ties: the
lower vehicle, then ``d1`` first). Only one rider is inserted per vehicle.

The km and energy of the shared route are split so that they add up to what the vehicle drives:
``r1`` keeps its pickup and planned trip km; ``r2`` gets the extra km (``R_PICKUP_KM`` 0,
``R_TRIP_KM`` the added km, ``R_ENERGY_KWH`` their energy). ``pool_with[r]`` names the co-rider.
The plain-Python twin is :func:`kernels.dispatch.batch_reference._insert`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.dispatch.layout import P_CHARGE_BELOW, P_CHARGE_TO, P_TAPER_FROM
from kernels.dispatch.loop import _charge, time_bin


@njit(cache=True)
def _route(pick1, o1, o2, d1, d2, d1_first, bin_start_s, time_s, dist_km):
    """From ``o1`` at ``pick1``: arrival at ``o2``, at the first and second drop-off, route km."""
    b = time_bin(bin_start_s, pick1)
    at_o2 = pick1 + time_s[b, o1, o2]
    km = dist_km[b, o1, o2]
    first, second = (d1, d2) if d1_first else (d2, d1)
    b = time_bin(bin_start_s, at_o2)
    t_first = at_o2 + time_s[b, o2, first]
    km += dist_km[b, o2, first]
    b = time_bin(bin_start_s, t_first)
    t_second = t_first + time_s[b, first, second]
    km += dist_km[b, first, second]
    return at_o2, t_first, t_second, km


@njit(cache=True)
def insert_riders(  # long: the search over open vehicles and both orders, then the update
    t_now, waiting, req_time_s, req_origin, req_dest, req_max_wait_s, req_party, max_detour_s,
    bin_start_s, time_s, dist_km, veh_seats, veh_battery_kwh, veh_kwh_per_km,
    station_place, station_power_kw, plug_ptr, params, nearest,
    pos, soc, free, plug_free, open_req, req_vehicle, req_out, pool_with, ses_out, ses_int, n_ses,
):
    """Insert waiting requests into open vehicles at ``t_now``; returns (inserted mask, n_ses)."""
    inserted = np.zeros(len(waiting), np.bool_)
    below, target_frac, taper = params[P_CHARGE_BELOW], params[P_CHARGE_TO], params[P_TAPER_FROM]
    for i in range(len(waiting)):
        r2 = waiting[i]
        o2, d2 = req_origin[r2], req_dest[r2]
        best_v, best_added, best_first = -1, math.inf, True
        for v in range(len(pos)):
            r1 = open_req[v]
            if r1 < 0 or req_out[r1, 1] <= t_now or req_party[r1] + req_party[r2] > veh_seats[v]:
                continue
            pick1, drop1 = req_out[r1, 1], req_out[r1, 2]
            for d1_first in (True, False):
                at_o2, t_first, t_second, km = _route(pick1, req_origin[r1], o2, req_dest[r1], d2, d1_first,
                                                      bin_start_s, time_s, dist_km)
                if at_o2 - req_time_s[r2] > req_max_wait_s[r2]:
                    continue
                new_drop1, new_drop2 = (t_first, t_second) if d1_first else (t_second, t_first)
                direct2 = time_s[time_bin(bin_start_s, at_o2), o2, d2]
                if new_drop1 - drop1 > max_detour_s or (new_drop2 - at_o2) - direct2 > max_detour_s:
                    continue
                if t_second - drop1 >= direct2:  # no saving against a trip of its own
                    continue
                last = d2 if d1_first else req_dest[r1]
                b3 = time_bin(bin_start_s, t_second)
                c = nearest[b3, last]
                on_km = dist_km[b3, last, station_place[c]] if c >= 0 else 0.0
                extra_km = km - req_out[r1, 4]
                if soc[v] - (extra_km + on_km) * veh_kwh_per_km[v] < 0:
                    continue
                if t_second - drop1 < best_added:
                    best_v, best_added, best_first = v, t_second - drop1, d1_first
        if best_v < 0:
            continue
        v = best_v
        r1 = open_req[v]
        at_o2, t_first, t_second, km = _route(req_out[r1, 1], req_origin[r1], o2, req_dest[r1], d2, best_first,
                                              bin_start_s, time_s, dist_km)
        extra_km = km - req_out[r1, 4]
        req_out[r1, 2] = t_first if best_first else t_second
        req_vehicle[r2] = v
        req_out[r2, 0] = req_out[r1, 1]
        req_out[r2, 1] = at_o2
        req_out[r2, 2] = t_second if best_first else t_first
        req_out[r2, 3] = 0.0
        req_out[r2, 4] = extra_km
        req_out[r2, 5] = extra_km * veh_kwh_per_km[v]
        pool_with[r1], pool_with[r2] = r2, r1
        soc[v] -= extra_km * veh_kwh_per_km[v]
        last, r_last = (d2, r2) if best_first else (req_dest[r1], r1)
        pos[v], free[v], open_req[v] = last, t_second, -1
        inserted[i] = True
        b3 = time_bin(bin_start_s, t_second)
        c = nearest[b3, last]
        if c >= 0 and soc[v] < below * veh_battery_kwh[v]:
            _charge(v, r_last, c, t_second, b3, last, time_s, dist_km, station_place, station_power_kw, plug_ptr,
                    plug_free, veh_battery_kwh, veh_kwh_per_km, soc, pos, free, target_frac, taper, ses_out, ses_int,
                    n_ses)
            n_ses += 1
    return inserted, n_ses
