"""A plausible terrain for Changle: coastal lowland in the east, hills in the west and south-west.

Not a DEM: the shape follows the district's general relief (the Min River plain and the coastal
sand flats near sea level; the hills of 玉田, 罗联, 首占 and 江田 rising to a few hundred metres),
made of Gaussian hills and low-amplitude seeded ripples on a gentle west-rising ramp.
"""

from __future__ import annotations

import numpy as np
import shapely
from _base_land import Land, metric_point

from twin.city.terrain import Terrain

CELL_M = 200.0
MARGIN_M = 2000.0

# lat, lon, height (m), radius (m): the hill masses (approximate)
HILLS: list[tuple[float, float, float, float]] = [
    (25.862, 119.428, 430.0, 3200.0),  # 罗联/玉田 hills, the district's highest ground
    (25.828, 119.505, 330.0, 3000.0),
    (25.935, 119.420, 260.0, 2600.0),
    (25.988, 119.455, 170.0, 2200.0),  # 首占/营前 hills
    (25.780, 119.540, 240.0, 2800.0),  # 江田 hills
    (25.752, 119.585, 140.0, 1800.0),  # 松下
    (25.905, 119.485, 120.0, 2000.0),  # 古槐 west
]


def build_terrain(land: Land, rng: np.random.Generator) -> Terrain:
    """The elevation grid covering the boundary plus a margin (EPSG:4549, CELL_M cells)."""
    xmin, ymin, xmax, ymax = land.boundary.bounds
    x0 = np.floor((xmin - MARGIN_M) / CELL_M) * CELL_M
    y0 = np.floor((ymin - MARGIN_M) / CELL_M) * CELL_M
    nx = int(np.ceil((xmax + MARGIN_M - x0) / CELL_M)) + 1
    ny = int(np.ceil((ymax + MARGIN_M - y0) / CELL_M)) + 1
    gx, gy = np.meshgrid(x0 + CELL_M * np.arange(nx), y0 + CELL_M * np.arange(ny))

    # Ramp: 2 m at the eastern coast rising to about 12 m at the western edge.
    east = (gx - xmin) / (xmax - xmin)
    elevation = 2.0 + 10.0 * np.clip(1.0 - east, 0.0, 1.0) ** 2
    for lat, lon, height_m, radius_m in HILLS:
        hx, hy = metric_point(lat, lon)
        elevation += height_m * np.exp(-((gx - hx) ** 2 + (gy - hy) ** 2) / (2.0 * radius_m**2))
    # Ripples scaled by relief: flat plains stay flat, hills get ridges and valleys.
    ripple = np.zeros_like(elevation)
    for _ in range(6):
        wavelength_m = rng.uniform(1500.0, 6000.0)
        angle = rng.uniform(0.0, np.pi)
        phase = rng.uniform(0.0, 2 * np.pi)
        ripple += np.sin((gx * np.cos(angle) + gy * np.sin(angle)) * 2 * np.pi / wavelength_m + phase)
    elevation += 0.12 * (elevation - 2.0) * ripple / 3.0
    # Sea and river outside the boundary are at 0 m.
    inside = shapely.contains_xy(land.boundary, gx, gy)
    elevation = np.where(inside, np.maximum(elevation, 0.5), 0.0)
    return Terrain(float(x0), float(y0), CELL_M, np.round(elevation, 2).astype(np.float32).astype(np.float64))
