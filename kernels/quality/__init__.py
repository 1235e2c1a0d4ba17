"""Water quality: EPANET 2.2's Lagrangian time-driven transport of a chemical, water age or trace.

:func:`kernels.quality.transport.route_quality` is the Numba kernel; :mod:`kernels.quality.reference`
is its plain-Python twin (Python lists of segments instead of a pooled linked list), compared by the
property tests. Both follow EPANET 2.2's ``qualroute.c``/``qualreact.c`` step by step.
"""
