"""The checks every signal plan passes before it runs: no conflicting protected greens, a cycle
that adds up, intergreens where conflicting movements change over, greens within their limits."""

from __future__ import annotations

import numpy as np

from twin.errors import InputError
from twin.traffic.signals.plan import SignalPlan
from twin.traffic.signals.strategies.registry import holds_minimum_green


def plan_problems(plan: SignalPlan, conflicts: np.ndarray, conflicting_greens_allowed: bool = False) -> list[str]:
    """Everything wrong with ``plan``; ``conflicts`` is the bool matrix over its local movements.

    ``conflicting_greens_allowed`` is for programmes read from a SUMO network: SUMO runs two
    conflicting ``G`` movements in one phase (netconvert writes them for joined junction clusters
    and for streams whose conflict the junction's right of way resolves), so they are not an
    error there; the kernel lets the movement of lower rank give way, as everywhere else.

    Checks: states have one letter per movement from ``Gg r``; no two conflicting movements
    protected-green in the same phase; a permitted movement never conflicts with a protected
    one of the same approach rank without giving way (it always gives way, so only G–G is an
    error); durations are non-negative, greens within [min, max]; green plus intergreen sums to
    the cycle; a movement losing green is followed by yellow + all-red > 0 before a conflicting
    movement gains green.
    """
    problems = []
    n = len(plan.movements)
    if not plan.phases:
        problems.append("no phases")
    for i, phase in enumerate(plan.phases):
        if len(phase.states) != n:
            problems.append(f"phase {i}: {len(phase.states)} states for {n} movements")
            continue
        if set(phase.states) - set("Ggr"):
            problems.append(f"phase {i}: states {phase.states!r} use letters other than G, g, r")
        for name in ("green_s", "yellow_s", "all_red_s", "min_green_s"):
            if getattr(phase, name) < 0:
                problems.append(f"phase {i}: {name} = {getattr(phase, name)} < 0")
        if phase.green_s + 1e-9 < phase.min_green_s and holds_minimum_green(plan.strategy):
            problems.append(f"phase {i}: green {phase.green_s:g} s below minimum {phase.min_green_s:g} s")
        protected = [] if conflicting_greens_allowed else [k for k in range(n) if phase.states[k] == "G"]
        for a_pos, a in enumerate(protected):
            for b in protected[a_pos + 1 :]:
                if conflicts[a, b]:
                    problems.append(
                        f"phase {i}: conflicting movements {plan.movements[a]} and "
                        f"{plan.movements[b]} are both protected green"
                    )
    total = sum(p.duration_s for p in plan.phases)
    if abs(total - plan.cycle_s) > 1e-6:
        problems.append(f"green + intergreen = {total:g} s but the cycle is {plan.cycle_s:g} s")
    if len(plan.phases) > 1:
        for i, phase in enumerate(plan.phases):
            nxt = plan.phases[(i + 1) % len(plan.phases)]
            if len(phase.states) != n or len(nxt.states) != n:
                continue
            losing = [k for k in range(n) if phase.green(k) and not nxt.green(k)]
            gaining = [k for k in range(n) if nxt.green(k) and not phase.green(k)]
            if phase.yellow_s + phase.all_red_s <= 0 and any(
                conflicts[a, b] for a in losing for b in gaining
            ):
                problems.append(
                    f"phase {i} → {(i + 1) % len(plan.phases)}: no intergreen between conflicting movements"
                )
    return problems


def validate_plan(
    plan: SignalPlan, conflicts: np.ndarray, source: str = "signal plan", conflicting_greens_allowed: bool = False
) -> None:
    """Raise :class:`InputError` naming the controller and the first problem, if any."""
    problems = plan_problems(plan, conflicts, conflicting_greens_allowed)
    if problems:
        raise InputError(f"controller {plan.controller}: {problems[0]}", source)
