"""``twin data import-sumo``: public SUMO nets (shipped with eclipse-sumo) as a city's road layer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sumo
import sumolib

from twin.city.folder import load_city
from twin.crs import to_metric

GAME = Path(sumo.__file__).parent / "tools" / "game"
GEO_NET = GAME / "DRT" / "osm.net.xml"  # netconvert from OSM: geo-referenced, with signals
PLAIN_NET = GAME / "grid6" / "grid6.net.xml"  # plain metres


def test_a_geo_referenced_net_keeps_its_projection_and_signals(twin_cli, tmp_path):
    out = tmp_path / "city"
    result = twin_cli("data", "import-sumo", GEO_NET, "--out", out, "--lang", "en")
    assert result.exit_code == 0, result.stderr
    roads = load_city(out, use_cache=False).roads
    net = sumolib.net.readNet(str(GEO_NET))
    # Every kept junction sits where SUMO's own projection puts it.
    sumo_lonlat = {}
    for node in net.getNodes():
        sumo_lonlat[node.getCoord()] = net.convertXY2LonLat(*node.getCoord()[:2])
    expected = np.array(list(sumo_lonlat.values()))
    got = np.array([(d["x"], d["y"]) for _, d in roads.nodes(data=True)])
    nearest_m = [np.min(np.hypot(*(np.array(to_metric(*expected.T)) - np.array(to_metric(*p)).reshape(2, 1))))
                 for p in got[:50]]
    assert max(nearest_m) < 0.01
    signals = [n for n, d in roads.nodes(data=True) if d.get("highway") == "traffic_signals"]
    assert 0 < len(signals) <= len(net.getTrafficLights()) + sum(
        1 for n in net.getNodes() if n.getType() == "traffic_light"
    )
    # Edge lengths and speeds are the net's (each SUMO edge is one directed road).
    lengths = {round(e.getLength(), 3) for e in net.getEdges()}
    assert all(round(d["length"], 3) in lengths for _, _, d in roads.edges(data=True))


def test_a_net_in_plain_metres_is_placed_at_its_centre_with_its_metres(twin_cli, tmp_path):
    out = tmp_path / "city"
    result = twin_cli("data", "import-sumo", PLAIN_NET, "--place", "119.52,25.96", "--out", out)
    assert result.exit_code == 0, result.stderr
    roads = load_city(out, use_cache=False).roads
    net = sumolib.net.readNet(str(PLAIN_NET))
    lon = np.array([d["x"] for _, d in roads.nodes(data=True)])
    lat = np.array([d["y"] for _, d in roads.nodes(data=True)])
    x_m, y_m = to_metric(lon, lat)
    sumo_xy = np.array([n.getCoord()[:2] for n in net.getNodes()])
    assert np.ptp(x_m) == pytest.approx(np.ptp(sumo_xy[:, 0]), abs=0.01)
    assert np.ptp(y_m) == pytest.approx(np.ptp(sumo_xy[:, 1]), abs=0.01)
    centre = to_metric(np.array([119.52]), np.array([25.96]))
    assert (x_m.min() + x_m.max()) / 2 == pytest.approx(centre[0][0], abs=0.01)


BAD = {
    "plain metres without --place": (PLAIN_NET, [], "give --place LON,LAT"),
    "geo net with --place": (GEO_NET, ["--place", "119.5,25.9"], "leave out --place"),
    "missing file": (Path("no_such.net.xml"), [], "not found"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_import_exits_2_with_one_line(twin_cli, tmp_path, case):
    net, args, fragment = BAD[case]
    out = tmp_path / "city"
    result = twin_cli("data", "import-sumo", net, *args, "--out", out)
    assert result.exit_code == 2, result
    assert result.stderr.count("\n") == 1 and fragment in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_truncated_net_exits_2(twin_cli, tmp_path):
    broken = tmp_path / "broken.net.xml"
    broken.write_text(PLAIN_NET.read_text()[:5000])
    result = twin_cli("data", "import-sumo", broken, "--place", "119.5,25.9", "--out", tmp_path / "city")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "broken.net.xml" in result.stderr
