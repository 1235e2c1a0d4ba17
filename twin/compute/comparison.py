"""Scheduling policies compared on one centre: the same jobs and the same node failures for each.

Common random numbers: every policy runs the same job table, and its failure stream starts from
the same seed, so the differences between the policies' results are the policies'. Each run is
a :class:`~twin.compute.cluster.ClusterModel` on a clock of its own (SimPy time starts at 0).
"""

from __future__ import annotations

import numpy as np
import simpy

from twin.compute.accelerators import Accelerator, ClusterSize
from twin.compute.cluster import ClusterModel
from twin.compute.cluster_spec import ClusterSpec
from twin.compute.jobs import JobTable
from twin.compute.metrics import SimulationResult
from twin.compute.power import annual_energy_mwh
from twin.compute.settings import FailureConfig, SchedulerConfig


def cluster_for(size: ClusterSize, spec: Accelerator, pue: float, idle_power_fraction: float) -> ClusterSpec:
    """The simulated cluster of a sized capacity: its whole nodes, with the power accounting."""
    return ClusterSpec(
        nodes=size.nodes,
        gpus_per_node=spec.devices_per_node,
        accelerator=size.accelerator,
        pue=pue,
        idle_power_fraction=idle_power_fraction,
    )


def offered_pflops(jobs: JobTable, duration_s: float, peak_tflops: float) -> float:
    """The workload's offered load in P: mean devices busy if every job ran on arrival, times the peak."""
    return jobs.offered_gpus(duration_s) * peak_tflops / 1000.0


def compare_policies(
    jobs: JobTable,
    spec: ClusterSpec,
    schedulers: list[SchedulerConfig],
    failures: FailureConfig,
    failure_seed: np.random.SeedSequence,
    *,
    horizon_s: float,
    epoch_s: float,
    bin_width_s: float,
    warmup_s: float,
    label: str,
) -> dict[str, SimulationResult]:
    """Each scheduler's run of ``jobs`` on ``spec``, by policy name, all with the same failures."""
    results = {}
    for scheduler in schedulers:
        # a fresh generator from the same seed: the same failure stream for every policy
        failure_rng = np.random.Generator(np.random.PCG64(failure_seed))
        model = ClusterModel(
            simpy.Environment(),
            jobs,
            spec,
            scheduler,
            failures,
            horizon_s=horizon_s,
            rng=failure_rng,
            epoch_s=epoch_s,
            bin_width_s=bin_width_s,
            warmup_s=warmup_s,
        )
        results[scheduler.policy] = model.run(description=f"{label} {scheduler.policy}")
    return results


def hardware_summary(size: ClusterSize, result: SimulationResult, offered: float, pue: float) -> dict:
    """The hardware of a capacity and its simulated power: devices, nodes, racks, MW, MWh a year."""
    power_mw = result.kpis["mean_power_mw"]
    return {
        "basis": size.basis,
        "accelerator": size.accelerator,
        "devices": size.devices,
        "nodes": size.nodes,
        "racks": size.racks,
        "nodes_per_rack": size.nodes_per_rack,
        "pflops_installed": size.pflops_installed,
        "offered_pflops": offered,
        "utilisation": result.kpis["utilisation"],
        "pue": pue,
        "mean_power_mw": power_mw,
        "annual_energy_mwh": annual_energy_mwh(power_mw),
        "node_failures": int(result.kpis["node_failures_count"]),
    }
