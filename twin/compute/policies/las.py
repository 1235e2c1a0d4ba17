"""LAS: discretised least attained service (Tiresias 2D-LAS).

A job's level is the number of attained-service thresholds (GPU-seconds) it has passed; lower
levels go first, FIFO within a level. The pass is work-conserving (a job that does not fit is
skipped, up to ``depth`` jobs examined), and a blocked job may preempt running jobs of its own
priority class at higher levels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kernels.scheduler.layout import JI_LEVEL
from kernels.scheduler.rules import QueueRules
from twin.compute.policies.base import PolicySettings, SchedulingPolicy
from twin.compute.policies.registry import register_policy


@register_policy
class LeastAttainedService(SchedulingPolicy):
    """Lowest attained-service level first; work-conserving; preempts higher levels.

    Parameters
    ----------
    thresholds_gpu_s
        Increasing attained-service thresholds (GPU-s); ``len + 1`` levels.
    depth
        Waiting jobs examined per pass at most.
    """

    name = "las"
    listed = 3

    def __init__(self, thresholds_gpu_s: Sequence[float], depth: int = 256) -> None:
        self.thresholds_gpu_s = np.asarray(thresholds_gpu_s, float)
        self.depth = int(depth)

    @classmethod
    def from_settings(cls, settings: PolicySettings) -> LeastAttainedService:
        return cls(np.asarray(settings.las_thresholds_gpu_h, float) * 3600.0, settings.backfill_depth)

    def queue_rules(self) -> QueueRules:
        return QueueRules(
            lists_by=JI_LEVEL,
            blocking=False,
            pass_depth=self.depth,
            preempt_levels=True,
            las_thresholds_gpu_s=self.thresholds_gpu_s,
        )

    def __repr__(self) -> str:
        return f"LeastAttainedService(thresholds_gpu_s={self.thresholds_gpu_s.tolist()}, depth={self.depth})"
