"""Operating plans of one line, compared on common random numbers.

A planner's question — how many buses does a headway need, does holding help, what does signal
priority buy — is answered by running one line under several :class:`OperatingPlan` s
(headway × fleet × holding × priority). A :class:`LineStudy` holds what every plan shares: the
line, its vehicle, its passengers' OD matrix and profile, the base service and model options,
the link times and the traffic model of its signalised junctions.

Every plan runs on a fresh engine with the run's seed (:func:`simulate_plan`), so all see the
same passengers and the same background traffic and their differences are the plan's, not
sampling noise. Fleets come from calibration runs (:func:`calibrate`): the line run with an
ample fleet, so that no trip waits for a bus, measures its running cycle (``ceil(cycle /
headway)`` is the fleet the headway needs) and its running times (the plans' timetable).
:func:`plan_grid` lays out the plans around those needs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twin.engine import Engine
from twin.errors import InputError
from twin.transit.buses import BusSimulation
from twin.transit.demand import ODMatrix, poisson_demand
from twin.transit.fleet import fleet_needed_veh, planned_cycle_s
from twin.transit.lines import TransitNetwork
from twin.transit.metrics import mean_offsets_s, running_cycle_s
from twin.transit.priority import JunctionTraffic, SignalsConfig, junction_traffic
from twin.transit.records import BusRun
from twin.transit.service import OperationsConfig, ServiceConfig
from twin.transit.vehicles import VehicleType

if TYPE_CHECKING:
    from twin.city.travel_times import TravelTimes


class RunTooShort(InputError):
    """The run ends before a bus of the line completes one cycle, so nothing can be calibrated."""


@dataclass(frozen=True)
class LineStudy:
    """One line and everything its operating plans share.

    Attributes
    ----------
    network
        The transit network holding the line (with its road graph).
    line_id
        The line studied.
    vehicle
        The vehicle type every plan runs.
    od_pax_per_h
        Passengers per hour between the line's stops (at profile factor 1).
    demand_profile
        Hourly rate factors, repeated (see :func:`twin.transit.demand.poisson_demand`).
    service
        The base operating plan; each plan sets its own headway, fleet and holding.
    operations
        Model options.
    travel_times
        Link times (the traffic hook); ``None``: free flow.
    junctions
        The traffic model of the line's signalised junctions; ``None``: link times only.
    """

    network: TransitNetwork
    line_id: str
    vehicle: VehicleType
    od_pax_per_h: ODMatrix
    demand_profile: Sequence[float]
    service: ServiceConfig
    operations: OperationsConfig
    travel_times: TravelTimes | None = None
    junctions: JunctionTraffic | None = None


@dataclass
class OperatingPlan:
    """One way to run the line: headway, fleet, holding and signal priority."""

    headway_s: float
    fleet_veh: int
    fleet_needed_veh: int  # by the free-flow timetable
    holding: str
    priority: bool
    calibrated_fleet_needed_veh: int = 0  # by the calibration run's cycle
    timetable_offsets_s: dict[int, list[float]] | None = None  # by direction, from calibration

    @property
    def name(self) -> str:
        return (f"h{self.headway_s:g}_f{self.fleet_veh}_{self.holding}"
                f"{'_tsp' if self.priority else ''}")


@dataclass
class Calibration:
    """Running times of the line at one headway (and priority setting), measured with a fleet
    large enough that no trip waits for a bus: the cycle, the fleet it implies and a timetable."""

    headway_s: float
    priority: bool
    cycle_s: float
    fleet_needed_veh: int
    offsets_s: dict[int, list[float]]


def line_junctions(
    network: TransitNetwork, line_id: str, signals: SignalsConfig, engine: Engine
) -> JunctionTraffic | None:
    """The traffic model of the signalised junctions ``line_id`` drives through, with background
    traffic drawn from the run's ``traffic_background`` stream; ``None`` if it crosses none."""
    line = network.line(line_id)
    routes = [line.pattern(d).edges() for d in line.directions]
    rng = Engine(engine.seed, engine.start, engine.duration_s).rng("traffic_background")
    return junction_traffic(network.graph, routes, signals, engine.duration_s, rng)


