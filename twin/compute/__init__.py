"""The AI computing centre: accelerators and capacity, workloads, the GPU cluster model, scheduling
policies, the capacity plan, and public cluster traces.

Capacity and power
    ``accelerators`` (the catalogue; P to devices, nodes and racks), ``power`` (facility MW, PUE,
    MWh), ``fleet`` (mixed fleets of phased builds).
Workloads
    ``jobs`` (the job table), ``workload`` (the tenant mix and its generators), ``traces``
    (Alibaba and Philly/Tiresias trace importers).
The cluster
    ``settings`` (scheduler and failure settings), ``cluster_spec`` (the simulated hardware),
    ``policies/`` (admission, placement and one module per scheduling policy), ``kernel_state``
    (a run's kernel arrays), ``cluster`` (the SimPy model and the kernel-only run), ``metrics``
    (job table, time series and KPIs as functions over a finished run), ``comparison`` (policies
    on the same jobs and the same failures).
Planning
    ``plan`` (SLA targets and the least capacity per year).
"""
