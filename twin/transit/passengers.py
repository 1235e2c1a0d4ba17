"""Passengers during a bus run: waiting at stops, on board, and what became of each.

:class:`StopQueues` holds every passenger of a :class:`~twin.transit.demand.PassengerDemand`.
Arrivals are put into a stop's queue lazily, when a bus calls (or the extra-run monitor looks),
which is exact because nothing else observes the queue; a passenger whose patience has run out
by then leaves at ``arrival + patience``. A bus takes on, first come first served, the waiting
passengers whose destination is further along its pattern until it is full; those it has to
leave behind are marked once each. :class:`OnBoard` is one bus's load by destination stop.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from twin.transit.demand import PassengerDemand

if TYPE_CHECKING:
    import pandas as pd


class StopQueues:
    """The passengers of one run: per-stop arrival queues and each passenger's outcome.

    Parameters
    ----------
    demand
        Passengers in arrival order.
    stop_ids
        Every stop of the network (each gets a queue).
    patience_s
        Passengers leave after waiting this long (s); ``None``: never.

    Attributes
    ----------
    board_s, alight_s, abandon_s
        When each passenger boarded, alighted or gave up (s; NaN if not).
    trip_of
        Index of the trip each passenger boarded (-1 if none).
    was_left_behind
        Whether a full bus left the passenger behind at least once.
    """

    def __init__(self, demand: PassengerDemand, stop_ids: Iterable[str], patience_s: float | None) -> None:
        self.demand = demand
        self.patience_s = patience_s
        n = len(demand)
        self.board_s = np.full(n, np.nan)
        self.alight_s = np.full(n, np.nan)
        self.abandon_s = np.full(n, np.nan)
        self.trip_of = np.full(n, -1, dtype=np.int64)
        self.was_left_behind = np.zeros(n, dtype=bool)
        self._pending: dict[str, np.ndarray] = {}
        self._cursor: dict[str, int] = {}
        self._waiting: dict[str, list[int]] = {s: [] for s in stop_ids}
        order = np.argsort(demand.origin, kind="stable") if n else np.array([], dtype=int)
        if n:
            origins = demand.origin[order]
            bounds = np.flatnonzero(origins[1:] != origins[:-1]) + 1
            for chunk in np.split(order, bounds):
                self._pending[str(demand.origin[chunk[0]])] = chunk  # stable: in arrival order

    def _admit_arrivals(self, stop_id: str, now_s: float) -> None:
        """Move passengers who have arrived at ``stop_id`` by ``now_s`` into its queue."""
        pending = self._pending.get(stop_id)
        if pending is None:
            return
        cursor = self._cursor.get(stop_id, 0)
        end = cursor
        arrive = self.demand.arrive_s
        while end < len(pending) and arrive[pending[end]] <= now_s:
            end += 1
        if end > cursor:
            self._waiting[stop_id].extend(int(p) for p in pending[cursor:end])
            self._cursor[stop_id] = end

    def _drop_impatient(self, queue: list[int], now_s: float) -> None:
        """Passengers who have waited longer than their patience leave, at arrival + patience."""
        patience = self.patience_s
        if patience is None or not queue:
            return
        arrive = self.demand.arrive_s
        kept = []
        for p in queue:
            if arrive[p] + patience < now_s:
                self.abandon_s[p] = arrive[p] + patience
            else:
                kept.append(p)
        queue[:] = kept

    def waiting(self, stop_id: str, now_s: float) -> list[int]:
        """The queue at ``stop_id`` at ``now_s`` (arrived, not boarded, not gone), in arrival order."""
        self._admit_arrivals(stop_id, now_s)
        queue = self._waiting[stop_id]
        self._drop_impatient(queue, now_s)
        return queue

    def waiting_for(self, stop_id: str, now_s: float, reachable: frozenset[str]) -> int:
        """Passengers waiting at ``stop_id`` at ``now_s`` for one of the ``reachable`` stops."""
        destination = self.demand.destination
        return sum(1 for p in self.waiting(stop_id, now_s) if destination[p] in reachable)

    def board(
        self, stop_id: str, now_s: float, reachable: frozenset[str], room_pax: int, trip_index: int
    ) -> tuple[list[int], int]:
        """Board, first come first served, those bound for ``reachable`` while there is room.

        Returns the passengers boarded and how many of those bound for ``reachable`` were
        left behind (marked in :attr:`was_left_behind`).
        """
        queue = self.waiting(stop_id, now_s)
        destination = self.demand.destination
        boarding: list[int] = []
        left = 0
        kept = []
        for p in queue:
            if destination[p] not in reachable:
                kept.append(p)
            elif room_pax > 0:
                boarding.append(p)
                room_pax -= 1
            else:
                kept.append(p)
                left += 1
                self.was_left_behind[p] = True
        queue[:] = kept
        for p in boarding:
            self.board_s[p] = now_s
            self.trip_of[p] = trip_index
        return boarding, left

    def alight(self, passengers: list[int], now_s: float) -> None:
        """Record that ``passengers`` left their bus at ``now_s``."""
        for p in passengers:
            self.alight_s[p] = now_s

    def settle(self, now_s: float) -> None:
        """Bring every queue up to ``now_s`` (arrivals and abandonment), e.g. at the end of a run."""
        for stop_id in self._waiting:
            self.waiting(stop_id, now_s)

    def table(self, trip_ids: list[str], now_s: float) -> pd.DataFrame:
        """One row per passenger: OD, arrival, boarding, alighting, abandonment and trip id."""
        # Deferred: pandas is heavy and only the finished run's tables need it.
        import pandas as pd

        d = self.demand
        ids = np.array([*trip_ids, ""], dtype=object)  # trip_of = -1 picks the empty id
        return pd.DataFrame({
            "origin": d.origin.astype(str), "destination": d.destination.astype(str),
            "arrive_s": d.arrive_s, "board_s": self.board_s, "alight_s": self.alight_s,
            "abandon_s": self.abandon_s, "trip_id": ids[self.trip_of],
            "left_behind": self.was_left_behind, "arrived": d.arrive_s <= now_s,
        })


class OnBoard:
    """The passengers on one bus, by the stop where they will get off."""

    def __init__(self, destination: np.ndarray) -> None:
        self._destination = destination
        self._by_stop: dict[str, list[int]] = {}
        self.count_pax = 0

    def alight_at(self, stop_id: str) -> list[int]:
        """Take off (and return) the passengers bound for ``stop_id``."""
        alighting = self._by_stop.pop(stop_id, [])
        self.count_pax -= len(alighting)
        return alighting

    def take_on(self, passengers: list[int]) -> None:
        """Put ``passengers`` on board, each filed under its destination."""
        for p in passengers:
            self._by_stop.setdefault(str(self._destination[p]), []).append(p)
        self.count_pax += len(passengers)
