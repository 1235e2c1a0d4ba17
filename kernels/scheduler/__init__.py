"""GPU-cluster scheduling kernels: gang placement, queues, the event heap, scheduling passes and
the event loop, each with a plain-Python reference twin.

The cluster is ``n_nodes`` nodes of ``gpn`` devices (8 by default). Jobs are gangs: a job of ``g``
devices starts only when all ``g`` are free at once (all-or-nothing). All state lives in NumPy
arrays bundled in a :class:`~kernels.scheduler.state.SchedState`, so that the SimPy model in
``twin/compute/cluster.py`` can advance the kernel to a time, hand control back (to fail a node,
record a sample or add capacity) and resume, with results independent of where it stopped.

Modules, bottom to top:

* ``layout``: what each row and column of the state's arrays holds, and the codes stored there;
* ``state``: the arrays of a run (:func:`~kernels.scheduler.state.new_state`);
* ``placement``: gang placement on the free-device level bitsets (and its reference);
* ``sorting``: a stable lexicographic sort into preallocated buffers (and its reference);
* ``queues``: waiting jobs in linked lists or a shortest-remaining-estimate heap;
* ``events``: the heap of completions and LAS demotions;
* ``records``: the segment log and the time-binned integrals;
* ``segments``: a job joins the queue, starts, and stops;
* ``preemption`` and ``backfill``: victim search and EASY reservations;
* ``passes``: one scheduling pass;
* ``event_loop``: :func:`~kernels.scheduler.event_loop.advance`, ``fail_node``, ``repair_node``;
* ``reference``: :func:`~kernels.scheduler.reference.simulate_reference`, the plain-Python twin
  of the event loop that the property tests compare job by job.

Numba caches each compiled function beside its module (``cache=True``) and checks only that
function's own file: after editing a helper, clear the caches (``find kernels -name '*.nb[ic]'
-delete``) so that its callers in other modules recompile.
"""
