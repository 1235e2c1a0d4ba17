"""SUMO interoperability: read and write ``.net.xml``, ``tlLogic``, ``.rou.xml`` and ``.sumocfg``,
and run SUMO's tools.

* :mod:`~twin.traffic.sumo_io.network`: :func:`~.network.read_net` reads a network through sumolib
  into our road layer (an OSMnx-schema ``MultiDiGraph``: nodes are SUMO junctions, edges SUMO edges
  with ``sumo_id``), plus the connections (allowed movements, lanes, turn direction, priority,
  internal-lane length and speed) and the traffic-light programmes;
* :mod:`~twin.traffic.sumo_io.netconvert`: :func:`~.netconvert.write_net` writes our road layer as
  SUMO plain XML and builds the ``.net.xml`` with ``netconvert`` (geo-referenced in EPSG:4549 when
  the graph is in EPSG:4490);
* :mod:`~twin.traffic.sumo_io.programs`: ``tlLogic`` programmes in and out of additional files;
* :mod:`~twin.traffic.sumo_io.routes`: ``<vehicle>``, ``<trip>`` and ``<flow>`` in, vehicles with
  explicit routes out;
* :mod:`~twin.traffic.sumo_io.config`: ``.sumocfg`` files;
* :mod:`~twin.traffic.sumo_io.running`: the SUMO binaries, running SUMO (micro or ``--mesosim``)
  for its trip information, ``randomTrips.py`` and ``netgenerate``.

sumolib and the SUMO binaries come from the ``eclipse-sumo``/``sumolib`` packages. What our model
does with these files is in :mod:`twin.traffic.sumo_case`.
"""
