"""The plain-Python twin of the scheduler's event loop, for the property tests.

Written independently and straightforwardly (lists and sets, sorting every pass, ``heapq``) with
the same rules and tie-breaks as the kernels, so that the property tests can compare every job's
timeline: :func:`simulate_reference` is the twin of :func:`kernels.scheduler.event_loop.advance`,
:func:`~kernels.scheduler.event_loop.fail_node` and :func:`~kernels.scheduler.event_loop.repair_node`.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence

import numpy as np

from kernels.scheduler.layout import (
    CONSOLIDATED,
    EV_COMPLETE,
    EV_DEMOTE,
    JI_LEVEL,
    JI_TENANT,
    LISTS_ONE,
    LOG_COMPLETE,
    LOG_FAIL,
    LOG_NODE_DOWN,
    LOG_NODE_UP,
    LOG_PREEMPT,
    LOG_START,
    PASS_FAIR_SHARE,
)
from kernels.scheduler.placement import select_nodes_reference
from kernels.scheduler.rules import QueueRules
from kernels.scheduler.state import FIFO_RULES

Allocation = list[tuple[int, int]]
"""``[(node, devices), ...]`` of one run segment."""


def simulate_reference(
    submit_s, work_s, est_s, gpus, tenant, tprio, *,
    n_nodes: int, gpus_per_node: int = 8, rules: QueueRules = FIFO_RULES, placement: int = CONSOLIDATED,
    tenant_share=None, tenant_cap_gpus=None, preempt_priority: bool = False,
    restart_overhead_s: float = 0.0, checkpoint_interval_s: float = 0.0, backfill_depth: int = 256,
    backfill_interval_s: float = 0.0, nodes_up=None, rejected=None, node_events=(),
    until_s: float = math.inf,
) -> dict:
    """Run a workload to ``until_s`` with the kernels' rules; return per-job arrays and the log.

    Takes the keyword arguments of :func:`kernels.scheduler.state.new_state` (without the bins
    and the log capacity). ``node_events`` is a sequence of ``(time_s, node, "fail" | "repair")``,
    each applied after the job events of its instant.
    """
    run = _ReferenceRun(
        submit_s, work_s, est_s, gpus, tenant, tprio,
        n_nodes=n_nodes, gpus_per_node=gpus_per_node, rules=rules, placement=placement,
        tenant_share=tenant_share, tenant_cap_gpus=tenant_cap_gpus, preempt_priority=preempt_priority,
        restart_overhead_s=restart_overhead_s, checkpoint_interval_s=checkpoint_interval_s,
        backfill_depth=backfill_depth, backfill_interval_s=backfill_interval_s,
        nodes_up=nodes_up, rejected=rejected,
    )
    run.run(node_events, until_s)
    return run.outcome()


class _ReferenceRun:
    """One run's state as plain lists, and the rules as methods that read like their definitions."""

    def __init__(
        self, submit_s, work_s, est_s, gpus, tenant, tprio, *, n_nodes: int, gpus_per_node: int,
        rules: QueueRules, placement: int, tenant_share, tenant_cap_gpus, preempt_priority: bool,
        restart_overhead_s: float, checkpoint_interval_s: float,
        backfill_depth: int, backfill_interval_s: float, nodes_up, rejected,
    ) -> None:
        self.gpn = gpus_per_node
        self.n_nodes = n_nodes
        self.rules = rules
        self.placement = placement
        self.preempt_priority = preempt_priority
        self.restart_overhead_s = restart_overhead_s
        self.checkpoint_interval_s = checkpoint_interval_s
        self.backfill_depth = backfill_depth
        self.backfill_interval_s = backfill_interval_s
        self._read_jobs(submit_s, work_s, est_s, gpus, tenant, tprio, rejected)
        thresholds = rules.las_thresholds_gpu_s
        self.thresholds = [] if thresholds is None else [float(x) for x in thresholds]
        self.n_levels = len(self.thresholds) + 1
        self.n_tenants = max(max(self.ten) + 1 if self.ten else 1,
                             len(tenant_share) if tenant_share is not None else 1)
        self.share = [1.0] * self.n_tenants if tenant_share is None else [float(x) for x in tenant_share]
        self.caps = ([math.inf] * self.n_tenants if tenant_cap_gpus is None
                     else [float(x) for x in tenant_cap_gpus])
        self.up = [True] * n_nodes if nodes_up is None else [bool(x) for x in nodes_up]
        self.free = [self.gpn if u else 0 for u in self.up]
        self.alloc: dict[int, Allocation] = {}
        self.waiting: set[int] = set()
        self.running: set[int] = set()
        self.events: list[tuple[float, int, int, int]] = []
        self.log: list[tuple[float, int, int, int, int]] = []
        self.resv = {"head": -1, "valid": False, "dirty": False, "time": 0.0, "shadow": math.inf, "free": []}
        self.attempted = False

    def _read_jobs(self, submit_s, work_s, est_s, gpus, tenant, tprio, rejected) -> None:
        """Inputs as lists, and every per-job quantity the rules update."""
        n_jobs = len(submit_s)
        self.n_jobs = n_jobs
        self.submit = [float(x) for x in submit_s]
        self.work = [float(x) for x in work_s]
        self.est = [float(x) for x in est_s]
        self.g_of = [int(x) for x in gpus]
        self.ten = [int(x) for x in tenant]
        self.pri = [int(x) for x in tprio]
        self.status = ["future"] * n_jobs
        if rejected is not None:
            for j in range(n_jobs):
                if rejected[j]:
                    self.status[j] = "rejected"
        self.done = [0.0] * n_jobs
        self.attained = [0.0] * n_jobs
        self.seg_start = [0.0] * n_jobs
        self.seg_overhead = [0.0] * n_jobs
        self.est_end = [0.0] * n_jobs
        self.first_start = [math.nan] * n_jobs
        self.end = [math.nan] * n_jobs
        self.n_pre = [0] * n_jobs
        self.n_fail = [0] * n_jobs
        self.version = [0] * n_jobs
        self.level = [0] * n_jobs
        self.lost = [0.0] * n_jobs
        self.reserved = [math.nan] * n_jobs
        self.sjf_key = [0.0] * n_jobs

    def outcome(self) -> dict:
        """Per-job arrays and the segment log ``[(time_s, job, kind, node, devices), ...]``."""
        return {
            "first_start_s": np.array(self.first_start), "end_s": np.array(self.end),
            "done_s": np.array(self.done), "attained_gpu_s": np.array(self.attained),
            "n_preempt": np.array(self.n_pre), "n_fail": np.array(self.n_fail),
            "lost_gpu_s": np.array(self.lost), "reserved_s": np.array(self.reserved),
            "level": np.array(self.level), "log": self.log,
        }

    # -- devices --------------------------------------------------------------------------------

    def select(self, j: int, free: Sequence[int] | None = None) -> Allocation | None:
        """Where job ``j`` would go on ``free`` (default: the cluster now), or ``None``."""
        vector = self.free if free is None else free
        return select_nodes_reference(vector, self.up, self.gpn, self.placement, self.g_of[j])

    def placeable(self, vector: list[int], g: int) -> bool:
        return select_nodes_reference(vector, self.up, self.gpn, self.placement, g) is not None

    def free_total(self) -> int:
        return sum(self.free[n] for n in range(self.n_nodes) if self.up[n])

    def overhead_s(self, j: int) -> float:
        """Reload time of a job that ran before (preempted or failed)."""
        return self.restart_overhead_s if self.n_pre[j] + self.n_fail[j] > 0 else 0.0

    # -- run segments ---------------------------------------------------------------------------

    def enqueue(self, j: int) -> None:
        self.status[j] = "waiting"
        self.waiting.add(j)
        self.sjf_key[j] = max(self.est[j] - self.done[j], 0.0)

    def push_demotion(self, j: int) -> None:
        if self.level[j] < self.n_levels - 1:
            cross = self.seg_start[j] + (self.thresholds[self.level[j]] - self.attained[j]) / self.g_of[j]
            heapq.heappush(self.events, (max(cross, self.seg_start[j]), EV_DEMOTE, j, self.version[j]))

    def start(self, j: int, t: float, allocation: Allocation) -> None:
        self.waiting.discard(j)
        for n, c in allocation:
            self.free[n] -= c
        for n, c in allocation:
            self.log.append((t, j, LOG_START, n, c))
        self.alloc[j] = list(allocation)
        self.running.add(j)
        self.status[j] = "running"
        overhead = self.overhead_s(j)
        self.seg_start[j] = t
        self.seg_overhead[j] = overhead
        self.est_end[j] = t + overhead + max(self.est[j] - self.done[j], 0.0)
        if math.isnan(self.first_start[j]):
            self.first_start[j] = t
        heapq.heappush(self.events, (t + overhead + (self.work[j] - self.done[j]), EV_COMPLETE, j, self.version[j]))
        self.push_demotion(j)  # nothing without LAS thresholds

    def stop(self, j: int, t: float, kind: int) -> None:
        """End ``j``'s segment: completion, preemption (progress kept) or failure (rolled back)."""
        g = self.g_of[j]
        for n, c in self.alloc.pop(j):
            self.free[n] += c
        self.running.discard(j)
        self.version[j] += 1
        dt = t - self.seg_start[j]
        self.attained[j] += g * dt
        elapsed = max(dt - self.seg_overhead[j], 0.0)
        spent = dt if dt < self.seg_overhead[j] else self.seg_overhead[j]
        self.log.append((t, j, kind, -1, g))
        if kind == LOG_COMPLETE:
            self.done[j] = self.work[j]
            self.status[j] = "done"
            self.end[j] = t
            self.lost[j] += g * spent
            if t < self.est_end[j]:
                self.resv["dirty"] = True
            return
        if kind == LOG_PREEMPT:
            self.done[j] += elapsed
            self.lost[j] += g * spent
            self.n_pre[j] += 1
        else:
            interval = self.checkpoint_interval_s
            saved = math.floor(elapsed / interval) * interval if interval > 0 else 0.0
            self.done[j] += saved
            self.lost[j] += g * (dt - saved)
            self.n_fail[j] += 1
        self.resv["valid"] = False
        self.enqueue(j)

    # -- preemption -----------------------------------------------------------------------------

    def eligible(self, v: int, j: int) -> bool:
        """Whether running job ``v`` may be evicted for waiting job ``j``."""
        if self.preempt_priority and self.pri[v] < self.pri[j]:
            return True
        return self.rules.preempt_levels and self.pri[v] == self.pri[j] and self.level[v] > self.level[j]

    def try_preempt(self, j: int, t: float) -> int:
        """0: nothing to evict; 1: evicted enough for ``j`` to fit; 2: evicting would not help."""
        if not self.preempt_priority and not self.rules.preempt_levels:
            return 0
        victims = [v for v in self.running if self.eligible(v, j)]
        if self.free_total() + sum(self.g_of[v] for v in victims) < self.g_of[j]:
            return 0
        victims.sort(key=lambda v: (self.pri[v], -self.level[v], -self.seg_start[v], -v))
        trial = list(self.free)
        chosen = []
        for v in victims:
            for n, c in self.alloc[v]:
                trial[n] += c
            chosen.append(v)
            if self.placeable(trial, self.g_of[j]):
                for w in chosen:
                    self.stop(w, t, LOG_PREEMPT)
                return 1
        return 2

    def attempt(self, j: int, t: float) -> bool:
        """One preemption attempt per pass (not counting ones with nothing to evict)."""
        if self.attempted:
            return False
        outcome = self.try_preempt(j, t)
        if outcome != 0:
            self.attempted = True
        return outcome == 1

    # -- EASY backfilling -----------------------------------------------------------------------

    def compute_reservation(self, head: int, t: float) -> None:
        """The earliest time ``head`` fits if the running jobs end at their estimated ends."""
        vector = list(self.free)
        shadow = math.inf
        if self.placeable(vector, self.g_of[head]):
            shadow = t
        else:
            order = sorted(self.running, key=lambda v: (self.est_end[v], v))
            i = 0
            while i < len(order):
                time_group = self.est_end[order[i]]
                while i < len(order) and self.est_end[order[i]] == time_group:
                    for n, c in self.alloc[order[i]]:
                        vector[n] += c
                    i += 1
                if self.placeable(vector, self.g_of[head]):
                    shadow = max(time_group, t)
                    break
        self.resv.update(head=head, valid=True, dirty=False, time=t, shadow=shadow, free=vector)
        self.reserved[head] = shadow

    def backfill(self, head: int, t: float) -> None:
        """Start later jobs that end before the reservation or leave the head's devices free."""
        resv = self.resv
        if (resv["head"] != head or not resv["valid"]
                or (resv["dirty"] and t - resv["time"] >= self.backfill_interval_s)):
            self.compute_reservation(head, t)
        shadow_free = resv["free"]
        examined = 0
        for j in sorted(self.waiting):
            if j <= head:
                continue
            if examined >= self.backfill_depth or self.free_total() == 0:
                break
            examined += 1
            allocation = self.select(j)
            if allocation is None:
                continue
            if t + self.overhead_s(j) + max(self.est[j] - self.done[j], 0.0) <= resv["shadow"]:
                self.start(j, t, allocation)
                continue
            if any(shadow_free[n] < c for n, c in allocation):
                continue
            trial = list(shadow_free)
            for n, c in allocation:
                trial[n] -= c
            if self.placeable(trial, self.g_of[head]):
                resv["free"] = shadow_free = trial
                self.start(j, t, allocation)

    # -- scheduling passes ----------------------------------------------------------------------

    def schedule(self, t: float) -> None:
        """One pass under the rules: fair share, or the in-order pass and then EASY backfilling."""
        self.attempted = False
        if self.rules.scheduling_pass == PASS_FAIR_SHARE:
            self.schedule_fair(t)
            return
        self.schedule_in_order(t)
        if self.rules.backfill and self.waiting:
            self.backfill(min(self.waiting), t)

    def queue_key(self, j: int) -> tuple[float, float, int]:
        """Where waiting job ``j`` stands: its list, then its remaining estimate (SJF), then its index."""
        column = self.rules.lists_by
        lst = 0 if column == LISTS_ONE else {JI_LEVEL: self.level, JI_TENANT: self.ten}[column][j]
        return (lst, self.sjf_key[j] if self.rules.shortest_first else 0.0, j)

    def schedule_in_order(self, t: float) -> None:
        """Waiting jobs in queue order; one that cannot start blocks the pass or is skipped."""
        examined = 0
        restart = True
        while restart:
            restart = False
            for j in sorted(self.waiting, key=self.queue_key):
                if examined >= self.rules.pass_depth:
                    break
                if self.attempted and self.free_total() == 0:
                    return
                if j not in self.waiting:
                    continue
                examined += 1
                allocation = self.select(j)
                if allocation is not None:
                    self.start(j, t, allocation)
                elif self.attempt(j, t):
                    self.start(j, t, self.select(j))
                    restart = True
                    break
                elif self.rules.blocking:
                    return

    def tenant_allocations(self) -> list[int]:
        """Devices each tenant holds now."""
        held = [0] * self.n_tenants
        for v in self.running:
            held[self.ten[v]] += self.g_of[v]
        return held

    def schedule_fair(self, t: float) -> None:
        """The tenant with the lowest allocation/share goes next; a tenant that cannot start is blocked."""
        blocked = [False] * self.n_tenants
        tenant_alloc = self.tenant_allocations()
        while True:
            heads: dict[int, int] = {}
            for j in self.waiting:
                tn = self.ten[j]
                if not blocked[tn] and (tn not in heads or j < heads[tn]):
                    heads[tn] = j
            if not heads:
                return
            best = min(heads, key=lambda tn: (tenant_alloc[tn] / self.share[tn], tn))
            j = heads[best]
            if tenant_alloc[best] + self.g_of[j] > self.caps[best]:
                blocked[best] = True
                continue
            allocation = self.select(j)
            if allocation is None and self.attempt(j, t):
                allocation = self.select(j)
                tenant_alloc = self.tenant_allocations()
            if allocation is not None:
                self.start(j, t, allocation)
                tenant_alloc[best] += self.g_of[j]
                continue
            blocked[best] = True
            if self.attempted and self.free_total() == 0:
                return

    # -- the event loop -------------------------------------------------------------------------

    def next_event_time(self) -> float:
        while self.events and self.events[0][3] != self.version[self.events[0][2]]:
            heapq.heappop(self.events)
        return self.events[0][0] if self.events else math.inf

    def job_instant(self, t: float, arrival: int) -> int:
        """Completions and demotions at ``t``, then arrivals, then one pass; the next arrival."""
        while self.next_event_time() == t:
            _, kind, j, _ = heapq.heappop(self.events)
            if kind == EV_COMPLETE:
                self.stop(j, t, LOG_COMPLETE)
            else:
                self.level[j] += 1
                self.push_demotion(j)
        while arrival < self.n_jobs and (self.status[arrival] == "rejected" or self.submit[arrival] == t):
            if self.status[arrival] != "rejected":
                self.enqueue(arrival)
            arrival += 1
        self.schedule(t)
        return arrival

    def node_event(self, t: float, n: int, kind: str) -> None:
        """A node fails (its jobs roll back and requeue) or comes back; then one pass."""
        if kind == "fail" and self.up[n]:
            for j in sorted(j for j in self.running if any(node == n for node, _ in self.alloc[j])):
                self.stop(j, t, LOG_FAIL)
            self.up[n] = False
            self.free[n] = 0
            self.resv["valid"] = False
            self.log.append((t, -1, LOG_NODE_DOWN, n, self.gpn))
            self.schedule(t)
        elif kind == "repair" and not self.up[n]:
            self.up[n] = True
            self.free[n] = self.gpn
            self.resv["valid"] = False
            self.log.append((t, -1, LOG_NODE_UP, n, self.gpn))
            self.schedule(t)

    def run(self, node_events: Iterable[tuple[float, int, str]], until_s: float) -> None:
        """Job instants and node events in time order (job events first at a tie) to ``until_s``."""
        pending = sorted((float(t), i, int(n), kind) for i, (t, n, kind) in enumerate(node_events))
        arrival = 0
        while True:
            while arrival < self.n_jobs and self.status[arrival] == "rejected":
                arrival += 1
            t_job = min(self.submit[arrival] if arrival < self.n_jobs else math.inf, self.next_event_time())
            t_node = pending[0][0] if pending else math.inf
            if t_job <= t_node and t_job <= until_s and t_job < math.inf:
                arrival = self.job_instant(t_job, arrival)
            elif t_node <= until_s and t_node < math.inf:
                t, _, n, kind = pending.pop(0)
                self.node_event(t, n, kind)
            else:
                break
