"""The accelerator catalogue, P to hardware, power and energy, and mixed fleets."""

from __future__ import annotations

import math

import pytest

from twin.compute import accelerators, fleet, power
from twin.errors import InputError


def test_catalogue_covers_the_required_devices_with_a_source_for_every_figure():
    catalogue = accelerators.load_catalogue()
    for key in ("h100_sxm", "h800_sxm", "a100_sxm", "a800_sxm", "ascend_910b", "mlu370_x8"):
        spec = catalogue.get(key)
        for field in ("peaks", "memory", "tdp_w", "devices_per_node", "node_overhead_w"):
            assert len(getattr(spec.sources, field)) > 20, (key, field)
        assert spec.devices_per_node == 8


def test_vendor_peaks_dense_and_sparse():
    h100 = accelerators.accelerator("h100_sxm")
    assert h100.peak_tflops("fp16") == pytest.approx(989.4)
    assert h100.peak_tflops("bf16") == pytest.approx(989.4)
    assert h100.peak_tflops("fp16", sparse=True) == pytest.approx(1978.8)
    assert h100.peak_tflops("fp8") == pytest.approx(2 * 989.4, rel=1e-3)
    assert accelerators.accelerator("h800_sxm").peak_tflops("fp16") == h100.peak_tflops("fp16")
    assert accelerators.accelerator("a100_sxm").peak_tflops("fp16") == 312.0
    assert accelerators.accelerator("a800_sxm").peak_tflops("int8", sparse=True) == 1248.0
    assert 280.0 <= accelerators.accelerator("ascend_910b").peak_tflops("fp16") <= 376.0
    # devices without FP8 or sparsity say so instead of inventing a figure
    with pytest.raises(InputError, match="no FP8"):
        accelerators.accelerator("a100_sxm").peak_tflops("fp8")
    assert accelerators.accelerator("ascend_910b").peak_tflops("fp16", sparse=True) == 320.0
    with pytest.raises(InputError, match="precision 'fp4'"):
        h100.peak_tflops("fp4")


def test_10000p_is_about_10100_h100_at_dense_fp16():
    size = accelerators.size_for_pflops(10000, "h100_sxm")
    assert size.basis == "dense FP16"
    assert size.devices_needed == 10108 == math.ceil(10000e3 / 989.4)
    assert size.nodes == 1264 and size.devices == 10112
    assert size.pflops_installed >= 10000
    # counting sparsity halves the hardware, which is why the basis is always printed
    assert accelerators.size_for_pflops(10000, "h100_sxm", sparse=True).devices_needed == 5054
    assert accelerators.size_for_pflops(2000, "ascend_910b").devices_needed == 6250
    assert accelerators.size_for_nodes(253, "h100_sxm").pflops_installed == pytest.approx(253 * 8 * 0.9894)


def test_racks_follow_the_power_budget():
    h100 = accelerators.accelerator("h100_sxm")
    assert h100.node_max_power_w() == 8 * 700 + 4600
    assert accelerators.nodes_per_rack(h100, 40.0) == 3  # 10.2 kW nodes in a 40 kW rack
    assert accelerators.nodes_per_rack(h100, 100.0) == 9  # liquid-cooled rack
    size = accelerators.size_for_pflops(10000, "h100_sxm", rack_power_kw=40.0)
    assert size.racks == math.ceil(1264 / 3)
    with pytest.raises(InputError):
        accelerators.nodes_per_rack(h100, 0.0)


def test_power_is_devices_tdp_utilisation_plus_node_overhead_times_pue():
    h100 = accelerators.accelerator("h100_sxm")
    by_hand = (10112 * 700 * 0.65 + 1264 * 4600) * 1.25 / 1e6
    assert power.facility_power_mw(10112, 1264, h100, 0.65, 1.25) == pytest.approx(by_hand)
    assert power.annual_energy_mwh(by_hand) == pytest.approx(by_hand * 8760)
    # an idle device drawing 10% of TDP adds 10% of the idle devices' TDP
    idle = power.facility_power_mw(10112, 1264, h100, 0.65, 1.25, idle_fraction=0.1)
    assert idle - by_hand == pytest.approx(10112 * 700 * 0.35 * 0.1 * 1.25 / 1e6)
    with pytest.raises(InputError, match="PUE"):
        power.facility_power_mw(10, 2, h100, 0.5, 0.9)
    with pytest.raises(InputError, match="utilisation"):
        power.facility_power_mw(10, 2, h100, 1.5, 1.2)


def test_energy_from_time_integrals_matches_constant_power():
    h100 = accelerators.accelerator("h100_sxm")
    hours = 1000.0
    alloc_gpu_s = 8000 * 0.7 * hours * 3600
    up_gpu_s = 8000 * hours * 3600
    expected = power.facility_power_mw(8000, 1000, h100, 0.7, 1.3) * hours
    assert power.energy_mwh(alloc_gpu_s, up_gpu_s, h100, 1.3) == pytest.approx(expected)


def test_mixed_fleet_phases():
    phases = [
        fleet.FleetPhase(name="phase1", accelerator="ascend_910b", pflops=2000, year=2024),
        fleet.FleetPhase(name="phase2", accelerator="h100_sxm", pflops=8000, year=2027),
    ]
    rows = fleet.fleet_summary(phases, utilisation=0.65, pue=1.25)
    assert [r.phase for r in rows] == ["phase1", "phase2"]
    assert rows[0].devices == 6256 and rows[1].devices == accelerators.size_for_pflops(8000, "h100_sxm").devices
    assert rows[0].energy_mwh_per_year == pytest.approx(rows[0].power_mw * 8760)
    assert fleet.fleet_pflops_in(phases, 2026) == pytest.approx(rows[0].pflops)
    assert fleet.fleet_pflops_in(phases, 2028) == pytest.approx(rows[0].pflops + rows[1].pflops)
    # the mixed fleet as one pool of reference devices keeps its total peak
    total = fleet.fleet_pflops_in(phases, 2028)
    assert fleet.equivalent_devices(total) == math.ceil(total * 1000 / 989.4 - 1e-9)


def test_bad_catalogue_is_one_line_input_error(tmp_path):
    bad = tmp_path / "acc.toml"
    bad.write_text("[accelerators.x]\nname = 'x'\nvendor = 'y'\nfp16_dense_tflops = -1\n")
    with pytest.raises(InputError) as err:
        accelerators.load_catalogue(bad)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(InputError, match="unknown"):
        accelerators.accelerator("tpu_v5")
    with pytest.raises(InputError, match="must be > 0"):
        accelerators.size_for_pflops(0, "h100_sxm")
