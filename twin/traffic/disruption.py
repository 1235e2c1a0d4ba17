"""Link conditions that change during a run (floods, works): slower links and closed links.

The one public hook other layers use to change the road while a :class:`~twin.traffic.model.TrafficModel`
runs. A vehicle entering a link after :func:`set_link_conditions` takes the link's length at the
new speed; a closed link admits no vehicle (its storage is set to zero, so junctions and
insertion both hold vehicles before it) until it is reopened; vehicles already on it drive out.
"""

from __future__ import annotations

import numpy as np

from twin.traffic.model import TrafficModel


def set_link_conditions(model: TrafficModel, speed_m_per_s: np.ndarray, closed: np.ndarray) -> None:
    """From now on, links run at ``speed_m_per_s`` (> 0, per link) and ``closed`` links admit nobody.

    A link at its own speed limit gets back exactly its free-flow time; reopening restores its storage.
    """
    network = model.network
    speed = np.asarray(speed_m_per_s, dtype=float)
    closed = np.asarray(closed, dtype=bool)
    if speed.shape != (network.n_links,) or closed.shape != (network.n_links,) or np.any(speed <= 0):
        raise ValueError("set_link_conditions: need one positive speed and one closed flag per link")
    model.net.link_fft_s[:] = network.link_fft_s * (network.link_speed_m_per_s / speed)
    model.net.link_storage_veh[:] = np.where(closed, 0, network.link_storage_veh)


def vehicle_hours(model: TrafficModel) -> float:
    """Hours vehicles have spent so far, waiting to depart or on the road, up to the model's time (veh·h).

    Trips that have not yet reached their departure time count nothing; the same trips on two runs
    give comparable totals (the difference is the delay one run added).
    """
    now = model.time_s
    st = model.state
    depart = model.veh.depart_s
    due = depart < now
    end = np.where(np.isnan(st.veh_arrive_s), now, st.veh_arrive_s)
    return float(np.sum(np.where(due, end - depart, 0.0)) / 3600.0)
