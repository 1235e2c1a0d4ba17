"""The 12345 government-service hotline (政务服务便民热线) as a call-centre queue.

* :mod:`~twin.hotline.model`: the call centre as SimPy processes: a switchboard puts callers
  through as they ring (Poisson arrivals with an hourly rate profile), each caller queues for one
  of the agents and hangs up if their patience runs out first, and a monitor samples the queue;
* :mod:`~twin.hotline.metrics`: service KPIs over a finished run (service level, waits,
  abandonment, occupancy, queue length).

With exponential handle times and no abandonment the model is an M/M/c queue, checked against
Erlang C (:mod:`twin.queueing`) in ``tests/hotline``. Nothing is re-exported here.
"""
