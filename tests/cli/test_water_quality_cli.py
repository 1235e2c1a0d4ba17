"""``twin water quality``: the table it writes, its options, and one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

NETWORKS = Path(__import__("wntr").__file__).parent / "library" / "networks"
NET1 = NETWORKS / "Net1.inp"
NET3 = NETWORKS / "Net3.inp"


def test_trace_writes_node_time_value(twin_cli, tmp_path):
    out = tmp_path / "trace"
    outcome = twin_cli("water", "quality", NET3, "--parameter", "trace", "--trace-node", "Lake",
                       "--duration-h", "24", "--out", out)
    assert outcome.exit_code == 0, outcome.stderr
    table = pd.read_parquet(out / "quality.parquet")
    assert list(table.columns) == ["node", "time_s", "value"]
    assert sorted(table.time_s.unique()) == [3600.0 * h for h in range(25)]
    assert table.value.between(0.0, 100.0 + 1e-9).all()
    assert (table[table.node == "Lake"].value == 100.0).all()
    kpis = json.loads((out / "kpis.json").read_text())
    # trace is conservative: what the lake sent in is what left plus what is still in the pipes
    assert kpis["mass_balance_ratio"] == pytest.approx(1.0, abs=1e-6)
    assert (out / "quality.csv").exists() and (out / "mass_balance.csv").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameter"] == "trace" and manifest["trace_node"] == "Lake"


def test_defaults_come_from_the_file(twin_cli, tmp_path):
    """Net1 asks for chlorine: mg/L, the river at 1.0, decaying downstream, never above it."""
    out = tmp_path / "chlorine"
    outcome = twin_cli("water", "quality", NET1, "--duration-h", "12", "--quality-step-s", "600", "--out", out)
    assert outcome.exit_code == 0, outcome.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameter"] == "chemical" and manifest["units"] == "mg/L"
    assert manifest["quality_step_s"] == 600
    table = pd.read_parquet(out / "quality.parquet")
    assert np.allclose(table[table.node == "9"].value, 1.0)
    assert table.value.max() <= 1.0 + 1e-12
    kpis = json.loads((out / "kpis.json").read_text())
    assert 0.0 < kpis["min_chemical_mg_per_l"] < kpis["max_chemical_mg_per_l"] <= 1.0
    # the chemical is chlorine, so the run checks GB 5749-2022 at the network's ends
    check = pd.read_parquet(out / "chlorine_check.parquet")
    assert sorted(check[check.is_end].node) == ["23", "32"]
    assert kpis["ends_below_min_chlorine_count"] == 0 and kpis["network_ends_count"] == 2


def test_age_in_hours(twin_cli, tmp_path):
    out = tmp_path / "age"
    assert twin_cli("water", "quality", NET3, "--parameter", "age", "--duration-h", "6", "--out", out).exit_code == 0
    table = pd.read_parquet(out / "quality.parquet")
    assert (table.value >= 0).all() and (table.value <= table.time_s / 3600.0 + 1e-9).all()


MALFORMED_QUALITY = """[JUNCTIONS]
 J1 10 1
[RESERVOIRS]
 R1 50
[PIPES]
 P1 R1 J1 1000 300 100 0 Open
[OPTIONS]
 UNITS LPS
 QUALITY Chlorine mg/L
[QUALITY]
 J1 abc
