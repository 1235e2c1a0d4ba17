"""FIFO: strict submission order; the first job that does not fit blocks the queue."""

from __future__ import annotations

from kernels.scheduler.rules import QueueRules
from twin.compute.policies.base import SchedulingPolicy
from twin.compute.policies.registry import register_policy


@register_policy
class Fifo(SchedulingPolicy):
    """First in, first out, with head-of-line blocking."""

    name = "fifo"
    listed = 0

    def queue_rules(self) -> QueueRules:
        return QueueRules()
