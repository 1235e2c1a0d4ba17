"""The CIM render of the whole district, every building, to a 1920×1080 PNG off-screen.

Target (issue #8): ≤ 10 s on these machines, reported with the number of triangles. The city is
loaded once outside the timing (its own benchmark is ``test_bench_city_load.py``); a warm-up round
pays the one-off imports (VTK, matplotlib colour maps) so that the rounds time the render itself:
building the layer meshes (extrusion of every footprint, road ribbons, pipe tubes), drawing them
and writing the PNG. A second benchmark adds the offline HTML export.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.city.folder import load_city
from viz.cim.render import render

TARGET_S = 10.0


@pytest.fixture(scope="module")
def city():
    loaded = load_city()
    loaded.load_all()
    return loaded


def test_bench_render_district_png(benchmark, city, tmp_path):
    out = tmp_path / "district.png"

    def draw():
        return render(None, view="district", out=out, size=(1920, 1080), city=city)

    outcome = benchmark.pedantic(draw, rounds=3, iterations=1, warmup_rounds=1)
    assert out.stat().st_size > 100_000
    benchmark.extra_info["triangles"] = outcome.triangles
    benchmark.extra_info["buildings"] = len(city.buildings)
    benchmark.extra_info["target_s"] = TARGET_S
    median = benchmark.stats.stats.median
    print(f"\nCIM district render 1920x1080: {median:.2f} s median for {outcome.triangles:,} triangles "
          f"({len(city.buildings):,} buildings); target {TARGET_S:.0f} s")


def test_bench_render_binhai_png_and_html(benchmark, city, tmp_path):
    out, page = tmp_path / "binhai.png", tmp_path / "binhai.html"

    def draw():
        return render(None, view="binhai", out=out, html=page, size=(1920, 1080), city=city)

    outcome = benchmark.pedantic(draw, rounds=2, iterations=1, warmup_rounds=1)
    benchmark.extra_info["triangles"] = outcome.triangles
    benchmark.extra_info["html_bytes"] = Path(page).stat().st_size