[END]
"""

SECOND_ORDER = MALFORMED_QUALITY.replace(" J1 abc\n", " J1 0.5\n[REACTIONS]\n ORDER BULK 2\n")


@pytest.mark.parametrize(("args", "names"), [
    (("--parameter", "salinity"), "salinity"),
    (("--parameter", "trace", "--trace-node", "NoSuchNode"), "NoSuchNode"),
    (("--parameter", "trace"), "trace node"),
    (("--quality-step-s", "0"), "--quality-step-s"),
    (("--duration-h", "-2"), "--duration-h"),
])
def test_bad_options_exit_2_with_one_line(twin_cli, tmp_path, args, names):
    outcome = twin_cli("water", "quality", NET1, *args, "--out", tmp_path / "x")
    assert outcome.exit_code == 2
    assert len(outcome.stderr.strip().splitlines()) == 1
    assert names in outcome.stderr
    assert not (tmp_path / "x").exists()


CHLORINE_GROWS = MALFORMED_QUALITY.replace(" J1 abc\n", " J1 0.5\n[REACTIONS]\n GLOBAL BULK 0.3\n")


@pytest.mark.parametrize(("text", "names"), [(MALFORMED_QUALITY, "bad.inp"), (SECOND_ORDER, "ORDER BULK = 2"),
                                             (CHLORINE_GROWS, "BULK P1")])
def test_malformed_quality_sections_exit_2_naming_the_file(twin_cli, tmp_path, text, names):
    bad = tmp_path / "bad.inp"
    bad.write_text(text)
    outcome = twin_cli("water", "quality", bad, "--out", tmp_path / "x")
    assert outcome.exit_code == 2
    assert len(outcome.stderr.strip().splitlines()) == 1
    assert "bad.inp" in outcome.stderr and names in outcome.stderr


def test_a_file_without_quality_needs_a_parameter(twin_cli, tmp_path):
    bare = tmp_path / "bare.inp"
    bare.write_text(MALFORMED_QUALITY.replace("[QUALITY]\n J1 abc\n", "").replace(" QUALITY Chlorine mg/L\n", ""))
    outcome = twin_cli("water", "quality", bare, "--out", tmp_path / "x")
    assert outcome.exit_code == 2 and "QUALITY = NONE" in outcome.stderr
    ok = twin_cli("water", "quality", bare, "--parameter", "age", "--duration-h", "2", "--out", tmp_path / "y")
    assert ok.exit_code == 0, ok.stderr


def test_bundled_network_age_by_town(twin_cli, tmp_path):
    """The bundled network tags its junctions with their towns: the run adds age by town (街镇)."""
    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / "age"
    outcome = twin_cli("water", "quality", repo / "gis_data" / "water.inp", "--parameter", "age",
                       "--duration-h", "24", "--out", out)
    assert outcome.exit_code == 0, outcome.stderr
    by_place = pd.read_parquet(out / "quality_by_place.parquet")
    assert by_place.junctions_count.sum() == 963
    assert by_place.place.str.contains("镇|街道|乡").all()
    weighted = by_place.demand_weighted_mean_value
    assert list(weighted) == sorted(weighted, reverse=True)  # oldest water drawn first
    assert (by_place.max_value <= 24.0 + 1e-9).all()


def test_chlorine_dosed_at_the_plants_of_the_bundled_network(twin_cli, tmp_path):
    """The bundled network carries no quality options: dose 0.8 mg/L at both plants and check
    GB 5749-2022 town by town."""
    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / "chlorine"
    outcome = twin_cli("water", "quality", repo / "gis_data" / "water.inp", "--chlorine-dose-mg-per-l", "0.8",
                       "--bulk-per-day", "-1.0", "--duration-h", "36", "--out", out)
    assert outcome.exit_code == 0, outcome.stderr
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["max_chemical_mg_per_l"] == pytest.approx(0.8)
    assert kpis["network_ends_count"] > 0 and kpis["junctions_above_max_chlorine_count"] == 0
    by_place = pd.read_parquet(out / "quality_by_place.parquet")
    assert by_place.ends_below_min_count.sum() == kpis["ends_below_min_chlorine_count"]
    assert kpis["places_with_ends_below_min_chlorine_count"] == int((by_place.ends_below_min_count > 0).sum())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["chlorine_dose_mg_per_l"] == 0.8 and manifest["bulk_per_day"] == -1.0


@pytest.mark.parametrize(("args", "names"), [
    (("--chlorine-dose-mg-per-l", "0"), "--chlorine-dose-mg-per-l 0.0"),
    (("--chlorine-dose-mg-per-l", "1", "--bulk-per-day", "0.2"), "--bulk-per-day 0.2"),
    (("--chlorine-dose-mg-per-l", "1", "--parameter", "age"), "--chlorine-dose-mg-per-l"),
    (("--wall-m-per-day", "-0.1"), "--wall-m-per-day"),
])
def test_bad_dosing_exits_2_with_one_line(twin_cli, tmp_path, args, names):
    outcome = twin_cli("water", "quality", NET3, *args, "--out", tmp_path / "x")
    assert outcome.exit_code == 2
    assert len(outcome.stderr.strip().splitlines()) == 1
    assert names in outcome.stderr
