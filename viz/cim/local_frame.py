"""The scene's local frame: EPSG:4549 metres shifted to a local origin.

VTK stores points as 32-bit floats in many code paths. EPSG:4549 eastings are about 450,000 m
and northings about 2,870,000 m in Changle, where a float32 has a resolution of 0.25 m, enough to
make building walls shimmer. Every scene therefore subtracts one origin (a round number near the
district's centre) and works in metres east/north of it, with z in metres above mean sea level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from twin.crs import METRIC_EPSG, STORAGE_EPSG, transformer


@dataclass(frozen=True)
class LocalFrame:
    """EPSG:4549 coordinates minus ``(origin_x_m, origin_y_m)``.

    Attributes
    ----------
    origin_x_m, origin_y_m
        The EPSG:4549 point that becomes ``(0, 0)`` of the scene (m).
    """

    origin_x_m: float
    origin_y_m: float

    @classmethod
    def around(cls, x_m: np.ndarray, y_m: np.ndarray) -> LocalFrame:
        """A frame whose origin is the centre of the points' extent, rounded to 1 km."""
        cx = 0.5 * (float(np.min(x_m)) + float(np.max(x_m)))
        cy = 0.5 * (float(np.min(y_m)) + float(np.max(y_m)))
        return cls(round(cx, -3), round(cy, -3))

    def from_metric(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """EPSG:4549 metres to local metres."""
        return np.asarray(x_m, dtype=float) - self.origin_x_m, np.asarray(y_m, dtype=float) - self.origin_y_m

    def to_metric(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local metres back to EPSG:4549 metres."""
        return np.asarray(x, dtype=float) + self.origin_x_m, np.asarray(y, dtype=float) + self.origin_y_m

    def from_lonlat(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """EPSG:4490 lon/lat (degrees) to local metres."""
        x_m, y_m = transformer(STORAGE_EPSG, METRIC_EPSG).transform(
            np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        )
        return self.from_metric(x_m, y_m)

    def geometries(self, geoseries):  # noqa: ANN001, ANN201 - GeoSeries in, shapely array out
        """Shapely geometries of a GeoSeries (any CRS) in the local frame."""

        metric = geoseries.to_crs(epsg=METRIC_EPSG) if geoseries.crs is not None else geoseries
        return shapely.transform(
            np.asarray(metric.values), lambda xy: xy - np.array([self.origin_x_m, self.origin_y_m])
        )
