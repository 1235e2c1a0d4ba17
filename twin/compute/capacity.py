"""Compute capacity: the accelerator catalogue, P to hardware, mixed fleets, power and energy.

"P" is PFLOPS (10^15 floating-point operations per second) of peak throughput. Every conversion
names its precision (``fp16``, ``bf16``, ``fp8``, ``int8``) and whether structured sparsity is
counted; the default everywhere is **dense FP16**, the basis on which the district plan's 2000P
and 10000P are read here. At that basis 10000P is 10,108 H100 SXM devices (989.4 TFLOPS each);
counting 2:4 sparsity would halve that, which is why the basis is always printed.

The catalogue is data (``twin/compute/data/accelerators.toml``), validated with pydantic; each figure
carries its source. Power follows the plan's accounting:

    IT power  = devices x TDP x (u + (1 - u) x idle_fraction) + nodes x node overhead
    facility  = IT power x PUE            (the plan requires PUE <= 1.3, heading to 1.25)

with ``u`` the allocated utilisation of the devices.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from twin.config import StrictModel, validate
from twin.errors import InputError

Precision = Literal["fp16", "bf16", "fp8", "int8"]
PRECISIONS: tuple[str, ...] = ("fp16", "bf16", "fp8", "int8")
TFLOPS_PER_PFLOPS = 1000.0
HOURS_PER_YEAR = 8760.0
PUE_REQUIRED_MAX = 1.3
"""New data centres must have PUE <= 1.3 (district plan), heading to 1.25."""
PUE_TARGET = 1.25
DEFAULT_RACK_POWER_KW = 40.0
"""Rack power budget used to count racks (air-cooled high-density row; liquid cooling allows more)."""


class AcceleratorSources(StrictModel):
    """Where each figure of an accelerator entry comes from."""

    peaks: str
    memory: str
    tdp_w: str
    devices_per_node: str
    node_overhead_w: str


class Accelerator(StrictModel):
    """One device type: dense peaks per precision, memory, power and node shape."""

    name: str
    vendor: str
    fp16_dense_tflops: float = Field(gt=0, description="Dense FP16 Tensor/Cube peak per device.")
    bf16_dense_tflops: float | None = Field(default=None, gt=0)
    fp8_dense_tflops: float | None = Field(default=None, gt=0)
    int8_dense_tops: float | None = Field(default=None, gt=0)
    sparsity_factor: float = Field(ge=1.0, le=4.0, description="Sparse peak / dense peak (1: none).")
    memory_gb: float = Field(gt=0)
    memory_type: str
    tdp_w: float = Field(gt=0, description="Maximum board power per device (W).")
    devices_per_node: int = Field(ge=1, le=64)
    node_overhead_w: float = Field(ge=0, description="Node power besides the devices (W).")
    sources: AcceleratorSources

    def peak_tflops(self, precision: str = "fp16", sparse: bool = False) -> float:
        """Peak per device in TFLOPS (TOPS for INT8) at ``precision``; sparse peaks if asked."""
        values = {
            "fp16": self.fp16_dense_tflops,
            "bf16": self.bf16_dense_tflops,
            "fp8": self.fp8_dense_tflops,
            "int8": self.int8_dense_tops,
        }
        if precision not in values:
            raise InputError(f"precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
        dense = values[precision]
        if dense is None:
            raise InputError(f"{self.name} has no {precision.upper()} peak (not supported by the device)")
        return dense * (self.sparsity_factor if sparse else 1.0)

    def node_max_power_w(self) -> float:
        """A fully loaded node's power: its devices at TDP plus the node overhead (W)."""
        return self.devices_per_node * self.tdp_w + self.node_overhead_w


class Catalogue(StrictModel):
    """The whole ``accelerators.toml``."""

    accelerators: dict[str, Accelerator]

    @model_validator(mode="after")
    def _names_are_identifiers(self) -> Catalogue:
        for key in self.accelerators:
            if not key.replace("_", "").isalnum() or key.lower() != key:
                raise ValueError(f"accelerator key {key!r} must be lower_snake_case")
        return self

    def get(self, key: str) -> Accelerator:
        """The accelerator called ``key``; an unknown key is an :class:`InputError`."""
        if key not in self.accelerators:
            raise InputError(f"accelerator {key!r}: unknown (known: {', '.join(sorted(self.accelerators))})")
        return self.accelerators[key]


def catalogue_path() -> Path:
    """The bundled catalogue, ``twin/compute/data/accelerators.toml``."""
    return Path(str(resources.files("twin.compute") / "data" / "accelerators.toml"))


