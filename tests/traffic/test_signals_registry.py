"""The signal strategies behind one interface: every module registered, every plan checked.

Every module of ``twin/traffic/signals/strategies/`` (but the interface and the registry) holds one
registered strategy; each strategy times the plans of a small generated town so that they pass
the plan checks, lays them out for the kernel in its own control mode and runs; an unknown name
is an input error naming the known ones; and a new strategy is one registered class.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

import numpy as np
import pytest
from test_traffic_networks import random_trips

import twin.traffic.signals.strategies as strategies_package
from kernels.traffic.layout import ACTUATED, C_ENTERED, C_EXITED, FIXED, MAX_PRESSURE
from twin.errors import InputError
from twin.generate.roads import grid_town
from twin.traffic.comparison import plans_for
from twin.traffic.model import TrafficModel
from twin.traffic.network import network_from_graph
from twin.traffic.params import TrafficParams
from twin.traffic.signals.checks import plan_problems
from twin.traffic.signals.controller import SignalController
from twin.traffic.signals.default_plans import default_plans
from twin.traffic.signals.strategies import registry
from twin.traffic.signals.strategies.base import PlanDesign
from twin.traffic.signals.strategies.fixed import FixedStrategy
from twin.traffic.signals.strategies.registry import (
    register_strategy,
    strategy_class,
    strategy_names,
    with_strategy,
)
from twin.traffic.signals.timing import TimingParams

INTERFACE_MODULES = {"base", "registry"}


@pytest.fixture(scope="module")
def town():
    """A 7 × 7 grid town: its network, today's plans and design flows of random trips."""
    network = network_from_graph(grid_town(size=7, spacing_m=250.0).graph, TrafficParams())
    timing = TimingParams()
    fixed = {p.controller: p for p in default_plans(network, timing)}
    rng = np.random.default_rng(3)
    flows = np.where(network.mov_out >= 0, rng.uniform(50.0, 400.0, network.n_movements), 0.0)
    return network, fixed, flows, timing


def test_every_strategy_module_is_registered_in_listing_order():
    folder = Path(strategies_package.__file__).parent
    modules = {m.name for m in pkgutil.iter_modules([str(folder)])} - INTERFACE_MODULES
    registered = {strategy_class(name).__module__.rpartition(".")[2] for name in strategy_names()}
    assert registered == modules
    assert strategy_names() == ("fixed", "webster", "actuated", "max_pressure", "green_wave", "adaptive")
    assert all(strategy_class(name).name == name for name in strategy_names())


@pytest.mark.parametrize("name", strategy_names())
def test_each_strategy_times_plans_that_pass_the_checks_and_run(town, name):
    network, fixed, flows, timing = town
    design = PlanDesign(network, set(fixed), flows, timing)  # every signal is in the pilot
    result = plans_for(name, design, fixed, rest="fixed")
    assert [p.controller for p in result.plans] == list(fixed)
    for plan in result.plans:
        assert plan.strategy == name
        assert plan_problems(plan, network.conflicts_among(plan.movements)) == []
    if name == "green_wave":
        assert result.coordination is not None and len(result.coordination.controllers) >= 2
    controller = SignalController.build(network, result.plans, timing)
    assert set(controller.arrays.ctrl_type) == {strategy_class(name).control}
    assert strategy_class(name).control in (FIXED, ACTUATED, MAX_PRESSURE)
    model = TrafficModel(network, controller, random_trips(network, 200, 300.0, seed=4))
    model.advance_to(600.0)
    state = model.state
    assert state.counters[C_ENTERED] == state.counters[C_EXITED] + state.link_occ.sum()
    assert state.counters[C_EXITED] > 0


def test_an_unknown_strategy_names_the_known_ones(town):
    _, fixed, _, timing = town
    expected = "signal strategy 'fastest': expected one of fixed, webster, actuated, max_pressure, green_wave, adaptive"
    with pytest.raises(InputError, match=expected):
        with_strategy(next(iter(fixed.values())), "fastest", timing)


def test_a_new_strategy_is_one_registered_class(town, monkeypatch):
    monkeypatch.setattr(registry, "_STRATEGIES", dict(registry._STRATEGIES))
    network, fixed, flows, timing = town

    @register_strategy
    class Longer(FixedStrategy):
        """Today's plans with every green 5 s longer."""

        name = "longer"
        listed = 9

        def time_plan(self, plan, flows_veh_per_h, network, timing):
            return self.adopt(plan.with_greens([p.green_s + 5.0 for p in plan.phases]), timing)

    assert strategy_names()[-1] == "longer"
    result = plans_for("longer", PlanDesign(network, set(fixed), flows, timing), fixed, rest="fixed")
    first = next(iter(fixed))
    assert result.plans[0].cycle_s == fixed[first].cycle_s + 5.0 * len(fixed[first].phases)
    SignalController.build(network, result.plans, timing)
    with pytest.raises(RuntimeError, match="registered twice"):

        @register_strategy
        class Other(FixedStrategy):
            name = "longer"
            listed = 10
