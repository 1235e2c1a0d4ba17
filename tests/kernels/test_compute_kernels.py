"""Scheduling kernels against their plain-Python references, and the invariants of every run.

Properties checked on random small clusters and workloads, under every policy, both placements,
preemption and node failures:

* the kernel's event loop equals :func:`kernels.scheduler.reference.simulate_reference` job by job (first
  start, end, preemptions, failures, progress, the whole segment log), also when it is stopped
  and resumed at arbitrary times;
* allocated devices never exceed a node's capacity, and nothing runs on a failed node;
* no job starts before it is submitted, and a gang gets all its devices at the same instant;
* EASY backfilling never delays the reserved head job past its reservation;
* the same seed gives the same result, and the SimPy model gives the kernel's result.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.scheduler import layout as ks
from kernels.scheduler.event_loop import advance, fail_node, repair_node
from kernels.scheduler.placement import can_place, can_place_reference, place_gang, select_nodes_reference
from kernels.scheduler.reference import simulate_reference
from kernels.scheduler.rules import QueueRules
from kernels.scheduler.sorting import lex_argsort, lex_argsort_reference
from kernels.scheduler.state import new_state
from twin.compute.cluster import ClusterModel, simulate_kernel
from twin.compute.cluster_spec import ClusterSpec
from twin.compute.jobs import JobTable
from twin.compute.policies.las import LeastAttainedService
from twin.compute.policies.registry import make_policy, policy_class, policy_names
from twin.compute.settings import FailureConfig, SchedulerConfig
from twin.compute.workload import generate, load_workload_config
from twin.engine import Engine

GPN = 8


# ---------------------------------------------------------------------------------------------
# Placement and sorting kernels.
# ---------------------------------------------------------------------------------------------


@given(
    free=st.lists(st.integers(0, GPN), min_size=1, max_size=150),
    data=st.data(),
    g=st.integers(1, 40),
    mode=st.sampled_from([ks.CONSOLIDATED, ks.SPREAD]),
)
def test_gang_placement_kernel_equals_reference(free, data, g, mode):
    up = data.draw(st.lists(st.booleans(), min_size=len(free), max_size=len(free)))
    free_arr = np.array(free, np.int64)
    up_arr = np.array(up, np.int8)
    nodes = np.zeros(len(free) + 1, np.int64)
    counts = np.zeros(len(free) + 1, np.int64)
    m = place_gang(free_arr, up_arr, GPN, mode, g, nodes, counts)
    expected = select_nodes_reference(free, up, GPN, mode, g)
    levels = np.bincount(free_arr[up_arr.astype(bool)], minlength=GPN + 1).astype(np.int64)
    assert can_place(levels, g, GPN) == can_place_reference(free, up, GPN, g) == (expected is not None)
    if expected is None:
        assert m == 0
    else:
        assert list(zip(nodes[:m].tolist(), counts[:m].tolist(), strict=True)) == expected
        assert sum(counts[:m]) == g  # a gang gets all its devices
        assert all(free[n] >= c and up[n] for n, c in expected)


@given(st.lists(st.tuples(st.integers(0, 3), st.floats(-5, 5, allow_nan=False)), min_size=0, max_size=60))
def test_lexicographic_sort_equals_python_sorted(rows):
    keys = np.array(rows, float).reshape(len(rows), 2)
    padded = np.zeros((max(len(rows), 1), 4))
    padded[: len(rows), :2] = keys
    order = np.zeros(len(padded), np.int64)
    buffer = np.zeros(len(padded), np.int64)
    lex_argsort(padded, len(rows), order, buffer)
    assert order[: len(rows)].tolist() == lex_argsort_reference(padded, len(rows))
    assert lex_argsort_reference(padded, len(rows)) == sorted(
        range(len(rows)), key=lambda i: (rows[i][0], rows[i][1], i)
    )


# ---------------------------------------------------------------------------------------------
# Whole runs: kernel == reference.
# ---------------------------------------------------------------------------------------------


def queue_rules(name: str, depth: int) -> QueueRules:
    """The named policy's queue rules from its settings; LAS with thresholds these small jobs cross."""
    if name == "las":
        return LeastAttainedService([200.0, 4000.0], depth).queue_rules()
    return make_policy(SchedulerConfig(policy=name, backfill_depth=depth)).queue_rules()


