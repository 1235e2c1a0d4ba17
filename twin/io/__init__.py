"""Importers and exporters between real-world data formats and the city's layers.

Each format has its own module (``osm``, ``buildings``; the other domains add ``sumo``, ``gtfs``,
``epanet``). Importers write a dataset folder that :func:`twin.city.load_city` reads.
"""
