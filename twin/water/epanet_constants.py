"""EPANET's internal constants, converted once to SI.

EPANET defines its tolerances and limits in feet and cubic feet per second. Converting them here,
once, lets the solver iterate in SI and still take EPANET's decisions at the same iterations (on
Net1 the trial-by-trial relative errors equal EPANET's status report to six digits).
"""

from __future__ import annotations

FT_M = 0.3048
"""Metres in a foot."""
CFS_M3_PER_S = FT_M**3
"""m³/s in one cubic foot per second."""
GRADIENT_SI = FT_M / CFS_M3_PER_S
"""A head-loss gradient of 1 ft/cfs in s/m²."""
GRAVITY_M_PER_S2 = 32.2 * FT_M
"""EPANET's g (32.2 ft/s²), kept so that Darcy-Weisbach and minor losses agree to the digit."""
KW_PER_HP = 0.7457
"""EPANET's horsepower, used for constant-power pumps."""
HP_HEAD_FT_CFS = 8.814
"""EPANET: head gain (ft) of 1 hp delivered to 1 cfs of water."""

RQTOL = 1.0e-7 * GRADIENT_SI  # smallest head-loss gradient
CBIG = 1.0e8 * GRADIENT_SI  # gradient of a closed link
CSMALL = 1.0e-6 * GRADIENT_SI  # gradient of an open valve without minor loss
CBIG_CONDUCTANCE = 1.0e8 / GRADIENT_SI  # conductance pinning an active valve's head
HTOL = 0.0005 * FT_M  # head tolerance of status checks (m)
QTOL = 0.0001 * CFS_M3_PER_S  # flow tolerance of status checks (m³/s)
QZERO = 1.0e-6 * CFS_M3_PER_S  # a zero flow (m³/s)
MIN_PDIFF = 0.1 * FT_M  # smallest pressure range of pressure-driven demand (m)
PDA_QTOL = 0.0001 * CFS_M3_PER_S  # demand tolerance of pressure-driven convergence (m³/s)

