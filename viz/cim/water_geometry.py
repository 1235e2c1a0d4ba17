"""Where the water network's links lie: read straight from the ``.inp`` text, without WNTR.

Drawing the mains needs only each link's end nodes, its vertices and its diameter. WNTR builds a
full hydraulic model for that and its import alone takes seconds (it pulls in matplotlib's
pylab), which would dominate a district render. The EPANET 2.2 input format is plain sections
of whitespace-separated columns, so the four sections needed are read here directly:
``[PIPES]`` (id, node1, node2, length, diameter, ...), ``[PUMPS]`` and ``[VALVES]`` (id, node1,
node2, ...), ``[COORDINATES]`` (node, x, y) and ``[VERTICES]`` (link, x, y, in order), and
``[OPTIONS] UNITS`` for the diameter unit (millimetres for SI flow units, inches for US ones).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from twin.errors import InputError

US_FLOW_UNITS = {"CFS", "GPM", "MGD", "IMGD", "AFD"}
INCH_M = 0.0254


@dataclass
class LinkGeometry:
    """One link of the network: its end nodes, its polyline (x, y) and diameter (m)."""

    name: str
    start_node: str
    end_node: str
    coordinates: list[tuple[float, float]]
    diameter_m: float


def _sections(path: Path) -> dict[str, list[list[str]]]:
    sections: dict[str, list[list[str]]] = defaultdict(list)
    current = None
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            current = line.upper()
            continue
        if current is not None:
            sections[current].append(line.split())
    return sections


def read_link_geometry(path: Path) -> list[LinkGeometry]:
    """Every pipe, pump and valve of the ``.inp`` at ``path`` with its polyline and diameter.

    Raises
    ------
    InputError
        If a link names a node without coordinates.
    """
    sections = _sections(Path(path))
    options = sections["[OPTIONS]"]
    units = next((row[1].upper() for row in options if row[0].upper() == "UNITS" and len(row) > 1), "GPM")
    diameter_unit_m = INCH_M if units in US_FLOW_UNITS else 0.001
    coords = {row[0]: (float(row[1]), float(row[2])) for row in sections["[COORDINATES]"] if len(row) >= 3}
    vertices: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in sections["[VERTICES]"]:
        vertices[row[0]].append((float(row[1]), float(row[2])))
    links = []
    for section, diameter_column in (("[PIPES]", 4), ("[PUMPS]", None), ("[VALVES]", 3)):
        for row in sections[section]:
            name, start, end = row[0], row[1], row[2]
            if start not in coords or end not in coords:
                raise InputError(f"{section} {name}: node {start if start not in coords else end} "
                                 "has no [COORDINATES] entry", path)
            diameter = float(row[diameter_column]) * diameter_unit_m if diameter_column else 0.3
            links.append(LinkGeometry(name, start, end, [coords[start], *vertices[name], coords[end]],
                                      diameter))
    return links
