"""How the centre is run: the scheduler's settings and node failures, as scenario files and flags give them.

A policy is named by its registered name (``twin.compute.policies``); an unknown name is refused
as a choice among the registered ones, in their listing order.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from twin.compute.policies.registry import policy_names
from twin.config import StrictModel

LLAMA3_NODE_MTBF_H = 54 * 24 * 2048 / 419
"""Node MTBF from Meta's Llama 3 report: 419 unexpected interruptions in 54 days on 16,384 H100s
(2,048 nodes of 8), i.e. one per ~6,300 node-hours (Dubey et al. 2024, "The Llama 3 Herd of
Models", section 3.3.4)."""


def _known_policy(value: object) -> object:
    """A registered policy name; anything else fails as a choice among them (like a ``Literal``)."""
    names = policy_names()
    if value not in names:
        expected = ", ".join(repr(name) for name in names[:-1]) + f" or {names[-1]!r}"
        raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": expected})
    return value


PolicyName = Annotated[str, BeforeValidator(_known_policy)]
"""The name of a registered scheduling policy (``fifo``, ``sjf``, ``easy``, ``las``, ``fair``, ...)."""
PlacementName = Literal["consolidated", "spread"]


class SchedulerConfig(StrictModel):
    """How the queue is ordered and jobs are placed."""

    policy: PolicyName = Field(default="easy", description="fifo, sjf, easy, las or fair.")
    placement: PlacementName = Field(default="consolidated", description="consolidated (best fit) or spread.")
    preemption: bool = Field(default=False, description="Higher-priority tenants may preempt lower ones.")
    las_thresholds_gpu_h: list[float] = Field(
        default=[1.0, 64.0], description="LAS attained-service thresholds (GPU-hours), increasing."
    )
    backfill_depth: int = Field(
        default=256, ge=1, le=100_000, description="Jobs examined per pass behind the head (EASY, LAS)."
    )
    backfill_interval_s: float = Field(
        default=30.0, ge=0, description="Least time between reservation refreshes after early ends (s)."
    )
    restart_overhead_s: float = Field(
        default=300.0, ge=0, description="Reload time when a preempted or failed job restarts (s)."
    )
    checkpoint_interval_s: float = Field(
        default=3600.0, ge=0, description="Checkpoint period of running jobs (s; 0: none)."
    )

    @model_validator(mode="after")
    def _increasing(self) -> SchedulerConfig:
        t = self.las_thresholds_gpu_h
        if any(x <= 0 for x in t) or any(b <= a for a, b in zip(t, t[1:], strict=False)):
            raise ValueError("las_thresholds_gpu_h must be positive and increasing")
        return self


class FailureConfig(StrictModel):
    """Node failures with checkpoint-restart."""

    enabled: bool = Field(default=False, description="Whether nodes fail.")
    node_mtbf_h: float = Field(
        default=round(LLAMA3_NODE_MTBF_H), gt=0, description="Mean time between failures of one node (h)."
    )
    mean_repair_h: float = Field(
        default=24.0, gt=0, description="Mean time to repair a failed node (h, exponential)."
    )
