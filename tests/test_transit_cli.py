"""``twin transit`` commands on a dataset folder written in the test."""

from __future__ import annotations

import json

from twin.transit import corridor_line, synthetic_corridor, write_transit_gpkg


def test_transit_lines_lists_the_layer(tmp_path, twin_cli):
    network = corridor_line(synthetic_corridor(n_nodes=11, spacing_m=400.0), stop_every=2, headway_s=480.0,
                            line_id="BH-AV1", vehicle="av_bus_12m")
    write_transit_gpkg(network, tmp_path / "changle_transit.gpkg")
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
