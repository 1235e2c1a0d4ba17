"""`twin report` for run, sweep and suite folders, and the suite's index page with headline KPIs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import sweep_kinds  # noqa: F401 - registers the test-only `sweep_probe` kind (it names headline KPIs)

from twin.kpis import format_number

PROBE = """
[scenario]
kind = "sweep_probe"
name = "probe"
description = "A probe run for the report tests."
seed = 4
duration_s = 60.0

[probe]
samples = 30
figure = true
"""

HOTLINE = """
[scenario]
kind = "hotline_queue"
name = "hotline_tiny"
seed = 2
duration_s = 1800.0

[hotline]
agents = 3
calls_per_h = [40.0]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_report_rebuilds_a_run_report_with_kpis_plots_renders_and_inputs(tmp_path, twin_cli):
    run_dir = tmp_path / "run"
    assert twin_cli("run", write(tmp_path, "probe.toml", PROBE), "--out", run_dir, "-q").exit_code == 0
    original = (run_dir / "report.md").read_text(), (run_dir / "report.html").read_text()
    assert json.loads((run_dir / "manifest.json").read_text())["headline"] == [
        "mean_wait_s", "throughput_veh_per_h"]
    # Chinese by default: the bundled city's language.
    assert "## 结论" in original[0] and "<html lang='zh-CN'>" in original[1]
    assert "参考孪生" in original[0]  # the bundled city is a generated reference twin, and says so

    (run_dir / "report.md").unlink()
    (run_dir / "report.html").unlink()
    outcome = twin_cli("report", run_dir)
    assert outcome.exit_code == 0, outcome.stderr
    assert ((run_dir / "report.md").read_text(), (run_dir / "report.html").read_text()) == original

    # A map and a 3D render dropped into the folder (as the viz commands do) join the report.
    shutil.copyfile(run_dir / "draws.png", run_dir / "map.png")
    (run_dir / "renders").mkdir()
    shutil.copyfile(run_dir / "draws.png", run_dir / "renders" / "cim.png")
    (run_dir / "renders" / "cim.html").write_text("<html></html>")
    assert twin_cli("report", run_dir, "--lang", "en").exit_code == 0
    markdown = (run_dir / "report.md").read_text()
    kpis = json.loads((run_dir / "kpis.json").read_text())
    assert markdown.index("## The answer") < markdown.index("## All KPIs")  # the answer comes first
    assert "- **mean wait**:" in markdown and "- **throughput**:" in markdown
    for name in kpis:
        line = next(line for line in markdown.splitlines() if line.endswith(f"| {name} |"))
        assert "_" not in line.split("|")[1], line  # the label is words, not the snake_case name
    assert "| mean wait | " in markdown and " s |" in markdown
    assert "## Figures\n\n![draws](draws.png)" in markdown
    assert "![map](map.png)" in markdown and "![cim](renders/cim.png)" in markdown
    assert "[renders/cim.html](renders/cim.html)" in markdown
    assert "## Findings and assumptions\n\nProbe at level **1.0**." in markdown
    assert 'kind = "sweep_probe"' in markdown and "| simpy |" in markdown and "| seed | 4 |" in markdown
    page = (run_dir / "report.html").read_text()
    for fragment in ("<img src='draws.png'", "<img src='map.png'", "<img src='renders/cim.png'",
                     "<a href='renders/cim.html'>", "<b>1.0</b>", "class='cards'", "<html lang='en'>"):
        assert fragment in page, fragment
    assert not list(run_dir.glob(".*"))  # written through temporary files, none left over


