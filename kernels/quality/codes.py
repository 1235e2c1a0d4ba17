"""Integer codes of the water-quality kernels, EPANET 2.2's own where it has them.

Plain constants (no Numba), shared by :mod:`kernels.quality.transport`, its reference twin and
``twin.water.quality``.
"""

from __future__ import annotations

# What is modelled (EPANET QualType, less NONE): a chemical (mg/L), water age (h), source trace (%).
CHEMICAL, AGE, TRACE = 0, 1, 2
PARAMETER_NAMES = ("chemical", "age", "trace")
# Source types (EPANET SourceType); NO_SOURCE marks a node without one.
NO_SOURCE, CONCEN, MASS, SETPOINT, FLOWPACED = -1, 0, 1, 2, 3
SOURCE_NAMES = ("CONCEN", "MASS", "SETPOINT", "FLOWPACED")
# Tank mixing models (EPANET MixType): complete mix, two-compartment, plug flow FIFO and LIFO.
MIX1, MIX2, FIFO, LIFO = 0, 1, 2, 3
MIX_NAMES = ("MIXED", "2COMP", "FIFO", "LIFO")

Q_STAGNANT_M3_PER_S = 0.005 * 6.30901964e-5
"""EPANET's Q_STAGNANT, 0.005 gpm: flows below it set no direction for the topological sort."""
SECONDS_PER_HOUR = 3600.0
