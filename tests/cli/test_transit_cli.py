"""``twin transit`` commands on a dataset folder written in the test."""

from __future__ import annotations

import json

from twin.generate.roads import arterial_corridor
from twin.transit.layer import write_transit_gpkg
from twin.transit.lines import corridor_line


def test_transit_lines_lists_the_layer(tmp_path, twin_cli):
    network = corridor_line(arterial_corridor(n_nodes=11, spacing_m=400.0), stop_every=2, headway_s=480.0,
                            line_id="BH-AV1", vehicle="av_bus_12m")
    write_transit_gpkg(network, tmp_path / "transit.gpkg")
    outcome = twin_cli("transit", "lines", "--data", tmp_path, "--json")
    assert outcome.exit_code == 0, outcome.stderr
    [line] = json.loads(outcome.stdout)
    assert line == {"line_id": "BH-AV1", "name": "line BH-AV1", "headway_s": 480.0,
                    "vehicle_type": "av_bus_12m", "autonomous": True, "stops": 6, "length_km": 4.0}
    text = twin_cli("transit", "lines", "--data", tmp_path)
    assert "every  8.0 min" in text.stdout and "driverless" in text.stdout


def test_transit_commands_report_bad_input(tmp_path, twin_cli):
    missing = twin_cli("transit", "lines", "--data", tmp_path / "nowhere")
    assert missing.exit_code == 2 and "dataset folder not found" in missing.stderr
    empty = twin_cli("transit", "lines", "--data", tmp_path)
    assert empty.exit_code == 2 and "file not found" in empty.stderr
    clock = twin_cli("transit", "export-gtfs", "--out", tmp_path / "f.zip", "--data", tmp_path,
                     "--start", "6h")
    assert clock.exit_code == 2 and "expected HH:MM" in clock.stderr


def test_bundled_layer_round_trips_through_gtfs_commands(tmp_path, twin_cli):
    import gtfs_kit

    from twin.paths import data_dir
    from twin.transit.layer import read_transit_tables

    feed = tmp_path / "changle_gtfs.zip"
    out = twin_cli("transit", "export-gtfs", "--out", feed, "--start", "06:00", "--end", "22:00")
    assert out.exit_code == 0, out.stderr
    loaded = gtfs_kit.read_feed(feed, dist_units="m")
    assert len(loaded.routes) >= 20 and len(loaded.frequencies) == 2 * len(loaded.routes)
    back = tmp_path / "imported.gpkg"
    imported = twin_cli("transit", "import-gtfs", feed, "--out", back)
    assert imported.exit_code == 0, imported.stderr
    assert twin_cli("transit", "import-gtfs", feed, "--out", back).exit_code == 2  # no overwrite
    original = read_transit_tables(data_dir() / "transit.gpkg")
    again = read_transit_tables(back)
    columns = ["line_id", "headway_s", "autonomous", "vehicle_type", "route_nodes", "route_nodes_return"]
    assert again["bus_lines"][columns].equals(original["bus_lines"][columns])
    assert again["bus_line_stops"].equals(original["bus_line_stops"])
    assert list(again["bus_stops"]["node"]) == list(original["bus_stops"]["node"])
