"""Hydraulic kernels of the Global Gradient Algorithm (Todini & Pilati, 1988), as EPANET 2.2 does it.

One Newton iteration of ``twin.water.hydraulics.GGASolver``, module by module:

* :mod:`~kernels.hydraulics.coefficients` - each link's head loss linearised at its flow (``p``, ``y``);
* :mod:`~kernels.hydraulics.equations` - the system ``A h = F`` over junction heads, and the flow
  update from the solved heads with EPANET's convergence measure;
* :mod:`~kernels.hydraulics.cholesky` - the sparse factorisation of ``A`` whose symbolic analysis
  is done once per network;
* :mod:`~kernels.hydraulics.status` - the status rules of valves, pumps, check valves and tank links;
* :mod:`~kernels.hydraulics.codes` - EPANET's integer codes (plain constants, no Numba).

Units are SI (m, m³/s). EPANET's tolerances are defined in feet and cfs; the caller passes them
converted (``twin.water.epanet_constants``), so the same numbers come out.

Numba's on-disk cache (``cache=True``) watches only the file of each kernel: a kernel that calls a
kernel of another module here (``equations`` calls ``coefficients.valve_coefficients``) keeps its
cached machine code when only the callee's file changes. After editing such a callee, delete
``kernels/hydraulics/__pycache__``.
"""
