"""EASY backfilling: FIFO, and jobs behind a blocked head start if they do not delay it.

The blocked head gets a reservation: the earliest time it fits if the running jobs end at their
estimated ends. A later job (at most ``backfill_depth`` examined per pass) may start now if it
ends, by its estimate, before the reservation, or does not touch the devices the head needs then.
"""

from __future__ import annotations

from kernels.scheduler.rules import QueueRules
from twin.compute.policies.base import SchedulingPolicy
from twin.compute.policies.registry import register_policy


@register_policy
class EasyBackfilling(SchedulingPolicy):
    """FIFO with EASY backfilling behind the blocked head."""

    name = "easy"
    listed = 2

    def queue_rules(self) -> QueueRules:
        return QueueRules(backfill=True)
