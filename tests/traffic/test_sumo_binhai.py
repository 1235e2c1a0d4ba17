"""The 滨海新城 pilot area exported to SUMO: SUMO 1.28 and our model on the same files.

The bundled district's AM-peak trips (at a quarter of the full demand, a moderate load: the
full AM peak oversaturates the 鹤上 junction cluster in both models) are routed on the whole
network and cut at the area's cordon; the area's network, our Webster plans (as ``tlLogic``) and
the cut trips are exported with :func:`twin.traffic.sumo_case.export_case`. Both models run 07:00–08:30 with
demand over the first 30 minutes and no teleporting. Mean travel time within 10 %, throughput
(trips finished by 07:30, the end of the demand) within 5 %.
"""

from __future__ import annotations

import pytest

from twin.traffic.demand import DemandConfig
from twin.traffic.model import simulate
from twin.traffic.network import network_from_sumo
from twin.traffic.signals.default_plans import default_plans
from twin.traffic.sumo_case import changle_case, export_case
from twin.traffic.sumo_io.config import read_sumocfg
from twin.traffic.sumo_io.network import read_net
from twin.traffic.sumo_io.programs import read_programs
from twin.traffic.sumo_io.routes import read_routes
from twin.traffic.sumo_io.running import run_sumo
from twin.traffic.trips import trips_from_sumo

BEGIN_S = 7 * 3600.0
DEMAND_S = 1800.0
END_S = BEGIN_S + DEMAND_S + 3600.0


@pytest.fixture(scope="module")
def binhai(tmp_path_factory):
    folder = tmp_path_factory.mktemp("binhai")
    case = changle_case(
        "binhai", seed=3, begin_s=BEGIN_S, duration_s=DEMAND_S, demand=DemandConfig(scale=0.25)
    )
    export_case(
        case.graph,
        case.network,
        case.plans,
        case.trips,
        folder,
        BEGIN_S,
        BEGIN_S + DEMAND_S,
        name="binhai",
    )
    return folder, case


def test_binhai_area_exported_to_sumo_agrees_with_sumo(binhai):
    folder, case = binhai
    config = read_sumocfg(folder / "binhai.sumocfg")
    assert len(case.plans) >= 25  # the pilot's signals are in the export
    reference = run_sumo(
        config.net_file,
        list(config.route_files),
        folder,
        begin_s=config.begin_s,
        end_s=END_S,
        additional_files=list(config.additional_files),
    )
    net = read_net(config.net_file)
    net.programs.update(read_programs(config.additional_files[0]))
    network = network_from_sumo(net)
    trips, skipped = trips_from_sumo(network, read_routes(config.route_files[0]))
    assert not skipped and len(trips) > 2000
    ours = simulate(
        network, default_plans(network, case.timing), trips, BEGIN_S, END_S, case.timing
    ).tripinfo()
    assert ours["duration_s"].mean() == pytest.approx(reference["duration_s"].mean(), rel=0.10)
    finished_by = BEGIN_S + DEMAND_S
    assert (ours["arrival_s"] <= finished_by).sum() == pytest.approx(
        (reference["arrival_s"] <= finished_by).sum(), rel=0.05
    )
