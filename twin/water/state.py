"""The state of a water network while it is simulated: heads, flows, statuses, demands, tanks.

:class:`HydraulicState` is what a steady-state solve changes in place and what an extended-period
simulation carries from one time to the next; :func:`initial_state` is EPANET's starting point.
Copies of a state let a sweep start many runs from the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels.hydraulics.codes import ACTIVE, CLOSED, FCV, MISSING, PRV, PSV, PUMP
from twin.water.epanet_constants import CFS_M3_PER_S, FT_M, QZERO
from twin.water.network import CompiledNetwork


@dataclass
class HydraulicState:
    """The mutable state of a network: heads, flows, statuses, settings, demands, tank volumes.

    ``node_outflow`` after a solve is EPANET's ``NodeDemand``: each junction's delivered demand
    plus emitter flow (leak flow is kept apart in ``leak_flow``), each fixed-grade node's net
    inflow (negative when it supplies the network).
    """

    head: np.ndarray
    flow: np.ndarray
    status: np.ndarray
    setting: np.ndarray
    demand_full: np.ndarray
    demand_flow: np.ndarray
    emitter_flow: np.ndarray
    leak_flow: np.ndarray
    node_outflow: np.ndarray
    tank_volume: np.ndarray

    def copy(self) -> HydraulicState:
        return HydraulicState(**{k: v.copy() for k, v in self.__dict__.items()})

    def restore(self, other: HydraulicState) -> None:
        """Overwrite this state's arrays with ``other``'s values, in place."""
        for key, value in other.__dict__.items():
            getattr(self, key)[...] = value


def initial_state(net: CompiledNetwork) -> HydraulicState:
    """EPANET's ``inithyd``: tank levels, link statuses, settings and first-guess flows."""
    n_nodes, n_links, nj = net.n_nodes, net.n_links, net.n_junctions
    head = net.elevation_m.astype(float).copy()
    head[net.tank_node] = net.tank_h0_m
    status = net.initial_status.astype(np.int8).copy()
    setting = net.initial_setting.astype(float).copy()
    controlled = np.isin(net.kind, (PRV, PSV, FCV)) & (setting != MISSING)
    status[controlled] = ACTIVE
    flow = np.zeros(n_links)
    area = np.pi * net.diameter_m**2 / 4.0
    flow[:] = area * FT_M  # 1 ft/s
    pumps = net.kind == PUMP
    flow[pumps] = setting[pumps] * net.pump_q0_m3_per_s[pumps]
    flow[status <= CLOSED] = QZERO
    emitter_flow = np.where(net.emitter_ke > 0, 1.0 * CFS_M3_PER_S, 0.0)
    leak_flow = np.zeros(nj)
    return HydraulicState(
        head=head,
        flow=flow,
        status=status,
        setting=setting,
        demand_full=np.zeros(nj),
        demand_flow=np.zeros(nj),
        emitter_flow=emitter_flow,
        leak_flow=leak_flow,
        node_outflow=np.zeros(n_nodes),
        tank_volume=net.tank_v0_m3.astype(float).copy(),
    )

