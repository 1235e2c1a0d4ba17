"""The dispatch loop as a Numba kernel: nearest vehicle by arrival time, and charging at the plug.

The rules are in :mod:`kernels.dispatch.reference`'s docstring; this kernel follows them with the
same tie-breaks, over flat arrays, in one pass over the requests in order of request time.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.dispatch.layout import (
    N_REQ_OUT,
    N_SES_INT,
    N_SES_OUT,
    P_CHARGE_BELOW,
    P_CHARGE_TO,
    P_TAPER_FROM,
)


@njit(cache=True)
def charge_time_s(soc_from: float, soc_to: float, capacity_kwh: float, power_kw: float,
                  taper_from: float) -> float:
    """Seconds to charge from ``soc_from`` to ``soc_to`` (fractions), tapering above ``taper_from``."""
    if soc_to <= soc_from:
        return 0.0
    hours = 0.0
    if soc_from < taper_from:
        hours += capacity_kwh * (min(soc_to, taper_from) - soc_from) / power_kw
    if soc_to > taper_from:
        start = max(soc_from, taper_from)
        hours += capacity_kwh * (1.0 - taper_from) / power_kw * math.log((1.0 - start) / (1.0 - soc_to))
    return hours * 3600.0


@njit(cache=True)
def time_bin(bin_start_s: np.ndarray, t: float) -> int:
    """Index of the time-of-day bin containing ``t`` (the first bin before it starts)."""
    b = np.searchsorted(bin_start_s, t, side="right") - 1
    return max(b, 0)


@njit(cache=True)
def nearest_stations(time_s: np.ndarray, station_place: np.ndarray) -> np.ndarray:
    """``[b, place]`` → the station fastest to reach from ``place`` in bin ``b`` (−1 if none)."""
    n_bins, n_places = time_s.shape[0], time_s.shape[1]
    out = np.full((n_bins, n_places), -1, np.int64)
    for b in range(n_bins):
        for p in range(n_places):
            best = math.inf
            for c in range(len(station_place)):
                tt = time_s[b, p, station_place[c]]
                if tt < best:
                    best = tt
                    out[b, p] = c
    return out


@njit(cache=True)
def _charge(v, r, c, drop, b2, d, time_s, dist_km, station_place, station_power_kw, plug_ptr,
            plug_free, veh_battery_kwh, veh_kwh_per_km, soc, pos, free, target_frac, taper,
            ses_out, ses_int, n_ses):
    """Send vehicle ``v`` from its drop-off at place ``d`` to charge at station ``c``."""
    place = station_place[c]
    capacity = veh_battery_kwh[v]
    drive = dist_km[b2, d, place] * veh_kwh_per_km[v]
    arrive = drop + time_s[b2, d, place]
    soc[v] -= drive
    plug = plug_ptr[c]
    for p in range(plug_ptr[c] + 1, plug_ptr[c + 1]):
        if plug_free[p] < plug_free[plug]:
            plug = p
    begin = max(arrive, plug_free[plug])
    target = max(target_frac * capacity, soc[v])
    end = begin + charge_time_s(soc[v] / capacity, target / capacity, capacity, station_power_kw[c], taper)
    plug_free[plug] = end
    ses_out[n_ses, 0] = arrive
    ses_out[n_ses, 1] = begin
    ses_out[n_ses, 2] = end
    ses_out[n_ses, 3] = target - soc[v]
    ses_out[n_ses, 4] = soc[v] / capacity
    ses_out[n_ses, 5] = target / capacity
    ses_out[n_ses, 6] = drive
    ses_int[n_ses, 0] = v
    ses_int[n_ses, 1] = c
    ses_int[n_ses, 2] = plug
    ses_int[n_ses, 3] = r
    soc[v] = target
    pos[v] = place
    free[v] = end


@njit(cache=True)
def dispatch(  # long: one pass over the requests; the per-vehicle search is the hot loop
    req_time_s, req_origin, req_dest, req_max_wait_s, req_party,
    bin_start_s, time_s, dist_km,
    veh_place, veh_soc_kwh, veh_battery_kwh, veh_kwh_per_km, veh_seats,
    station_place, station_power_kw, plug_ptr, params,
):
    """Serve requests (sorted by ``req_time_s``, s) with a fleet and its charging stations.

    Inputs: per request its time (s), origin and destination place, maximum wait (s) and party
    size; time bins (``bin_start_s``), ``time_s[b, i, j]`` (s) and ``dist_km[b, i, j]`` (km);
    per vehicle its starting place, state of charge (kWh), capacity (kWh), consumption (kWh/km,
    with the temperature factor applied) and seats; per station its place, power per plug (kW)
    and ``plug_ptr`` (CSR: station ``c`` owns plugs ``plug_ptr[c]:plug_ptr[c+1]``); ``params``
    (:mod:`kernels.dispatch.layout`). Returns ``req_vehicle`` (−1 = unserved), ``req_out``
    (``R_*`` columns), the charging sessions ``ses_out``/``ses_int`` (``S_*``, ``SI_*``) and the
    vehicles' final state of charge (kWh), place and free time (s).
    """
    n_req, n_veh = len(req_time_s), len(veh_place)
    pos = veh_place.copy()
    soc = veh_soc_kwh.astype(np.float64).copy()
    free = np.zeros(n_veh)
    plug_free = np.zeros(plug_ptr[-1] if len(plug_ptr) else 0)
    req_vehicle = np.full(n_req, -1, np.int64)
    req_out = np.full((n_req, N_REQ_OUT), np.nan)
    ses_out = np.zeros((n_req, N_SES_OUT))
    ses_int = np.zeros((n_req, N_SES_INT), np.int64)
    n_ses = 0
    nearest = nearest_stations(time_s, station_place)
    below, target_frac, taper = params[P_CHARGE_BELOW], params[P_CHARGE_TO], params[P_TAPER_FROM]
    for r in range(n_req):
        t, o, d = req_time_s[r], req_origin[r], req_dest[r]
        best_v, best_wait = -1, math.inf
        best_b0 = best_b1 = best_b2 = 0
        best_start = best_pick = best_drop = best_energy = 0.0
        for v in range(n_veh):
            if veh_seats[v] < req_party[r]:
                continue
            start = max(free[v], t)
            b0 = time_bin(bin_start_s, start)
            pick = start + time_s[b0, pos[v], o]
            wait = pick - t
            if wait > req_max_wait_s[r] or wait >= best_wait:
                continue
            b1 = time_bin(bin_start_s, pick)
            drop = pick + time_s[b1, o, d]
            b2 = time_bin(bin_start_s, drop)
            c = nearest[b2, d]
            on_km = dist_km[b2, d, station_place[c]] if c >= 0 else 0.0
            energy = (dist_km[b0, pos[v], o] + dist_km[b1, o, d]) * veh_kwh_per_km[v]
            if soc[v] - energy - on_km * veh_kwh_per_km[v] < 0:
                continue
            best_v, best_wait = v, wait
            best_b0, best_b1, best_b2 = b0, b1, b2
            best_start, best_pick, best_drop, best_energy = start, pick, drop, energy
        if best_v < 0:
            continue
        v = best_v
        req_vehicle[r] = v
        req_out[r, 0] = best_start
        req_out[r, 1] = best_pick
        req_out[r, 2] = best_drop
        req_out[r, 3] = dist_km[best_b0, pos[v], o]
        req_out[r, 4] = dist_km[best_b1, o, d]
        req_out[r, 5] = best_energy
        soc[v] -= best_energy
        pos[v] = d
        free[v] = best_drop
        c = nearest[best_b2, d]
        if c >= 0 and soc[v] < below * veh_battery_kwh[v]:
            _charge(v, r, c, best_drop, best_b2, d, time_s, dist_km, station_place, station_power_kw,
                    plug_ptr, plug_free, veh_battery_kwh, veh_kwh_per_km, soc, pos, free, target_frac,
                    taper, ses_out, ses_int, n_ses)
            n_ses += 1
    return req_vehicle, req_out, ses_out[:n_ses].copy(), ses_int[:n_ses].copy(), soc, pos, free
