"""Signal strategies, one module each, behind one interface and found through one registry.

* :mod:`~twin.traffic.signals.strategies.base`: :class:`~.base.SignalStrategy`, the interface
  (its name, how it times a plan for design flows, the kernel's control mode, an optional
  coordination across junctions and an optional re-timing while the model runs);
* :mod:`~twin.traffic.signals.strategies.registry`: name → class, filled by the modules here;
* ``fixed``: the plan as given; ``webster``: Webster fixed time on the design flows;
  ``actuated``: gap-out / max-out on stop-line detectors; ``max_pressure``: Varaiya's
  max-pressure; ``green_wave``: Webster splits on a common cycle with offsets along an arterial
  (the coordinator and its bandwidth); ``adaptive``: camera-linked re-timing by Webster on the
  counted flows.

A new strategy is one new module here with a registered subclass (see ``docs/traffic.md``).
"""
