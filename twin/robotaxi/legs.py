"""The fleet's drives as legs: each vehicle's moves from node to node, in time order.

A run's tables say what each vehicle did (trips, charging sessions, rebalancing moves) but not
where each empty drive started. :func:`vehicle_legs` replays every vehicle from its start node:
a trip is an empty ``pickup`` leg from where the vehicle was to the rider, then a ``trip`` leg to
the drop-off (a shared ride: to the first rider, ``pickup`` on to the second, then two ``trip``
legs to the drop-offs in time order); a charging session is a ``to_station`` leg from the
drop-off; a rebalancing move is a ``rebalance`` leg to its zone's anchor. The legs are what a
traffic model needs to replay the fleet (e.g. as SUMO routes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.robotaxi.fleet import FleetRun

LEG_KINDS = ("pickup", "trip", "to_station", "rebalance")


def vehicle_legs(run: FleetRun) -> pd.DataFrame:
    """One row per leg: ``vehicle, kind, from_node, to_node, depart_s`` (s from the run start),
    ``arrive_s`` and ``request`` (the trip's request row, −1 for a rebalancing move); legs of zero
    length (a vehicle already at the rider) are kept with ``from_node == to_node``."""
    trips = run.trips
    served = np.flatnonzero(trips["vehicle"].to_numpy() >= 0)
    events = []  # (start time, order within a request, vehicle, kind, to node, arrive, request)
    pool = trips["pooled_with"].to_numpy() if "pooled_with" in trips else np.full(len(trips), -1)
    for r in served:
        row = trips.iloc[r]
        v = int(row["vehicle"])
        if pool[r] < 0:
            events.append((row["depart_s"], 0, v, "pickup", int(row["origin_node"]), row["pickup_s"], int(r)))
            events.append((row["pickup_s"], 1, v, "trip", int(row["destination_node"]), row["dropoff_s"], int(r)))
            continue
        other = trips.iloc[pool[r]]
        if row["depart_s"] == other["pickup_s"]:
            continue  # the joining rider: its legs come with the first rider's
        # A shared ride: to the first rider, on to the second, then both drop-offs in time order.
        first, second = sorted((row, other), key=lambda x: x["dropoff_s"])
        events.append((row["depart_s"], 0, v, "pickup", int(row["origin_node"]), row["pickup_s"], int(r)))
        events.append((row["pickup_s"], 1, v, "pickup", int(other["origin_node"]), other["pickup_s"], int(r)))
        events.append((other["pickup_s"], 1, v, "trip", int(first["destination_node"]), first["dropoff_s"], int(r)))
        events.append((first["dropoff_s"], 1, v, "trip", int(second["destination_node"]), second["dropoff_s"],
                       int(r)))
    for s in run.sessions.itertuples():
        node = run.stations[int(s.station)].node
        drop_s = float(trips["dropoff_s"].iloc[int(s.after_request)])
        events.append((drop_s, 2, int(s.vehicle), "to_station", int(node), s.arrive_s, int(s.after_request)))
    for m in run.moves.itertuples():
        events.append((m.start_s, 3, int(m.vehicle), "rebalance", int(m.to_node), m.end_s, -1))
    # Per vehicle by start time; zero-length legs tie, so then by request and leg order (a move,
    # request −1, comes after any leg that ends when it starts).
    events.sort(key=lambda e: (e[2], e[0], e[6] if e[6] >= 0 else len(trips), e[1]))
    at = {v: int(n) for v, n in enumerate(run.fleet.start_node)}
    rows = []
    for depart, _, v, kind, to_node, arrive, request in events:
        rows.append((v, kind, at[v], to_node, float(depart), float(arrive), request))
        at[v] = to_node
    return pd.DataFrame(rows, columns=["vehicle", "kind", "from_node", "to_node", "depart_s", "arrive_s",
                                       "request"]).astype({"vehicle": np.int64, "from_node": np.int64,
                                                           "to_node": np.int64, "request": np.int64})