@lru_cache(maxsize=4)
def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate an accelerator catalogue (default: the bundled one)."""
    source = path or catalogue_path()
    try:
        data = tomllib.loads(Path(source).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("accelerator catalogue not found", source) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"TOML syntax error: {exc}", source) from None
    return validate(Catalogue, data, source)


def accelerator(key: str) -> Accelerator:
    """The bundled catalogue's entry ``key``."""
    return load_catalogue().get(key)


# ---------------------------------------------------------------------------------------------
# P to hardware.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterSize:
    """A capacity in P turned into devices, nodes and racks of one accelerator type."""

    accelerator: str
    precision: str
    sparse: bool
    pflops_requested: float
    devices_needed: int
    nodes: int
    devices: int
    racks: int
    nodes_per_rack: int
    pflops_installed: float

    @property
    def basis(self) -> str:
        """The counting basis in words, e.g. ``"dense FP16"``."""
        return f"{'sparse' if self.sparse else 'dense'} {self.precision.upper()}"


def nodes_per_rack(spec: Accelerator, rack_power_kw: float = DEFAULT_RACK_POWER_KW) -> int:
    """How many fully loaded nodes fit a rack's power budget (at least one)."""
    if rack_power_kw <= 0:
        raise InputError(f"rack power {rack_power_kw} kW: must be > 0")
    return max(1, int(rack_power_kw * 1000.0 // spec.node_max_power_w()))


def size_for_pflops(
    pflops: float,
    key: str,
    precision: str = "fp16",
    sparse: bool = False,
    rack_power_kw: float = DEFAULT_RACK_POWER_KW,
) -> ClusterSize:
    """Devices, whole nodes and racks that provide at least ``pflops`` P of one accelerator.

    >>> size_for_pflops(10000, "h100_sxm").devices_needed   # dense FP16
    10108
    """
    if not pflops > 0:
        raise InputError(f"capacity {pflops} P: must be > 0")
    spec = accelerator(key)
    peak = spec.peak_tflops(precision, sparse)
    needed = math.ceil(pflops * TFLOPS_PER_PFLOPS / peak - 1e-9)
    nodes = math.ceil(needed / spec.devices_per_node)
    devices = nodes * spec.devices_per_node
    per_rack = nodes_per_rack(spec, rack_power_kw)
    return ClusterSize(
        accelerator=key,
        precision=precision,
        sparse=sparse,
        pflops_requested=float(pflops),
        devices_needed=needed,
        nodes=nodes,
        devices=devices,
        racks=math.ceil(nodes / per_rack),
        nodes_per_rack=per_rack,
        pflops_installed=devices * peak / TFLOPS_PER_PFLOPS,
    )


def size_for_nodes(nodes: int, key: str, precision: str = "fp16", sparse: bool = False) -> ClusterSize:
    """The capacity of ``nodes`` whole nodes of one accelerator."""
    spec = accelerator(key)
    peak = spec.peak_tflops(precision, sparse)
    devices = nodes * spec.devices_per_node
    per_rack = nodes_per_rack(spec)
    pflops = devices * peak / TFLOPS_PER_PFLOPS
    return ClusterSize(
        accelerator=key,
        precision=precision,
        sparse=sparse,
        pflops_requested=pflops,
        devices_needed=devices,
        nodes=nodes,
        devices=devices,
        racks=math.ceil(nodes / per_rack),
        nodes_per_rack=per_rack,
        pflops_installed=pflops,
    )


# ---------------------------------------------------------------------------------------------
# Power and energy.
# ---------------------------------------------------------------------------------------------


def check_pue(pue: float) -> None:
    """A PUE must be a physical value (1 <= PUE <= 3)."""
    if not 1.0 <= pue <= 3.0:
        raise InputError(f"PUE {pue}: must be between 1.0 and 3.0 (the plan requires <= {PUE_REQUIRED_MAX})")


def facility_power_mw(
    devices: int, nodes: int, spec: Accelerator, utilisation: float, pue: float, idle_fraction: float = 0.0
) -> float:
    """Facility power (MW) of ``devices`` in ``nodes`` at an allocated utilisation.

    ``idle_fraction`` is the draw of an idle device as a fraction of TDP (0 reproduces the plan's
    simple accounting, devices x TDP x utilisation).
    """
    check_pue(pue)
    if not 0.0 <= utilisation <= 1.0:
        raise InputError(f"utilisation {utilisation}: must be between 0 and 1")
    device_w = devices * spec.tdp_w * (utilisation + (1.0 - utilisation) * idle_fraction)
    return (device_w + nodes * spec.node_overhead_w) * pue / 1e6


def annual_energy_mwh(power_mw: float) -> float:
    """Energy of a constant power over a year (MWh)."""
    return power_mw * HOURS_PER_YEAR


def energy_mwh(
    alloc_gpu_s: float, up_gpu_s: float, spec: Accelerator, pue: float, idle_fraction: float = 0.0
) -> float:
    """Facility energy (MWh) from time integrals of allocated and in-service devices (device-s)."""
    check_pue(pue)
    device_j = spec.tdp_w * (alloc_gpu_s + idle_fraction * max(up_gpu_s - alloc_gpu_s, 0.0))
    node_j = spec.node_overhead_w * up_gpu_s / spec.devices_per_node
    return (device_j + node_j) * pue / 3.6e9


# ---------------------------------------------------------------------------------------------
# Mixed fleets (phased build).
# ---------------------------------------------------------------------------------------------


class FleetPhase(StrictModel):
    """One build phase: a capacity of one accelerator type, in service from a year."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    accelerator: str
    pflops: float = Field(gt=0, le=1e6, description="Capacity of the phase (P, on the fleet's basis).")
    year: int = Field(ge=2020, le=2050, description="First year in service.")


@dataclass(frozen=True)
class FleetRow:
    """One phase of a fleet summary, or the cumulative total up to a year."""

    phase: str
    year: int
    accelerator: str
    pflops: float
    devices: int
    nodes: int
    racks: int
    power_mw: float
    energy_mwh_per_year: float


def fleet_summary(
    phases: list[FleetPhase],
    precision: str = "fp16",
    sparse: bool = False,
    utilisation: float = 0.65,
    pue: float = PUE_TARGET,
    rack_power_kw: float = DEFAULT_RACK_POWER_KW,
) -> list[FleetRow]:
    """Hardware, power and annual energy of each phase of a mixed fleet (in year order)."""
    rows = []
    for phase in sorted(phases, key=lambda p: (p.year, p.name)):
        spec = accelerator(phase.accelerator)
        size = size_for_pflops(phase.pflops, phase.accelerator, precision, sparse, rack_power_kw)
        power = facility_power_mw(size.devices, size.nodes, spec, utilisation, pue)
        rows.append(
            FleetRow(
                phase.name,
                phase.year,
                phase.accelerator,
                size.pflops_installed,
                size.devices,
                size.nodes,
                size.racks,
                power,
                annual_energy_mwh(power),
            )
        )
    return rows


def fleet_pflops_in(
    phases: list[FleetPhase], year: int, precision: str = "fp16", sparse: bool = False
) -> float:
    """Installed P of the phases in service in ``year``."""
    total = 0.0
    for phase in phases:
        if phase.year <= year:
            total += size_for_pflops(phase.pflops, phase.accelerator, precision, sparse).pflops_installed
    return total


def equivalent_devices(
    pflops: float, reference: str = "h100_sxm", precision: str = "fp16", sparse: bool = False
) -> int:
    """Devices of ``reference`` with the same peak as ``pflops`` P (a mixed fleet as one pool).

    The queueing model simulates one device type; a mixed fleet enters it as this many devices of
    the reference type. This keeps total peak throughput and ignores differences in memory and
    interconnect between the types.
    """
    peak = accelerator(reference).peak_tflops(precision, sparse)
    return math.ceil(pflops * TFLOPS_PER_PFLOPS / peak - 1e-9)


# ---------------------------------------------------------------------------------------------
# Capacity planning: the least capacity that meets the SLA, year by year.
# ---------------------------------------------------------------------------------------------


class SlaTargets(StrictModel):
    """Service levels a capacity must meet: p95 of the time jobs spend queued.

    Queued time counts every period a job waits, also after a preemption or a node failure; for a
    job that runs uninterrupted it is its first-start delay. (Counting only the first start would
    flatter preemptive policies such as LAS, which start jobs at once and make them wait later.)
    """

    small_job_p95_wait_h: float = Field(default=1.0, gt=0, description="Jobs of at most one node (h).")
    large_training_p95_wait_h: float = Field(default=24.0, gt=0, description="Large training starts (h).")

    def met(self, kpis: dict[str, float]) -> bool:
        return (
            kpis["small_job_p95_queued_s"] <= self.small_job_p95_wait_h * 3600.0
            and kpis["large_training_p95_queued_s"] <= self.large_training_p95_wait_h * 3600.0
        )


@dataclass(frozen=True)
class YearPlan:
    """The answer for one year."""

    year: int
    offered_pflops: float
    required_nodes: int
    required_devices: int
    required_pflops: float
    utilisation_at_required: float
    small_job_p95_wait_h: float
    large_training_p95_wait_h: float
    checked: dict[float, bool]
    """For each fixed capacity checked (P): whether it meets the SLA that year."""
    checked_p95_wait_h: dict[float, float]
    simulations: int


class _SlaProbe:
    """Simulations of one year's workload at different node counts (memoised)."""

    def __init__(self, jobs, key: str, scheduler, horizon_s: float, warmup_s: float, on_step=None) -> None:
        self.jobs = jobs
        self.key = key
        self.scheduler = scheduler
        self.horizon_s = horizon_s
        self.warmup_s = warmup_s
        self.on_step = on_step
        self.runs: dict[int, dict[str, float]] = {}

    def __call__(self, nodes: int) -> dict[str, float]:
        from twin.compute.cluster import ClusterSpec, simulate_kernel

        if nodes not in self.runs:
            spec = ClusterSpec(
                nodes=nodes, gpus_per_node=accelerator(self.key).devices_per_node, accelerator=self.key
            )
            result = simulate_kernel(
                self.jobs,
                spec,
                self.scheduler,
                horizon_s=self.horizon_s,
                warmup_s=self.warmup_s,
                bin_width_s=86400.0,
            )
            self.runs[nodes] = result.kpis
            if self.on_step is not None:
                self.on_step(nodes)
        return self.runs[nodes]


def plan_capacity(
    years: list[int],
    key: str = "h100_sxm",
    precision: str = "fp16",
    sparse: bool = False,
    scheduler=None,
    sla: SlaTargets | None = None,
    workload=None,
    days: float = 90.0,
    warmup_days: float = 14.0,
    seed: int = 2024,
    check_pflops: tuple[float, ...] = (2000.0, 10000.0),
    max_factor: float = 16.0,
    on_step=None,
) -> list[YearPlan]:
    """For each year, the fewest nodes of ``key`` whose simulated queue meets ``sla``.

    Each year's workload is drawn once (the same jobs for every capacity tried: common random
    numbers, so the SLA metrics fall with capacity up to the few jobs whose order changes) and
    simulated with the kernel for ``days`` after discarding ``warmup_days``. The search brackets
    the answer between the offered load and ``max_factor`` times it and bisects on whole nodes.
    """
    import numpy as np

    from twin.compute.cluster import SchedulerConfig
    from twin.compute.workload import generate, load_workload_config

    sla = sla or SlaTargets()
    scheduler = scheduler or SchedulerConfig()
    config = workload or load_workload_config()
    spec = accelerator(key)
    peak = spec.peak_tflops(precision, sparse)
    gpn = spec.devices_per_node
    horizon_s = (days + warmup_days) * 86400.0
    plans = []
    for year in years:
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, year])))
        jobs = generate(config, year, horizon_s, rng, accelerator=key, precision=precision)
        offered = jobs.offered_gpus(horizon_s)
        probe = _SlaProbe(jobs, key, scheduler, horizon_s, warmup_days * 86400.0, on_step)
        biggest = int(jobs.gpus.max()) if len(jobs) else 1
        lo = max(math.ceil(offered / gpn), math.ceil(biggest / gpn), 1) - 1  # below the load: fails
        hi = max(lo + 1, math.ceil(lo * 1.25))
        while not sla.met(probe(hi)):
            lo, hi = hi, math.ceil(hi * 1.5)
            if hi > max_factor * max(offered / gpn, 1.0):
                raise InputError(
                    f"year {year}: no capacity up to {max_factor:g}x the offered load meets the SLA"
                )
        while hi - lo > max(1, int(0.005 * hi)):
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if sla.met(probe(mid)) else (mid, hi)
        best = probe(hi)
        checked, checked_wait = {}, {}
        for pflops in check_pflops:
            kpis = probe(size_for_pflops(pflops, key, precision, sparse).nodes)
            checked[pflops] = sla.met(kpis)
            worst_s = max(kpis["small_job_p95_queued_s"], kpis["large_training_p95_queued_s"])
            checked_wait[pflops] = worst_s / 3600.0
        plans.append(
            YearPlan(
                year=year,
                offered_pflops=offered * peak / TFLOPS_PER_PFLOPS,
                required_nodes=hi,
                required_devices=hi * gpn,
                required_pflops=hi * gpn * peak / TFLOPS_PER_PFLOPS,
                utilisation_at_required=best["utilisation"],
                small_job_p95_wait_h=best["small_job_p95_queued_s"] / 3600.0,
                large_training_p95_wait_h=best["large_training_p95_queued_s"] / 3600.0,
                checked=checked,
                checked_p95_wait_h=checked_wait,
                simulations=len(probe.runs),
            )
        )
    return plans
