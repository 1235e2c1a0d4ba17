"""Signal strategies compared in a pilot area, on common random numbers.

Every strategy sees the same vehicles on the same routes; only the pilot's controllers change
strategy, while the rest of the network keeps one strategy of its own (Webster by default). The
plans of every strategy are timed from the same design flows (the trips' movement flows), all
runs advance together on one engine's clock, and a warm-up before the measured window is
excluded (:meth:`twin.traffic.model.TrafficModel.start_measuring`). The measures over the runs
are in :mod:`twin.traffic.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass, field

import numpy as np

from twin.engine import Engine
from twin.traffic.demand import MsaResult, msa_reroute
from twin.traffic.model import TrafficModel, simulate
from twin.traffic.network import TrafficNetwork
from twin.traffic.signals.controller import SignalController
from twin.traffic.signals.default_plans import default_plans
from twin.traffic.signals.plan import SignalPlan
from twin.traffic.signals.strategies.base import PlanDesign
from twin.traffic.signals.strategies.registry import make_strategy
from twin.traffic.signals.timing import TimingParams
from twin.traffic.signals.webster import retime_webster
from twin.traffic.trips import Trips, design_flows


@dataclass
class StrategyPlans:
    """Plans of one strategy for every controller of the network."""

    strategy: str
    plans: list[SignalPlan]
    coordination: object | None = None  # what the strategy coordinated (a green wave's GreenWave)
    notes: list[str] = field(default_factory=list)


def plans_for(strategy: str, design: PlanDesign, fixed: dict[str, SignalPlan], rest: str) -> StrategyPlans:
    """Plans with ``strategy`` on ``design.controllers`` and ``rest`` elsewhere.

    Each controller's plan is timed by its strategy from today's plan (``fixed``) and the design
    flows; then the pilot's strategy may coordinate its plans across junctions (a green wave).
    """
    chosen, others = make_strategy(strategy), make_strategy(rest)
    timed = {
        c: (chosen if c in design.controllers else others).time_plan(
            plan, design.flows_veh_per_h[list(plan.movements)], design.network, design.timing
        )
        for c, plan in fixed.items()
    }
    coordination = chosen.coordinate(timed, design)
    return StrategyPlans(
        strategy, [coordination.plans[c] for c in fixed], coordination.summary, list(coordination.notes)
    )


def pilot_controllers(network: TrafficNetwork, nodes: Set) -> set[str]:
    """The signal controllers whose junction node is one of ``nodes``."""
    return {c for c in network.controllers if network.controller_node(c) in nodes}


def reroute_under_webster(
    network: TrafficNetwork,
    trips: Trips,
    timing: TimingParams,
    begin_s: float,
    end_s: float,
    iterations: int,
    rng: np.random.Generator,
) -> MsaResult:
    """MSA rerouting of ``trips`` with every controller on Webster plans for their design flows
    (:func:`twin.traffic.demand.msa_reroute`), so that every strategy then meets the same routes."""
    flows = design_flows(network, trips, begin_s, end_s)
    plans = [retime_webster(p, flows[list(p.movements)], network, timing)[0] for p in default_plans(network, timing)]

    def run_once(candidate: Trips) -> TrafficModel:
        return simulate(network, plans, candidate, begin_s, end_s, timing)

    return msa_reroute(run_once, trips, iterations, rng)


@dataclass(frozen=True)
class ComparisonSetup:
    """What is compared, and how long it runs."""

    strategies: Sequence[str]  # the strategies run in the pilot, in order
    duration_s: float  # the measured window, from time 0 (s)
    warmup_s: float = 900.0  # simulated before time 0 and not measured (s)
    rest_of_network: str = "webster"  # strategy of the controllers outside the pilot
    msa_iterations: int = 0  # rerouting iterations before the comparison (0: free-flow routes)
    green_wave_road: str | None = None  # the arterial a green wave coordinates (None: its choice)
    green_wave_max_junctions: int = 8


@dataclass
class StrategyRun:
    """One strategy's plans and the model that ran them."""

    strategy: str
    plans: StrategyPlans
    model: TrafficModel


@dataclass
class StrategyComparison:
    """The runs of every strategy, with the trips they shared and the design flows."""

    runs: list[StrategyRun]
    trips: Trips
    flows_veh_per_h: np.ndarray
    relative_gaps: list[float] = field(default_factory=list)  # MSA, by iteration


def compare_strategies(
    network: TrafficNetwork,
    trips: Trips,
    pilot: Set[str],
    setup: ComparisonSetup,
    timing: TimingParams,
    engine: Engine,
) -> StrategyComparison:
    """One traffic model per strategy on the same ``trips``, all advanced on ``engine``.

    Trips depart from ``-setup.warmup_s``; each model runs the warm-up on its own, starts
    measuring at time 0 and then advances with the others for ``setup.duration_s`` (the engine
    runs to its end here). With ``setup.msa_iterations`` the trips are first rerouted under
    Webster plans (random stream ``traffic_msa``).
    """
    begin_s, end_s = -setup.warmup_s, setup.duration_s
    fixed = {p.controller: p for p in default_plans(network, timing)}
    gaps: list[float] = []
    if setup.msa_iterations:
        msa = reroute_under_webster(
            network, trips, timing, begin_s, end_s, setup.msa_iterations, engine.rng("traffic_msa")
        )
        trips, gaps = msa.trips, msa.relative_gaps
    flows = design_flows(network, trips, begin_s, end_s)
    design = PlanDesign(
        network, pilot, flows, timing, setup.green_wave_road, setup.green_wave_max_junctions
    )
    runs = []
    for strategy in setup.strategies:
        plans = plans_for(strategy, design, fixed, setup.rest_of_network)
        controller = SignalController.build(network, plans.plans, timing)
        model = TrafficModel(network, controller, trips, begin_s=begin_s)
        model.advance_to(0.0)  # warm-up, outside the measured window
        model.start_measuring()
        model.attach(engine, setup.duration_s)
        runs.append(StrategyRun(strategy, plans, model))
    engine.run(description="signal strategies")
    return StrategyComparison(runs, trips, flows, gaps)
