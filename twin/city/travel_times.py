"""Link travel times by time of day, and time-dependent shortest routes over the road graph.

This is the hook through which other layers use the traffic model: buses and repair crews ask a
:class:`TravelTimes` for the time to traverse an edge when they enter it. Until a traffic run has
produced time-of-day times, :class:`FreeFlowTravelTimes` answers from lengths and speed limits.

Edges are OSMnx keys ``(u, v, key)`` of the road ``MultiDiGraph``; times are in seconds.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import networkx as nx
import numpy as np
import pandas as pd

from twin.errors import InputError

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

Edge = tuple[int, int, int]


class TravelTimes(Protocol):
    """Anything that can tell how long an edge takes when entered at a given time."""

    def edge_time_s(self, edge: Edge, enter_s: float) -> float:
        """Seconds to traverse ``edge`` when entering it at simulated time ``enter_s``."""
        ...


def free_flow_time_s(data: dict) -> float:
    """Free-flow traversal time of an edge from its OSMnx attributes (s).

    Uses ``travel_time`` if present (OSMnx's ``add_edge_travel_times``), else ``length`` over
    ``speed_kph``.
    """
    if "travel_time" in data:
        return float(data["travel_time"])
    return float(data["length"]) / (float(data["speed_kph"]) / 3.6)


class FreeFlowTravelTimes:
    """Travel times at the speed limit, whatever the time of day."""

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self._time_s = {
            (u, v, k): free_flow_time_s(data) for u, v, k, data in graph.edges(keys=True, data=True)
        }

    def edge_time_s(self, edge: Edge, enter_s: float) -> float:  # noqa: ARG002 - same at any time
        return self._time_s[edge]


class TimeOfDayTravelTimes:
    """Edge times tabulated in time bins, as measured by a traffic run.

    Parameters
    ----------
    edges
        The edges with measurements, in row order of ``time_s``.
    bin_start_s
        Start of each time bin (s, increasing); a time before the first bin uses the first, one
        after the last uses the last.
    time_s
        Array ``(len(edges), len(bin_start_s))`` of mean traversal times (s).
    fallback
        Answers for edges without measurements (default: free flow on ``graph``).
    """

    def __init__(
        self,
        edges: list[Edge],
        bin_start_s: np.ndarray,
        time_s: np.ndarray,
        fallback: TravelTimes,
    ) -> None:
        if time_s.shape != (len(edges), len(bin_start_s)):
            raise ValueError(f"time_s has shape {time_s.shape}, expected {(len(edges), len(bin_start_s))}")
        self._row = {edge: i for i, edge in enumerate(edges)}
        self.bin_start_s = np.asarray(bin_start_s, dtype=float)
        self.time_s = np.asarray(time_s, dtype=float)
        self.fallback = fallback

    def edge_time_s(self, edge: Edge, enter_s: float) -> float:
        row = self._row.get(edge)
        if row is None:
            return self.fallback.edge_time_s(edge, enter_s)
        column = max(int(np.searchsorted(self.bin_start_s, enter_s, side="right")) - 1, 0)
        return float(self.time_s[row, column])

    def to_frame(self) -> pd.DataFrame:
        """Long table ``u, v, key, bin_start_s, travel_time_s`` (for Parquet exchange)."""

        edges = sorted(self._row, key=self._row.get)
        n_bins = len(self.bin_start_s)
        return pd.DataFrame(
            {
                "u": np.repeat([e[0] for e in edges], n_bins),
                "v": np.repeat([e[1] for e in edges], n_bins),
                "key": np.repeat([e[2] for e in edges], n_bins),
                "bin_start_s": np.tile(self.bin_start_s, len(edges)),
                "travel_time_s": self.time_s.ravel(),
            }
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, fallback: TravelTimes) -> TimeOfDayTravelTimes:
        """Inverse of :meth:`to_frame`."""
        bins = np.sort(frame["bin_start_s"].unique())
        table = frame.pivot_table(
            index=["u", "v", "key"], columns="bin_start_s", values="travel_time_s"
        ).reindex(columns=bins)
        edges = [tuple(int(x) for x in idx) for idx in table.index]
        return cls(edges, bins, table.to_numpy(), fallback)


def read_link_times(path: Path, graph: nx.MultiDiGraph, key: str) -> TimeOfDayTravelTimes:
    """A traffic run's link times from a Parquet or CSV table, for buses and crews on ``graph``.

    Accepts :meth:`TimeOfDayTravelTimes.to_frame`'s table (``u, v, key, bin_start_s,
    travel_time_s``) or a ``signal_timing`` run's link table (``link_times_*.parquet``, with
    ``mean_travel_time_s``). Bins are seconds on the traffic run's clock, so run it from the same
    start time. Links the table lacks, and bins in which no vehicle left a link (NaN), run at free
    flow, and no link beats free flow. ``key`` names the scenario key in error messages.

    Raises
    ------
    InputError
        If the file is missing or unreadable, lacks a column, or none of its links is a road edge.
    """

    if not path.exists():
        raise InputError(f"{key}: file not found")
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input
        raise InputError(f"{key}: not a readable table ({type(exc).__name__})") from None
    column = "travel_time_s" if "travel_time_s" in frame else "mean_travel_time_s"
    missing = {"u", "v", "key", "bin_start_s", column} - set(frame.columns)
    if missing:
        raise InputError(f"{key}: missing columns {sorted(missing)} (expected u, v, key, bin_start_s, "
                         "travel_time_s or mean_travel_time_s)")
    node_type = type(next(iter(graph.nodes)))
    edges = [
        (node_type(u), node_type(v), int(k))
        for u, v, k in zip(frame["u"], frame["v"], frame["key"], strict=True)
    ]
    known = np.array([graph.has_edge(*edge) for edge in edges], dtype=bool)
    if not known.any():
        raise InputError(f"{key}: no link of the table is a road edge of this network")
    table = pd.DataFrame({
        "edge": [edge for edge, ok in zip(edges, known, strict=True) if ok],
        "bin": frame["bin_start_s"].to_numpy(dtype=float)[known],
        "time": frame[column].to_numpy(dtype=float)[known],
    })
    bins = np.sort(table["bin"].unique())
    pivot = table.pivot_table(index="edge", columns="bin", values="time", aggfunc="mean")
    pivot = pivot.reindex(columns=bins)
    rows = list(pivot.index)
    free_s = np.array([free_flow_time_s(graph.edges[edge]) for edge in rows])[:, None]
    values = pivot.to_numpy(dtype=float)
    times_s = np.fmax(np.where(np.isnan(values), free_s, values), free_s)
    return TimeOfDayTravelTimes(rows, bins, times_s, FreeFlowTravelTimes(graph))


@dataclass(frozen=True)
class Route:
    """A route found by :func:`fastest_route`."""

    nodes: list[int]
    edges: list[Edge]
    duration_s: float
    length_m: float


def fastest_route(
    graph: nx.MultiDiGraph,
    travel_times: TravelTimes,
    origin: int,
    destination: int,
    depart_s: float = 0.0,
) -> Route:
    """Earliest-arrival route from ``origin`` to ``destination`` leaving at ``depart_s``.

    Time-dependent Dijkstra: each edge is costed at the time the route would enter it. This is
    exact when travel times are FIFO (leaving later never arrives earlier), which holds for
    times tabulated from a traffic model with bins longer than the link times.

    Raises
    ------
    networkx.NetworkXNoPath
        If ``destination`` cannot be reached.
    """

    arrival = {origin: depart_s}
    previous: dict[int, tuple[int, Edge]] = {}
    counter = itertools.count()  # tie-breaker so heap entries never compare nodes
    heap = [(depart_s, next(counter), origin)]
    done = set()
    while heap:
        time_s, _, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        if node == destination:
            break
        for _, nxt, key in graph.out_edges(node, keys=True):
            edge = (node, nxt, key)
            candidate = time_s + travel_times.edge_time_s(edge, time_s)
            if candidate < arrival.get(nxt, np.inf):
                arrival[nxt] = candidate
                previous[nxt] = (node, edge)
                heapq.heappush(heap, (candidate, next(counter), nxt))
    if destination not in done:
        raise nx.NetworkXNoPath(f"no route from {origin} to {destination}")
    edges: list[Edge] = []
    node = destination
    while node != origin:
        node, edge = previous[node]
        edges.append(edge)
    edges.reverse()
    nodes = [origin] + [edge[1] for edge in edges]
    length_m = sum(float(graph.edges[edge]["length"]) for edge in edges)
    return Route(nodes, edges, arrival[destination] - depart_s, length_m)