@st.composite
def scenarios(draw, allow_failures=True, allow_preemption=True, policies=None):
    """A small cluster, a workload, node events and cut points, under any registered policy."""
    n_nodes = draw(st.integers(1, 5))
    n_jobs = draw(st.integers(1, 40))
    capacity = n_nodes * GPN
    sizes = [g for g in (1, 1, 1, 2, 3, 4, 8, 12, 16, 24) if g <= capacity]
    gpus = draw(st.lists(st.sampled_from(sizes), min_size=n_jobs, max_size=n_jobs))
    # integer times on a coarse grid make simultaneous events (the hard cases) common
    submit = np.sort(
        np.array(draw(st.lists(st.integers(0, 30), min_size=n_jobs, max_size=n_jobs)), float) * 100
    )
    work = np.array(draw(st.lists(st.integers(0, 20), min_size=n_jobs, max_size=n_jobs)), float) * 100 + 50
    factor = np.array(draw(st.lists(st.sampled_from([1.0, 1.0, 1.5, 3.0]), min_size=n_jobs, max_size=n_jobs)))
    tenant = np.array(draw(st.lists(st.integers(0, 2), min_size=n_jobs, max_size=n_jobs)), np.int64)
    policy = draw(st.sampled_from(policies or policy_names()))
    depth = draw(st.sampled_from([2, 256]))
    events = []
    if allow_failures and draw(st.booleans()):
        for _ in range(draw(st.integers(1, 4))):
            t = float(draw(st.integers(0, 60)) * 100 + draw(st.sampled_from([0, 50])))
            node = draw(st.integers(0, n_nodes - 1))
            events.append((t, node, "fail"))
            events.append((t + draw(st.integers(1, 20)) * 100, node, "repair"))
    events.sort(key=lambda e: e[0])
    kwargs = dict(
        n_nodes=n_nodes,
        gpus_per_node=GPN,
        rules=queue_rules(policy, depth),
        placement=draw(st.sampled_from([ks.CONSOLIDATED, ks.SPREAD])),
        tenant_share=np.array([0.5, 0.3, 0.2]),
        tenant_cap_gpus=np.array(draw(st.sampled_from([[np.inf] * 3, [16.0, np.inf, 8.0]]))),
        preempt_priority=allow_preemption and draw(st.booleans()),
        restart_overhead_s=float(draw(st.sampled_from([0.0, 30.0]))),
        checkpoint_interval_s=float(draw(st.sampled_from([0.0, 250.0]))),
        backfill_depth=depth,
        backfill_interval_s=float(draw(st.sampled_from([0.0, 300.0]))),
    )
    jobs = dict(
        submit_s=submit,
        work_s=work,
        est_s=work * factor,
        gpus=np.array(gpus, np.int64),
        tenant=tenant,
        tprio=(tenant == 2).astype(np.int64),
    )
    # admission, as twin.compute.policies.admission: where the policy enforces the tenants' caps, a
    # gang above its tenant's cap never runs
    if policy_class(policy).caps_tenants:
        kwargs["rejected"] = jobs["gpus"] > kwargs["tenant_cap_gpus"][tenant]
    cuts = sorted(draw(st.lists(st.integers(0, 40), max_size=3)))
    return jobs, kwargs, events, [c * 100.0 + 25.0 for c in cuts]


