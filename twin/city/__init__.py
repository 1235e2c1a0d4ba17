"""The city: a folder of layers (roads, zones, buildings, terrain, transit, water), how it is
loaded and checked, and the importers that bring real data into it.

Every city system reads its layers from here; nothing here knows about traffic, buses, water
or compute models.
"""
