"""CIM renders: not blank, like their baselines, coloured by results, exportable, strict on input.

Most renders use the city made in code (:mod:`viz.sample_city`) at 800×450 so that they are fast
and independent of the bundled data; one test renders the bundled Changle city. Baselines live in
``tests/data/cim/``; regenerate them with ``python tests/test_cim_render.py`` after an intended
change of the picture, and look at them before committing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.errors import InputError

BASELINES = Path(__file__).parent / "data" / "cim"
SMALL = (800, 450)
IMAGE_TOLERANCE = 300.0
"""Largest ``pyvista.compare_images`` error accepted against a baseline (0 = identical; another view
of the same city scores about 25,000)."""


def _rgb(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"), dtype=float) / 255.0


def pixel_classes(path: Path) -> dict[str, float]:
    """Fractions of the picture (title strip and legend corner excluded) by what they show.

    Buildings are the saturated colours of the use palette; roads the dark greys; background the
    sky gradient. Terrain (pale, unsaturated, bright) is the rest.
    """
    import matplotlib.colors as mcolors

    img = _rgb(path)
    h, w, _ = img.shape
    region = np.ones((h, w), dtype=bool)
    region[: int(0.1 * h)] = False
    region[int(0.5 * h):, : int(0.25 * w)] = False
    hsv = mcolors.rgb_to_hsv(img)
    saturation, value = hsv[..., 1], hsv[..., 2]
    sky = np.array([0xD6, 0xE4, 0xF0]) / 255
    ground_haze = np.array([0xF7, 0xF7, 0xF4]) / 255
    background = (np.abs(img - sky).sum(-1) < 0.12) | (np.abs(img - ground_haze).sum(-1) < 0.03)
    total = region.sum()
    return {
        "buildings": float(((saturation > 0.35) & (value > 0.2) & region).sum() / total),
        "roads": float(((saturation < 0.15) & (value < 0.5) & region).sum() / total),
        "background": float((background & region).sum() / total),
    }


@pytest.fixture(scope="module")
def city():
    from sample_city import sample_city

    return sample_city()


def _run_folder(root: Path, name: str, kind: str, tables: dict[str, pd.DataFrame]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    manifest = {"scenario": {"scenario": {"name": name, "kind": kind}}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for table_name, table in tables.items():
        table.to_parquet(folder / f"{table_name}.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def runs(city, tmp_path_factory) -> dict[str, Path]:
    """Results folders in the cim_* convention: a traffic run, a pipe burst, an AV route, none."""
    root = tmp_path_factory.mktemp("runs")
    edges = list(city.roads.edges(keys=True))
    # Congestion on the expressway (row 3), free flow elsewhere.
    tti = [2.4 if (u - 1000) // 8 == 3 and (v - 1000) // 8 == 3 else 1.05 for u, v, _ in edges]
    traffic = pd.DataFrame({"u": [e[0] for e in edges], "v": [e[1] for e in edges],
                            "key": [e[2] for e in edges], "tti": tti})
    wn = city.water()
    junctions = wn.junction_name_list
    x = np.array([wn.get_node(n).coordinates[0] for n in junctions])
    pressure = 45 - 40 * np.exp(-(((x - x.mean()) / 1500) ** 2))
    return {
        "traffic": _run_folder(root, "traffic", "traffic_signals", {"cim_road_links": traffic}),
        "water": _run_folder(root, "burst", "pipe_burst", {
            "cim_water_nodes": pd.DataFrame({"node": junctions, "pressure_m": pressure}),
            "cim_water_links": pd.DataFrame({"link": ["P1027_1028", "P1028_1029", "P1027_1035"],
                                             "burst": [True, False, False], "isolated": [True, True, True]}),
        }),
        "av": _run_folder(root, "av", "av_bus", {"cim_routes": pd.DataFrame(
            {"route_id": "AV1", "seq": range(4), "node": [1010, 1011, 1019, 1027], "autonomous": True})}),
        "empty": _run_folder(root, "hotline", "hotline_queue", {}),
    }


def _render(city, tmp_path: Path, view: str, run: Path | None = None, layers: str | None = None,
            name: str = "cim.png", html: Path | None = None) -> Path:
    from viz.cim.render import render

    out = tmp_path / name
    render(run, view=view, layers=layers, out=out, html=html, size=SMALL, city=city)
    return out


def test_district_render_shows_buildings_roads_and_background_in_proportion(city, tmp_path):
    full = pixel_classes(_render(city, tmp_path, "district"))
    bare = pixel_classes(_render(city, tmp_path, "district", layers="terrain", name="bare.png"))
    # Measured: buildings 3.4 %, roads 3.1 %, background 19 % of the picture.
    assert 0.015 < full["buildings"] < 0.08
    assert 0.015 < full["roads"] < 0.08
    assert 0.08 < full["background"] < 0.40
    # The classes are told apart: without those layers their pixels vanish, the sky stays.
    assert bare["buildings"] < 0.005 and bare["roads"] < 0.005
    assert bare["background"] == pytest.approx(full["background"], abs=0.03)


@pytest.mark.parametrize("view", ["district", "binhai"])
def test_render_matches_committed_baseline(city, tmp_path, view):
    import pyvista as pv

    baseline = BASELINES / f"{view}.png"
    rendered = _render(city, tmp_path, view, name=f"{view}.png")
    error = pv.compare_images(str(rendered), str(baseline))
    assert error < IMAGE_TOLERANCE, f"{view}: image error {error:.0f} vs {baseline} (see {rendered})"


def test_views_differ_enough_for_the_regression_test_to_bite(city, tmp_path):
    import pyvista as pv

    error = pv.compare_images(str(BASELINES / "district.png"), str(BASELINES / "binhai.png"))
    assert error > 10 * IMAGE_TOLERANCE


def _fraction_near(path: Path, colour: str, tolerance: float = 0.25) -> float:
    target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    img = _rgb(path)
    return float((np.abs(img - target).sum(-1) < tolerance).mean())


def test_traffic_run_colours_congested_roads_red_and_free_roads_green(city, tmp_path, runs):
    plain = _render(city, tmp_path, "district", name="plain.png")
    coloured = _render(city, tmp_path, "district", runs["traffic"], name="traffic.png")
    import matplotlib

    from viz.cim.results_overlay import ROAD_METRICS

    low, high = ROAD_METRICS["tti"]["clim"]
    cmap = matplotlib.colormaps["RdYlGn_r"]
    red, green = (matplotlib.colors.to_hex(cmap((t - low) / (high - low))) for t in (2.4, 1.05))
    assert _fraction_near(coloured, red) > 0.003
    assert _fraction_near(coloured, green) > 5 * _fraction_near(coloured, red)
    assert _fraction_near(plain, red) < 0.001 and _fraction_near(plain, green) < 0.001


def test_burst_focus_shows_the_isolated_segment_and_the_burst(city, tmp_path, runs):
    from viz.cim.layers import BURST_COLOUR, ISOLATED_COLOUR

    focus = _render(city, tmp_path, "focus", runs["water"], name="burst.png")
    assert _fraction_near(focus, ISOLATED_COLOUR, 0.3) > 0.002
    assert _fraction_near(focus, BURST_COLOUR, 0.3) > 0.0003
    district = _render(city, tmp_path, "district", runs["water"], name="burst_district.png")
    # The focus view is closer: the isolated segment takes more of the picture.
    assert _fraction_near(focus, ISOLATED_COLOUR, 0.3) > 2 * _fraction_near(district, ISOLATED_COLOUR, 0.3)


def test_route_run_focuses_on_its_route(city, tmp_path, runs):
    from viz.cim.layers import AV_COLOUR

    focus = _render(city, tmp_path, "focus", runs["av"], layers="terrain,roads,transit", name="av.png")
    assert _fraction_near(focus, AV_COLOUR, 0.3) > 0.005  # measured 0.9 %
    district = _render(city, tmp_path, "district", runs["av"], layers="terrain,roads,transit", name="avd.png")
    assert _fraction_near(focus, AV_COLOUR, 0.3) > 1.5 * _fraction_near(district, AV_COLOUR, 0.3)


def test_building_values_and_an_explicit_focus(city, tmp_path):
    import matplotlib

    ids = city.buildings["building_id"].astype(str)
    # Half the buildings without water (value 1), half served (0): RdYlBu is not used (no _m).
    values = pd.DataFrame({"building_id": ids, "unserved_ratio": (np.arange(len(ids)) % 2).astype(float)})
    lon, lat = 119.600, 25.905
    focus = pd.DataFrame({"lon": [lon], "lat": [lat], "radius_m": [700.0], "label": ["centre"]})
    run = _run_folder(tmp_path, "service", "town_supply", {"cim_buildings": values, "cim_focus": focus})
    wide = _render(city, tmp_path, "district", run, layers="terrain,buildings", name="wide.png")
    close = _render(city, tmp_path, "focus", run, layers="terrain,buildings", name="close.png")
    top = matplotlib.colors.to_hex(matplotlib.colormaps["YlOrRd"](1.0))
    # The unserved colour is there, and the 700 m focus shows the buildings larger.
    assert _fraction_near(wide, top, 0.35) > 0.002
    assert _fraction_near(close, top, 0.35) > 2 * _fraction_near(wide, top, 0.35)  # measured 3.1x


def test_focus_needs_cim_tables_and_a_run(city, tmp_path, runs):
    with pytest.raises(InputError, match="no cim_\\* tables"):
        _render(city, tmp_path, "focus", runs["empty"])
    with pytest.raises(InputError, match="needs a RESULTS_DIR"):
        _render(city, tmp_path, "focus")


def test_results_table_without_its_columns_is_refused(tmp_path):
    from viz.cim.results_overlay import load_overlay

    folder = _run_folder(tmp_path, "bad", "traffic_signals",
                         {"cim_road_links": pd.DataFrame({"u": [1], "v": [2], "key": [0]})})
    with pytest.raises(InputError, match="no metric column"):
        load_overlay(folder)


def test_adapters_read_signal_timing_and_pipe_burst_tables(tmp_path):
    from viz.cim.results_overlay import load_overlay

    bins = pd.DataFrame({"u": ["1", "1", "2"], "v": ["2", "2", "3"], "key": [0, 0, 0],
                         "bin_start_s": [0, 300, 0], "mean_speed_m_per_s": [10.0, 6.0, 12.0],
                         "mean_queue_veh": [2.0, 4.0, 0.0]})
    traffic = load_overlay(_run_folder(tmp_path, "signals", "signal_timing", {"link_times_best": bins}))
    links = traffic.table("cim_road_links").set_index(["u", "v", "key"])
    assert traffic.road_metric == "speed_m_per_s"
    assert links.loc[(1, 2, 0), "speed_m_per_s"] == pytest.approx(8.0)
    assert links.loc[(1, 2, 0), "queue_veh"] == pytest.approx(3.0)

    service = pd.DataFrame({"junction": ["J1", "J2", "J3"], "min_pressure_m": [30.0, 2.0, 1.0],
                            "cut_off": [False, True, True]})
    timeline = pd.DataFrame({"event": ["burst", "detected"], "time_s": [0.0, 60.0],
                             "detail": ["pipe P00886 (DN1000), hole 3927 cm²", "sensor"]})
    water = load_overlay(_run_folder(tmp_path, "burst", "pipe_burst",
                                     {"junction_service": service, "timeline": timeline}))
    assert water.table("cim_water_nodes")["cut_off"].tolist() == [False, True, True]
    assert water.table("cim_water_links").to_dict("list") == {"link": ["P00886"], "burst": [True]}


def test_render_focus_hook_writes_a_png_only_for_runs_with_cim_tables(city, tmp_path, runs):
    from viz.cim.render import FOCUS_PNG, render_focus

    copy = tmp_path / "burst"
    shutil.copytree(runs["water"], copy)
    assert render_focus(copy, size=SMALL, city=city) == copy / FOCUS_PNG
    assert (copy / FOCUS_PNG).stat().st_size > 10_000
    assert render_focus(runs["empty"], size=SMALL, city=city) is None


def test_report_hook_never_breaks_a_report(tmp_path, runs, caplog):
    from viz.cim.render import report_figure_hook

    assert report_figure_hook(runs["empty"]) == []
    # A run whose tables name links the city does not have: logged, and no figure.
    broken = _run_folder(tmp_path, "broken", "x", {"cim_focus": pd.DataFrame(
        {"lon": [0.0], "lat": [0.0], "radius_m": [-1.0], "label": ["nowhere"]})})
    (broken / "manifest.json").unlink()
    assert report_figure_hook(broken) == []
    assert "CIM render" in caplog.text


def test_chinese_labels_use_a_cjk_font():
    from fontTools.ttLib import TTCollection

    from viz.cim.labels import cjk_font_file

    font = TTCollection(str(cjk_font_file())).fonts[0] if str(cjk_font_file()).endswith(".ttc") else None
    if font is None:
        from fontTools.ttLib import TTFont

        font = TTFont(str(cjk_font_file()))
    cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in "长乐区滨海新城爆管吴航街道")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--view", "street"], "unknown view"),
        (["--layers", "roads,metro"], "--layers metro: unknown layer"),
        (["no/such/run"], "results folder not found"),
        (["--view", "focus"], "needs a RESULTS_DIR"),
        (["--size", "big"], "--size 'big'"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(twin_cli, tmp_path, args, needle):
    outcome = twin_cli("render", *args, "--out", tmp_path / "x.png")
    assert outcome.exit_code == 2
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], outcome.stderr
    assert not (tmp_path / "x.png").exists()


def test_cli_renders_png_and_offline_html_that_chromium_draws(twin_cli, city, tmp_path, monkeypatch, runs):
    import viz.cim.render

    monkeypatch.setattr(viz.cim.render, "load_city", lambda *args, **kwargs: city)
    png, page = tmp_path / "d.png", tmp_path / "d.html"
    outcome = twin_cli("render", runs["traffic"], "--view", "district", "--out", png, "--html", page,
                       "--size", "800x450")
    assert outcome.exit_code == 0, outcome.stderr
    assert "triangles" in outcome.stdout
    text = page.read_text(encoding="utf-8")
    # Offline: no script, stylesheet or data is fetched from anywhere.
    assert "<script src=" not in text and "<link " not in text
    assert "OfflineLocalView.load" in text

    shot = tmp_path / "shot.png"
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=800,450",
         "--virtual-time-budget=8000", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    img = _rgb(shot)
    assert img.std() > 0.05  # not a blank page
    # The WebGL scene is there: the TTI colours of the roads and the white overlay panel.
    assert _fraction_near(shot, "#006837") > 0.005
    assert (np.abs(img - 1.0).sum(-1) < 0.05).mean() > 0.01


def test_bundled_changle_binhai_renders_every_building(tmp_path):
    from twin.city.folder import load_city
    from viz.cim.render import render

    city = load_city()
    outcome = render(None, view="binhai", out=tmp_path / "binhai.png", size=(640, 360), city=city)
    # At least ten triangles per building (two roof, eight wall for a rectangle).
    assert outcome.triangles > 10 * len(city.buildings)
    classes = pixel_classes(outcome.png)
    assert classes["buildings"] > 0.02 and classes["roads"] > 0.01


def update_baselines() -> None:
    """Re-render the committed baselines (run this file as a script)."""
    from sample_city import sample_city

    from viz.cim.render import render

    city = sample_city()
    BASELINES.mkdir(parents=True, exist_ok=True)
    for view in ("district", "binhai"):
        render(None, view=view, out=BASELINES / f"{view}.png", size=SMALL, city=city)
        print(f"wrote {BASELINES / f'{view}.png'}")


if __name__ == "__main__":
    sys.exit(update_baselines())
