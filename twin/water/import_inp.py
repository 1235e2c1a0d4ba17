"""``twin data import-inp``: an EPANET model as the city's water layer.

The water layer is an EPANET 2.2 ``.inp`` whose ``[COORDINATES]`` and ``[VERTICES]`` are in the
project's metric CRS (EPSG:4549 metres), so that junctions land on the city's map. A planner's
model comes in one of two kinds:

* **with real coordinates** in some CRS (a utility's GIS export): ``--crs EPSG:N`` says which, and
  every node and vertex is reprojected;
* **with a drawing's coordinates** (EPANET's own examples, a schematic): the layout is kept and
  *placed*. Its scale comes from the pipes themselves (the median of each pipe's length over the
  straight distance between its ends, in drawing units per metre), and its centre goes to
  ``--place LON,LAT``, or else to the centre of the city's road layer.

The model itself (demands, curves, controls, options) is written back unchanged, through WNTR, in
its own units. A model that EPANET would refuse is refused here (see
:func:`twin.water.epanet_io.read_inp`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from twin.city.folder import load_city
from twin.city.importing import NewLayer, add_layers
from twin.crs import METRIC_CRS, STORAGE_EPSG, to_metric, to_storage, transformer
from twin.errors import InputError
from twin.water.epanet_io import read_inp, write_inp

if TYPE_CHECKING:
    import wntr

WATER_FILE = "water.inp"


@dataclass(frozen=True)
class Placement:
    """How the model's coordinates were turned into EPSG:4549 metres."""

    how: str  # "reprojected from EPSG:N" or "placed at lon, lat"
    metres_per_unit: float  # 1 when reprojected
    centre_lon: float
    centre_lat: float


def parse_place(text: str) -> tuple[float, float]:
    """``"LON,LAT"`` in degrees; a malformed or out-of-range pair is an error naming the flag."""
    try:
        lon, lat = (float(part) for part in text.split(","))
    except ValueError:
        raise InputError(f"--place {text!r}: expected LON,LAT in degrees, e.g. 119.52,25.96") from None
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0) or not np.isfinite([lon, lat]).all():
        raise InputError(f"--place {text!r}: lon must be in [-180, 180] and lat in [-90, 90]")
    return lon, lat


def _coordinates(wn: wntr.network.WaterNetworkModel, path: Path) -> tuple[list[str], np.ndarray]:
    """Node names and their ``(n, 2)`` drawing coordinates; a model without a layout is refused."""
    names = list(wn.node_name_list)
    xy = np.array([wn.get_node(n).coordinates for n in names], dtype=float)
    if len(names) < 2 or not np.isfinite(xy).all() or np.ptp(xy, axis=0).max() == 0.0:
        raise InputError("[COORDINATES]: the model has no layout (every node at one point, or none given); "
                         "EPANET models need node coordinates to be placed on a map", path)
    return names, xy


def _metres_per_unit(wn: wntr.network.WaterNetworkModel, xy: dict[str, np.ndarray], path: Path) -> float:
    """The drawing's scale: median over pipes of length (m) / straight distance (drawing units)."""
    ratios = []
    for _, pipe in wn.pipes():
        straight = float(np.hypot(*(xy[pipe.end_node_name] - xy[pipe.start_node_name])))
        if straight > 0 and pipe.length > 0:
            ratios.append(pipe.length / straight)
    if not ratios:
        raise InputError("[PIPES]: no pipe with a length and distinct end points to take the drawing's scale from",
                         path)
    return float(np.median(ratios))


