"""Where a run's CIM render looks: the ``cim_focus`` row that scenarios write with their results.

``viz/results_overlay.py`` reads it (with the other ``cim_*`` tables, see ``docs/cim.md``); the
scenarios build it here, since the model layer does not import ``viz``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from twin.crs import to_metric, to_storage

if TYPE_CHECKING:
    import pandas as pd


def focus_table(
    lon: np.ndarray, lat: np.ndarray, label: str, min_radius_m: float, margin_m: float = 0.0
) -> pd.DataFrame:
    """One ``cim_focus`` row framing points given in EPSG:4490: the centre of their bounding box,
    and a radius (m) reaching the farthest point plus ``margin_m``, at least ``min_radius_m``."""
    import pandas as pd  # deferred: pandas is heavy, only needed when the table is built


    x_m, y_m = to_metric(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    centre_x_m, centre_y_m = (x_m.min() + x_m.max()) / 2.0, (y_m.min() + y_m.max()) / 2.0
    radius_m = max(min_radius_m, float(np.hypot(x_m - centre_x_m, y_m - centre_y_m).max()) + margin_m)
    centre_lon, centre_lat = to_storage(np.array([centre_x_m]), np.array([centre_y_m]))
    return pd.DataFrame([{"lon": centre_lon[0], "lat": centre_lat[0], "radius_m": radius_m, "label": label}])
