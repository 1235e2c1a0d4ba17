"""Robotaxi dispatch: the event loop that assigns requests to vehicles and sends them to charge.

:func:`kernels.dispatch.loop.dispatch` is the Numba kernel; :mod:`kernels.dispatch.reference` is its
plain-Python twin (same rules and tie-breaks), compared by the property tests.
"""
