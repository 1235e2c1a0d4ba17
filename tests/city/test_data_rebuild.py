"""Rebuilding the base reproduces the committed files' contents (tables and geometries exactly)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pyogrio
import pytest

from twin.city.folder import read_layer
from twin.city.terrain import Terrain
from twin.paths import REPO_ROOT

GIS = REPO_ROOT / "gis_data"


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("gis_data_build_under_test", GIS / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    out = tmp_path_factory.mktemp("rebuilt")
    build.write_base(out)
    return out


def test_same_layers(rebuilt):
    committed = [name for name, _ in pyogrio.list_layers(GIS / "base.gpkg")]
    assert [name for name, _ in pyogrio.list_layers(rebuilt / "base.gpkg")] == committed


@pytest.mark.parametrize(
    "layer",
    ["boundary", "areas", "towns", "landmarks", "road_nodes", "road_edges", "zones", "buildings",
     "compute_sites"],
)
def test_layer_reproduced_exactly(rebuilt, layer):
    committed = read_layer(GIS / "base.gpkg", layer)
    fresh = read_layer(rebuilt / "base.gpkg", layer)
    assert list(fresh.columns) == list(committed.columns)
    assert fresh.crs == committed.crs
    for column in committed.columns:
        if column == "geometry":
            assert (fresh.geometry.to_wkb() == committed.geometry.to_wkb()).all(), layer
        else:
            assert fresh[column].equals(committed[column]), (layer, column)


def test_terrain_reproduced_exactly(rebuilt):
    committed = Terrain.load(GIS / "terrain.npz")
    fresh = Terrain.load(rebuilt / "terrain.npz")
    assert (fresh.x0_m, fresh.y0_m, fresh.cell_m) == (committed.x0_m, committed.y0_m, committed.cell_m)
    assert np.array_equal(fresh.elevation_m_grid, committed.elevation_m_grid)
