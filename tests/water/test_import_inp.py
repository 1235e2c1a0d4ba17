"""``twin data import-inp``: EPANET's public models as a city's water layer, reprojected or placed,
and a starter burst scenario on a real OSM city with a real EPANET model."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyrosm
import pytest
import wntr

from twin.crs import to_storage, transformer
from twin.water.epanet_io import write_inp

NETWORKS = Path(wntr.__file__).parent / "library" / "networks"
PBF_DIR = Path(pyrosm.__file__).parent / "data"


def _xy(wn: wntr.network.WaterNetworkModel) -> dict[str, np.ndarray]:
    return {name: np.array(wn.get_node(name).coordinates, float) for name in wn.node_name_list}


def test_a_drawing_is_placed_at_the_scale_of_its_pipes(twin_cli, tmp_path):
    out = tmp_path / "city"
    result = twin_cli("data", "import-inp", NETWORKS / "Net3.inp", "--place", "119.52,25.96", "--out", out)
    assert result.exit_code == 0, result.stderr
    original = wntr.network.WaterNetworkModel(str(NETWORKS / "Net3.inp"))
    placed = wntr.network.WaterNetworkModel(str(out / "water.inp"))
    # The model is unchanged: same elements, demands and pipe lengths.
    assert placed.junction_name_list == original.junction_name_list
    for name in original.junction_name_list:
        assert placed.get_node(name).base_demand == pytest.approx(original.get_node(name).base_demand, rel=1e-6)
    xy = _xy(placed)
    ratios = []
    for name, pipe in placed.pipes():
        straight = float(np.hypot(*(xy[pipe.end_node_name] - xy[pipe.start_node_name])))
        assert pipe.length == pytest.approx(original.get_link(name).length, rel=1e-6)
        if straight > 0:
            ratios.append(pipe.length / straight)
    assert float(np.median(ratios)) == pytest.approx(1.0, rel=1e-6)  # metres on the map match metres of pipe
    points = np.array(list(xy.values()))
    lon, lat = to_storage(*(points.min(axis=0) + points.max(axis=0)) / 2)
    assert (float(lon), float(lat)) == pytest.approx((119.52, 25.96), abs=1e-6)
    assert "placed at 119.52000, 25.96000" in (out / "city.toml").read_text()


def _utm_model(tmp_path: Path) -> tuple[Path, list[str], np.ndarray, np.ndarray]:
    """Net1 with UTM 50N coordinates at random points around Changle."""
    wn = wntr.network.WaterNetworkModel(str(NETWORKS / "Net1.inp"))
    rng = np.random.default_rng(5)
    names = wn.node_name_list
    lon = 119.45 + 0.1 * rng.random(len(names))
    lat = 25.90 + 0.1 * rng.random(len(names))
    east, north = transformer(4490, 32650).transform(lon, lat)
    for name, x, y in zip(names, east, north, strict=True):
        wn.get_node(name).coordinates = (float(x), float(y))
    return write_inp(wn, tmp_path / "utm.inp"), names, lon, lat


def test_real_coordinates_are_reprojected(twin_cli, tmp_path):
    """Net1 given UTM 50N coordinates around Changle comes back at the same lon/lat."""
    source, names, lon, lat = _utm_model(tmp_path)
    out = tmp_path / "city"
    result = twin_cli("data", "import-inp", source, "--crs", "EPSG:32650", "--out", out)
    assert result.exit_code == 0, result.stderr
    placed = _xy(wntr.network.WaterNetworkModel(str(out / "water.inp")))
    back_lon, back_lat = to_storage(*np.array([placed[n] for n in names]).T)
    assert np.allclose(back_lon, lon, atol=1e-6) and np.allclose(back_lat, lat, atol=1e-6)


def _flat_inp(tmp_path: Path) -> Path:
    wn = wntr.network.WaterNetworkModel(str(NETWORKS / "Net1.inp"))
    for name in wn.node_name_list:
        wn.get_node(name).coordinates = (0.0, 0.0)
    return write_inp(wn, tmp_path / "flat.inp")


BAD = {
    "both flags": (["--crs", "EPSG:32650", "--place", "119.5,25.9"], "either --crs"),
    "unknown crs": (["--crs", "EPSG:999999"], "--crs 'EPSG:999999'"),
    "place not a pair": (["--place", "119.5"], "--place '119.5'"),
    "place off the globe": (["--place", "200,25"], "lon must be in [-180, 180]"),
    "no roads to place over": ([], "no road layer"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_import_exits_2_and_leaves_the_folder_as_it_was(twin_cli, tmp_path, case):
    args, fragment = BAD[case]
    out = tmp_path / "city"
    result = twin_cli("data", "import-inp", NETWORKS / "Net3.inp", *args, "--out", out)
    assert result.exit_code == 2, result
    assert result.stderr.count("\n") == 1 and fragment in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_coordinates_that_are_not_in_the_crs_given_exit_2(twin_cli, tmp_path):
    source, *_ = _utm_model(tmp_path)
    result = twin_cli("data", "import-inp", source, "--crs", "EPSG:4490", "--out", tmp_path / "c")
    assert result.exit_code == 2 and "are not in that CRS" in result.stderr and "utm.inp" in result.stderr


def test_a_model_without_a_layout_exits_2(twin_cli, tmp_path):
    flat = _flat_inp(tmp_path)
    result = twin_cli("data", "import-inp", flat, "--place", "119.5,25.9", "--out", tmp_path / "c")
    assert result.exit_code == 2 and "has no layout" in result.stderr and "flat.inp" in result.stderr


def test_the_water_layer_is_not_replaced_without_force(twin_cli, tmp_path):
    out = tmp_path / "city"
    assert twin_cli("data", "import-inp", NETWORKS / "Net1.inp", "--place", "119.5,25.9", "--out", out).exit_code == 0
    before = (out / "water.inp").read_bytes()
    again = twin_cli("data", "import-inp", NETWORKS / "Net3.inp", "--place", "119.5,25.9", "--out", out)
    assert again.exit_code == 2 and "--force" in again.stderr
    assert (out / "water.inp").read_bytes() == before


def test_a_starter_burst_runs_on_a_real_osm_city_with_a_real_epanet_model(twin_cli, tmp_path):
    """Helsinki's roads and buildings from OSM, EPANET's Net3 placed over them (no --place: the
    roads' centre), a starter burst scenario written for that city, run end to end."""
    city = tmp_path / "hel"
    assert twin_cli("data", "import-osm", PBF_DIR / "Helsinki.osm.pbf", "--out", city, "--lang", "en").exit_code == 0
    assert twin_cli("data", "import-inp", NETWORKS / "Net3.inp", "--out", city).exit_code == 0
    scenario = tmp_path / "burst.toml"
    made = twin_cli("scenarios", "new", "pipe_burst", "--city", city, "--out", scenario)
    assert made.exit_code == 0, made.stderr
    out = tmp_path / "run"
    result = twin_cli("run", scenario, "--city", city, "--out", out, "--quiet")
    assert result.exit_code == 0, result.stderr
    kpis = json.loads((out / "kpis.json").read_text())
    assert all(math.isfinite(v) for v in kpis.values() if isinstance(v, float))
    assert kpis["valves_closed_count"] >= 1 and kpis["water_lost_m3"] > 0
    assert 0 < kpis["time_to_restore_s"] < 43200
