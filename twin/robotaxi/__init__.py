"""Robotaxis: a demand-responsive electric fleet on the road network, with charging stations.

* :mod:`twin.robotaxi.tables`: fastest times and their lengths between the places a run uses,
  one table per time-of-day bin, from any :class:`~twin.city.travel_times.TravelTimes` (a traffic
  run's link times, or free flow);
* :mod:`twin.robotaxi.requests`: ride requests from a Parquet/CSV trip file or from a
  place-to-place demand table with an hourly profile;
* :mod:`twin.robotaxi.fleet`: vehicle types, batteries, the temperature factor, charging
  stations, and :func:`~twin.robotaxi.fleet.simulate` around the dispatch kernel
  (:mod:`kernels.dispatch`);
* :mod:`twin.robotaxi.sizing`: the smallest fleet that meets a service target, and cost per trip.
"""
