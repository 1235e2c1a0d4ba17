"""The KPI catalogue covers every bundled scenario's KPIs, and numbers read the same everywhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twin.kpis import DISPLAY_UNITS, LANGS, SI_UNIT_TEXT, catalogue, format_number, kpi_info

BASELINES = Path(__file__).resolve().parents[1] / "regression" / "kpi_baseline"
BUNDLED_KPIS = sorted({name for path in BASELINES.glob("*.json") for name in json.loads(path.read_text())})


@pytest.mark.parametrize("name", BUNDLED_KPIS)
def test_every_bundled_kpi_is_in_the_catalogue_with_readable_labels(name):
    info = kpi_info(name)
    assert info.known, f"{name}: add its metric (and qualifiers) to a file of twin/kpi_catalogue/ (one per system)"
    for lang in LANGS:
        assert "_" not in info.label[lang], info.label
        assert info.label[lang].strip()


def test_catalogue_entries_are_complete():
    for metric, entry in catalogue()["metrics"].items():
        assert set(entry) <= {"zh", "en", "display", "sense"}, metric
        assert entry["sense"] in ("lower", "higher", "neutral"), metric
        display = entry["display"]
        assert display == "time" or display in DISPLAY_UNITS or display in SI_UNIT_TEXT, (metric, display)
        if display in DISPLAY_UNITS:
            si = DISPLAY_UNITS[display].si
            assert metric.endswith(si) or metric.endswith(display) or si == "ratio", metric


def test_qualifiers_chain_in_front_of_a_metric():
    info = kpi_info("phase1_2024_easy_p95_wait_s")
    assert info.label["en"] == "phase 1 (2000P) · 2024 · EASY backfilling · 95th-percentile wait"
    assert info.label["zh"].startswith("一期2000P · 2024年")
    assert info.sense == "lower"
    assert not kpi_info("nonsense_p95_wait_s").known  # an unknown qualifier is not guessed


def test_display_units_convert_from_si():
    assert kpi_info("time_to_restore_s").format(4.5 * 3600, "en") == "4.5 h"
    assert kpi_info("mean_wait_s").format(90.0, "zh") == "90 秒"
    assert kpi_info("mean_wait_s").format(258.0, "en") == "4.3 min"
    assert kpi_info("upsizing_cost_cny").format(17_018_750.0, "zh") == "1,702 万元"
    assert kpi_info("upsizing_cost_cny").format(17_018_750.0, "en") == "17,018,750 CNY"
    assert kpi_info("utilisation").format(0.951, "en") == "95.1%"
    assert kpi_info("water_lost_m3").format(None, "en") == "—"


def test_a_column_of_times_shares_one_unit():
    info = kpi_info("p95_wait_s")
    display = info.display_for([30.0, 787_934.0])
    assert display == "d"
    assert info.format(30.0, "en", display) == "0.000347 d"


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_format_number_keeps_three_significant_figures(value):
    text = format_number(value)
    assert "e" not in text and re.fullmatch(r"-?[\d,]+(\.\d+)?", text)
    back = float(text.replace(",", ""))
    if abs(value) >= 1e-6:
        assert abs(back - value) <= 0.005 * abs(value) + 1e-12


def test_format_number_examples():
    assert [format_number(v) for v in (17.43, 1234.6, 0.0421, 787934.0, 3.0, 99.96, -2.5)] == [
        "17.4", "1,235", "0.0421", "787,934", "3", "100", "-2.5"]
