"""Importers and exporters between the twin and planners' formats (OSM, SUMO, EPANET, GTFS, ...)."""
