"""The dispatch kernel against its plain-Python twin, and the invariants of what it returns."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.dispatch.layout import (
    R_DEPART,
    R_DROPOFF,
    R_ENERGY_KWH,
    R_PICKUP,
    S_DRIVE_KWH,
    S_END,
    S_KWH,
    S_SOC_END,
    S_SOC_START,
    S_START,
    SI_PLUG,
    SI_REQUEST,
    SI_VEHICLE,
)
from kernels.dispatch.loop import charge_time_s, dispatch
from kernels.dispatch.rebalance import M_END, M_KWH, M_START, MI_VEHICLE
from kernels.dispatch.reference import charge_time_reference, dispatch_reference


def random_case(seed: int, n_places: int, n_bins: int, n_veh: int, n_req: int, n_stations: int):
    """A small random city: places in a 10 km square, times by bin (congestion factor per bin)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 10, (n_places, 2))
    km = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2)  # Manhattan distance
    factor = rng.uniform(1.0, 2.0, n_bins)
    time_s = np.stack([km / 30.0 * 3600.0 * f for f in factor])  # 30 km/h at free flow
    dist_km = np.stack([km] * n_bins)
    bin_start_s = np.arange(n_bins) * 3600.0
    req_time = np.sort(rng.uniform(0, n_bins * 3600.0, n_req))
    capacity = rng.uniform(5.0, 60.0, n_veh)  # small batteries so that charging happens
    plugs = rng.integers(1, 3, n_stations)
    return dict(
        req_time_s=req_time,
        req_origin=rng.integers(0, n_places, n_req),
        req_dest=rng.integers(0, n_places, n_req),
        req_max_wait_s=rng.uniform(300.0, 3000.0, n_req),
        req_party=rng.integers(1, 5, n_req),
        bin_start_s=bin_start_s,
        time_s=time_s,
        dist_km=dist_km,
        veh_place=rng.integers(0, n_places, n_veh),
        veh_soc_kwh=capacity * rng.uniform(0.3, 1.0, n_veh),
        veh_battery_kwh=capacity,
        veh_kwh_per_km=rng.uniform(0.12, 0.25, n_veh),
        veh_seats=rng.integers(2, 7, n_veh),
        station_place=rng.integers(0, n_places, n_stations),
        station_power_kw=rng.uniform(7.0, 120.0, n_stations),
        plug_ptr=np.concatenate([[0], np.cumsum(plugs)]).astype(np.int64),
        params=np.array([0.5, 0.9, 0.8]),
    )


cases = st.builds(
    random_case,
    seed=st.integers(0, 2**31),
    n_places=st.integers(1, 8),
    n_bins=st.integers(1, 4),
    n_veh=st.integers(1, 6),
    n_req=st.integers(0, 60),
    n_stations=st.integers(0, 3),
)


@settings(max_examples=60, deadline=None)
@given(cases)
def test_kernel_equals_reference(case):
    got = dispatch(**case)
    want = dispatch_reference(**case)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(cases)
def test_invariants(case):
    check_invariants(case, dispatch(**case))


