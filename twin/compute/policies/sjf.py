"""SJF: strict order of the remaining estimated run time, shortest first."""

from __future__ import annotations

from kernels.scheduler.rules import QueueRules
from twin.compute.policies.base import SchedulingPolicy
from twin.compute.policies.registry import register_policy


@register_policy
class ShortestJobFirst(SchedulingPolicy):
    """Shortest remaining estimate first (ties by submission), with head-of-line blocking.

    The estimate is the user's (an upper bound, as a time limit is) minus the progress already
    made, so a preempted or failed job returns with its remaining estimate.
    """

    name = "sjf"
    listed = 1

    def queue_rules(self) -> QueueRules:
        return QueueRules(shortest_first=True)
