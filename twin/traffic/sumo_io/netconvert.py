"""Our road layer as a SUMO network: plain XML nodes and edges, built by ``netconvert``."""

from __future__ import annotations

import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx

from twin.traffic.edges import road_rank
from twin.traffic.sumo_io.running import sumo_binary

GK_CM120E_PROJ4 = "+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
"""EPSG:4549 (CGCS2000 / 3-degree Gauss-Krüger CM 120E) as a proj.4 string for netconvert."""

NETCONVERT_OPTIONS = [
    "--no-turnarounds", "true",
    "--tls.default-type", "static",
    "--no-warnings", "true",
    "--edges.join", "false",
    "--geometry.remove", "false",
    "--junctions.join", "false",
]  # fmt: skip
"""What we ask of netconvert: our nodes and edges as they are, static lights, no U-turns."""


def edge_id(edge: tuple) -> str:
    """The SUMO id :func:`write_net` gives a graph edge without a ``sumo_id``: ``u_v_key``."""
    u, v, k = edge
    return f"{u}_{v}_{k}"


def write_net(
    graph: nx.MultiDiGraph,
    out_path: str | Path,
    signalised: list | None = None,
    extra_args: list[str] | None = None,
) -> Path:
    """Write ``graph`` as a SUMO network (plain XML, then ``netconvert``).

    Node ids and edge ids are kept (edges as ``sumo_id`` if present, else ``u_v_key``), lanes,
    speeds and shapes come from the OSMnx attributes, and ``signalised`` nodes (default: nodes
    with ``highway == "traffic_signals"``) become traffic lights. Lengths are taken from the
    shapes (as netconvert does). A graph in EPSG:4490 is written geo-referenced through the
    EPSG:4549 projection; a graph without a CRS is taken as local metres.

    Returns
    -------
    Path
        ``out_path``.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    crs = str(graph.graph.get("crs") or "").upper()
    geo = crs in ("EPSG:4490", "EPSG:4326")
    if signalised is None:
        signalised = [n for n, d in graph.nodes(data=True) if d.get("highway") == "traffic_signals"]
    with tempfile.TemporaryDirectory(prefix="twin-netconvert-") as tmp:
        nod = Path(tmp) / "net.nod.xml"
        edg = Path(tmp) / "net.edg.xml"
        ET.ElementTree(_plain_nodes(graph, set(signalised))).write(nod, encoding="utf-8", xml_declaration=True)
        ET.ElementTree(_plain_edges(graph)).write(edg, encoding="utf-8", xml_declaration=True)
        cmd = [sumo_binary("netconvert"), "--node-files", str(nod), "--edge-files", str(edg)]
        cmd += ["--output-file", str(out_path), *NETCONVERT_OPTIONS]
        if geo:
            cmd += ["--proj.plain-geo", "true", "--proj", GK_CM120E_PROJ4]
        cmd += list(extra_args or [])
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"netconvert failed: {done.stderr.strip()[-2000:]}")
    return out_path


def _plain_nodes(graph: nx.MultiDiGraph, signalised: set) -> ET.Element:
    """The ``<nodes>`` of a plain XML network: traffic lights at ``signalised``, else priority."""
    nodes = ET.Element("nodes")
    for node, data in graph.nodes(data=True):
        ET.SubElement(
            nodes,
            "node",
            id=str(node),
            x=repr(float(data["x"])),
            y=repr(float(data["y"])),
            type="traffic_light" if node in signalised else "priority",
        )
    return nodes


def _plain_edges(graph: nx.MultiDiGraph) -> ET.Element:
    """The ``<edges>`` of a plain XML network: lanes, speed, priority by road rank, road type, and
    the shape of an edge bent by more than its two end points."""
    edges = ET.Element("edges")
    for u, v, k, data in graph.edges(keys=True, data=True):
        lanes = data.get("lanes", 1)
        lanes = int(float(lanes[0] if isinstance(lanes, list) else lanes))
        speed_m_per_s = float(data.get("speed_kph", 50.0)) / 3.6
        attrs = dict(
            id=str(data.get("sumo_id") or edge_id((u, v, k))),
            **{"from": str(u)},
            to=str(v),
            numLanes=str(max(1, lanes)),
            speed=f"{speed_m_per_s:.3f}",
            priority=str(road_rank(data)),
        )
        highway = data.get("highway")
        if highway:
            attrs["type"] = str(highway[0] if isinstance(highway, list) else highway)
        geometry = data.get("geometry")
        if geometry is not None and len(geometry.coords) > 2:
            attrs["shape"] = " ".join(f"{x!r},{y!r}" for x, y in list(geometry.coords))
        ET.SubElement(edges, "edge", **attrs)
    return edges
