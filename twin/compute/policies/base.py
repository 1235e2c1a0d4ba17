"""The interface of a scheduling policy: the order waiting jobs start in, as queue rules."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Protocol

from kernels.scheduler.rules import QueueRules


class PolicySettings(Protocol):
    """What a policy may read from the scheduler's settings (:class:`twin.compute.settings.SchedulerConfig`)."""

    policy: str
    las_thresholds_gpu_h: list[float]
    backfill_depth: int


class SchedulingPolicy(ABC):
    """One scheduling policy: how waiting jobs are ordered, and what a job that cannot start does.

    A subclass sets :attr:`name` and :attr:`listed`, implements :meth:`queue_rules`, and is
    registered with :func:`twin.compute.policies.registry.register_policy`. Preemption of lower
    priority classes, restart overheads and checkpoints are the cluster's settings, not the
    policy's; the policy only says whether it also preempts by LAS level.
    """

    name: ClassVar[str]
    """What scenario files and ``--policy`` call the policy."""
    listed: ClassVar[int]
    """Place in listings and error messages (FIFO first, then by sophistication)."""
    caps_tenants: ClassVar[bool] = False
    """Whether the policy enforces the tenants' hard caps, so admission refuses gangs above a cap."""

    @classmethod
    def from_settings(cls, settings: PolicySettings) -> SchedulingPolicy:
        """The policy as the scheduler's settings configure it (most policies have no settings)."""
        return cls()

    @abstractmethod
    def queue_rules(self) -> QueueRules:
        """The policy in the kernel's terms."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