def run_kernel(jobs, kwargs, events, cuts, log_capacity=5000):
    """Advance the kernel through cut points and node events, as the SimPy model does."""
    state = new_state(
        jobs["submit_s"],
        jobs["work_s"],
        jobs["est_s"],
        jobs["gpus"],
        jobs["tenant"],
        jobs["tprio"],
        n_bins=8,
        bin_width_s=1000.0,
        log_capacity=log_capacity,
        **kwargs,
    )
    stops = sorted(
        [(t, 0, None) for t in cuts] + [(event[0], 1, event) for event in events],
        key=lambda stop: (stop[0], stop[1]),
    )
    for time_s, _, event in stops:
        advance(state, time_s)
        if event is not None:
            _, node, kind = event
            (fail_node if kind == "fail" else repair_node)(state, node, time_s)
    advance(state, np.inf)
    assert state.iv[ks.IV_LOG_OVERFLOW] == 0
    return state


def kernel_log(state):
    n = int(state.iv[ks.IV_LOG])
    return [
        (
            float(state.logt[i]),
            int(state.logi[ks.LG_JOB, i]),
            int(state.logi[ks.LG_KIND, i]),
            int(state.logi[ks.LG_NODE, i]),
            int(state.logi[ks.LG_CNT, i]),
        )
        for i in range(n)
    ]


@settings(max_examples=150)  # cheap (a few ms each), and the most valuable property here
@given(scenarios())
def test_event_loop_kernel_equals_reference(case):
    jobs, kwargs, events, cuts = case
    state = run_kernel(jobs, kwargs, events, cuts)
    ref = simulate_reference(
        jobs["submit_s"],
        jobs["work_s"],
        jobs["est_s"],
        jobs["gpus"],
        jobs["tenant"],
        jobs["tprio"],
        node_events=events,
        **kwargs,
    )
    assert kernel_log(state) == ref["log"]
    for column, name in (
        (ks.JF_FIRST_START, "first_start_s"),
        (ks.JF_END, "end_s"),
        (ks.JF_DONE, "done_s"),
        (ks.JF_ATTAINED, "attained_gpu_s"),
        (ks.JF_LOST, "lost_gpu_s"),
        (ks.JF_RESERVED, "reserved_s"),
    ):
        assert np.array_equal(state.jf[:, column], ref[name], equal_nan=True), name
    for column, name in ((ks.JI_NPRE, "n_preempt"), (ks.JI_NFAIL, "n_fail"), (ks.JI_LEVEL, "level")):
        assert np.array_equal(state.ji[:, column], ref[name]), name


@settings(max_examples=150)
@given(scenarios())
def test_run_invariants(case):
    """Capacity, no start before submission, gangs start whole, nothing runs on a failed node."""
    jobs, kwargs, events, cuts = case
    state = run_kernel(jobs, kwargs, events, cuts)
    n_nodes = kwargs["n_nodes"]
    up = [True] * n_nodes
    used = np.zeros(n_nodes, np.int64)
    placed = {}
    for t, j, kind, node, cnt in kernel_log(state):
        if kind == ks.LOG_NODE_DOWN:
            assert used[node] == 0, "a failed node still holds jobs"
            up[node] = False
        elif kind == ks.LOG_NODE_UP:
            up[node] = True
        elif kind == ks.LOG_START:
            assert t >= jobs["submit_s"][j]
            assert up[node], "started on a failed node"
            used[node] += cnt
            assert used[node] <= GPN, "node over capacity"
            placed.setdefault(j, []).append((node, cnt, t))
        else:
            segment = placed.pop(j)
            # a gang gets all its devices at one instant and gives them back together
            assert sum(c for _, c, _ in segment) == jobs["gpus"][j] == cnt, "a gang started partially"
            assert len({start for _, _, start in segment}) == 1
            for n, c, _ in segment:
                used[n] -= c
    assert not placed  # every job released what it held
    # time-binned allocation never exceeds the devices in service
    assert np.all(state.bins[ks.B_ALLOC] <= state.bins[ks.B_UP] + 1e-6)
    # drained: every admitted job finished and its work is done
    done = state.ji[:, ks.JI_STATUS] == ks.DONE
    assert np.array_equal(done, ~kwargs.get("rejected", np.zeros(len(done), bool)))
    assert np.allclose(state.jf[done, ks.JF_DONE], jobs["work_s"][done])


