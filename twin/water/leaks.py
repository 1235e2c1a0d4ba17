"""Leaks and bursts: an orifice at any point along a pipe.

A leak is a hole in a pipe wall at a fraction ``position`` of its length. The pipe is split there
(:func:`split_pipe`): a new junction takes the hole, and the orifice discharges

    q = Cd · A · √(2g) · p^α      (p: pressure head at the hole, m; q ≥ 0)

with discharge coefficient ``Cd``, exponent ``α`` (0.5 for a rigid orifice; 0.5-2.5 for
pressure-sensitive cracks in plastic pipes) and area ``A`` given directly or as a fraction of the
pipe's cross-section (a full-bore break is fraction 1). The solver handles it as an outflow whose
head loss is ``ke · q^n`` with ``ke = (Cd A √(2g))^(-1/α)`` and ``n = 1/α``, and a barrier keeps
``q ≥ 0`` (no water enters through the hole when the pressure is negative).

References: Lambert (2001), "What do we know about pressure:leakage relationships in distribution
systems?"; WNTR's leak model (Klise et al., 2017), which is the α = 0.5 case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kernels.hydraulics.codes import PIPE
from twin.errors import InputError
from twin.water.network import CompiledNetwork

STANDARD_GRAVITY_M_PER_S2 = 9.80665


@dataclass(frozen=True)
class Leak:
    """An orifice leak on a pipe.

    Attributes
    ----------
    pipe
        Pipe name.
    position
        Where along the pipe, as a fraction of its length from the start node (0-1).
    area_m2
        Orifice area (m²); or give ``area_fraction``.
    area_fraction
        Orifice area as a fraction of the pipe's cross-section (0-1].
    discharge_coefficient
        ``Cd`` (default 0.75, WNTR's default for a burst).
    exponent
        ``α`` of the pressure-leakage law (default 0.5, an orifice).
    """

    pipe: str
    position: float = 0.5
    area_m2: float | None = None
    area_fraction: float | None = None
    discharge_coefficient: float = 0.75
    exponent: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.position <= 1.0:
            raise InputError(f"leak on pipe {self.pipe}: position {self.position} must be in [0, 1]")
        if (self.area_m2 is None) == (self.area_fraction is None):
            raise InputError(f"leak on pipe {self.pipe}: give exactly one of area_m2 and area_fraction")
        if self.area_m2 is not None and self.area_m2 <= 0:
            raise InputError(f"leak on pipe {self.pipe}: area_m2 {self.area_m2} must be > 0")
        if self.area_fraction is not None and not 0 < self.area_fraction <= 1:
            raise InputError(
                f"leak on pipe {self.pipe}: area_fraction {self.area_fraction} must be in (0, 1]")
        if not 0 < self.discharge_coefficient <= 1:
            raise InputError(f"leak on pipe {self.pipe}: discharge coefficient must be in (0, 1]")
        if not 0.3 <= self.exponent <= 3.0:
            raise InputError(f"leak on pipe {self.pipe}: exponent {self.exponent} must be in [0.3, 3]")

    def area(self, diameter_m: float) -> float:
        """Orifice area (m²) on a pipe of diameter ``diameter_m``."""
        if self.area_m2 is not None:
            return float(self.area_m2)
        return float(self.area_fraction) * math.pi * diameter_m**2 / 4.0

    def orifice_coefficient(self, diameter_m: float) -> float:
        """``K`` of ``q = K p^α`` (m³/s per m^α)."""
        return self.discharge_coefficient * self.area(diameter_m) * math.sqrt(2.0 * STANDARD_GRAVITY_M_PER_S2)

    def headloss_parameters(self, diameter_m: float) -> tuple[float, float]:
        """``(ke, n)`` of the solver's outflow head loss ``ke q^n``."""
        k = self.orifice_coefficient(diameter_m)
        return k ** (-1.0 / self.exponent), 1.0 / self.exponent


def leak_flow(pressure_m: np.ndarray | float, orifice_coefficient: float, exponent: float) -> np.ndarray:
    """Orifice discharge ``K p^α`` for ``p > 0``, else 0 (m³/s); the closed form the solver meets."""
    p = np.maximum(np.asarray(pressure_m, dtype=float), 0.0)
    return orifice_coefficient * p**exponent


def split_pipe(net: CompiledNetwork, pipe: str, position: float) -> tuple[CompiledNetwork, int]:
    """A copy of ``net`` with pipe ``pipe`` split at ``position`` by a new junction.

    The first part keeps the pipe's name and start node and its minor loss; the second, named
    ``<pipe>__b``, runs from the new junction (``<pipe>__leak``, elevation interpolated along the
    pipe, no demand) to the old end node. Controls on the pipe act on both parts.

    Returns
    -------
    (network, junction index of the new node)
    """
    k = net.link_index(pipe)
    if net.kind[k] > PIPE:
        raise InputError(f"leak on {pipe}: only pipes can leak, not a {net.kind[k]} link")
    position = float(np.clip(position, 1e-6, 1.0 - 1e-6))
    nj = net.n_junctions
    new = nj  # junctions come first, so the new node is the last junction

    def shift(index: np.ndarray) -> np.ndarray:
        out = np.asarray(index).copy()
        out[out >= nj] += 1
        return out

    n1, n2 = int(net.start[k]), int(net.end[k])
    elev = net.elevation_m[n1] + position * (net.elevation_m[n2] - net.elevation_m[n1])

    def insert_node(values: np.ndarray, value) -> np.ndarray:
        return np.insert(values, nj, value)

    def append_link(values: np.ndarray, value=None) -> np.ndarray:
        return np.append(values, values[k] if value is None else value)

    start = append_link(shift(net.start), new)
    end = shift(net.end)
    end[k] = new
    end = np.append(end, shift(np.array([n2]))[0])
    length = append_link(net.length_m, net.length_m[k] * (1.0 - position))
    length[k] = net.length_m[k] * position
    controls = np.flatnonzero(net.control_link == k)
    extra = lambda values, value=None: np.append(values, values[controls] if value is None else value)  # noqa: E731
    node_controls = shift(net.control_node)
    node_controls[net.control_node < 0] = -1
    xy = None
    if net.node_xy is not None:
        point = net.node_xy[n1] + position * (net.node_xy[n2] - net.node_xy[n1])
        xy = np.insert(net.node_xy, nj, point, axis=0)
    split = net.copy(
        node_xy=xy,
        node_names=net.node_names[:nj] + [f"{pipe}__leak"] + net.node_names[nj:],
        link_names=net.link_names + [f"{pipe}__b"],
        n_junctions=nj + 1,
        node_kind=insert_node(net.node_kind, 0),
        elevation_m=insert_node(net.elevation_m, elev),
        fixed_head_pattern=insert_node(net.fixed_head_pattern, -1),
        emitter_ke=np.append(net.emitter_ke, 0.0),
        leak_ke=np.append(net.leak_ke, 0.0),
        leak_n=np.append(net.leak_n, 2.0),
        pdd_pmin_m=np.append(net.pdd_pmin_m, net.pdd_pmin_m[n1] if n1 < nj else net.pdd_pmin_m.mean()),
        pdd_preq_m=np.append(net.pdd_preq_m, net.pdd_preq_m[n1] if n1 < nj else net.pdd_preq_m.mean()),
        tank_node=shift(net.tank_node),
        start=start, end=end, length_m=length,
        kind=append_link(net.kind), diameter_m=append_link(net.diameter_m),
        roughness=append_link(net.roughness), minor_loss=append_link(net.minor_loss, 0.0),
        initial_status=append_link(net.initial_status), initial_setting=append_link(net.initial_setting),
        pump_type=append_link(net.pump_type), pump_h0=append_link(net.pump_h0),
        pump_r=append_link(net.pump_r), pump_n=append_link(net.pump_n),
        pump_hmax_m=append_link(net.pump_hmax_m), pump_q0_m3_per_s=append_link(net.pump_q0_m3_per_s),
        pump_speed_pattern=append_link(net.pump_speed_pattern, -1),
        curve_index=append_link(net.curve_index, -1),
        control_link=np.append(net.control_link, np.full(len(controls), net.n_links)),
        control_node=np.append(node_controls, node_controls[controls]),
        control_type=extra(net.control_type), control_grade_m=extra(net.control_grade_m),
        control_time_s=extra(net.control_time_s), control_status=extra(net.control_status),
        control_setting=extra(net.control_setting),
    )
    return split, new


def add_leak(net: CompiledNetwork, leak: Leak, open_: bool = True) -> tuple[CompiledNetwork, int]:
    """Split ``leak.pipe`` and put the orifice at the new junction (open unless ``open_`` is False).

    Returns the new network and the leak junction's index; a closed leak can be opened later with
    :meth:`twin.water.simulation.ExtendedPeriodSimulation.set_leak` and :meth:`Leak.headloss_parameters`.
    """
    if leak.pipe not in net.link_names:
        raise InputError(f"leak: no pipe named {leak.pipe!r} in the network")
    diameter = float(net.diameter_m[net.link_index(leak.pipe)])
    split, node = split_pipe(net, leak.pipe, leak.position)
    if open_:
        ke, n = leak.headloss_parameters(diameter)
        split.leak_ke[node] = ke
        split.leak_n[node] = n
    return split, node
