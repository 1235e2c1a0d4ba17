"""Array layout shared by the dispatch kernel and its reference twin.

Travel times and distances are tabulated between the *places* of a run (the road nodes that
requests, vehicles and chargers use), one table per time-of-day bin: ``time_s[b, i, j]`` is the
fastest time (s) from place ``i`` to place ``j`` for a vehicle leaving in bin ``b``, and
``dist_km[b, i, j]`` the length (km) of that route. A leg uses the bin in which it starts.
"""

from __future__ import annotations

# Indices into the float parameter vector ``params``.
P_CHARGE_BELOW = 0  # go to charge after a drop-off when SoC falls below this fraction of capacity
P_CHARGE_TO = 1  # charge up to this fraction of capacity (< 1)
P_TAPER_FROM = 2  # charging power tapers linearly to zero at 100 % above this fraction
N_PARAMS = 3

# Columns of the per-request output ``req_out`` (float64); vehicle id is in ``req_vehicle``.
R_DEPART = 0  # time the vehicle leaves for the pickup (s)
R_PICKUP = 1  # time the vehicle reaches the rider (s)
R_DROPOFF = 2  # time the rider is dropped off (s)
R_PICKUP_KM = 3  # empty km driven to the rider
R_TRIP_KM = 4  # km driven with the rider
R_ENERGY_KWH = 5  # energy the vehicle spends on pickup and trip (kWh)
N_REQ_OUT = 6

# Columns of the charging-session output ``ses_out`` (float64); ints in ``ses_int``.
S_ARRIVE = 0  # arrival at the station (s)
S_START = 1  # plug-in time (s), after any queue
S_END = 2  # unplug time (s)
S_KWH = 3  # energy put into the battery (kWh)
S_SOC_START = 4  # state of charge at plug-in (fraction)
S_SOC_END = 5  # state of charge at unplug (fraction)
S_DRIVE_KWH = 6  # energy spent driving from the drop-off to the station (kWh)
N_SES_OUT = 7
SI_VEHICLE = 0
SI_STATION = 1
SI_PLUG = 2  # global plug index
SI_REQUEST = 3  # the request after whose drop-off the vehicle went to charge
N_SES_INT = 4

INFEASIBLE_S = 1e12
"""Batch assignment: the cost of a pair that cannot be served, far above any pickup time (s), so
that the solver matches as many feasible pairs as it can before it looks at their times."""
