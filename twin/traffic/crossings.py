"""Crossing a junction on our road graph: the path, its time, and the lanes a movement gets.

A SUMO network gives each connection's internal lanes; our road graph has none, so a crossing is
estimated from the junction's size: a path across a junction as wide as its widest road (through:
the width; left: a quarter circle of radius 0.75 × width; right: radius max(5 m, width / 4); U-turn:
a half circle of 4 m) at the speed a lateral acceleration allows (netconvert's default), plus the
time lost slowing down to it and speeding up again.
"""

from __future__ import annotations

import math

from twin.traffic.junctions import Junction
from twin.traffic.params import TrafficParams


def junction_width_m(junction: Junction, lane_width_m: float) -> float:
    """Width of a junction: its widest leg's lanes both ways (at least two lanes) × lane width."""
    return lane_width_m * max([junction.leg_lanes[i] * 2 for i in range(len(junction.leg_lanes))] + [2])


def turn_penalty_s(v_in: float, v_turn: float, v_out: float, params: TrafficParams) -> float:
    """Time lost slowing from ``v_in`` to ``v_turn`` and speeding up to ``v_out`` (speeds in m/s; s)."""
    loss = 0.0
    if v_in > v_turn:
        loss += (v_in - v_turn) ** 2 / (2.0 * params.decel_m_per_s2 * v_in)
    if v_out > v_turn:
        loss += (v_out - v_turn) ** 2 / (2.0 * params.accel_m_per_s2 * v_out)
    return loss


def lookout_penalty_s(v_in: float, v_turn: float, v_out: float, params: TrafficParams) -> float:
    """Extra time (s) of slowing to the look-out speed, rather than the turn speed, when giving way."""
    v_look = min(v_turn, params.lookout_speed_m_per_s)
    return turn_penalty_s(v_in, v_look, v_out, params) - turn_penalty_s(v_in, v_turn, v_out, params)


def crossing_path(
    turn: str, width_m: float, v_in: float, v_out: float, params: TrafficParams
) -> tuple[float, float, float]:
    """The estimated crossing of a junction ``width_m`` wide by a ``turn`` (``L``, ``T``, ``R``, ``U``).

    Returns
    -------
    tuple
        Path length (m), crossing time with the slowing and speeding-up losses (s), and the
        turning speed (m/s).
    """
    if turn == "T":
        length = width_m
        radius = math.inf
    elif turn == "L":
        radius = max(0.75 * width_m, 6.0)
        length = 0.5 * math.pi * radius
    elif turn == "R":
        radius = max(0.25 * width_m, 5.0)
        length = 0.5 * math.pi * radius
    else:
        radius = 4.0
        length = math.pi * radius
    v_turn = min(v_in, v_out, math.sqrt(params.lateral_accel_m_per_s2 * radius))
    return length, length / v_turn + turn_penalty_s(v_in, v_turn, v_out, params), v_turn


def movement_lanes(turn: str, link_lanes: int, turns_on_link: set[str]) -> int:
    """Lanes serving a movement when the data has none (a multi-lane approach).

    GB 50647 flares signalised arterial approaches (approach lanes = link lanes + 1): one left
    lane, one right lane, and the link's lanes less one for through traffic; an approach
    without turns keeps all its lanes for through traffic.
    """
    if link_lanes <= 1:
        return 1
    if turn in ("L", "U", "R"):
        return 1
    return link_lanes - 1 if turns_on_link & {"L", "R", "U"} else link_lanes
