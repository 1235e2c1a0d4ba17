"""Traffic benchmarks: the full Changle AM peak hour against SUMO 1.28, micro and mesoscopic.

The case is the bundled district: every road, the signal plans (Webster on the AM design
flows) and every AM-peak vehicle trip (gravity demand, 07:00–08:00), exported to SUMO with
``twin.traffic.sumo_case.export_case``. Both models run the **same files**: SUMO (``sumo`` and
``sumo --mesosim --meso-junction-control``, no teleporting) and ours (the ``.net.xml`` read
back with its connections and our programmes, the same explicit routes), from 07:00 to 08:00.
Our time is the median of three runs after a warm-up run (JIT compiled and cached); each SUMO
mode runs once, in the same session. Ratios are ours / SUMO (below 1: we are faster); the
vehicle-link updates per second of our kernel are recorded too.

A second suite times the kernel alone on a synthetic 30 × 30 grid town at district-like load.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from twin.generate.roads import grid_town
from twin.traffic.demand import DemandConfig, gravity_od, sample_trips
from twin.traffic.model import simulate
from twin.traffic.network import network_from_graph, network_from_sumo
from twin.traffic.params import TrafficParams
from twin.traffic.signals.default_plans import default_plans
from twin.traffic.signals.timing import TimingParams
from twin.traffic.sumo_case import changle_case, export_case
from twin.traffic.sumo_io.config import read_sumocfg
from twin.traffic.sumo_io.network import read_net
from twin.traffic.sumo_io.programs import read_programs
from twin.traffic.sumo_io.routes import read_routes
from twin.traffic.sumo_io.running import run_sumo
from twin.traffic.trips import trips_from_sumo

BEGIN_S = 7 * 3600.0
HOUR_S = 3600.0


@pytest.fixture(scope="module")
def changle_files(tmp_path_factory) -> dict:
    """The Changle AM peak exported to SUMO, and our network, plans and trips read back."""
    folder = tmp_path_factory.mktemp("changle_sumo")
    case = changle_case(None, seed=1, begin_s=BEGIN_S, duration_s=HOUR_S)
    export_case(
        case.graph,
        case.network,
        case.plans,
        case.trips,
        folder,
        BEGIN_S,
        BEGIN_S + HOUR_S,
        name="changle",
    )
    config = read_sumocfg(folder / "changle.sumocfg")
    net = read_net(config.net_file)
    net.programs.update(read_programs(config.additional_files[0]))
    network = network_from_sumo(net)
    trips, skipped = trips_from_sumo(network, read_routes(config.route_files[0]))
    return {
        "folder": folder,
        "config": config,
        "network": network,
        "trips": trips,
        "skipped": skipped,
        "plans": default_plans(network, case.timing),
        "timing": case.timing,
        "graph_trips": len(case.trips),
    }


def _ours(files: dict):
    return simulate(
        files["network"], files["plans"], files["trips"], BEGIN_S, BEGIN_S + HOUR_S, files["timing"]
    )


def _sumo(files: dict, mesosim: bool) -> float:
    config = files["config"]
    started = time.perf_counter()
    run_sumo(
        config.net_file,
        list(config.route_files),
        files["folder"] / ("meso" if mesosim else "micro"),
        begin_s=BEGIN_S,
        end_s=BEGIN_S + HOUR_S,
        mesosim=mesosim,
        additional_files=list(config.additional_files),
        extra_args=["--ignore-route-errors", "true"],
    )
    return time.perf_counter() - started


def _record_ours(benchmark, files: dict) -> None:
    model = benchmark.pedantic(_ours, args=(files,), rounds=3, warmup_rounds=1)
    seconds = float(benchmark.stats.stats.median)
    kpis = model.kpis()
    benchmark.extra_info.update(
        {
            "trips": len(files["trips"]),
            "links": files["network"].n_links,
            "signals": len(files["network"].controllers),
            "vehicle_link_updates": model.vehicle_link_updates,
            "vehicle_link_updates_per_s": model.vehicle_link_updates / seconds,
            "finished_trips": kpis["throughput_veh"],
            "mean_travel_time_s": kpis["mean_travel_time_s"],
        }
    )
    print(
        f"Changle AM peak: {len(files['trips']):,} trips on {files['network'].n_links:,} links, "
        f"{seconds:.2f} s, {model.vehicle_link_updates / seconds:,.0f} vehicle-link updates/s"
    )


def test_changle_am_peak_vs_sumo_micro(benchmark, peer_comparison, changle_files):
    _record_ours(benchmark, changle_files)
    peer_comparison(
        "Changle AM peak hour",
        peer="SUMO 1.28 micro",
        peer_fn=lambda: _sumo(changle_files, False),
        rounds=1,
        warmup_rounds=0,
    )


def test_changle_am_peak_vs_sumo_meso(benchmark, peer_comparison, changle_files):
    _record_ours(benchmark, changle_files)
    peer_comparison(
        "Changle AM peak hour",
        peer="SUMO 1.28 mesosim",
        peer_fn=lambda: _sumo(changle_files, True),
        rounds=1,
        warmup_rounds=0,
    )


@pytest.fixture(scope="module")
def grid_case() -> dict:
    town = grid_town(size=30, spacing_m=250.0, residents=400_000.0)
    network = network_from_graph(town.graph, TrafficParams())
    demand = DemandConfig()
    od = gravity_od(town.zones, town.graph, demand)
    trips = sample_trips(od, network, demand, -900.0, HOUR_S, np.random.default_rng(1), day_start_s=-BEGIN_S)
    timing = TimingParams()
    return {"network": network, "plans": default_plans(network, timing), "trips": trips, "timing": timing}


def test_kernel_grid_town_peak_hour(benchmark, grid_case):
    def run():
        return simulate(
            grid_case["network"], grid_case["plans"], grid_case["trips"], -900.0, HOUR_S, grid_case["timing"]
        )

    model = benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    seconds = float(benchmark.stats.stats.median)
    benchmark.extra_info.update(
        {
            "trips": len(grid_case["trips"]),
            "links": grid_case["network"].n_links,
            "vehicle_link_updates_per_s": model.vehicle_link_updates / seconds,
        }
    )
    print(
        f"grid town: {len(grid_case['trips']):,} trips, {seconds:.2f} s, "
        f"{model.vehicle_link_updates / seconds:,.0f} vehicle-link updates/s"
    )


def test_files_are_the_same_case(changle_files):
    """Our side drives the same vehicles SUMO loads (none dropped when read back)."""
    assert not changle_files["skipped"]
    assert Path(changle_files["config"].route_files[0]).exists()
