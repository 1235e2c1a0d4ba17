"""Road traffic: the network of links and movements, demand, signal control, the mesoscopic
model, its metrics, and SUMO input and output.

Read it in this order:

* the network: :mod:`~twin.traffic.params` (the model's parameters), :mod:`~twin.traffic.edges`
  (what is read of a road edge), :mod:`~twin.traffic.junctions` (legs, movements, conflicts and
  default phase groups from geometry), :mod:`~twin.traffic.crossings` (the path and time across a
  junction) and :mod:`~twin.traffic.network` (:class:`~.network.TrafficNetwork`, the arrays of the
  kernel, from a road graph or a SUMO network);
* the vehicles: :mod:`~twin.traffic.routing` (fastest routes over links and movements),
  :mod:`~twin.traffic.trips` (trips, from SUMO routes or cut to a cordon, and the flows they load)
  and :mod:`~twin.traffic.demand` (gravity OD, time of day, trip sampling, MSA rerouting);
* signal control: :mod:`twin.traffic.signals` (plans and their checks, Webster, one module per
  strategy behind one interface, the runtime controller, levels of service);
* the model: :mod:`~twin.traffic.model` (:class:`~.model.TrafficModel`, the SimPy process around
  the Numba kernel in ``kernels/traffic/``, with its results);
* over runs: :mod:`~twin.traffic.comparison` (signal strategies compared on common random numbers)
  and :mod:`~twin.traffic.metrics` (per junction and network measures, the ranking);
* SUMO: :mod:`twin.traffic.sumo_io` (the file formats and SUMO's programs) and
  :mod:`~twin.traffic.sumo_case` (our model on SUMO inputs; our case out as SUMO files).

Nothing is re-exported here: import from the module that holds the name.
"""
