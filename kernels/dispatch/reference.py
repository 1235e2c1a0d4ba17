"""The plain-Python twin of :func:`kernels.dispatch.loop.dispatch`, for the property tests.

Written straightforwardly with lists and ``min`` over tuples, with the same rules and tie-breaks
as the kernel:

* requests are taken in order of request time; each goes to the vehicle that can reach the rider
  first (a busy vehicle counts from when it is free), among those with the seats and enough
  charge for the pickup, the trip and the drive on to the nearest station; ties go to the lower
  vehicle index. If none can arrive within the rider's maximum wait, the request is unserved;
* after a drop-off below the charging threshold the vehicle drives to the nearest station (by
  time), takes the plug that is free first (ties: lower plug), queues if none is free, and charges
  to the target state of charge at the station's power, tapering linearly to zero at 100 % above
  the taper threshold.
"""

from __future__ import annotations

import math

import numpy as np

from kernels.dispatch.layout import (
    N_REQ_OUT,
    N_SES_INT,
    N_SES_OUT,
    P_CHARGE_BELOW,
    P_CHARGE_TO,
    P_TAPER_FROM,
)


def charge_time_reference(soc_from: float, soc_to: float, capacity_kwh: float, power_kw: float,
                          taper_from: float) -> float:
    """Seconds to charge from ``soc_from`` to ``soc_to`` (fractions, ``soc_to`` < 1).

    Constant power up to ``taper_from``; above it the power is ``power_kw × (1 − s) / (1 −
    taper_from)``, so ``C ds/dt = P (1 − s)/(1 − f)`` integrates to a logarithm.
    """
    if soc_to <= soc_from:
        return 0.0
    hours = 0.0
    if soc_from < taper_from:
        hours += capacity_kwh * (min(soc_to, taper_from) - soc_from) / power_kw
    if soc_to > taper_from:
        start = max(soc_from, taper_from)
        hours += capacity_kwh * (1.0 - taper_from) / power_kw * math.log((1.0 - start) / (1.0 - soc_to))
    return hours * 3600.0


def _bin(bin_start_s: np.ndarray, t: float) -> int:
    b = 0
    for i, start in enumerate(bin_start_s):
        if start <= t:
            b = i
    return b


def _nearest_station(time_s: np.ndarray, station_place: np.ndarray, b: int, place: int) -> int:
    if len(station_place) == 0:
        return -1
    return min(range(len(station_place)), key=lambda c: (time_s[b, place, station_place[c]], c))


def dispatch_reference(  # long: the whole loop in one place, as in the kernel it mirrors
    req_time_s, req_origin, req_dest, req_max_wait_s, req_party,
    bin_start_s, time_s, dist_km,
    veh_place, veh_soc_kwh, veh_battery_kwh, veh_kwh_per_km, veh_seats,
    station_place, station_power_kw, plug_ptr, params,
):
    """Same inputs and outputs as :func:`kernels.dispatch.loop.dispatch` (see there)."""
    n_req, n_veh = len(req_time_s), len(veh_place)
    pos = [int(p) for p in veh_place]
    soc = [float(s) for s in veh_soc_kwh]
    free = [0.0] * n_veh
    plug_free = [0.0] * int(plug_ptr[-1]) if len(plug_ptr) else []
    req_vehicle = np.full(n_req, -1, np.int64)
    req_out = np.full((n_req, N_REQ_OUT), np.nan)
    ses_out, ses_int = [], []
    below, target_frac, taper = params[P_CHARGE_BELOW], params[P_CHARGE_TO], params[P_TAPER_FROM]
    for r in range(n_req):
        t, o, d = float(req_time_s[r]), int(req_origin[r]), int(req_dest[r])
        options = []
        for v in range(n_veh):
            if veh_seats[v] < req_party[r]:
                continue
            start = max(free[v], t)
            b0 = _bin(bin_start_s, start)
            pick = start + time_s[b0, pos[v], o]
            if pick - t > req_max_wait_s[r]:
                continue
            b1 = _bin(bin_start_s, pick)
            drop = pick + time_s[b1, o, d]
            b2 = _bin(bin_start_s, drop)
            c = _nearest_station(time_s, station_place, b2, d)
            on_km = dist_km[b2, d, station_place[c]] if c >= 0 else 0.0
            energy = (dist_km[b0, pos[v], o] + dist_km[b1, o, d]) * veh_kwh_per_km[v]
            if soc[v] - energy - on_km * veh_kwh_per_km[v] < 0:
                continue
            options.append((pick - t, v, start, pick, drop, b0, b1, b2, c, energy))
        if not options:
            continue
        _, v, start, pick, drop, b0, b1, b2, c, energy = min(options, key=lambda x: (x[0], x[1]))
        req_vehicle[r] = v
        req_out[r] = (start, pick, drop, dist_km[b0, pos[v], o], dist_km[b1, o, d], energy)
        soc[v] -= energy
        pos[v], free[v] = d, drop
        capacity = veh_battery_kwh[v]
        if c < 0 or soc[v] >= below * capacity:
            continue
        place = int(station_place[c])
        drive = dist_km[b2, d, place] * veh_kwh_per_km[v]
        arrive = drop + time_s[b2, d, place]
        soc[v] -= drive
        plugs = range(int(plug_ptr[c]), int(plug_ptr[c + 1]))
        plug = min(plugs, key=lambda p: (plug_free[p], p))
        begin = max(arrive, plug_free[plug])
        target = max(target_frac * capacity, soc[v])
        end = begin + charge_time_reference(soc[v] / capacity, target / capacity, capacity,
                                            station_power_kw[c], taper)
        plug_free[plug] = end
        ses_out.append((arrive, begin, end, target - soc[v], soc[v] / capacity, target / capacity, drive))
        ses_int.append((v, c, plug, r))
        soc[v], pos[v], free[v] = target, place, end
    return (
        req_vehicle,
        req_out,
        np.array(ses_out, float).reshape(-1, N_SES_OUT),
        np.array(ses_int, np.int64).reshape(-1, N_SES_INT),
        np.array(soc, float),
        np.array(pos, np.int64),
        np.array(free, float),
    )