def check_invariants(case, outputs) -> None:
    """What any dispatch policy's outputs must satisfy (served once, one place, SoC, plugs, energy),
    counting the rebalancing moves (``mov_out``, ``mov_int``) if the policy returns them."""
    req_vehicle, req_out, ses_out, ses_int, soc = outputs[:5]
    mov_out, mov_int = outputs[7:9] if len(outputs) > 7 else (np.zeros((0, 4)), np.zeros((0, 2), np.int64))
    served = req_vehicle >= 0
    # A rider is served at most once: each request has one vehicle, and the vehicle's jobs
    # (pickup + trip, then any charging) never overlap in time: a vehicle is in one place.
    # Pooled riders (``pool_with``, the tenth output of a pooling policy) share one ride: their two
    # requests are one job, from the first departure to the last drop-off.
    pool = outputs[9] if len(outputs) > 9 else np.full(len(req_vehicle), -1)
    assert np.all(pool[pool[pool >= 0]] == np.flatnonzero(pool >= 0))  # pairs are mutual
    assert np.all(req_vehicle[pool[pool >= 0]] == req_vehicle[pool >= 0])  # on the same vehicle
    pairs = [(r, int(pool[r])) for r in np.flatnonzero(pool >= 0) if r < pool[r]]
    for a, b in pairs:
        assert case["req_party"][a] + case["req_party"][b] <= case["veh_seats"][req_vehicle[a]]
    jobs = [(req_out[r, R_DEPART], req_out[r, R_DROPOFF], int(req_vehicle[r]))
            for r in np.nonzero(served & (pool < 0))[0]]
    jobs += [(min(req_out[a, R_DEPART], req_out[b, R_DEPART]), max(req_out[a, R_DROPOFF], req_out[b, R_DROPOFF]),
              int(req_vehicle[a])) for a, b in pairs]
    jobs += [(s[S_START], s[S_END], int(i[SI_VEHICLE])) for s, i in zip(ses_out, ses_int, strict=True)]
    jobs += [(m[M_START], m[M_END], int(i[MI_VEHICLE])) for m, i in zip(mov_out, mov_int, strict=True)]
    for v in range(len(case["veh_place"])):
        spans = sorted((a, b) for a, b, w in jobs if w == v)
        for (_, end), (start, _) in zip(spans[:-1], spans[1:], strict=False):
            assert start >= end - 1e-6
    # Waits within the rider's limit, times in order.
    wait = req_out[served, R_PICKUP] - case["req_time_s"][served]
    assert np.all(wait <= case["req_max_wait_s"][served] + 1e-9)
    assert np.all(req_out[served, R_PICKUP] <= req_out[served, R_DROPOFF])
    # State of charge in [0, 1] at every session and at the end.
    assert np.all(ses_out[:, S_SOC_START] >= -1e-12) and np.all(ses_out[:, S_SOC_END] <= 1 + 1e-12)
    assert np.all(soc >= -1e-9) and np.all(soc <= case["veh_battery_kwh"] + 1e-9)
    # A plug serves one vehicle at a time.
    for plug in np.unique(ses_int[:, SI_PLUG]):
        rows = ses_out[ses_int[:, SI_PLUG] == plug]
        rows = rows[np.argsort(rows[:, S_START])]
        assert np.all(rows[1:, S_START] >= rows[:-1, S_END] - 1e-9)
    # Sessions follow a drop-off of the same vehicle.
    assert np.all(req_vehicle[ses_int[:, SI_REQUEST]] == ses_int[:, SI_VEHICLE])
    # Energy balance per vehicle: start + charged − driven = end.
    n_veh = len(case["veh_place"])
    driven = np.zeros(n_veh)
    driven += np.bincount(req_vehicle[served], req_out[served, R_ENERGY_KWH], n_veh)
    driven += np.bincount(ses_int[:, SI_VEHICLE], ses_out[:, S_DRIVE_KWH], n_veh)
    driven += np.bincount(mov_int[:, MI_VEHICLE], mov_out[:, M_KWH], n_veh)
    charged = np.bincount(ses_int[:, SI_VEHICLE], ses_out[:, S_KWH], n_veh)
    np.testing.assert_allclose(case["veh_soc_kwh"] + charged - driven, soc, atol=1e-9)


@pytest.mark.parametrize(("s0", "s1"), [(0.1, 0.5), (0.2, 0.8), (0.5, 0.9), (0.85, 0.95), (0.9, 0.9)])
def test_charge_time_matches_numerical_integration(s0, s1):
    """The closed form against a fine Euler integration of C ds/dt = P(s) (taper above 80 %)."""
    capacity, power, taper = 60.0, 50.0, 0.8
    assert charge_time_s(s0, s1, capacity, power, taper) == pytest.approx(
        charge_time_reference(s0, s1, capacity, power, taper), rel=1e-12)
    s, t, dt = s0, 0.0, 0.05
    while s < s1:
        kw = power if s < taper else power * (1 - s) / (1 - taper)
        s += kw * dt / 3600.0 / capacity
        t += dt
    assert charge_time_s(s0, s1, capacity, power, taper) == pytest.approx(t, abs=0.2)
