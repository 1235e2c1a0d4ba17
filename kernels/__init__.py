"""Numba hot loops: pure functions over NumPy arrays.

Rules: arrays in, arrays out; no SimPy, no pandas, no I/O, and never an import of ``twin``.
Every kernel ``foo`` has a plain Python/NumPy reference ``foo_reference`` in the same module,
and a property test checks that the two agree. Kernels are compiled with ``cache=True``.
"""
