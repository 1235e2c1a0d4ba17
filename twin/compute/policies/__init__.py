"""The swappable parts of the scheduler, after Blox: admission, placement and one module per policy.

* :class:`~twin.compute.policies.admission.Admission` refuses jobs that can never run;
* :class:`~twin.compute.policies.placement.Placement` chooses a gang's nodes (consolidated or spread);
* :class:`~twin.compute.policies.base.SchedulingPolicy` orders the queue; one subclass per policy,
  each in its own module (``fifo``, ``sjf``, ``easy``, ``las``, ``fair``), registered by name in
  :mod:`~twin.compute.policies.registry`.

A policy describes itself to the Numba kernels as :class:`kernels.scheduler.rules.QueueRules`
(which lists, which pass, how deep, whether EASY backfilling follows, its LAS thresholds); the
kernels never see its name. A new policy is one new module here with a registered subclass.
"""
