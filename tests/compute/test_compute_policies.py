"""The swappable parts one by one: each policy orders, each placement places and admission admits
as its definition says, on job sets small enough to check by hand; and the registry of policies.

Unless said otherwise the cluster is one node of 8 devices, restarts cost nothing, and every job's
estimate is its run time.
"""

from __future__ import annotations

import math

import numpy as np
import pydantic
import pytest

from kernels.scheduler import layout as ks
from kernels.scheduler.event_loop import advance
from kernels.scheduler.rules import QueueRules
from twin.compute.cluster import simulate_kernel
from twin.compute.cluster_spec import ClusterSpec
from twin.compute.jobs import JobTable
from twin.compute.kernel_state import build_state
from twin.compute.policies import registry
from twin.compute.policies.admission import Admission
from twin.compute.policies.base import SchedulingPolicy
from twin.compute.policies.easy import EasyBackfilling
from twin.compute.policies.fair import FairShare
from twin.compute.policies.fifo import Fifo
from twin.compute.policies.las import LeastAttainedService
from twin.compute.policies.placement import Placement
from twin.compute.policies.sjf import ShortestJobFirst
from twin.compute.settings import SchedulerConfig
from twin.errors import InputError


def jobs_of(rows, tenant_share=None, tenant_cap_share=None) -> JobTable:
    """A job table from ``(submit_s, gpus, work_s[, tenant])`` rows, already in submission order."""
    rows = [tuple(r) + (0,) * (4 - len(r)) for r in rows]
    submit, gpus, work, tenant = (np.array(column) for column in zip(*rows, strict=True))
    n_tenants = int(tenant.max()) + 1
    return JobTable(
        submit_s=submit.astype(float),
        work_s=work.astype(float),
        estimate_s=work.astype(float),
        gpus=gpus.astype(np.int64),
        tenant=tenant.astype(np.int64),
        job_class=np.zeros(len(rows), np.int64),
        priority=np.zeros(len(rows), np.int64),
        sla_wait_s=np.full(len(rows), 3600.0),
        tenant_names=[f"t{i}" for i in range(n_tenants)],
        tenant_share=None if tenant_share is None else np.array(tenant_share, float),
        tenant_cap_share=None if tenant_cap_share is None else np.array(tenant_cap_share, float),
    )


def run(policy: SchedulingPolicy, jobs: JobTable, nodes: int = 1, placement: str = "consolidated"):
    """The drained kernel state of ``jobs`` under ``policy`` (no priority preemption, free restarts)."""
    settings = SchedulerConfig(restart_overhead_s=0.0, checkpoint_interval_s=0.0)
    state = build_state(
        jobs, ClusterSpec(nodes=nodes), settings, policy, Placement(placement), Admission(),
        horizon_s=math.inf, bin_width_s=3600.0, log_capacity=1000,
    )
    advance(state, math.inf)
    return state


def starts(state) -> list[float]:
    return state.jf[:, ks.JF_FIRST_START].tolist()


# A whole-node job blocks the head while a small job behind it would fit beside the running one.
BLOCKED_HEAD = [(0, 6, 100), (1, 8, 50), (2, 1, 10)]
# Three whole-node jobs: the two that wait are ordered by the policy alone.
THREE_WHOLE_NODES = [(0, 8, 100), (1, 8, 50), (2, 8, 10)]


def test_fifo_starts_in_submission_order_and_the_head_blocks():
    assert starts(run(Fifo(), jobs_of(BLOCKED_HEAD))) == [0, 100, 150]
    assert starts(run(Fifo(), jobs_of(THREE_WHOLE_NODES))) == [0, 100, 150]


def test_sjf_starts_the_shortest_remaining_estimate_first():
    # at 100 s jobs 1 (50 s) and 2 (10 s) wait: the shorter one goes first
    assert starts(run(ShortestJobFirst(), jobs_of(THREE_WHOLE_NODES))) == [0, 110, 100]
    # the shortest job is the head: it fits beside job 0, the 8-device job after it waits
    assert starts(run(ShortestJobFirst(), jobs_of(BLOCKED_HEAD))) == [0, 100, 2]


