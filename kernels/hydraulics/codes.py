"""EPANET 2.2's integer codes, shared by the hydraulic kernels and ``twin.water``.

Plain constants (no Numba), so that the library can read and write the compiled network's arrays
without loading the kernels. The numbers are EPANET's own (``types.h``), so that the kernels can
follow its source line by line: ``status <= CLOSED`` means "not carrying flow", and a link kind
above ``PIPE`` is a pump or a valve.
"""

from __future__ import annotations

# Link kinds (EPANET LinkType): a pipe with a check valve, a pipe, a pump and the six valve types.
CVPIPE, PIPE, PUMP, PRV, PSV, PBV, FCV, TCV, GPV = 0, 1, 2, 3, 4, 5, 6, 7, 8
# Link statuses (EPANET StatusType).
XHEAD, TEMPCLOSED, CLOSED, OPEN, ACTIVE, XFLOW, XFCV, XPRESSURE = 0, 1, 2, 3, 4, 5, 6, 7
# Pump curve types (EPANET PumpType).
CONST_HP, POWER_FUNC, CUSTOM, NOCURVE = 0, 1, 2, 3
# Head-loss formulas (EPANET [OPTIONS] HEADLOSS: H-W, D-W, C-M).
HAZEN_WILLIAMS, DARCY_WEISBACH, CHEZY_MANNING = 0, 1, 2
# Node kinds (EPANET NodeType).
JUNCTION, RESERVOIR, TANK = 0, 1, 2
# Simple-control types (EPANET ControlType).
LOWLEVEL, HILEVEL, TIMER, TIMEOFDAY = 0, 1, 2, 3

MISSING = -1.0e10
"""A valve setting that is not set: the valve is fixed open or closed."""

LINK_KIND_NAMES = ("CV", "PIPE", "PUMP", "PRV", "PSV", "PBV", "FCV", "TCV", "GPV")
STATUS_NAMES = ("XHEAD", "TEMPCLOSED", "CLOSED", "OPEN", "ACTIVE", "XFLOW", "XFCV", "XPRESSURE")
