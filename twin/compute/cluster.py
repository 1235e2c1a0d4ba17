"""The AI computing centre's GPU cluster: a SimPy model around the Numba scheduling kernels.

The model follows Blox's separation of concerns, each part swappable (``twin.compute.policies``):
an :class:`~twin.compute.policies.admission.Admission` decides which jobs may enter the queue, a
:class:`~twin.compute.policies.placement.Placement` chooses a gang's nodes, a
:class:`~twin.compute.policies.base.SchedulingPolicy` orders the queue, and a
:class:`~twin.compute.metrics.MetricsCollector` turns the run into the job table, time series and
KPIs.

Placement and scheduling decisions run in ``kernels/scheduler/``: the queue and node state live in
NumPy arrays and the kernel processes arrivals, completions and scheduling passes itself. SimPy
drives what happens *to* the cluster on the district's clock: the operator's monitoring epochs
(each advances the kernel to ``now``), node failures (Poisson, per node MTBF) that kill the jobs on
a node back to their last checkpoint, repairs, and the commissioning of build phases. Because the
kernel can stop at any time and resume with identical results, SimPy only wakes at those few
events, and a year of a 10000P centre (over a million jobs) runs in seconds.

:func:`simulate_kernel` is the same cluster without SimPy (no failures or phases), for validation
against Erlang C and for capacity searches that run hundreds of simulations.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import simpy

from kernels.scheduler.event_loop import advance, fail_node, repair_node
from kernels.scheduler.layout import ND_UP
from kernels.scheduler.state import SchedState
from twin.compute.cluster_spec import ClusterSpec
from twin.compute.jobs import JobTable
from twin.compute.kernel_state import build_state
from twin.compute.metrics import MetricsCollector, SimulationResult
from twin.compute.policies.admission import Admission
from twin.compute.policies.base import SchedulingPolicy
from twin.compute.policies.placement import Placement
from twin.compute.policies.registry import make_policy
from twin.compute.settings import FailureConfig, SchedulerConfig
from twin.errors import InputError
from twin.progress import progress_bar


class ClusterModel:
    """The centre on a SimPy clock: monitoring epochs, node failures, repairs and build phases.

    Parameters
    ----------
    env
        The SimPy environment (the district twin's clock).
    jobs
        The workload, times in seconds from ``env.now == 0``.
    spec, scheduler, failures
        Hardware, scheduling and failure configuration.
    horizon_s
        End of the run (s); jobs still queued or running then are reported as unfinished.
    rng
        Stream for failures and repair times (``engine.rng("compute.failures")``).
    epoch_s
        Operator's monitoring period (s): the kernel is brought up to date at least this often.
    bin_width_s, warmup_s
        Resolution of the time series (s), and the start of the KPI window (s).
    admission, placement, policy, metrics
        The swappable parts (default: from ``scheduler``).
    log_capacity
        Rows of the kernel's segment log (0: none).
    """

    def __init__(
        self,
        env: simpy.Environment,
        jobs: JobTable,
        spec: ClusterSpec,
        scheduler: SchedulerConfig | None = None,
        failures: FailureConfig | None = None,
        *,
        horizon_s: float,
        rng: np.random.Generator | None = None,
        epoch_s: float = 3600.0,
        bin_width_s: float = 3600.0,
        warmup_s: float = 0.0,
        admission: Admission | None = None,
        placement: Placement | None = None,
        policy: SchedulingPolicy | None = None,
        metrics: MetricsCollector | None = None,
        log_capacity: int = 0,
    ) -> None:
        if not math.isfinite(horizon_s) or horizon_s <= 0:
            raise InputError(f"horizon {horizon_s} s: must be a positive, finite time")
        if not epoch_s > 0:
            raise InputError(f"epoch {epoch_s} s: must be > 0")
        self.env = env
        self.jobs = jobs
        self.spec = spec
        self.scheduler = scheduler or SchedulerConfig()
        self.failures = failures or FailureConfig()
        self.horizon_s = float(horizon_s)
        self.epoch_s = float(epoch_s)
        self.bin_width_s = float(bin_width_s)
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.admission = admission or Admission()
        self.placement = placement or Placement(self.scheduler.placement)
        self.policy = policy or make_policy(self.scheduler)
        self.metrics = metrics or MetricsCollector(warmup_s)
        self.state = build_state(
            jobs, spec, self.scheduler, self.policy, self.placement, self.admission,
            self.horizon_s, self.bin_width_s, log_capacity,
        )
        self.built = np.zeros(spec.nodes, bool)
        self.built[: spec.nodes_at(0.0)] = True
        self.node_failures = 0
        self.epochs = 0
        self._start_processes()

    def _start_processes(self) -> None:
        """The operator's monitoring, the build phases still to come, and (if enabled) failures."""
        self.env.process(self._monitoring())
        for start_s, nodes in self.spec.phases:
            if start_s > 0:
                self.env.process(self._commission(start_s, nodes))
        if self.failures.enabled:
            self.env.process(self._failures())

    def sync(self) -> None:
        """Bring the kernel up to ``env.now``: every arrival, completion and pass until then."""
        advance(self.state, float(self.env.now))

    def _monitoring(self) -> Iterator:
        """The operator's monitoring loop: every epoch the cluster state is brought up to date."""
        while True:
            yield self.env.timeout(self.epoch_s)
            self.sync()
            self.epochs += 1

    def _commission(self, start_s: float, nodes: int) -> Iterator:
        """A build phase goes live: its nodes enter service with all devices free."""
        yield self.env.timeout(start_s)
        self.sync()
        for node in range(nodes):
            if not self.built[node]:
                self.built[node] = True
                repair_node(self.state, node, float(self.env.now))

    def _failures(self) -> Iterator:
        """Nodes fail as a Poisson process (rate nodes / MTBF, thinned to in-service nodes)."""
        rate_per_s = self.spec.nodes / (self.failures.node_mtbf_h * 3600.0)
        while True:
            yield self.env.timeout(self.rng.exponential(1.0 / rate_per_s))
            node = int(self.rng.integers(self.spec.nodes))
            repair_s = self.rng.exponential(self.failures.mean_repair_h * 3600.0)
            if not self.built[node] or self.state.nodes[node, ND_UP] == 0:
                continue  # thinning: only nodes in service fail
            self.sync()
            fail_node(self.state, node, float(self.env.now))
            self.node_failures += 1
            self.env.process(self._repair(node, repair_s))

    def _repair(self, node: int, repair_s: float) -> Iterator:
        """A technician brings the node back; its devices are free again."""
        yield self.env.timeout(repair_s)
        self.sync()
        repair_node(self.state, node, float(self.env.now))

    def run(
        self, progress: bool = True, description: str = "GPU cluster", drain: bool = False
    ) -> SimulationResult:
        """Run to the horizon and collect the results.

        With ``drain`` the jobs still queued or running at the horizon are then run to completion
        (no more failures or phases), so that every job has a wait and a completion time.
        """
        steps = 50
        with progress_bar(self.horizon_s, description) as bar:
            for k in range(1, steps + 1):
                self.env.run(until=self.horizon_s * k / steps)
                if progress:
                    bar.update(self.env.now)
        self.sync()
        if drain:
            advance(self.state, math.inf)
        return self.metrics.collect(
            self.state, self.jobs, self.spec, self.horizon_s, self.bin_width_s, self.node_failures
        )


def simulate_kernel(
    jobs: JobTable,
    spec: ClusterSpec,
    scheduler: SchedulerConfig | None = None,
    *,
    horizon_s: float = math.inf,
    bin_width_s: float = 3600.0,
    warmup_s: float = 0.0,
    log_capacity: int = 0,
    return_state: bool = False,
) -> SimulationResult | tuple[SimulationResult, SchedState]:
    """The cluster without SimPy: the kernel runs to ``horizon_s`` (default: until every job ends).

    Same scheduling as :class:`ClusterModel` without failures or build phases; used by the
    validation tests and by capacity planning, which runs many simulations.
    """
    scheduler = scheduler or SchedulerConfig()
    state = build_state(
        jobs, spec, scheduler, make_policy(scheduler), Placement(scheduler.placement), Admission(),
        horizon_s, bin_width_s, log_capacity,
    )
    advance(state, horizon_s)
    result = MetricsCollector(warmup_s).collect(state, jobs, spec, horizon_s, bin_width_s)
    return (result, state) if return_state else result
