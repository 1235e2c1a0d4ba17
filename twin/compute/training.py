"""Pre-training gangs: step time from FLOPS at a stated MFU, and goodput under failures.

A gang of ``devices`` accelerators trains a model of ``params`` parameters on ``tokens`` tokens.
Compute per token is the usual dense-transformer estimate of 6 FLOPs per parameter (forward 2,
backward 4; Kaplan et al. 2020), so the failure-free training time is

    T_0 = 6 · params · tokens / (devices · peak_flops · MFU)

with MFU the model-FLOPS utilisation, a stated input (40 % is typical of large dense runs; the
Llama 3 405B run reports 38-43 %).

Failures arrive as a Poisson process at ``devices / mtbf_device_h`` per hour: any device failing
stops the whole gang (synchronous data/tensor/pipeline parallelism). The default device MTBF comes
from Meta's Llama 3 report (Dubey et al. 2024, section 3.3.4): 419 unexpected interruptions in 54
days on 16,384 GPUs, i.e. one every 3.09 h for the gang, or 16,384 x 3.09 h ~ 50,700 h per device
(all causes counted against the GPUs, as the report does).

The job writes a checkpoint after every ``interval_s`` of useful work (taking ``checkpoint_s``),
and after a failure pays ``restart_s`` (detection, rescheduling, reloading the last checkpoint)
and redoes the work since that checkpoint. The closed form for the expected wall time of that
model, with failures possible during restarts too, is Daly (2006, eq. 13):

    E[T] = M · exp(R/M) · (exp((τ + δ)/M) − 1) · W/τ

(M the gang MTBF, R restart, τ interval, δ checkpoint cost, W failure-free work); goodput is
W / E[T]. Young's (1974) optimal interval is ``sqrt(2 δ M)``; Daly's higher-order one is used by
:func:`daly_interval_s`. :func:`simulate_goodput` draws the failures and is validated against the
closed form in ``tests/compute/test_compute_training.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.errors import InputError

FLOPS_PER_PARAM_TOKEN = 6.0
"""Training FLOPs per parameter per token of a dense transformer (forward + backward)."""
LLAMA3_DEVICE_MTBF_H = 16384 * 54 * 24 / 419
"""Device MTBF (h) implied by 419 interruptions in 54 days on 16,384 GPUs (Llama 3 report)."""
DEFAULT_MFU = 0.40


@dataclass(frozen=True)
class TrainingGang:
    """One pre-training job: the model, its token budget and the gang that runs it.

    ``params`` parameters, ``tokens`` training tokens, ``devices`` accelerators of
    ``peak_tflops`` dense peak each (TFLOPS) at utilisation ``mfu`` (0-1); ``tokens_per_step``
    is the global batch in tokens. Failures: ``mtbf_device_h`` hours per device. Checkpoints:
    ``checkpoint_s`` to write one, ``restart_s`` to recover, ``interval_s`` of work between them
    (``None``: Daly's optimum).
    """

    params: float
    tokens: float
    devices: int
    peak_tflops: float
    mfu: float = DEFAULT_MFU
    tokens_per_step: float = 4.0e6
    mtbf_device_h: float = LLAMA3_DEVICE_MTBF_H
    checkpoint_s: float = 120.0
    restart_s: float = 1800.0
    interval_s: float | None = None

    def check(self, where: str = "training gang") -> None:
        """Physical values only; each problem is one :class:`InputError` line."""
        checks = {
            "params": self.params > 0,
            "tokens": self.tokens > 0,
            "devices": self.devices >= 1,
            "peak_tflops": self.peak_tflops > 0,
            "mfu": 0.0 < self.mfu <= 1.0,
            "tokens_per_step": self.tokens_per_step > 0,
            "mtbf_device_h": self.mtbf_device_h > 0,
            "checkpoint_s": self.checkpoint_s >= 0,
            "restart_s": self.restart_s >= 0,
            "interval_s": self.interval_s is None or self.interval_s > 0,
        }
        expected = {"mfu": "0 < mfu <= 1", "checkpoint_s": ">= 0", "restart_s": ">= 0"}
        for key, ok in checks.items():
            if not ok:
                raise InputError(f"{where}: {key} = {getattr(self, key)!r}, expected {expected.get(key, '> 0')}")

    @property
    def step_time_s(self) -> float:
        """Failure-free time of one optimiser step (s)."""
        flops = FLOPS_PER_PARAM_TOKEN * self.params * self.tokens_per_step
        return flops / (self.devices * self.peak_tflops * 1e12 * self.mfu)

    @property
    def work_s(self) -> float:
        """Failure-free training time W (s) of the whole token budget."""
        return self.step_time_s * self.tokens / self.tokens_per_step

    @property
    def gang_mtbf_s(self) -> float:
        """Mean time between failures of the whole gang, M (s)."""
        return self.mtbf_device_h * 3600.0 / self.devices

    @property
    def chosen_interval_s(self) -> float:
        """The checkpoint interval τ used (s): the stated one, or Daly's optimum."""
        if self.interval_s is not None:
            return self.interval_s
        return daly_interval_s(self.checkpoint_s, self.gang_mtbf_s)


def young_interval_s(checkpoint_s: float, mtbf_s: float) -> float:
    """Young's (1974) first-order optimal checkpoint interval ``sqrt(2 δ M)`` (s)."""
    return math.sqrt(2.0 * checkpoint_s * mtbf_s)


def daly_interval_s(checkpoint_s: float, mtbf_s: float) -> float:
    """Daly's (2006, eq. 37) higher-order optimal interval (s); M itself when δ ≥ 2M."""
    if checkpoint_s >= 2.0 * mtbf_s:
        return mtbf_s
    ratio = checkpoint_s / (2.0 * mtbf_s)
    return young_interval_s(checkpoint_s, mtbf_s) * (1.0 + math.sqrt(ratio) / 3.0 + ratio / 9.0) - checkpoint_s


def expected_wall_time_s(work_s: float, interval_s: float, checkpoint_s: float, restart_s: float,
                         mtbf_s: float) -> float:
    """Daly's (2006, eq. 13) expected wall time (s) of ``work_s`` with checkpoints and restarts.

    Whole segments of ``interval_s`` of work plus a checkpoint; the last, partial segment is
    counted pro rata (``W/τ`` segments), as in the closed form.
    """
    segment_s = interval_s + checkpoint_s
    return mtbf_s * math.exp(restart_s / mtbf_s) * math.expm1(segment_s / mtbf_s) * work_s / interval_s


def expected_goodput(gang: TrainingGang) -> float:
    """Closed-form goodput: failure-free work over expected wall time (0-1)."""
    wall_s = expected_wall_time_s(gang.work_s, gang.chosen_interval_s, gang.checkpoint_s,
                                  gang.restart_s, gang.gang_mtbf_s)
    return gang.work_s / wall_s


@dataclass(frozen=True)
class GangRun:
    """A simulated run: wall time (s), failures, goodput (0-1) and the work lost to failures (s)."""

    wall_s: float
    failures: int
    goodput: float
    lost_work_s: float


def _segment_time_s(
    segment_s: float, restart_s: float, mtbf_s: float, rng: np.random.Generator
) -> tuple[float, int, float]:
    """Time to get one segment done: attempts until ``segment_s`` passes without a failure, each
    failure followed by a restart that must itself pass without a failure."""
    elapsed_s, failures, lost_s = 0.0, 0, 0.0
    need_s = segment_s
    in_restart = False
    while True:
        gap_s = rng.exponential(mtbf_s)
        if gap_s >= need_s:
            elapsed_s += need_s
            if not in_restart:
                return elapsed_s, failures, lost_s
            need_s, in_restart = segment_s, False
            continue
        elapsed_s += gap_s
        failures += 1
        if not in_restart:
            lost_s += gap_s
        need_s, in_restart = restart_s, restart_s > 0
        if not in_restart:
            need_s = segment_s


def simulate_goodput(gang: TrainingGang, seed: int = 0) -> GangRun:
    """Draw the failures of one run of ``gang`` and return its wall time and goodput.

    The work is cut into segments of τ (the last one shorter), each followed by a checkpoint of
    δ; a failure anywhere in a segment or its checkpoint loses the segment and costs a restart.
    """
    gang.check()
    rng = np.random.Generator(np.random.PCG64(seed))
    interval_s = gang.chosen_interval_s
    full, rest_s = divmod(gang.work_s, interval_s)
    segments = [interval_s] * int(full) + ([rest_s] if rest_s > 0 else [])
    wall_s, failures, lost_s = 0.0, 0, 0.0
    for work_s in segments:
        seg_wall_s, seg_failures, seg_lost_s = _segment_time_s(
            work_s + gang.checkpoint_s, gang.restart_s, gang.gang_mtbf_s, rng)
        wall_s += seg_wall_s
        failures += seg_failures
        lost_s += seg_lost_s
    return GangRun(wall_s=wall_s, failures=failures, goodput=gang.work_s / wall_s, lost_work_s=lost_s)
