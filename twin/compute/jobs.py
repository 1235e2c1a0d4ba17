"""The job table the cluster runs: one row per job, sorted by submission.

Each job gangs ``gpus`` devices, runs ``work_s`` seconds on a full allocation, carries the user's
estimate (an upper bound, as a time limit is) and belongs to a tenant and a job class. Tables
come from the workload generators (:mod:`twin.compute.workload`) and the trace importers
(:mod:`twin.compute.traces`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class JobTable:
    """Jobs sorted by submission time; every array has one entry per job.

    Attributes
    ----------
    submit_s, work_s, estimate_s
        Submission time (s from the start), run time on a full allocation (s) and the user's
        estimate (s, ``>= work_s``).
    gpus
        Devices requested (a gang: all start together).
    tenant, job_class
        Indices into ``tenant_names`` and ``class_names``.
    priority
        Priority class of the job's tenant.
    sla_wait_s
        Longest acceptable queueing delay of the job's class (s).
    """

    submit_s: np.ndarray
    work_s: np.ndarray
    estimate_s: np.ndarray
    gpus: np.ndarray
    tenant: np.ndarray
    job_class: np.ndarray
    priority: np.ndarray
    sla_wait_s: np.ndarray
    tenant_names: list[str] = field(default_factory=lambda: ["default"])
    class_names: list[str] = field(default_factory=lambda: ["synthetic"])
    tenant_share: np.ndarray | None = None
    tenant_cap_share: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.submit_s)

    def check(self) -> None:
        """Invariants the kernels rely on; a violation is a bug of the producer."""
        n = len(self.submit_s)
        for name in ("work_s", "estimate_s", "gpus", "tenant", "job_class", "priority", "sla_wait_s"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"JobTable.{name} has {len(getattr(self, name))} rows, expected {n}")
        if n and np.any(np.diff(self.submit_s) < 0):
            raise ValueError("JobTable must be sorted by submit_s")
        if np.any(self.estimate_s < self.work_s):
            raise ValueError("estimate_s must be >= work_s")
        if np.any(self.gpus < 1) or np.any(self.work_s < 0):
            raise ValueError("gpus must be >= 1 and work_s >= 0")

    def offered_gpus(self, duration_s: float) -> float:
        """Mean devices busy if every job ran at once on arrival (device-s per s)."""
        return float(np.dot(self.gpus, self.work_s)) / duration_s

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd  # deferred: heavy, and only needed when a table is written

        return pd.DataFrame(
            {
                "job": np.arange(len(self)),
                "submit_s": self.submit_s,
                "work_s": self.work_s,
                "estimate_s": self.estimate_s,
                "gpus": self.gpus,
                "tenant": np.asarray(self.tenant_names, dtype=object)[self.tenant] if len(self) else [],
                "job_class": np.asarray(self.class_names, dtype=object)[self.job_class] if len(self) else [],
                "priority": self.priority,
                "sla_wait_s": self.sla_wait_s,
            }
        )

    def window(self, start_s: float, end_s: float) -> JobTable:
        """The jobs submitted in ``[start_s, end_s)``, with times shifted to start at 0."""
        keep = (self.submit_s >= start_s) & (self.submit_s < end_s)
        table = self.select(keep)
        table.submit_s = table.submit_s - start_s
        return table

    def select(self, mask: np.ndarray) -> JobTable:
        return JobTable(
            submit_s=self.submit_s[mask],
            work_s=self.work_s[mask],
            estimate_s=self.estimate_s[mask],
            gpus=self.gpus[mask],
            tenant=self.tenant[mask],
            job_class=self.job_class[mask],
            priority=self.priority[mask],
            sla_wait_s=self.sla_wait_s[mask],
            tenant_names=list(self.tenant_names),
            class_names=list(self.class_names),
            tenant_share=self.tenant_share,
            tenant_cap_share=self.tenant_cap_share,
        )


def table_from_parts(parts: dict[str, list[np.ndarray]], **meta) -> JobTable:
    """A checked table from per-column lists of arrays (concatenated, then sorted by submission)."""
    arrays = {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}
    order = np.argsort(arrays["submit_s"], kind="stable")
    table = JobTable(
        submit_s=arrays["submit_s"][order].astype(np.float64),
        work_s=arrays["work_s"][order].astype(np.float64),
        estimate_s=arrays["estimate_s"][order].astype(np.float64),
        gpus=arrays["gpus"][order].astype(np.int64),
        tenant=arrays["tenant"][order].astype(np.int64),
        job_class=arrays["job_class"][order].astype(np.int64),
        priority=arrays["priority"][order].astype(np.int64),
        sla_wait_s=arrays["sla_wait_s"][order].astype(np.float64),
        **meta,
    )
    table.check()
    return table
