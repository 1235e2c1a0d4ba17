"""Fair share with quotas: the tenant with the lowest allocated/share ratio goes next.

FIFO within a tenant; a tenant whose head does not fit, or would exceed its hard cap, is skipped
for the rest of the pass. The shares and caps are the tenants' (``JobTable.tenant_share`` and
``tenant_cap_share``); no reclaiming of borrowed capacity.
"""

from __future__ import annotations

from kernels.scheduler.layout import JI_TENANT, PASS_FAIR_SHARE
from kernels.scheduler.rules import QueueRules
from twin.compute.policies.base import SchedulingPolicy
from twin.compute.policies.registry import register_policy


@register_policy
class FairShare(SchedulingPolicy):
    """Per-tenant fair share with hard caps."""

    name = "fair"
    listed = 4
    caps_tenants = True

    def queue_rules(self) -> QueueRules:
        return QueueRules(lists_by=JI_TENANT, scheduling_pass=PASS_FAIR_SHARE)
