"""Readers and writers for the formats planners already have (OSM, SUMO, EPANET, GTFS, ...)."""
