"""Valve-bounded segments: what a crew must shut to isolate a pipe, and what goes dry with it.

Isolation valves follow WNTR's valve-layer convention: a valve is a ``(link, node)`` pair, sitting
on ``link`` next to ``node``. Closing it separates the link from that node.

The segments are the connected components of a graph whose vertices are the network's nodes *and*
links, where every link is joined to each of its end nodes unless a valve sits between them
(Walski, 1993; Jun & Loganathan, 2007). A segment is the smallest part of the network that valves
can isolate. To isolate a pipe, close the valves on the boundary of its segment - the valves with
one side in the segment and the other outside - and nothing else; every node and link of the
segment then loses supply.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.errors import InputError
from twin.water.network import CompiledNetwork


@dataclass(frozen=True)
class ValveLayer:
    """Isolation valves as arrays: ``link[v]`` and ``node[v]`` (indices) and names ``valve_id[v]``."""

    valve_id: list[str]
    link: np.ndarray
    node: np.ndarray

    @classmethod
    def from_frame(cls, frame, net: CompiledNetwork) -> ValveLayer:
        """From a table with columns ``valve_id`` (optional), ``link`` and ``node`` (names)."""
        if "valve_id" in frame:
            ids = [str(v) for v in frame["valve_id"]]
        else:
            ids = [f"V{i}" for i in range(len(frame))]
        links, nodes = [], []
        for vid, link, node in zip(ids, frame["link"], frame["node"], strict=True):
            try:
                k = net.link_index(str(link))
                n = net.node_index(str(node))
            except KeyError:
                raise InputError(
                    f"valve {vid}: link {link!r} or node {node!r} is not in the network") from None
            if n not in (net.start[k], net.end[k]):
                raise InputError(f"valve {vid}: node {node} is not an end of link {link}")
            links.append(k)
            nodes.append(n)
        return cls(ids, np.asarray(links, dtype=np.int64), np.asarray(nodes, dtype=np.int64))


def read_valve_layer(path: Path, net: CompiledNetwork) -> ValveLayer:
    """The valve layer CSV at ``path`` (``valve_id, link, node``) on ``net``.

    Raises
    ------
    InputError
        If a column is missing or a valve names a link or node that ``net`` lacks.
    """
    # deferred: pandas is slow to import, and only reading the CSV needs it
    import pandas as pd

    try:
        return ValveLayer.from_frame(pd.read_csv(path), net)
    except (KeyError, ValueError) as exc:
        raise InputError(f"not a valve layer (valve_id, link, node): {exc}", path) from None


@dataclass(frozen=True)
class Segments:
    """Segment label of every node and link, and the valves on every segment's boundary."""

    node_segment: np.ndarray
    link_segment: np.ndarray
    n_segments: int
    boundary_valves: list[np.ndarray]
    """Per segment, the indices (into the valve layer) of the valves that isolate it."""

    def segment_of_link(self, link: int) -> int:
        return int(self.link_segment[link])

    def nodes(self, segment: int) -> np.ndarray:
        """Node indices in ``segment``."""
        return np.flatnonzero(self.node_segment == segment)

    def links(self, segment: int) -> np.ndarray:
        """Link indices in ``segment``."""
        return np.flatnonzero(self.link_segment == segment)


def valve_segments(net: CompiledNetwork, valves: ValveLayer) -> Segments:
    """Find the valve-bounded segments of ``net`` (connected components, see the module docstring)."""
    # deferred: scipy is slow to import, and only the segment search needs it
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components  # deferred, as above

    n_nodes, n_links = net.n_nodes, net.n_links
    valve_at = set(zip(valves.link.tolist(), valves.node.tolist(), strict=True))
    rows, cols = [], []
    for k in range(n_links):
        for n in (int(net.start[k]), int(net.end[k])):
            if (k, n) not in valve_at:
                rows.append(n_nodes + k)
                cols.append(n)
    size = n_nodes + n_links
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size))
    n_segments, label = connected_components(graph, directed=False)
    node_segment = label[:n_nodes]
    link_segment = label[n_nodes:]
    boundary: list[list[int]] = [[] for _ in range(n_segments)]
    for v, (k, n) in enumerate(zip(valves.link, valves.node, strict=True)):
        a, b = link_segment[k], node_segment[n]
        if a != b:  # a valve inside one segment (both sides joined some other way) isolates nothing
            boundary[a].append(v)
            boundary[b].append(v)
    return Segments(node_segment, link_segment, n_segments,
                    [np.asarray(sorted(set(b)), dtype=np.int64) for b in boundary])


def isolation_plan(net: CompiledNetwork, valves: ValveLayer, segments: Segments,
                   pipe: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What shutting off pipe ``pipe`` takes and affects.

    Returns
    -------
    valves_to_close
        Indices into the valve layer: the segment's boundary valves (the minimal set).
    links_to_close
        Link indices to close in the hydraulic model: every link of the segment plus every link
        carrying one of those valves (closing a valve cuts its link from the node beside it).
    nodes_cut_off
        Node indices in the segment, which lose supply.
    """
    segment = segments.segment_of_link(pipe)
    close = segments.boundary_valves[segment]
    links = np.union1d(segments.links(segment), valves.link[close]).astype(np.int64)
    return close, links, segments.nodes(segment)