def _reproject(xy: np.ndarray, crs: str, path: Path) -> np.ndarray:
    """Drawing coordinates in ``crs`` to EPSG:4549 metres, checking they land on the globe."""
    from pyproj import CRS  # deferred: pyproj is slow to import and only imports need it
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(crs)
    except CRSError:
        raise InputError(f"--crs {crs!r}: not a coordinate reference system pyproj knows (e.g. EPSG:4547)") from None
    lon, lat = transformer(crs, STORAGE_EPSG).transform(xy[:, 0], xy[:, 1])
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()) or np.abs(lat).max() > 90 or np.abs(lon).max() > 180:
        raise InputError(f"--crs {crs}: the model's coordinates (x {xy[:, 0].min():.0f}…{xy[:, 0].max():.0f}, "
                         f"y {xy[:, 1].min():.0f}…{xy[:, 1].max():.0f}) are not in that CRS", path)
    x_m, y_m = to_metric(lon, lat)
    return np.column_stack([x_m, y_m])


def _road_centre(out_dir: Path) -> tuple[float, float] | None:
    """The centre (lon, lat) of the city's road layer, if the folder has one."""
    if not (out_dir / "city.toml").exists():
        return None
    roads = load_city(out_dir, use_cache=False).roads
    if roads is None or roads.number_of_nodes() == 0:
        return None
    lon = np.array([d["x"] for _, d in roads.nodes(data=True)])
    lat = np.array([d["y"] for _, d in roads.nodes(data=True)])
    return float((lon.min() + lon.max()) / 2), float((lat.min() + lat.max()) / 2)


def place_model(
    wn: wntr.network.WaterNetworkModel, path: Path, out_dir: Path, crs: str | None, place: tuple[float, float] | None
) -> Placement:
    """Move every node and pipe vertex of ``wn`` to EPSG:4549 metres (in place); say how."""
    if crs is not None and place is not None:
        raise InputError("give either --crs (the model has real coordinates) or --place (it has a drawing's)")
    names, xy = _coordinates(wn, path)
    vertices = {name: np.array(link.vertices, dtype=float).reshape(-1, 2) for name, link in wn.links()}
    if crs is not None:
        moved = _reproject(np.vstack([xy, *vertices.values()]), crs, path)
        scale, how = 1.0, f"reprojected from {crs}"
    else:
        centre = place or _road_centre(out_dir)
        if centre is None:
            raise InputError("the city has no road layer to place the model over: give --crs EPSG:N if the "
                             "model's coordinates are real, or --place LON,LAT", path)
        scale = _metres_per_unit(wn, dict(zip(names, xy, strict=True)), path)
        origin = (xy.min(axis=0) + xy.max(axis=0)) / 2
        cx, cy = to_metric(np.array([centre[0]]), np.array([centre[1]]))
        moved = (np.vstack([xy, *vertices.values()]) - origin) * scale + np.array([cx[0], cy[0]])
        how = f"placed at {centre[0]:.5f}, {centre[1]:.5f} ({scale:.4g} m per drawing unit, from the pipe lengths)"
    for k, name in enumerate(names):
        wn.get_node(name).coordinates = (float(moved[k, 0]), float(moved[k, 1]))
    start = len(names)
    for name, points in vertices.items():
        wn.get_link(name).vertices = [tuple(map(float, p)) for p in moved[start : start + len(points)]]
        start += len(points)
    lon, lat = to_storage(moved[: len(names), 0], moved[: len(names), 1])
    return Placement(how, scale, float(np.mean(lon)), float(np.mean(lat)))


def import_inp(
    path: Path, out_dir: Path, crs: str | None = None, place: tuple[float, float] | None = None, force: bool = False
) -> dict[str, object]:
    """Add ``path`` as the ``water`` layer of the city folder ``out_dir``; return what was added."""
    wn = read_inp(path)
    placement = place_model(wn, path, out_dir, crs, place)

    def write(target: Path) -> None:
        write_inp(wn, target)

    source = f"{path.name} ({placement.how}; coordinates in {METRIC_CRS})"
    add_layers(out_dir, {"water": NewLayer(WATER_FILE, write, source)}, force)
    return {
        "junctions": len(wn.junction_name_list),
        "pipes": len(wn.pipe_name_list),
        "sources": len(wn.reservoir_name_list) + len(wn.tank_name_list),
        "placement": placement,
    }
