"""Fleet sizing: the smallest fleet that meets a service target, and cost per trip.

The service target is a share of all requests picked up within a wait (e.g. 95 % within 10 min;
an unserved request counts as not met). :func:`smallest_fleet` runs a grid of fleet sizes (the
fleet-size against service curve), then bisects between the largest size that misses the target
and the smallest that meets it. Service grows with fleet size in expectation but one random draw
need not be monotone, so the answer is the smallest size *found* to meet the target with every
larger grid size meeting it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydantic import Field

from twin.config import StrictModel
from twin.robotaxi.fleet import FleetRun


@dataclass(frozen=True)
class ServiceTarget:
    """``share`` of requests picked up within ``wait_s`` seconds."""

    share: float = 0.95
    wait_s: float = 600.0


def share_within(run: FleetRun, wait_s: float) -> float:
    """Share of all requests picked up within ``wait_s`` (unserved requests count as late)."""
    trips = run.trips
    if len(trips) == 0:
        return 1.0
    return float(((trips["vehicle"] >= 0) & (trips["wait_s"] <= wait_s)).mean())


@dataclass
class SizingResult:
    """The curve (fleet size → share within the wait) and the smallest size meeting the target."""

    curve: dict[int, float]
    smallest: int | None  # None if even the largest size tried misses the target


def smallest_fleet(run_size: Callable[[int], FleetRun], target: ServiceTarget, sizes: list[int]) -> SizingResult:
    """Smallest fleet meeting ``target``: ``run_size(n)`` on the grid ``sizes``, then bisection."""
    curve = {int(n): share_within(run_size(int(n)), target.wait_s) for n in sorted(set(sizes))}
    grid = sorted(curve)
    meets = [curve[n] >= target.share for n in grid]
    if not meets[-1]:
        return SizingResult(curve, None)
    k = len(grid) - 1
    while k > 0 and meets[k - 1]:
        k -= 1  # the smallest grid size from which every larger one meets the target
    if k == 0:
        return SizingResult(curve, grid[0])
    lo, hi = grid[k - 1], grid[k]  # lo misses, hi meets
    while hi - lo > 1:
        mid = (lo + hi) // 2
        curve[mid] = share_within(run_size(mid), target.wait_s)
        lo, hi = (lo, mid) if curve[mid] >= target.share else (mid, hi)
    return SizingResult(dict(sorted(curve.items())), hi)


class TaxiCosts(StrictModel):
    """Cost assumptions for a robotaxi and a crewed ride-hailing car (CNY). Assumptions for a
    Chinese city in the mid-2020s, stated in ``docs/robotaxi.md``, not audited figures."""

    robotaxi_capital_cny_per_vehicle_day: float = Field(
        default=190.0, ge=0, description="A 350 000 CNY robotaxi (car + sensors) over 5 years, 365 days.")
    crewed_capital_cny_per_vehicle_day: float = Field(
        default=85.0, ge=0, description="A 155 000 CNY electric ride-hailing car over 5 years.")
    robotaxi_system_cny_per_vehicle_day: float = Field(
        default=120.0, ge=0, description="AV software, HD map, data, extra insurance.")
    remote_operator_cny_per_h: float = Field(default=60.0, ge=0, description="Per paid hour.")
    vehicles_per_remote_operator: int = Field(default=10, ge=1, le=100)
    driver_cny_per_h: float = Field(default=40.0, ge=0, description="Driver earnings per hour on shift.")
    maintenance_cny_per_km: float = Field(default=0.12, ge=0)
    electricity_cny_per_kwh: float = Field(default=0.9, ge=0, description="Public fast-charging price.")


def cost_per_trip_cny(run: FleetRun, costs: TaxiCosts, service_hours: float) -> dict[str, float]:
    """Cost per served trip (CNY) of the run's fleet driverless, and of the same service crewed.

    The crewed fleet drives the same km and draws the same energy; it pays a driver for every
    vehicle for ``service_hours`` instead of remote supervision and the AV system.
    """
    n_veh = len(run.fleet)
    served = run.trips[run.trips["vehicle"] >= 0]
    km = float(served["pickup_km"].sum() + served["trip_km"].sum())
    km += float(run.moves["km"].sum()) if len(run.moves) else 0.0  # rebalancing drives
    energy = float(run.sessions["charged_kwh"].sum()) * costs.electricity_cny_per_kwh
    maintenance = km * costs.maintenance_cny_per_km
    days = max(service_hours / 24.0, 1e-9)
    robo = (n_veh * (costs.robotaxi_capital_cny_per_vehicle_day + costs.robotaxi_system_cny_per_vehicle_day) * days
            + np.ceil(n_veh / costs.vehicles_per_remote_operator) * costs.remote_operator_cny_per_h * service_hours
            + energy + maintenance)
    crewed = (n_veh * costs.crewed_capital_cny_per_vehicle_day * days
              + n_veh * costs.driver_cny_per_h * service_hours + energy + maintenance)
    trips = max(len(served), 1)
    return {"robotaxi_cost_per_trip_cny": float(robo) / trips, "crewed_cost_per_trip_cny": float(crewed) / trips}


@dataclass
class PlugSizing:
    """The least plugs per station found to keep the target, and every step of the search."""

    plugs: list[int] | None  # None if the configured plugs already miss the target
    steps: list[tuple[list[int], float]]  # (plugs per station, share within the wait) tried, in order


def fewest_plugs(run_plugs: Callable[[list[int]], FleetRun], target: ServiceTarget, plugs: list[int]) -> PlugSizing:
    """Greedy plug removal: from ``plugs`` (per station), take away one plug at a time, each time the
    one whose removal leaves the highest share within the wait (ties: the lower station), for as
    long as the target holds.

    The search runs twice: once keeping every site open, once letting a station lose its last plug
    (the site is not needed: this is where the sizing places the chargers among the candidate
    sites) while another keeps one; ``run_plugs`` must then leave that station out. The answer is
    the smaller total (ties: every site open). Greedy removal is not guaranteed optimal (the share
    is not separable across stations), so the answer is the least found on these paths; ``steps``
    records both, in order.
    """
    share = share_within(run_plugs([int(p) for p in plugs]), target.wait_s)
    if share < target.share:
        return PlugSizing(None, [([int(p) for p in plugs], share)])
    cache: dict[tuple[int, ...], float] = {tuple(int(p) for p in plugs): share}
    steps: list[tuple[list[int], float]] = [([int(p) for p in plugs], share)]

    def share_of(trial: list[int]) -> float:
        if tuple(trial) not in cache:  # both paths start alike: run each plug layout once
            cache[tuple(trial)] = share_within(run_plugs(trial), target.wait_s)
        steps.append((trial, cache[tuple(trial)]))
        return cache[tuple(trial)]

    open_sites = _greedy_removal(share_of, target, plugs, close_sites=False)
    closing = _greedy_removal(share_of, target, plugs, close_sites=True)
    return PlugSizing(closing if sum(closing) < sum(open_sites) else open_sites, steps)


def _greedy_removal(share_of: Callable[[list[int]], float], target: ServiceTarget, plugs: list[int],
                    close_sites: bool) -> list[int]:
    """One greedy path from ``plugs`` (see :func:`fewest_plugs`); its last layout meeting the target."""
    current = [int(p) for p in plugs]
    floor = 0 if close_sites else 1
    while True:
        best: tuple[float, int] | None = None
        for c in range(len(current)):
            if current[c] <= floor or (current[c] == 1 and sum(p > 0 for p in current) == 1):
                continue  # at the floor, or the last plug of the last open site
            trial = current[:c] + [current[c] - 1] + current[c + 1:]
            trial_share = share_of(trial)
            if trial_share >= target.share and (best is None or trial_share > best[0]):
                best = (trial_share, c)
        if best is None:
            return current
        current[best[1]] -= 1
