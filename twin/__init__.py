"""Changle Twin: a digital twin of Changle District (长乐区), Fuzhou.

The package holds the model: the city and its layers, the SimPy engine, metrics, I/O and the CLI.
Heavy libraries (numba, geopandas, pyvista, wntr) are imported lazily by the modules that need
them, so that ``import twin`` and ``twin --help`` stay fast.
"""

__version__ = "0.1.0"
