"""Loading the whole bundled city (every layer, road graph included) with a warm cache.

Target (issue #3): under 5 s after the first run. The first load fills the on-disk cache.
"""

from __future__ import annotations

from twin.city.folder import load_city
from twin.paths import REPO_ROOT


def _load_all():
    return load_city(REPO_ROOT / "gis_data").load_all()


def test_bench_city_load_warm_cache(benchmark):
    _load_all()  # fill the cache
    city = benchmark.pedantic(_load_all, rounds=3, iterations=1)
    assert city.roads.number_of_nodes() > 3000
    benchmark.extra_info["road_nodes"] = city.roads.number_of_nodes()
    benchmark.extra_info["buildings"] = len(city.buildings)


def test_bench_city_load_no_cache(benchmark):
    city = benchmark.pedantic(lambda: load_city(REPO_ROOT / "gis_data", use_cache=False).load_all(),
                              rounds=1, iterations=1)
    assert len(city.buildings) > 30_000
