"""Signal control: plans and their checks, Webster timing, levels of service, one module per
strategy, and the runtime controller.

Read it in this order:

* :mod:`~twin.traffic.signals.plan`: :class:`~.plan.Phase` and :class:`~.plan.SignalPlan`, a
  controller's phases over a cycle; :mod:`~twin.traffic.signals.timing`: the timing parameters;
* :mod:`~twin.traffic.signals.checks`: what every plan must satisfy before it runs;
* :mod:`~twin.traffic.signals.default_plans`: the plans a network starts with (default phases on
  our road graph, the ``tlLogic`` programmes of a SUMO network);
* :mod:`~twin.traffic.signals.webster`: Webster's cycle, split and delay formula;
* :mod:`~twin.traffic.signals.strategies`: one module per strategy (``fixed``, ``webster``,
  ``actuated``, ``max_pressure``, ``green_wave``, ``adaptive``) behind
  :class:`~.strategies.base.SignalStrategy`, found by name in its registry;
* :mod:`~twin.traffic.signals.controller`: :class:`~.controller.SignalController`, every plan of
  a run as the kernel's arrays, the strategies' hooks while it runs, and transit signal priority;
* :mod:`~twin.traffic.signals.los`: levels of service, HCM 6 and GB 50647.

Nothing is re-exported here: import from the module that holds the name.
"""
