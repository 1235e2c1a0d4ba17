"""Bus transit: lines and stops on the road graph, buses and passengers as SimPy processes,
fleet and dispatch arithmetic, signal priority, metrics and GTFS input and output.

Read it in this order:

* the network: :mod:`~twin.transit.lines` (stops, patterns, lines), :mod:`~twin.transit.layer`
  (the ``bus_*`` tables and their GeoPackage), :mod:`~twin.transit.vehicles` (vehicle types) and
  :mod:`~twin.transit.costs` (operating cost per day);
* the inputs of a run: :mod:`~twin.transit.demand` (passengers), :mod:`~twin.transit.service`
  (how a line is operated, model options), :mod:`~twin.transit.timetable` (running times and
  the planned timetable);
* the simulation: :mod:`~twin.transit.buses` (dispatchers and trips as SimPy processes),
  :mod:`~twin.transit.passengers` (stop queues and loads), :mod:`~twin.transit.priority` (what
  a bus sees of the signals; transit signal priority through the traffic model) and
  :mod:`~twin.transit.records` (what a run records);
* over a run: :mod:`~twin.transit.metrics` (KPIs), :mod:`~twin.transit.fleet` (cycle and fleet
  arithmetic) and :mod:`~twin.transit.plans` (operating plans of one line compared on common
  random numbers, with calibration runs);
* formats: :mod:`~twin.transit.gtfs` (GTFS export and import).

Nothing is re-exported here: import from the module that holds the name.
"""