def test_easy_backfills_only_what_does_not_delay_the_reserved_head():
    # job 1 is reserved for 100 s (when job 0 ends); job 2 ends at 12 s, so it backfills at 2 s;
    # job 3 fits now too but would run past 100 s on a device job 1 needs, so it waits
    state = run(EasyBackfilling(), jobs_of([*BLOCKED_HEAD, (3, 1, 500)]))
    assert starts(state) == [0, 100, 2, 150]
    assert state.jf[1, ks.JF_RESERVED] == 100.0
    # with nothing to backfill EASY is FIFO
    assert starts(run(EasyBackfilling(), jobs_of(THREE_WHOLE_NODES))) == [0, 100, 150]


def test_las_demotes_by_attained_service_and_preempts_higher_levels():
    # job 0 passes 800 GPU-s at 100 s (level 1); job 1 arrives at level 0 and evicts it, then
    # job 0 resumes with its progress kept (200 s done, 800 s to go)
    state = run(LeastAttainedService([800.0]), jobs_of([(0, 8, 1000), (200, 8, 100)]))
    assert starts(state) == [0, 200]
    assert state.jf[:, ks.JF_END].tolist() == [1100, 300]
    assert state.ji[:, ks.JI_NPRE].tolist() == [1, 0]
    assert state.ji[:, ks.JI_LEVEL].tolist() == [1, 0]


def test_las_is_work_conserving_up_to_its_depth():
    # no demotion (a huge threshold): job 1 cannot start or preempt, so job 2 is not held up
    assert starts(run(LeastAttainedService([1e12]), jobs_of(BLOCKED_HEAD))) == [0, 100, 2]
    # with a depth of one job per pass only job 1 is looked at, so job 2 waits until job 1 is done
    assert starts(run(LeastAttainedService([1e12], depth=1), jobs_of(BLOCKED_HEAD))) == [0, 100, 150]


def test_fair_share_serves_the_tenant_furthest_below_its_share():
    # three half-node jobs of tenant 0 and one of tenant 1, all at 0 s, equal shares: after job 0
    # tenant 1 is further below its share, so job 3 starts before tenant 0's second job
    rows = [(0, 4, 100, 0), (0, 4, 100, 0), (0, 4, 100, 0), (0, 4, 100, 1)]
    assert starts(run(FairShare(), jobs_of(rows, tenant_share=[0.5, 0.5]))) == [0, 100, 100, 0]
    assert starts(run(Fifo(), jobs_of(rows, tenant_share=[0.5, 0.5]))) == [0, 0, 100, 100]


def test_fair_share_holds_a_tenant_to_its_cap():
    # 16 devices, tenant 0 capped at half: two of its four half-node jobs at a time
    rows = [(0, 4, 100, 0)] * 4 + [(0, 4, 100, 1)]
    jobs = jobs_of(rows, tenant_share=[0.5, 0.5], tenant_cap_share=[0.5, 1.0])
    assert starts(run(FairShare(), jobs, nodes=2)) == [0, 0, 100, 100, 0]


def test_admission_refuses_gangs_larger_than_the_centre_or_the_tenants_cap():
    jobs = jobs_of([(0, 8, 10, 0), (0, 12, 10, 0), (0, 24, 10, 1)], tenant_cap_share=[0.5, 1.0])
    spec = ClusterSpec(nodes=2)
    assert Admission().rejected(jobs, spec).tolist() == [False, False, True]
    assert Admission().rejected(jobs, spec, np.array([8.0, np.inf])).tolist() == [False, True, True]
    # a policy that enforces caps gets the caps applied at admission; FIFO does not
    fair = run(FairShare(), jobs, nodes=2)
    assert fair.ji[:, ks.JI_STATUS].tolist() == [ks.DONE, ks.REJECTED, ks.REJECTED]
    assert run(Fifo(), jobs, nodes=2).ji[:, ks.JI_STATUS].tolist() == [ks.DONE, ks.DONE, ks.REJECTED]


