"""Our mesoscopic model against SUMO 1.28 (microscopic) on the same ``.net.xml`` and routes.

Networks: a ``netgenerate`` grid with traffic lights and an arterial corridor of six signalised
junctions built from our road layer (:func:`twin.generate.roads.arterial_corridor`) and exported
with :func:`twin.traffic.sumo_io.netconvert.write_net`. Demand:
SUMO's ``randomTrips.py`` at moderate levels. Both models run every trip to its end without
teleporting; the mean travel time must agree within 10 % and the throughput over the demand
period within 5 %. (The 滨海新城 area exported to SUMO is compared in
``test_sumo_binhai.py``.)
"""

from __future__ import annotations

import pytest

from twin.generate.roads import arterial_corridor
from twin.traffic.model import simulate
from twin.traffic.network import network_from_sumo
from twin.traffic.signals.default_plans import default_plans
from twin.traffic.signals.timing import TimingParams
from twin.traffic.sumo_io.netconvert import write_net
from twin.traffic.sumo_io.network import read_net
from twin.traffic.sumo_io.routes import read_routes
from twin.traffic.sumo_io.running import netgenerate_grid, random_trips, run_sumo
from twin.traffic.trips import trips_from_sumo

DEMAND_END_S = 1800.0


def compare_with_sumo(net_file, routes_file, out_dir):
    """Mean travel times and throughputs (arrivals by the end of demand) of SUMO and ours."""
    reference = run_sumo(net_file, [routes_file], out_dir)
    network = network_from_sumo(read_net(net_file))
    trips, skipped = trips_from_sumo(network, read_routes(routes_file))
    assert not skipped
    timing = TimingParams()
    ours = simulate(network, default_plans(network, timing), trips, 0.0, 4 * DEMAND_END_S, timing).tripinfo()
    assert len(ours) == len(reference) == len(trips)  # everybody arrives, nobody teleports
    return {
        "sumo_mean_s": reference["duration_s"].mean(),
        "ours_mean_s": ours["duration_s"].mean(),
        "sumo_throughput": int((reference["arrival_s"] <= DEMAND_END_S).sum()),
        "ours_throughput": int((ours["arrival_s"] <= DEMAND_END_S).sum()),
    }


def _check(result):
    assert result["ours_mean_s"] == pytest.approx(result["sumo_mean_s"], rel=0.10), result
    assert result["ours_throughput"] == pytest.approx(result["sumo_throughput"], rel=0.05), result


@pytest.mark.parametrize("period_s", [2.0, 1.0])
def test_netgenerate_grid_with_signals(tmp_path, period_s):
    net = netgenerate_grid(tmp_path / "grid.net.xml", number=5, length_m=200.0, lanes=2)
    routes = random_trips(
        net,
        tmp_path / "grid.rou.xml",
        0.0,
        DEMAND_END_S,
        period_s,
        seed=7,
        extra_args=["--fringe-factor", "5", "--min-distance", "300"],
    )
    _check(compare_with_sumo(net, routes, tmp_path))


@pytest.mark.parametrize("period_s", [4.0, 2.0])
def test_arterial_corridor(tmp_path, period_s):
    corridor = arterial_corridor(
        n_nodes=8, spacing_m=300.0, speed_kph=60.0, signal_every=1, cross_street_m=200.0, geographic=False
    )
    net = write_net(corridor, tmp_path / "corridor.net.xml")
    routes = random_trips(
        net,
        tmp_path / "corridor.rou.xml",
        0.0,
        DEMAND_END_S,
        period_s,
        seed=3,
        extra_args=["--fringe-factor", "10"],
    )
    _check(compare_with_sumo(net, routes, tmp_path))
