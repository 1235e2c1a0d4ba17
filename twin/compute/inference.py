"""Inference services: a batching model per replica, latency targets and hourly autoscaling.

A service runs replicas of ``devices_per_replica`` accelerators (tensor parallel), each holding
the model weights once and a KV cache per request in flight. The batching model is a roofline:

    decode step at batch B = max(weight bytes / HBM bandwidth, 2·params·B / (peak · MFU))
                             + step overhead
    prefill of a request   = 2·params·prompt_tokens / (peak · MFU)
    service time D(B)      = prefill + output_tokens · decode step(B)

(all over the replica's devices). Memory caps the batch: ``B_max = (memory − weights) / (KV bytes
per token · (prompt + output tokens))``. Throughput per replica is ``B / D(B)`` requests/s; it
rises with B until the step turns compute-bound.

Queueing: with continuous batching a replica serves up to B requests at once, each taking D(B),
so the service is modelled as ``replicas · B`` deterministic servers fed by Poisson arrivals, an
M/D/c queue. Time to first token (TTFT) = wait + prefill; end-to-end latency = wait + D(B).
:func:`simulate_waits` simulates the FCFS queue request by request and is validated against the
exact M/D/c mean wait (:func:`twin.queueing.mdc_mean_wait_s`) and M/M/c (Erlang C). Above
:data:`EXACT_MDC_MAX_SERVERS` slots the wait is Cosmetatos' approximation, checked against the
exact solve at small c. Left out: the
interference of a prefill with the decode steps of other requests in the same batch, and
preemption of batch jobs (the replicas are taken as reserved capacity).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from twin.errors import InputError
from twin.queueing import mdc_mean_wait_approx_s, mdc_mean_wait_s

EXACT_MDC_MAX_SERVERS = 64
"""Above this many batch slots the M/D/c wait comes from Cosmetatos' approximation
(:func:`twin.queueing.mdc_mean_wait_approx_s`, within a few % of the exact solve where the wait
matters); the exact Markov-chain solve grows with the square of the slots and takes seconds at
the ~8,000 slots of the 10000P centre."""


@dataclass(frozen=True)
class InferenceService:
    """One model served at a latency target.

    ``params`` parameters at ``bytes_per_param`` (2: FP16/BF16); ``kv_bytes_per_token`` of KV
    cache per token in context (2·layers·kv_heads·head_dim·2 bytes); ``prompt_tokens`` and
    ``output_tokens`` per request; replicas of ``devices_per_replica`` devices with
    ``memory_gb`` (GB), ``hbm_tb_per_s`` (TB/s) and ``peak_tflops`` (dense TFLOPS) each;
    ``mfu`` the compute utilisation reached in prefill and compute-bound decode;
    ``step_overhead_s`` per decode step; ``max_batch`` a cap on the batch (None: memory only);
    ``ttft_target_s`` the mean time-to-first-token target (s).
    """

    params: float = 70e9
    bytes_per_param: float = 2.0
    kv_bytes_per_token: float = 2 * 80 * 8 * 128 * 2  # Llama-2/3-70B: 80 layers, 8 KV heads, 128 dims
    prompt_tokens: int = 1000
    output_tokens: int = 300
    devices_per_replica: int = 4
    memory_gb: float = 80.0
    hbm_tb_per_s: float = 3.35
    peak_tflops: float = 989.4
    mfu: float = 0.5
    step_overhead_s: float = 0.002
    max_batch: int | None = 64
    ttft_target_s: float = 2.0

    def check(self, where: str = "inference service") -> None:
        """Physical values, and weights that fit in a replica; one :class:`InputError` line each."""
        positive = ("params", "bytes_per_param", "kv_bytes_per_token", "prompt_tokens", "output_tokens",
                    "devices_per_replica", "memory_gb", "hbm_tb_per_s", "peak_tflops", "ttft_target_s")
        for key in positive:
            if not getattr(self, key) > 0:
                raise InputError(f"{where}: {key} = {getattr(self, key)!r}, expected > 0")
        if not 0.0 < self.mfu <= 1.0:
            raise InputError(f"{where}: mfu = {self.mfu!r}, expected 0 < mfu <= 1")
        if self.max_batch is not None and self.max_batch < 1:
            raise InputError(f"{where}: max_batch = {self.max_batch!r}, expected >= 1")
        if self.memory_batch_limit() < 1:
            raise InputError(
                f"{where}: {self.params:.3g} parameters and one request's KV cache do not fit in "
                f"{self.devices_per_replica} x {self.memory_gb:g} GB; expected more devices_per_replica"
            )

    def memory_batch_limit(self) -> int:
        """The largest batch whose KV caches fit beside the weights in the replica's memory."""
        free_bytes = self.devices_per_replica * self.memory_gb * 1e9 - self.params * self.bytes_per_param
        per_request = self.kv_bytes_per_token * (self.prompt_tokens + self.output_tokens)
        return max(int(free_bytes // per_request), 0)

    @property
    def batch(self) -> int:
        """The batch the replicas run at: the memory limit, capped by ``max_batch``."""
        limit = self.memory_batch_limit()
        return min(limit, self.max_batch) if self.max_batch is not None else limit

    def _flops_per_s(self) -> float:
        return self.devices_per_replica * self.peak_tflops * 1e12 * self.mfu

    def decode_step_s(self, batch: int) -> float:
        """One decode step at ``batch`` (s): memory-bound weight reads or compute, plus overhead."""
        memory_s = self.params * self.bytes_per_param / (self.devices_per_replica * self.hbm_tb_per_s * 1e12)
        compute_s = 2.0 * self.params * batch / self._flops_per_s()
        return max(memory_s, compute_s) + self.step_overhead_s

    @property
    def prefill_s(self) -> float:
        """Prefill of one request's prompt (s), compute-bound."""
        return 2.0 * self.params * self.prompt_tokens / self._flops_per_s()

    def service_s(self, batch: int | None = None) -> float:
        """Time a request holds its batch slot, D(B) (s)."""
        return self.prefill_s + self.output_tokens * self.decode_step_s(self.batch if batch is None else batch)

    def replica_throughput_per_s(self, batch: int | None = None) -> float:
        """Requests per second one replica completes at ``batch`` (default: the running batch)."""
        batch = self.batch if batch is None else batch
        return batch / self.service_s(batch)

    def mean_ttft_s(self, replicas: int, rate_per_s: float) -> float:
        """Mean time to first token (s) with ``replicas`` at ``rate_per_s``: M/D/c wait + prefill;
        infinite when the replicas cannot keep up."""
        servers = replicas * self.batch
        if rate_per_s <= 0:
            return self.prefill_s
        if rate_per_s * self.service_s() >= servers:
            return math.inf
        wait = mdc_mean_wait_s if servers <= EXACT_MDC_MAX_SERVERS else mdc_mean_wait_approx_s
        return wait(servers, rate_per_s, self.service_s()) + self.prefill_s

    def replicas_for(self, rate_per_s: float) -> int:
        """The fewest replicas (at least one) whose mean TTFT meets the target at ``rate_per_s``."""
        if self.prefill_s >= self.ttft_target_s:
            raise InputError(
                f"inference service: ttft_target_s = {self.ttft_target_s:g} is below the prefill time "
                f"{self.prefill_s:.3g} s; expected a larger target or a smaller prompt"
            )
        replicas = max(1, math.ceil(rate_per_s * self.service_s() / self.batch))
        while self.mean_ttft_s(replicas, rate_per_s) > self.ttft_target_s:
            replicas += 1
        return replicas


@dataclass(frozen=True)
class HourlyPlan:
    """Autoscaled replicas by hour: rate (requests/s), replicas, devices and mean TTFT (s)."""

    rate_per_s: np.ndarray
    replicas: np.ndarray
    devices: np.ndarray
    mean_ttft_s: np.ndarray
    utilisation: np.ndarray


def autoscale(service: InferenceService, rate_per_s_by_hour: np.ndarray) -> HourlyPlan:
    """Replicas hour by hour so each hour's mean TTFT meets the target (scaling at hour edges)."""
    service.check()
    rates = np.asarray(rate_per_s_by_hour, dtype=float)
    if np.any(rates < 0) or not np.all(np.isfinite(rates)):
        raise InputError("inference service: requests per second by hour must be finite and >= 0")
    cache: dict[float, int] = {}
    replicas = np.array([cache.setdefault(r, service.replicas_for(r)) for r in rates], dtype=np.int64)
    ttft = np.array([service.mean_ttft_s(int(n), r) for n, r in zip(replicas, rates, strict=True)])
    utilisation = rates * service.service_s() / (replicas * service.batch)
    return HourlyPlan(rates, replicas, replicas * service.devices_per_replica, ttft, utilisation)


def simulate_waits(arrival_s: np.ndarray, service_s: np.ndarray, servers: int) -> np.ndarray:
    """Waits (s) of requests arriving at ``arrival_s`` (sorted) at ``servers`` FCFS servers.

    Each request starts when the earliest-free server frees (or on arrival if one is idle) and
    holds it for its ``service_s``.
    """
    free_at = [0.0] * servers
    waits = np.empty(len(arrival_s))
    for index, (arrive, hold) in enumerate(zip(arrival_s.tolist(), service_s.tolist(), strict=True)):
        earliest = free_at[0]
        start = arrive if earliest <= arrive else earliest
        waits[index] = start - arrive
        heapq.heapreplace(free_at, start + hold)
    return waits


def poisson_arrivals_s(rate_per_s: float, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` Poisson arrival times (s) at ``rate_per_s``."""
    return np.cumsum(rng.exponential(1.0 / rate_per_s, count))
