"""Generated networks, the one home of them: grids, corridors, rings and the town mesh, in the
city's schemas (roads as OSMnx graphs), for the reference-city builders in ``gis_data/``, for
scenarios that run on a synthetic town, and for tests.
"""