@given(scenarios(allow_failures=False, allow_preemption=False, policies=("easy",)))
def test_easy_backfilling_never_delays_the_reserved_head(case):
    jobs, kwargs, events, cuts = case
    state = run_kernel(jobs, kwargs, events, cuts)
    reserved = state.jf[:, ks.JF_RESERVED]
    first = state.jf[:, ks.JF_FIRST_START]
    has = ~np.isnan(reserved)
    assert np.all(first[has] <= reserved[has] + 1e-9)


# ---------------------------------------------------------------------------------------------
# The SimPy model.
# ---------------------------------------------------------------------------------------------


def small_centre_jobs(seed: int, days: float = 4.0) -> JobTable:
    mix = load_workload_config()
    return generate(mix, 2026, days * 86400.0, np.random.default_rng(seed), rate_scale=0.02)


def run_model(jobs, epoch_s, failures, seed=1, policy="easy", preemption=True):
    env = simpy.Environment()
    model = ClusterModel(
        env,
        jobs,
        ClusterSpec(nodes=8),
        SchedulerConfig(policy=policy, preemption=preemption),
        FailureConfig(enabled=failures, node_mtbf_h=48.0, mean_repair_h=6.0),
        horizon_s=4 * 86400.0,
        rng=np.random.default_rng(seed),
        epoch_s=epoch_s,
    )
    return model.run(progress=False), model


def test_same_seed_same_result_and_epochs_do_not_matter():
    jobs = small_centre_jobs(3)
    a, model_a = run_model(jobs, 3600.0, True)
    b, _ = run_model(jobs, 3600.0, True)
    assert model_a.node_failures > 0
    assert a.jobs.equals(b.jobs) and a.kpis == b.kpis
    # the kernel stops wherever SimPy wakes it: the result must not depend on where
    c, _ = run_model(jobs, 977.0, True)
    d, _ = run_model(jobs, 86400.0, True)
    assert a.jobs.equals(c.jobs) and a.jobs.equals(d.jobs)
    e, _ = run_model(jobs, 3600.0, True, seed=2)
    assert not a.jobs.equals(e.jobs)  # another failure stream, another run


def test_simpy_model_without_failures_equals_the_kernel_path():
    jobs = small_centre_jobs(4)
    for policy in ("fifo", "las", "fair"):
        simpy_run, _ = run_model(jobs, 7200.0, False, policy=policy)
        kernel_run = simulate_kernel(
            jobs, ClusterSpec(nodes=8), SchedulerConfig(policy=policy, preemption=True), horizon_s=4 * 86400.0
        )
        assert simpy_run.jobs.equals(kernel_run.jobs)


def test_build_phases_commission_nodes_on_the_clock():
    jobs = small_centre_jobs(5)
    env = simpy.Environment()
    spec = ClusterSpec(nodes=8, phases=((0.0, 2), (2 * 86400.0, 8)))
    result = ClusterModel(env, jobs, spec, horizon_s=4 * 86400.0).run(progress=False)
    ts = result.timeseries
    assert ts.loc[ts["start_s"] < 2 * 86400.0, "in_service_gpus"].max() == 16
    assert ts.loc[ts["start_s"] >= 2 * 86400.0, "in_service_gpus"].min() == 64


def test_engine_streams_make_the_workload_reproducible():
    engine_a = Engine(7, datetime(2028, 1, 1), 86400.0)
    engine_b = Engine(7, datetime(2028, 1, 1), 86400.0)
    mix = load_workload_config()
    a = generate(mix, 2028, 86400.0, engine_a.rng("gpu_queueing.workload.x"))
    b = generate(mix, 2028, 86400.0, engine_b.rng("gpu_queueing.workload.x"))
    assert len(a) > 0
    assert np.array_equal(a.submit_s, b.submit_s) and np.array_equal(a.gpus, b.gpus)
