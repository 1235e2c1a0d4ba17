"""Terrain: a regular elevation grid in EPSG:4549 with bilinear lookup.

The grid is stored in ``terrain.npz`` with ``x0_m``, ``y0_m`` (the centre of cell ``[0, 0]``,
the south-west corner), ``cell_m`` and ``elevation_m[ny, nx]`` (row ``j`` is ``y0_m + j*cell_m``,
column ``i`` is ``x0_m + i*cell_m``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Terrain:
    """An elevation grid (metres above mean sea level) over a metric (EPSG:4549) extent."""

    x0_m: float
    y0_m: float
    cell_m: float
    elevation_m_grid: np.ndarray

    @classmethod
    def load(cls, path: Path) -> Terrain:
        """Read ``terrain.npz``."""
        with np.load(path) as data:
            return cls(
                float(data["x0_m"]), float(data["y0_m"]), float(data["cell_m"]),
                np.asarray(data["elevation_m"], dtype=np.float64),
            )

    def save(self, path: Path) -> None:
        """Write ``terrain.npz`` (uncompressed arrays, so identical grids give identical bytes)."""
        with open(path, "wb") as handle:
            np.savez(
                handle, x0_m=np.float64(self.x0_m), y0_m=np.float64(self.y0_m),
                cell_m=np.float64(self.cell_m), elevation_m=self.elevation_m_grid.astype(np.float32),
            )

    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)``."""
        return self.elevation_m_grid.shape

    @property
    def bounds_m(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the cell centres (m)."""
        ny, nx = self.shape
        return (self.x0_m, self.y0_m, self.x0_m + (nx - 1) * self.cell_m, self.y0_m + (ny - 1) * self.cell_m)

    def elevation_m(self, x_m: np.ndarray | float, y_m: np.ndarray | float) -> np.ndarray:
        """Bilinear elevation (m) at EPSG:4549 points; points off the grid take the nearest edge."""
        grid = self.elevation_m_grid
        ny, nx = grid.shape
        fx = np.clip((np.asarray(x_m, dtype=float) - self.x0_m) / self.cell_m, 0.0, nx - 1.000001)
        fy = np.clip((np.asarray(y_m, dtype=float) - self.y0_m) / self.cell_m, 0.0, ny - 1.000001)
        i = np.floor(fx).astype(np.int64)
        j = np.floor(fy).astype(np.int64)
        tx = fx - i
        ty = fy - j
        return (
            grid[j, i] * (1 - tx) * (1 - ty)
            + grid[j, i + 1] * tx * (1 - ty)
            + grid[j + 1, i] * (1 - tx) * ty
            + grid[j + 1, i + 1] * tx * ty
        )