def test_report_rebuilds_a_sweep_report(tmp_path, twin_cli):
    out_dir = tmp_path / "sweep"
    scenario = write(tmp_path, "probe.toml", PROBE.replace("figure = true", "figure = false"))
    assert twin_cli("sweep", scenario, "--set", "probe.level=1,2", "-r", "2", "-w", "1", "-q",
                    "--out", out_dir, "--lang", "en").exit_code == 0
    original = (out_dir / "report.html").read_text()
    (out_dir / "report.html").unlink()
    assert twin_cli("report", out_dir, "--lang", "en").exit_code == 0
    assert (out_dir / "report.html").read_text() == original
    markdown = (out_dir / "report.md").read_text()
    assert "# Sweep: probe" in markdown
    assert "| probe.level | runs | failed | label length | mean wait (s) | throughput (veh/h) |" in markdown
    assert "![kpis_vs_probe.level](kpis_vs_probe.level.png)" in markdown
    assert "twin sweep" in markdown and "--set probe.level=1,2" in markdown
    assert twin_cli("report", out_dir).exit_code == 0
    assert "平均等待时间" in (out_dir / "report.md").read_text()


def test_report_of_something_else_exits_2(tmp_path, twin_cli):
    (tmp_path / "notes.txt").write_text("hello")
    for target in (tmp_path, tmp_path / "missing"):
        outcome = twin_cli("report", target)
        assert outcome.exit_code == 2
        assert len(outcome.stderr.strip().splitlines()) == 1 and str(target) in outcome.stderr


def test_index_lists_runs_with_headline_kpis_plots_and_links(tmp_path, twin_cli):
    write(tmp_path, "probe.toml", PROBE)
    write(tmp_path, "hotline.toml", HOTLINE)
    suite = write(tmp_path, "suite.toml", '[suite]\nname = "baseline"\ndescription = "Two runs."\n'
                  'scenarios = ["probe.toml", "hotline.toml"]\n')
    out_dir = tmp_path / "results"
    assert twin_cli("suite", suite, "--out", out_dir, "-q", "--lang", "en").exit_code == 0
    index = (out_dir / "index.html").read_text()
    assert "<a href='probe/report.html'>probe</a>" in index
    assert "<a href='hotline_tiny/report.html'>hotline_tiny</a>" in index
    # Every question with its answer on one screen, before the cards.
    grid = index[index.index("The questions and their answers"):index.index("<div class='card'>")]
    assert "A probe run for the report tests." in grid and "probe/report.html" in grid

    cards = index.split("<div class='card'>")[1:]
    probe_card, hotline_card = cards
    assert "probe/report.html" in probe_card and "hotline_tiny/report.html" in hotline_card
    # The probe names its headline KPIs: exactly those are shown, with labels, values and units.
    kpis = json.loads((out_dir / "probe" / "kpis.json").read_text())
    assert "<small>mean wait</small>" in probe_card and "<small>throughput</small>" in probe_card
    assert "label length" not in probe_card
    assert f"<b>{format_number(kpis['mean_wait_s'])} s</b>" in probe_card
    assert "<img src='probe/draws.png'" in probe_card
    # The hotline names none: its first KPIs stand in.
    assert "<small>abandoned</small>" in hotline_card
    assert "<img src='hotline_tiny/queue_and_waits.en.png'" in hotline_card

    assert json.loads((out_dir / "index.json").read_text())["runs"] == ["probe", "hotline_tiny"]
    (out_dir / "index.html").unlink()
    (out_dir / "probe" / "report.html").unlink()
    outcome = twin_cli("report", out_dir)
    assert outcome.exit_code == 0, outcome.stderr
    assert (out_dir / "index.html").read_text() == index  # the suite remembers its language
    assert (out_dir / "probe" / "report.html").exists()


def test_registered_figure_hooks_add_their_pngs_to_the_run_report(tmp_path, twin_cli):
    from viz.report.build import FIGURE_HOOKS, register_figure_hook

    def stamp(run_dir: Path) -> list[Path]:
        target = run_dir / "hooked.png"
        shutil.copyfile(run_dir / "draws.png", target)
        return [target]

    register_figure_hook(stamp)
    register_figure_hook(stamp)  # registering twice still calls it once
    try:
        assert FIGURE_HOOKS.count(stamp) == 1
        run_dir = tmp_path / "run"
        assert twin_cli("run", write(tmp_path, "probe.toml", PROBE), "--out", run_dir, "-q").exit_code == 0
    finally:
        FIGURE_HOOKS.remove(stamp)
    assert "![hooked](hooked.png)" in (run_dir / "report.md").read_text()
    assert "src='hooked.png'" in (run_dir / "report.html").read_text()


