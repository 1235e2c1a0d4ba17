"""Places by name resolve against the bundled city; wrong names fail with the nearest valid ones."""

from __future__ import annotations

import numpy as np
import pytest

from twin.city.folder import load_city
from twin.city.places import contains, junction_name, nearest_names, resolve_area, resolve_point
from twin.errors import InputError


@pytest.fixture(scope="module")
def city():
    return load_city()


@pytest.mark.parametrize("name", ["滨海新城", "Binhai New City", "binhai", "binhai new city"])
def test_an_area_resolves_by_any_of_its_names(city, name):
    area = resolve_area(city, name, "[network] area")
    assert area.name == "滨海新城"
    centre = area.geometry.representative_point()
    assert contains(area, np.array([centre.x]), np.array([centre.y]))[0]


def test_a_town_is_the_union_of_its_zones(city):
    area = resolve_area(city, "金峰镇", "[burst] area")
    assert area.name == "金峰镇" and area.geometry.area > 0


def test_a_bbox_is_an_area(city):
    area = resolve_area(city, "bbox:119.55,25.85,119.65,25.95", "[network] area")
    assert area.geometry.bounds == (119.55, 25.85, 119.65, 25.95)
    with pytest.raises(InputError, match="west < east"):
        resolve_area(city, "bbox:119.65,25.85,119.55,25.95", "[network] area")


def test_an_unknown_area_names_the_key_the_value_and_the_nearest_names(city):
    with pytest.raises(InputError) as caught:
        resolve_area(city, "滨海新区", "[network] area", "s.toml")
    message = str(caught.value)
    assert message.startswith("s.toml: [network] area = '滨海新区'") and "滨海新城" in message


def test_points_by_place_name_lonlat_junction_and_id(city):
    town = resolve_point(city, "吴航街道", "[crew] depot")
    assert town.node in city.roads.nodes and town.name == "吴航街道"
    here = resolve_point(city, "119.60,25.90", "[crew] depot")
    assert here.node in city.roads.nodes
    edge_names = {}
    for _, v, data in city.roads.edges(data=True):
        if data.get("name"):
            edge_names.setdefault(v, set()).add(data["name"])
    node, names = next((n, sorted(s)) for n, s in sorted(edge_names.items()) if len(s) >= 2)
    junction = resolve_point(city, f"{names[0]}/{names[1]}", "[route] via")
    assert set(names[:2]) <= set(junction_name(city.roads, junction.node).removesuffix("交叉口").split("与"))
    assert resolve_point(city, node, "[crew] depot").node == node


def test_an_unknown_point_suggests_names(city):
    with pytest.raises(InputError, match="nearest"):
        resolve_point(city, "吴航街到", "[crew] depot")
    with pytest.raises(InputError, match="not a road node"):
        resolve_point(city, 10**9, "[crew] depot")


def test_nearest_names_ranks_the_closest_first():
    assert nearest_names("滨海新区", ["吴航街道", "滨海新城", "金峰镇"])[0] == "滨海新城"