def planned_fleet_needed_veh(study: LineStudy, headway_s: float) -> int:
    """Fleet by the free-flow timetable: ``ceil(planned cycle / headway)``."""
    cycle_s = planned_cycle_s(study.network, study.line_id, study.service, study.vehicle, study.travel_times)
    return fleet_needed_veh(cycle_s, headway_s)


def simulate_plan(study: LineStudy, engine: Engine, plan: OperatingPlan) -> tuple[BusRun, dict[str, float]]:
    """Simulate one plan on a fresh engine with the run's seed (same passengers for all).

    With the study's junctions the line's signalised junctions run in the traffic model on the
    same clock (same background vehicles in every plan); returns the run and the background
    traffic's delays at those junctions (empty without them).
    """
    sub = Engine(engine.seed, engine.start, engine.duration_s)
    demand = poisson_demand(study.od_pax_per_h, engine.duration_s, sub.rng("transit_demand"), study.demand_profile)
    service = study.service.model_copy(update={
        "headway_s": plan.headway_s, "fleet_veh": plan.fleet_veh, "holding": plan.holding,
    })
    line_id = study.line_id
    model = signals = None
    if study.junctions is not None:
        model, signals = study.junctions.start(sub)
    timetable = {(line_id, d): o for d, o in (plan.timetable_offsets_s or {}).items()}
    sim = BusSimulation(
        sub, study.network, {line_id: service}, {line_id: study.vehicle}, demand,
        travel_times=study.travel_times, operations=study.operations, signals=signals,
        priority_lines={line_id} if plan.priority else set(), timetable_offsets_s=timetable,
    )
    sim.start()
    sub.env.run(until=engine.duration_s)
    delays = study.junctions.delays(model) if study.junctions is not None else {}
    return sim.collect(), delays


def calibrate(study: LineStudy, engine: Engine, headway_s: float, priority: bool) -> Calibration:
    """Run the line with twice the timetable's fleet (no holding) and measure its running cycle
    and mean running times; ``ceil(cycle / headway)`` is the fleet the headway needs, checked
    in simulation, and the running times become the plans' timetable.

    Raises :class:`RunTooShort` when no bus completes a cycle within the run.
    """
    line_id = study.line_id
    ample = 2 * planned_fleet_needed_veh(study, headway_s) + 2
    probe = OperatingPlan(headway_s, ample, ample, "none", priority)
    run, _ = simulate_plan(study, engine, probe)
    cycle_s = running_cycle_s(run, line_id)
    if not math.isfinite(cycle_s):
        raise RunTooShort(
            f"duration_s = {engine.duration_s:g}: too short for a bus of line "
            f"{line_id} to complete its cycle at headway {headway_s:g} s"
        )
    offsets = {d: mean_offsets_s(run, line_id, d) for d in study.network.line(line_id).directions}
    return Calibration(headway_s, priority, cycle_s, fleet_needed_veh(cycle_s, headway_s),
                       {d: o for d, o in offsets.items() if o is not None})


def plan_grid(
    study: LineStudy,
    headways_s: Sequence[float],
    priorities: Sequence[bool],
    holdings: Sequence[str],
    calibrations: dict[tuple[float, bool], Calibration],
    fleets_veh: Sequence[int] = (),
    fleet_margins_veh: Sequence[int] = (0,),
) -> list[OperatingPlan]:
    """Every plan of the grid headway × priority × fleet × holding.

    Fleets are ``fleets_veh`` if given, else each calibrated need plus ``fleet_margins_veh``
    (at least one bus); each plan keeps its calibration's timetable.
    """
    plans = []
    for headway_s in headways_s:
        planned = planned_fleet_needed_veh(study, headway_s)
        for priority in priorities:
            cal = calibrations[(headway_s, priority)]
            fleets = fleets_veh or sorted({max(1, cal.fleet_needed_veh + m) for m in fleet_margins_veh})
            for fleet, holding in itertools.product(fleets, holdings):
                plans.append(OperatingPlan(headway_s, fleet, planned, holding, priority,
                                           cal.fleet_needed_veh, cal.offsets_s))
    return plans
