"""Admission: which submitted jobs may enter the queue at all."""

from __future__ import annotations

import numpy as np

from twin.compute.cluster_spec import ClusterSpec
from twin.compute.jobs import JobTable


class Admission:
    """Refuses jobs that can never run: more devices than the whole (fully built) centre, or than
    their tenant's hard cap where the policy enforces caps."""

    def rejected(
        self, jobs: JobTable, spec: ClusterSpec, tenant_cap_gpus: np.ndarray | None = None
    ) -> np.ndarray:
        """Per job, whether it is refused (``tenant_cap_gpus``: caps in devices, or ``None``)."""
        too_big = jobs.gpus > spec.gpus
        if tenant_cap_gpus is not None and len(jobs):
            too_big |= jobs.gpus > np.asarray(tenant_cap_gpus)[jobs.tenant]
        return too_big
