"""Bus transit: lines, stops and vehicles, buses and passengers as SimPy processes, fleet and
dispatch arithmetic, signal priority, metrics, and GTFS input and output.
"""
