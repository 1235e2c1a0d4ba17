"""The simulated cluster's hardware: nodes of one accelerator type, and when they enter service."""

from __future__ import annotations

from dataclasses import dataclass

from twin.errors import InputError


@dataclass(frozen=True)
class ClusterSpec:
    """The hardware: nodes of ``gpus_per_node`` devices of one accelerator type.

    ``phases`` lists ``(time_s, nodes)``: how many nodes are in service from that time (the first
    entry at 0 s is the initial build; later ones commission new halls). ``pue`` and
    ``idle_power_fraction`` (an idle device's draw / TDP) turn the simulated device-time into energy.
    """

    nodes: int
    gpus_per_node: int = 8
    accelerator: str = "h100_sxm"
    pue: float = 1.25
    idle_power_fraction: float = 0.0
    phases: tuple[tuple[float, int], ...] = ()

    def __post_init__(self) -> None:
        if self.nodes < 1:
            raise InputError(f"cluster of {self.nodes} nodes: need at least 1")
        if self.gpus_per_node < 1:
            raise InputError(f"{self.gpus_per_node} devices per node: need at least 1")
        for time_s, nodes in self.phases:
            if nodes > self.nodes or nodes < 0 or time_s < 0:
                raise InputError(
                    f"phase ({time_s} s, {nodes} nodes): must be within 0..{self.nodes} nodes, t >= 0"
                )

    @property
    def gpus(self) -> int:
        """Devices of the fully built cluster."""
        return self.nodes * self.gpus_per_node

    def nodes_at(self, time_s: float) -> int:
        """Nodes commissioned by ``time_s``."""
        if not self.phases:
            return self.nodes
        built = 0
        for start_s, nodes in self.phases:
            if start_s <= time_s:
                built = max(built, nodes)
        return built
