"""The batch-assignment dispatch against its plain-Python twin, and the invariants of any policy."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_dispatch_kernel import check_invariants, random_case

from kernels.dispatch.batch import batch_dispatch
from kernels.dispatch.batch_reference import batch_dispatch_reference
from kernels.dispatch.layout import R_DEPART, R_PICKUP
from kernels.dispatch.loop import dispatch


def with_zones(case: dict, batch_s: float, rebalance_s: float, n_zones: int, seed: int, pooling: bool = False,
               max_detour_s: float = 600.0) -> dict:
    """``case`` with batch and rebalancing inputs: random zones, each anchored at one of its places."""
    rng = np.random.default_rng(seed)
    n_places = case["time_s"].shape[1]
    n_zones = min(n_zones, n_places)
    place_zone = rng.integers(-1, n_zones, n_places)
    anchor = rng.choice(n_places, n_zones, replace=False)
    place_zone[anchor] = np.arange(n_zones)
    return {**case, "batch_s": batch_s, "rebalance_s": rebalance_s, "lookahead_s": 1200.0,
            "place_zone": place_zone, "zone_anchor": anchor.astype(np.int64), "forecast_bin_s": 1800.0,
            "forecast_rate": rng.uniform(0.0, 0.01, (4, n_zones)), "pooling": pooling, "max_detour_s": max_detour_s}


cases = st.builds(
    lambda batch_s, rebalance_s, n_zones, pooling, max_detour_s, **kw: with_zones(
        random_case(**kw), batch_s, rebalance_s, n_zones, kw["seed"] + 1, pooling, max_detour_s),
    pooling=st.booleans(),
    max_detour_s=st.sampled_from([0.0, 300.0, 1800.0]),
    batch_s=st.sampled_from([10.0, 30.0, 120.0, 600.0]),
    rebalance_s=st.sampled_from([0.0, 300.0, 900.0]),
    n_zones=st.integers(1, 3),
    seed=st.integers(0, 2**31),
    n_places=st.integers(1, 8),
    n_bins=st.integers(1, 4),
    n_veh=st.integers(1, 6),
    n_req=st.integers(0, 60),
    n_stations=st.integers(0, 3),
)


@settings(max_examples=60, deadline=None)
@given(cases)
def test_batch_kernel_equals_reference(case):
    got = batch_dispatch(**case)
    want = batch_dispatch_reference(**case)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(cases)
def test_batch_invariants(case):
    out = batch_dispatch(**case)
    check_invariants(case, out)
    req_vehicle, req_out = out[0], out[1]
    served = req_vehicle >= 0
    # Vehicles leave at a batch time, never before the request; an inserted (pooled) rider's
    # ride starts when the vehicle picks up the first rider.
    pool = out[9]
    solo = served & (pool < 0)
    depart = req_out[solo, R_DEPART]
    np.testing.assert_allclose(depart / case["batch_s"], np.round(depart / case["batch_s"]), atol=1e-9)
    def on_batch(t: float) -> bool:
        return abs(t / case["batch_s"] - round(t / case["batch_s"])) < 1e-9

    for a in np.flatnonzero(pool >= 0):  # one of a pair left at a batch time, the other joined it
        b = pool[a]
        assert ((req_out[b, R_DEPART] == req_out[a, R_PICKUP] and on_batch(req_out[a, R_DEPART]))
                or (req_out[a, R_DEPART] == req_out[b, R_PICKUP] and on_batch(req_out[b, R_DEPART])))
    depart = req_out[served, R_DEPART]
    assert np.all(depart >= case["req_time_s"][served])
    assert np.all(req_out[served, R_PICKUP] >= depart)


def test_one_batch_is_the_least_total_pickup_time():
    """Three riders and three idle vehicles in one batch: the matching is the brute-force optimum
    over all 6 permutations (1440 s of pickup), where taking riders one by one (the nearest-vehicle
    kernel) gives rider 0 the vehicle already at its place and ends with 2160 s."""
    km = np.full((6, 6), 9.0)
    np.fill_diagonal(km, 0.0)
    km[0, 1] = km[1, 0] = 1.0
    km[0, 4] = km[4, 0] = 2.0
    case = dict(
        req_time_s=np.array([1.0, 2.0, 3.0]), req_origin=np.array([0, 1, 2]), req_dest=np.array([5, 5, 5]),
        req_max_wait_s=np.full(3, 1e5), req_party=np.ones(3, np.int64), bin_start_s=np.array([0.0]),
        time_s=(km * 120.0)[None], dist_km=km[None], veh_place=np.array([0, 4, 3]), veh_soc_kwh=np.full(3, 1e3),
        veh_battery_kwh=np.full(3, 1e3), veh_kwh_per_km=np.full(3, 0.15), veh_seats=np.full(3, 4),
        station_place=np.zeros(0, np.int64), station_power_kw=np.zeros(0), plug_ptr=np.array([0], np.int64),
        params=np.array([0.25, 0.9, 0.8]))
    pickup_s = (km * 120.0)[np.ix_([0, 1, 2], [0, 4, 3])]  # rider × vehicle
    best_s = min(sum(pickup_s[i, p[i]] for i in range(3)) for p in itertools.permutations(range(3)))
    batch = batch_dispatch(**case, batch_s=30.0)
    assert batch[0].tolist() == [1, 0, 2]
    assert (batch[1][:, R_PICKUP] - batch[1][:, R_DEPART]).sum() == best_s == 1440.0
    greedy = dispatch(**case)
    assert greedy[0][0] == 0
    assert (greedy[1][:, R_PICKUP] - greedy[1][:, R_DEPART]).sum() == 2160.0
