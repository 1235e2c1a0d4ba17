"""The year plan (twin/compute/yearplan.py): each class runs short when, and only when, it should.

Short windows of batch arrivals keep these fast; the bundled ``scenarios/aicc_yearplan.toml`` runs
the full plan (tests/scenarios/test_aicc_yearplan.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from twin.compute.climate import CoolingDesign, fuzhou_typical_year, pue_by_hour
from twin.compute.training import expected_goodput
from twin.compute.workload import load_workload_config
from twin.compute.yearplan import (
    Basis,
    StagePlan,
    TrainingPlan,
    YearPlanTable,
    gang_for,
    run_stage_year,
    run_yearplan,
    with_growth,
    yearplan_kpis,
)
from twin.errors import InputError

WEATHER = fuzhou_typical_year()
MIX = load_workload_config()


def small_table(**update) -> YearPlanTable:
    base = YearPlanTable(years=[2024], batch_days=3.0, warmup_days=1.0)
    return base.model_copy(update=update)


def one(stage: StagePlan, year: int, table: YearPlanTable, seed: int = 1):
    return run_stage_year(stage, year, table, MIX, Basis(), WEATHER, np.random.default_rng(seed))


TARGET = StagePlan(name="target", capacity_pflops=10000.0, grid_cap_mw=16.0, liquid_share=0.5)
PHASE1 = StagePlan(name="phase1", capacity_pflops=2000.0, grid_cap_mw=3.5, liquid_share=0.0)


def test_the_10000p_centre_carries_2024_demand_on_every_class():
    outcome = one(TARGET, 2024, small_table())
    assert outcome.short == []
    assert outcome.batch_small_p95_s < 3600.0 and outcome.inference_ttft_s < 2.0
    assert outcome.training_days < 90.0 and outcome.capped_hours == 0


def test_the_2000p_phase_runs_short_on_the_batch_queue_in_2025():
    outcome = one(PHASE1, 2025, small_table())
    assert "batch" in outcome.short
    assert outcome.batch_offered_gpus > 8 * outcome.batch_nodes  # the demand exceeds the partition


def test_training_runs_short_when_its_deadline_is_too_tight():
    tight = small_table(training=TrainingPlan(deadline_days=10.0))
    outcome = one(TARGET, 2024, tight)
    assert outcome.short[0] == "training" and outcome.training_days > 10.0


def test_training_gang_is_capped_by_its_share_and_slows_down():
    plan = TrainingPlan()
    free = gang_for(plan, 2028, 10**9, 989.4)
    capped = gang_for(plan, 2028, 2024, 989.4)
    assert capped.devices == 8 * int(0.4 * 2024 / 8) < free.devices
    assert capped.work_s == pytest.approx(free.work_s * free.devices / capped.devices)
    # a smaller gang fails less often, so its goodput is higher
    assert expected_goodput(capped) > expected_goodput(free)


def test_inference_runs_short_when_the_replicas_do_not_fit():
    table = small_table(inference=YearPlanTable().inference.model_copy(update={"peak_requests_per_s_2024": 1e5}))
    outcome = one(PHASE1, 2024, table)
    assert "inference" in outcome.short and outcome.inference_ttft_s == np.inf


def test_power_runs_short_under_a_low_grid_cap_and_not_under_a_high_one():
    low = one(TARGET.model_copy(update={"grid_cap_mw": 5.0}), 2024, small_table())
    high = one(TARGET.model_copy(update={"grid_cap_mw": 50.0}), 2024, small_table())
    assert "power" in low.short and low.capped_hours > 0
    assert "power" not in high.short and high.capped_hours == 0


def test_annual_pue_follows_the_cooling_design_and_months_are_warmer_in_summer():
    air = one(PHASE1, 2024, small_table())
    half = one(TARGET, 2024, small_table())
    assert air.annual_pue > half.annual_pue
    assert half.annual_pue < 1.25 < air.annual_pue < 1.3
    assert air.pue_by_month[6] > air.pue_by_month[0]  # July against January
    # a flat load reproduces the plain hourly-mean PUE of the design
    hourly = pue_by_hour(CoolingDesign(liquid_share=0.0), WEATHER)
    assert air.pue_by_month.min() >= hourly.min() - 1e-12 and air.pue_by_month.max() <= hourly.max() + 1e-12


def test_the_next_stage_carries_the_last_year_it_was_sized_for():
    table = small_table(years=[2028], batch_days=5.0, warmup_days=2.0)
    plan = run_yearplan(table, MIX, Basis(), np.random.default_rng(3), WEATHER)
    nxt = plan.next_stage
    assert nxt.pflops > 10000.0 and nxt.annual_pue <= 1.25
    sized = StagePlan(name="target", capacity_pflops=nxt.pflops, grid_cap_mw=nxt.facility_mw * 1.02,
                      liquid_share=nxt.liquid_share)
    outcome = one(sized, 2028, table, seed=4)
    assert outcome.short == [], outcome.short


def test_growth_per_tenant_is_an_input_and_unknown_tenants_are_errors():
    faster = with_growth(MIX, {"ai_hub": 3.0})
    hub = next(t for t in faster.tenants if t.name == "ai_hub")
    assert all(c.growth_per_year == 3.0 for c in hub.classes)
    with pytest.raises(InputError, match="unknown tenants"):
        with_growth(MIX, {"nobody": 1.2})


def test_same_seed_same_kpis():
    table = small_table(years=[2024, 2026])
    a = yearplan_kpis(run_yearplan(table, MIX, Basis(), np.random.default_rng(9), WEATHER))
    b = yearplan_kpis(run_yearplan(table, MIX, Basis(), np.random.default_rng(9), WEATHER))
    assert a == b and "phase1_2026_training_goodput_ratio" in a


def test_stages_face_the_same_demand_in_a_year():
    """Common random numbers: the same jobs and the same gang failures at every stage."""
    plan = run_yearplan(small_table(years=[2025]), MIX, Basis(), np.random.default_rng(5), WEATHER)
    phase1, target = plan.rows
    assert phase1.batch_offered_gpus == target.batch_offered_gpus and phase1.batch_jobs == target.batch_jobs
    assert phase1.gang_devices == target.gang_devices and phase1.training_days == target.training_days


def test_each_years_simulated_goodput_is_within_3_percent_of_daly():
    """One draw of the flagship gang's failures per stage-year against Daly's closed form (the
    2028 gang of 2,592 devices fails about every 20 h over its ~60 days)."""
    plan = run_yearplan(small_table(years=[2024, 2026, 2028], batch_days=1.0, warmup_days=0.0), MIX, Basis(),
                        np.random.default_rng(11), WEATHER)
    for row in plan.rows:
        assert row.training_goodput == pytest.approx(row.training_goodput_daly, rel=0.03), (row.stage, row.year)
    assert plan.rows[-1].training_goodput_daly < plan.rows[0].training_goodput_daly  # bigger gangs lose more