def test_a_run_with_a_cim_focus_gets_its_3d_render_in_the_report(tmp_path, twin_cli):
    """The CLI registers the CIM focus render: `twin report` on a run with cim_* tables embeds it."""
    import pandas as pd

    run_dir = tmp_path / "run"
    assert twin_cli("run", write(tmp_path, "probe.toml", PROBE), "--out", run_dir, "-q").exit_code == 0
    assert not (run_dir / "cim_focus.png").exists()  # no cim_* table, no render
    pd.DataFrame([{"lon": 119.63, "lat": 25.96, "radius_m": 1500.0, "label": "test focus"}]).to_parquet(
        run_dir / "cim_focus.parquet", index=False)
    assert twin_cli("report", run_dir).exit_code == 0
    assert (run_dir / "cim_focus.png").stat().st_size > 10_000
    assert "cim_focus.png" in (run_dir / "report.md").read_text()


def test_results_gpkg_opens_in_epsg_4326_with_named_features_and_maps_in_the_report(tmp_path, twin_cli):
    import geopandas as gpd
    import pyogrio

    run_dir = tmp_path / "run"
    scenario = write(tmp_path, "probe.toml", PROBE.replace("figure = true", "layer = true"))
    assert twin_cli("run", scenario, "--out", run_dir, "-q").exit_code == 0
    gpkg = run_dir / "results.gpkg"
    assert [name for name, _ in pyogrio.list_layers(gpkg)] == ["low_pressure_junctions"]
    frame = gpd.read_file(gpkg, layer="low_pressure_junctions")
    assert frame.crs.to_epsg() == 4326
    assert frame["name"].tolist() == ["吴航街道 J1", "滨海新城 J2"]
    assert frame.geometry.x.between(119.5, 119.7).all()
    assert (run_dir / "result_map.png").stat().st_size > 10_000
    assert "![result_map](result_map.png)" in (run_dir / "report.md").read_text()


def test_a_suite_that_fails_half_way_leaves_its_folder_as_it_was(tmp_path, twin_cli):
    write(tmp_path, "probe.toml", PROBE)
    write(tmp_path, "bad.toml", PROBE.replace('name = "probe"', 'name = "bad"').replace(
        "samples = 30", "samples = 30\nfail_level = 1.0"))
    suite = write(tmp_path, "suite.toml", '[suite]\nname = "two"\nscenarios = ["probe.toml", "bad.toml"]\n')
    out_dir = tmp_path / "results"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("an earlier file")
    outcome = twin_cli("suite", suite, "--out", out_dir, "-q")
    assert outcome.exit_code == 2 and "rejected by the probe" in outcome.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["keep.txt"]


def test_a_plot_drawn_in_both_languages_is_shown_in_the_report_language(tmp_path, twin_cli):
    run_dir = tmp_path / "run"
    scenario = write(tmp_path, "probe.toml", PROBE.replace("figure = true", "figure = true\nboth_languages = true"))
    assert twin_cli("run", scenario, "--out", run_dir, "-q").exit_code == 0
    assert (run_dir / "draws.zh.png").exists() and (run_dir / "draws.en.png").exists()
    assert "![draws.zh](draws.zh.png)" in (run_dir / "report.md").read_text()
    assert twin_cli("report", run_dir, "--lang", "en").exit_code == 0
    markdown = (run_dir / "report.md").read_text()
    assert "![draws.en](draws.en.png)" in markdown and "draws.zh.png" not in markdown
