"""The plans a network starts with: default phases on our road graph, its own programmes on a
SUMO network.

Graph junctions get the phases of :func:`twin.traffic.junctions.default_phases` on the default
cycle, split equally (the ``fixed`` strategy of the pilot scenario); a SUMO network keeps the
``tlLogic`` programmes it was read with (:func:`plans_from_sumo`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twin.errors import InputError
from twin.traffic.junctions import default_phases
from twin.traffic.signals.plan import Phase, SignalPlan
from twin.traffic.signals.timing import TimingParams

if TYPE_CHECKING:
    from twin.traffic.network import TrafficNetwork
    from twin.traffic.sumo_io.programs import SumoProgram

SUMO_STATE_CODE = {"G": 3, "O": 3, "g": 2, "s": 2, "o": 2, "y": 1, "Y": 1, "u": 0, "r": 0}
"""Our state code (0 red, 1 yellow, 2 permitted, 3 protected) of each SUMO signal state letter."""


def default_plans(network: TrafficNetwork, timing: TimingParams) -> list[SignalPlan]:
    """Default fixed-time plans for the network's controllers.

    SUMO networks keep their own programmes (:func:`plans_from_sumo`); graph junctions get the
    phases of :func:`twin.traffic.junctions.default_phases` on the default cycle, split equally.
    """
    if network.sumo is not None:
        return plans_from_sumo(network, timing)
    plans = []
    for controller, movements in network.controllers.items():
        groups = default_phases(network.junctions[network.controller_node(controller)])
        intergreen = timing.yellow_s + timing.all_red_s
        green = max(timing.min_green_s, (timing.default_cycle_s - intergreen * len(groups)) / len(groups))
        phases = [
            Phase(
                "".join(group.get(k, "r") for k in range(len(movements))),
                green,
                timing.yellow_s,
                timing.all_red_s,
                timing.min_green_s,
                timing.max_green_s,
            )
            for group in groups
        ]
        plans.append(SignalPlan.from_phases(controller, movements, phases))
    return plans


def plans_from_sumo(network: TrafficNetwork, timing: TimingParams) -> list[SignalPlan]:
    """The network's ``tlLogic`` programmes as our plans.

    Each SUMO phase that gives green to a movement not green before starts a phase of ours;
    the SUMO phases after it that only take green away (yellow, all-red) are its transition:
    their durations with a yellow are its yellow time, the rest its all-red. The cycle and the
    offset are kept; a programme starting inside a transition is rotated to start at a green.
    Actuated programmes run as ``actuated``, the others as ``fixed``.
    """
    sumo = network.sumo
    by_pair = {(sumo.edge_key[c.from_edge], sumo.edge_key[c.to_edge]): c for c in sumo.connections}
    plans = []
    for controller, movements in network.controllers.items():
        program = sumo.programs.get(controller)
        if program is None:
            continue
        links = [
            by_pair[(network.link_keys[network.mov_in[m]], network.link_keys[network.mov_out[m]])].link_indices
            for m in movements
        ]
        _check_states(program, links)
        codes = _movement_codes(program, links)
        starts = _green_starts(codes)
        # Rotating the programme to start at a green keeps its absolute timing.
        offset = program.offset_s + sum(p.duration_s for p in program.phases[: starts[0]])
        strategy = "actuated" if program.kind == "actuated" else "fixed"
        # SUMO's offset is when phase 0 starts (cycle position = (t − offset) mod C), as ours.
        plans.append(
            SignalPlan.from_phases(
                controller,
                movements,
                _phases(program, codes, starts, timing),
                offset_s=offset % max(sum(p.duration_s for p in program.phases), 1e-9),
                strategy=strategy,
            )
        )
    return plans


def _check_states(program: SumoProgram, links: list[tuple[int, ...]]) -> None:
    """Refuse a programme SUMO itself refuses: a state shorter than the light's link indices, or
    a letter that is no SUMO signal state."""
    needed = 1 + max((i for idx in links for i in idx), default=-1)
    where = f"<tlLogic id={program.tl_id!r} programID={program.program_id!r}>"
    for k, phase in enumerate(program.phases):
        if len(phase.state) < needed:
            raise InputError(
                f"{where} phase {k}: state {phase.state!r} has {len(phase.state)} letters, "
                f"but the light controls {needed} links",
                program.source or None,
            )
        unknown = sorted(set(phase.state) - set(SUMO_STATE_CODE))
        if unknown:
            raise InputError(
                f"{where} phase {k}: state letter {unknown[0]!r} is not a SUMO signal state "
                f"(expected one of {''.join(SUMO_STATE_CODE)})",
                program.source or None,
            )


def _movement_codes(program: SumoProgram, links: list[tuple[int, ...]]) -> list[list[int]]:
    """Per SUMO phase, the state code of each of our movements (the greenest of its SUMO links)."""
    codes = []
    for phase in program.phases:
        state = phase.state
        codes.append(
            [max((SUMO_STATE_CODE.get(state[i], 0) for i in idx if i < len(state)), default=0) for idx in links]
        )
    return codes


def _green_starts(codes: list[list[int]]) -> list[int]:
    """SUMO phases that give green to a movement not green in the phase before (at least one)."""
    greens = [[c >= 2 for c in row] for row in codes]
    starts = []
    for i in range(len(codes)):
        prev = greens[i - 1]
        if any(g and not p for g, p in zip(greens[i], prev, strict=True)):
            starts.append(i)
    return starts or [0]


def _phases(program: SumoProgram, codes: list[list[int]], starts: list[int], timing: TimingParams) -> list[Phase]:
    """Our phases: each green start and the transition after it, up to the next green start."""
    phases = []
    for s_pos, start in enumerate(starts):
        end = starts[(s_pos + 1) % len(starts)]
        span = list(range(start, end if end > start else len(codes))) + (list(range(0, end)) if end <= start else [])
        sumo_phase = program.phases[start]
        yellow = sum(program.phases[i].duration_s for i in span[1:] if 1 in codes[i])
        all_red = sum(program.phases[i].duration_s for i in span[1:] if 1 not in codes[i])
        letters = "".join("G" if c == 3 else "g" if c == 2 else "r" for c in codes[start])
        min_green = (
            sumo_phase.min_dur_s if sumo_phase.min_dur_s is not None else min(timing.min_green_s, sumo_phase.duration_s)
        )
        max_green = (
            sumo_phase.max_dur_s if sumo_phase.max_dur_s is not None else max(timing.max_green_s, sumo_phase.duration_s)
        )
        phases.append(Phase(letters, sumo_phase.duration_s, yellow, all_red, min_green, max_green))
    return phases
