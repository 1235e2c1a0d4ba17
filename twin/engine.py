"""The simulation engine: one SimPy clock, one seed tree and one metrics recorder per run.

Domain models attach SimPy processes to :attr:`Engine.env`. Randomness is never global: each
subsystem asks for its own generator by name (``engine.rng("traffic")``), derived from the run's
root seed so that

* the same scenario and seed give bit-identical results, and
* adding a new subsystem, or drawing more numbers in one, does not shift any other's stream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import simpy

from twin.progress import progress_bar
from twin.recorder import Recorder


def _name_key(subsystem: str) -> int:
    """A stable 64-bit integer for a subsystem name (Python's ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(subsystem.encode("utf-8")).digest()[:8], "little")


class Engine:
    """A run's clock (``simpy.Environment``), random streams and recorder.

    Parameters
    ----------
    seed
        Root entropy of the run's :class:`numpy.random.SeedSequence`.
    start
        Wall-clock time (local, Asia/Shanghai) at simulated time 0.
    duration_s
        Length of the run in simulated seconds; :meth:`run` stops there.
    """

    def __init__(self, seed: int, start: datetime, duration_s: float) -> None:
        self.env = simpy.Environment()
        self.seed = seed
        self.start = start
        self.duration_s = float(duration_s)
        self.recorder = Recorder()
        self._generators: dict[str, np.random.Generator] = {}

    @property
    def now_s(self) -> float:
        """Simulated seconds since the start."""
        return float(self.env.now)

    def clock(self, time_s: float | None = None) -> datetime:
        """Local wall-clock time at ``time_s`` (default: now)."""
        return self.start + timedelta(seconds=self.now_s if time_s is None else time_s)

    def seed_sequence(self, subsystem: str) -> np.random.SeedSequence:
        """The child SeedSequence of ``subsystem``; the same name always gives the same child."""
        return np.random.SeedSequence(entropy=self.seed, spawn_key=(_name_key(subsystem),))

    def rng(self, subsystem: str) -> np.random.Generator:
        """The generator of ``subsystem``, created on first use and shared afterwards."""
        if subsystem not in self._generators:
            self._generators[subsystem] = np.random.Generator(
                np.random.PCG64(self.seed_sequence(subsystem))
            )
        return self._generators[subsystem]

    def process(self, generator: Generator[Any, Any, Any]) -> simpy.Process:
        """Start a SimPy process on this engine's clock."""
        return self.env.process(generator)

    def run(self, until_s: float | None = None, description: str = "simulating") -> None:
        """Advance the clock to ``until_s`` (default: the run's duration) with a progress bar."""
        end_s = self.duration_s if until_s is None else float(until_s)
        steps = 100
        with progress_bar(end_s - self.now_s, description) as bar:
            start_s = self.now_s
            for k in range(1, steps + 1):
                target = start_s + (end_s - start_s) * k / steps
                if target > self.now_s:
                    self.env.run(until=target)
                bar.update(self.now_s - start_s)
