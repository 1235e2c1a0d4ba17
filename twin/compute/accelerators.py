"""The accelerator catalogue, and a capacity in P turned into devices, nodes and racks.

"P" is PFLOPS (10^15 floating-point operations per second) of peak throughput. Every conversion
names its precision (``fp16``, ``bf16``, ``fp8``, ``int8``) and whether structured sparsity is
counted; the default everywhere is **dense FP16**, the basis on which the district plan's 2000P
and 10000P are read here. At that basis 10000P is 10,108 H100 SXM devices (989.4 TFLOPS each);
counting 2:4 sparsity would halve that, which is why the basis is always printed.

The catalogue is data (``twin/compute/data/accelerators.toml``), validated with pydantic; each
figure carries its source. Racks are counted from a power budget per rack.
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
