"""The results of an extended-period simulation: the reported states as ``(time, element)`` arrays.

:class:`HydraulicResults` is what :class:`twin.water.simulation.ExtendedPeriodSimulation` returns,
in SI units, with long tables for Parquet (:meth:`HydraulicResults.nodes_frame`,
:meth:`HydraulicResults.links_frame`). Metrics are plain functions over it
(:mod:`twin.water.service`). :class:`ResultsRecorder` collects one row per reporting time while a
simulation runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kernels.hydraulics.codes import CLOSED, PUMP
from twin.water.network import CompiledNetwork
from twin.water.state import HydraulicState

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class HydraulicResults:
    """Reported states of an extended-period simulation (SI units).

    Arrays are ``(time, node)`` or ``(time, link)``. ``demand_m3_per_s`` is what each junction
    delivers (demand plus emitter flow; leaks are in ``leak_m3_per_s``), and each tank's or
    reservoir's net inflow (negative when it supplies water). ``required_m3_per_s`` is the
    junction demand the patterns ask for.
    """

    time_s: np.ndarray
    node_names: list[str]
    link_names: list[str]
    elevation_m: np.ndarray
    head_m: np.ndarray
    demand_m3_per_s: np.ndarray
    required_m3_per_s: np.ndarray
    leak_m3_per_s: np.ndarray
    flow_m3_per_s: np.ndarray
    status: np.ndarray
    link_area_m2: np.ndarray
    link_start: np.ndarray
    link_end: np.ndarray
    determinate: np.ndarray
    """``(time, junction)``: False where the head is not determined by the equations (a pocket
    behind closed links; see :meth:`twin.water.hydraulics.GGASolver.determinate_junctions`)."""
    cut_off: np.ndarray
    """``(time, junction)``: True where closed links cut the junction off from every source (it
    gets no water, whatever head the closed links leave it)."""
    solver_log: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def pressure_m(self) -> np.ndarray:
        """Pressure head (m); a tank's is its water level."""
        return self.head_m - self.elevation_m[None, :]

    @property
    def velocity_m_per_s(self) -> np.ndarray:
        """Mean velocity |q| / A (m/s); 0 for pumps."""
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.abs(self.flow_m3_per_s) / self.link_area_m2[None, :]
        return np.where(self.link_area_m2[None, :] > 0, v, 0.0)

    @property
    def headloss_m(self) -> np.ndarray:
        """Head at the start node minus head at the end node (m); negative across a running pump."""
        return self.head_m[:, self.link_start] - self.head_m[:, self.link_end]

    def nodes_frame(self) -> pd.DataFrame:
        """Long table ``time_s, node, head_m, pressure_m, demand_m3_per_s``."""
        # deferred: pandas is slow to import, and only writing tables needs it
        import pandas as pd

        nt, nn = self.head_m.shape
        return pd.DataFrame({
            "time_s": np.repeat(self.time_s, nn),
            "node": np.tile(np.asarray(self.node_names, dtype=object), nt),
            "head_m": self.head_m.ravel(),
            "pressure_m": self.pressure_m.ravel(),
            "demand_m3_per_s": self.demand_m3_per_s.ravel(),
        })

    def links_frame(self) -> pd.DataFrame:
        """Long table ``time_s, link, flow_m3_per_s, velocity_m_per_s, headloss_m``."""
        # deferred: pandas is slow to import, and only writing tables needs it
        import pandas as pd

        nt, nl = self.flow_m3_per_s.shape
        return pd.DataFrame({
            "time_s": np.repeat(self.time_s, nl),
            "link": np.tile(np.asarray(self.link_names, dtype=object), nt),
            "flow_m3_per_s": self.flow_m3_per_s.ravel(),
            "velocity_m_per_s": self.velocity_m_per_s.ravel(),
            "headloss_m": self.headloss_m.ravel(),
        })


# ------------------------------------------------------------------------------------------------


class ResultsRecorder:
    """The states reported so far, one row per reporting time, and the results made of them."""

    _KEYS = ("t", "head", "demand", "required", "leak", "flow", "status", "determinate", "cut_off")

    def __init__(self) -> None:
        self._rows: dict[str, list] = {key: [] for key in self._KEYS}

    def record(self, time_s: int, state: HydraulicState, required: np.ndarray, cut_off: np.ndarray,
               determinate: np.ndarray) -> None:
        """Report ``state`` at ``time_s``; a second report at the same time replaces the first."""
        rows = self._rows
        if rows["t"] and rows["t"][-1] == time_s:
            for key in self._KEYS:
                rows[key].pop()
        rows["t"].append(time_s)
        rows["head"].append(state.head.copy())
        rows["demand"].append(state.node_outflow.copy())
        rows["required"].append(required.copy())
        rows["cut_off"].append(cut_off.copy())
        rows["leak"].append(state.leak_flow.copy())
        # like EPANET's savehyd: a closed link carries no flow (a closed constant-power pump keeps
        # a halving residual inside the iterations, which is not water moving)
        rows["flow"].append(np.where(state.status <= CLOSED, 0.0, state.flow))
        rows["status"].append(state.status.copy())
        rows["determinate"].append(determinate)

    def results(self, net: CompiledNetwork, solver_log: list[dict], warnings: list[str]) -> HydraulicResults:
        """What has been reported so far, as :class:`HydraulicResults` of ``net``."""
        rows = self._rows
        area = np.where(net.kind == PUMP, 0.0, np.pi * net.diameter_m**2 / 4.0)

        def stack(key: str, width: int) -> np.ndarray:
            return np.vstack(rows[key]) if rows[key] else np.zeros((0, width))

        return HydraulicResults(
            time_s=np.asarray(rows["t"], dtype=float),
            node_names=net.node_names, link_names=net.link_names,
            elevation_m=net.elevation_m.copy(),
            head_m=stack("head", net.n_nodes), demand_m3_per_s=stack("demand", net.n_nodes),
            required_m3_per_s=stack("required", net.n_junctions),
            leak_m3_per_s=stack("leak", net.n_junctions),
            flow_m3_per_s=stack("flow", net.n_links), status=stack("status", net.n_links),
            determinate=stack("determinate", net.n_junctions).astype(bool),
            cut_off=stack("cut_off", net.n_junctions).astype(bool),
            link_area_m2=area, link_start=net.start, link_end=net.end,
            solver_log=list(solver_log), warnings=list(warnings),
        )
