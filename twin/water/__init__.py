"""Water mains: the network, the GGA hydraulics, bursts and isolation, criticality, service metrics
and EPANET input and output, following EPANET 2.2's model and validated against it.

The network and its hydraulics, bottom up:

* ``network`` - :class:`~twin.water.network.CompiledNetwork`, the network as arrays (SI), with
  its ``options`` (``[OPTIONS]``, ``[TIMES]``) and EPANET's constants in SI (``epanet_constants``);
* ``compile`` - any WNTR model or ``.inp`` compiled into one; ``epanet_io`` reads and writes ``.inp``;
* ``state`` - the heads, flows and statuses a simulation changes;
* ``hydraulics`` - :class:`~twin.water.hydraulics.GGASolver`, one steady state by the Global
  Gradient Algorithm (its kernels in ``kernels/hydraulics/``), on the ``linear_systems``;
* ``simulation`` - :class:`~twin.water.simulation.ExtendedPeriodSimulation`, EPANET's
  extended-period driver, whose ``hydraulic_results`` are what everything above reads;
* ``solve`` - ``twin water solve``: an ``.inp`` simulated and written as tables.

Water quality on those hydraulics (EPANET 2.2's Lagrangian method, kernels in ``kernels/quality/``):

* ``quality_setup`` - the ``.inp``'s quality options, reactions, sources and tank mixing;
* ``quality`` - every hydraulic interval kept and the quality routed over them;
* ``quality_run`` - ``twin water quality``: the quality table, mass balance and KPIs;
* ``chlorine_standard`` - GB 5749-2022 free chlorine at the network's ends;
* ``quality_places`` - quality by town or 街道, worst first;
* ``injection`` - contaminant injections routed together over one hydraulic solution.

What the twin asks of it:

* ``leaks`` - orifice leaks and bursts anywhere along a pipe;
* ``segments`` - valve-bounded segments and what isolating a pipe takes;
* ``service`` - GB 50013 service head, population served, person-hours and availability (metrics
  as functions over results);
* ``burst`` - a burst and the utility's response as SimPy processes;
* ``criticality`` - every pipe burst in turn and ranked by lost service (``twin water
  criticality``); ``criticality_epanet`` runs the same sweep through EPANET, as its peer;
* ``town_supply`` - 城乡供水一体化: the towns' service pressure on a design day, and the mains to upsize.
"""
