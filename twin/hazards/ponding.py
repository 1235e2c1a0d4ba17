"""Surface ponding: a zone-bucket model with drainage capacity, filled over each zone's terrain.

Each zone of the city (the 1 km² demand zones, grouped into 街道/镇) is a bucket:

* rain on the zone (depth × area) splits into runoff (``runoff_coefficient`` ψ) and losses
  (infiltration, interception, 1 − ψ);
* runoff enters the zone's ponded store; the drains remove at most ``drain_capacity_mm_per_h``
  over the zone's area per hour (the minor system's capacity: a stated assumption, by default
  the rate of the design storm the drains were sized for, see :func:`design_drain_capacity_mm_per_h`);
* what the drains cannot take stays on the surface.

Per step ``dt``, with store V, inflow Q = ψ · rain · A and capacity D = capacity · A · dt:
``drained = min(V + Q, D)`` and ``V' = V + Q − drained`` (≥ 0). So at every step
rain in = losses + drained + ponded exactly, and V' is non-decreasing in the rain.

The ponded volume fills the zone's lowest ground first (:class:`ZoneHypsometry`): the terrain
cells of the zone, sorted by elevation, give the volume below each level; the water level ``h``
holds the volume; a road link's depth is ``max(h − z_link, 0)``. Water does not spill between
zones (left out: a fill-and-spill cascade between zones and flow along streets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.hazards.storm import RainSeries, StormFormula


def design_drain_capacity_mm_per_h(formula: StormFormula, return_period_y: float, duration_min: float,
                                   runoff_coefficient: float) -> float:
    """The rate (mm/h over the zone) drains sized by the rational method for P years, t minutes carry.

    The rational method sizes a drain for ψ · i(P, t) over its catchment (GB 50014: P of 2–5
    years for a city's general areas, t the time of concentration).
    """
    return float(runoff_coefficient * formula.intensity_mm_per_min(duration_min, return_period_y) * 60.0)


@dataclass(frozen=True)
class PondingResult:
    """The zones' water over time: ``time_s`` (n + 1 edges) and per-zone volumes (m³).

    ``ponded_m3[k, z]`` is the store at ``time_s[k]``; ``rain_m3``, ``loss_m3`` and ``drained_m3``
    are per step ``[k, z]`` (``n`` steps).
    """

    time_s: np.ndarray
    ponded_m3: np.ndarray
    rain_m3: np.ndarray
    loss_m3: np.ndarray
    drained_m3: np.ndarray


def simulate_ponding(
    rain: RainSeries,
    area_m2: np.ndarray,
    runoff_coefficient: np.ndarray | float,
    drain_capacity_mm_per_h: np.ndarray | float,
    end_s: float,
    step_s: float = 300.0,
) -> PondingResult:
    """Step every zone's bucket from 0 to ``end_s`` (s) in steps of ``step_s`` (s).

    ``area_m2``, ``runoff_coefficient`` (0–1) and ``drain_capacity_mm_per_h`` (≥ 0) are per zone
    (or one value for all). The store starts empty.
    """
    area = np.asarray(area_m2, dtype=float)
    psi = np.broadcast_to(np.asarray(runoff_coefficient, dtype=float), area.shape)
    capacity = np.broadcast_to(np.asarray(drain_capacity_mm_per_h, dtype=float), area.shape)
    n = int(np.ceil(end_s / step_s - 1e-9))
    edges = np.minimum(np.arange(n + 1) * step_s, end_s)
    ponded = np.zeros((n + 1, len(area)))
    rain_m3 = np.zeros((n, len(area)))
    loss_m3 = np.zeros((n, len(area)))
    drained_m3 = np.zeros((n, len(area)))
    store = np.zeros(len(area))
    for k in range(n):
        depth_m = rain.depth_between_mm(edges[k], edges[k + 1]) / 1000.0
        rain_m3[k] = depth_m * area
        runoff = psi * rain_m3[k]
        loss_m3[k] = rain_m3[k] - runoff
        can_drain = capacity / 1000.0 / 3600.0 * (edges[k + 1] - edges[k]) * area
        drained_m3[k] = np.minimum(store + runoff, can_drain)
        store = store + runoff - drained_m3[k]
        ponded[k + 1] = store
    return PondingResult(edges, ponded, rain_m3, loss_m3, drained_m3)


class ZoneHypsometry:
    """The volume–level relation of each zone's ground, from its terrain cells.

    Parameters
    ----------
    cell_zone
        Zone index of each terrain cell (−1: in no zone, ignored).
    cell_elevation_m
        Elevation of each cell (m).
    cell_area_m2
        Area of one cell (m²).
    n_zones
        Number of zones (zones without a cell take their water on a flat floor at 0 m).
    """

    def __init__(self, cell_zone: np.ndarray, cell_elevation_m: np.ndarray, cell_area_m2: float,
                 n_zones: int) -> None:
        zone = np.asarray(cell_zone, dtype=np.int64)
        z = np.asarray(cell_elevation_m, dtype=float)
        keep = zone >= 0
        order = np.lexsort((z[keep], zone[keep]))
        self.zone_sorted = zone[keep][order]
        self.z_sorted = z[keep][order]
        self.cell_area_m2 = float(cell_area_m2)
        self.n_zones = n_zones
        self.start = np.searchsorted(self.zone_sorted, np.arange(n_zones), side="left")
        self.stop = np.searchsorted(self.zone_sorted, np.arange(n_zones), side="right")
        # volume below the level of each sorted cell: V_j = a · Σ_{i<j} (z_j − z_i) within the zone
        self.volume_below_m3 = np.zeros(len(self.z_sorted))
        for zi in range(n_zones):
            s, e = self.start[zi], self.stop[zi]
            cells = self.z_sorted[s:e]
            rank = np.arange(len(cells))
            lower_sum = np.concatenate([[0.0], np.cumsum(cells)[:-1]])
            self.volume_below_m3[s:e] = self.cell_area_m2 * (rank * cells - lower_sum)

    def floor_m(self) -> np.ndarray:
        """Lowest ground of each zone (m; 0 for a zone without cells)."""
        out = np.zeros(self.n_zones)
        has = self.stop > self.start
        out[has] = self.z_sorted[self.start[has]]
        return out

    def level_m(self, volume_m3: np.ndarray) -> np.ndarray:
        """Water level (m) of each zone holding ``volume_m3``; −inf where the zone is dry."""
        volume = np.asarray(volume_m3, dtype=float)
        level = np.full(self.n_zones, -np.inf)
        for zi in np.nonzero(volume > 0)[0]:
            s, e = self.start[zi], self.stop[zi]
            if e == s:
                continue
            below = self.volume_below_m3[s:e]
            j = int(np.searchsorted(below, volume[zi], side="right"))  # cells 0..j-1 are wet
            level[zi] = self.z_sorted[s + j - 1] + (volume[zi] - below[j - 1]) / (j * self.cell_area_m2)
        return level

    def stored_m3(self, level_m: np.ndarray) -> np.ndarray:
        """Volume (m³) each zone holds up to ``level_m`` (the inverse of :meth:`level_m`)."""
        out = np.zeros(self.n_zones)
        for zi in range(self.n_zones):
            s, e = self.start[zi], self.stop[zi]
            if np.isfinite(level_m[zi]):
                out[zi] = self.cell_area_m2 * np.clip(level_m[zi] - self.z_sorted[s:e], 0.0, None).sum()
        return out


def link_depth_m(level_m: np.ndarray, link_zone: np.ndarray, link_elevation_m: np.ndarray) -> np.ndarray:
    """Water depth (m) on each link: its zone's level above the link's ground, never negative."""
    level = np.asarray(level_m, dtype=float)[np.asarray(link_zone, dtype=np.int64)]
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(level), np.maximum(level - link_elevation_m, 0.0), 0.0)
