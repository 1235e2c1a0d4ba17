"""Mesoscopic link-queue traffic: vehicles on links, lanes gated by signals, spillback.

The model (documented in ``docs/traffic.md``) is a queue-based mesoscopic model in the family of
SUMO's mesosim (with lane queues) and MATSim's queue model:

* A vehicle entering link ``l`` at time ``e`` (after crossing the junction upstream, which takes
  the movement's ``mov_extra_s``) reaches the stop line at ``ready = e + extra + fft[l]``, plus
  the acceleration loss when it starts from rest.
* On entering, it picks the least-occupied *lane queue* of ``l`` that serves its next movement
  (``mov_queue_ptr``/``mov_queues``) and waits in it, first in first out: a left-turner waiting
  in a lane shared with through traffic blocks the through cars behind it.
* A queue's head leaves when its movement is *open* (green after the start-up lost time, or in
  the first seconds of yellow), the lane has discharge *credit* (saturation flow × the turn's
  factor, accrued every step, so a bottleneck passes exactly its capacity), it need not give
  way to a higher-priority conflicting movement that is moving or about to, and the next link
  has *storage* left (length × lanes / jam spacing). A full link blocks upstream: spillback.
  Nothing teleports.
* Signals are per-junction state machines: fixed time (with offset), actuated (gap-out /
  max-out), or max-pressure; phase transitions go through yellow and all-red.

Everything is a pure function of NumPy arrays. The state arrays are updated in place so that
the engine can advance the model in blocks without copying.

Modules, bottom to top:

* ``layout``: the arrays of the network, the signals, the vehicles and the state, the codes
  stored in them, and :func:`~kernels.traffic.layout.new_state`;
* ``signals``: the controllers' state machines (fixed time, actuated, max-pressure, transit
  priority) that set every signalised movement's state;
* ``step``: one time step (credits, stop lines, departures, queues) and
  :func:`~kernels.traffic.step.advance`, the Numba kernel;
* ``reference``: :func:`~kernels.traffic.reference.advance_reference`, the plain-Python twin
  written with deques and dicts, which a property test checks against the kernel step for step.

Array conventions (``L`` links, ``M`` movements, ``Q`` lane queues, ``J`` signal junctions,
``P`` phases, ``V`` vehicles). A movement with ``mov_out_link == -1`` is the *sink* of its link
(trips end at the end of their last link). Movement state codes: 0 red, 1 yellow, 2 permitted
green (gives way), 3 protected green.

Numba caches each compiled function beside its module (``cache=True``) and checks only that
function's own file: after editing ``signals``, clear the caches (``find kernels -name
'*.nb[ic]' -delete``) so that the step in ``step`` recompiles.
"""