def started_on(state, job: int) -> list[tuple[int, int]]:
    """``(node, devices)`` of each start record of ``job`` in the segment log."""
    n = int(state.iv[ks.IV_LOG])
    return [
        (int(state.logi[ks.LG_NODE, i]), int(state.logi[ks.LG_CNT, i]))
        for i in range(n)
        if state.logi[ks.LG_JOB, i] == job and state.logi[ks.LG_KIND, i] == ks.LOG_START
    ]


def test_placement_consolidated_is_best_fit_and_spread_is_worst_fit():
    # job 0 takes 2 devices of node 0 (a tie: lowest index); job 1 then goes to the fullest node
    # that fits (consolidated: node 0) or the emptiest (spread: node 1)
    jobs = jobs_of([(0, 2, 100), (1, 2, 100)])
    assert started_on(run(Fifo(), jobs, nodes=2, placement="consolidated"), 1) == [(0, 2)]
    assert started_on(run(Fifo(), jobs, nodes=2, placement="spread"), 1) == [(1, 2)]
    # a gang of 12 takes one whole node, the lowest free one, and 4 devices on another
    gang = jobs_of([(0, 2, 100), (1, 12, 100)])
    assert started_on(run(Fifo(), gang, nodes=3, placement="consolidated"), 1) == [(1, 8), (0, 4)]
    assert started_on(run(Fifo(), gang, nodes=3, placement="spread"), 1) == [(1, 8), (2, 4)]
    with pytest.raises(InputError, match="placement 'random'"):
        Placement("random")


def test_registry_lists_every_policy_in_order_and_builds_it_from_settings():
    assert registry.policy_names() == ("fifo", "sjf", "easy", "las", "fair")
    expected = {"fifo": Fifo, "sjf": ShortestJobFirst, "easy": EasyBackfilling, "las": LeastAttainedService,
                "fair": FairShare}
    for name, cls in expected.items():
        assert registry.policy_class(name) is cls and cls.name == name
        assert isinstance(registry.make_policy(SchedulerConfig(policy=name)), cls)
    las = registry.make_policy(SchedulerConfig(policy="las", las_thresholds_gpu_h=[1.0, 2.0], backfill_depth=7))
    assert las.queue_rules().las_thresholds_gpu_s.tolist() == [3600.0, 7200.0]
    assert las.queue_rules().pass_depth == 7
    with pytest.raises(InputError, match="scheduling policy 'lifo'"):
        registry.policy_class("lifo")


def test_an_unknown_policy_name_is_refused_as_a_choice():
    with pytest.raises(pydantic.ValidationError) as error:
        SchedulerConfig(policy="round_robin")
    assert error.value.errors()[0]["type"] == "literal_error"
    assert error.value.errors()[0]["msg"] == "Input should be 'fifo', 'sjf', 'easy', 'las' or 'fair'"


class FirstFit(SchedulingPolicy):
    """A policy the package does not have: FIFO order, but a job that does not fit is skipped."""

    name = "first_fit"
    listed = 5

    def queue_rules(self) -> QueueRules:
        return QueueRules(blocking=False)


def test_a_new_policy_is_one_registered_class(monkeypatch):
    monkeypatch.setattr(registry, "_POLICIES", dict(registry._POLICIES))
    registry.register_policy(FirstFit)
    assert registry.policy_names()[-1] == "first_fit"
    result = simulate_kernel(jobs_of(BLOCKED_HEAD), ClusterSpec(nodes=1), SchedulerConfig(policy="first_fit"))
    assert result.jobs["first_start_s"].tolist() == [0, 100, 2]
    with pytest.raises(RuntimeError, match="registered twice"):
        registry.register_policy(type("Other", (FirstFit,), {}))
