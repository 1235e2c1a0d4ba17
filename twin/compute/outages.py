"""Nodes taken out of service by an outside event (a grid derate, a cooling limit) and returned.

The one public hook other layers use to cut a running :class:`~twin.compute.cluster.ClusterModel`'s
capacity: jobs on a node taken down roll back to their last checkpoint and requeue, as on a node
failure; a node brought back has all its devices free.
"""

from __future__ import annotations

from kernels.scheduler.event_loop import fail_node, repair_node
from twin.compute.cluster import ClusterModel


def take_nodes_down(cluster: ClusterModel, nodes: list[int]) -> int:
    """Take ``nodes`` out of service now (``env.now``); returns the jobs preempted."""
    cluster.sync()
    now = float(cluster.env.now)
    return sum(int(fail_node(cluster.state, n, now)) for n in nodes)


def bring_nodes_up(cluster: ClusterModel, nodes: list[int]) -> None:
    """Return ``nodes`` to service now, with all their devices free (nodes not yet built stay out)."""
    cluster.sync()
    now = float(cluster.env.now)
    for n in nodes:
        if cluster.built[n]:
            repair_node(cluster.state, n, now)
