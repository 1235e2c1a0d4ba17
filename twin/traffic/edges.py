"""What the traffic model reads of a road edge: lanes, free speed and road rank.

Edges follow the OSMnx schema (``docs/data_model.md``), where a merged way may carry a list of
values for ``lanes``, ``maxspeed`` or ``highway``: the first one is used.
"""

from __future__ import annotations

HIGHWAY_RANK = {
    "motorway": 7,
    "trunk": 6,
    "primary": 5,
    "secondary": 4,
    "tertiary": 3,
    "unclassified": 2,
    "residential": 2,
    "living_street": 1,
    "service": 1,
}
"""Priority of OSM road classes at unsignalised junctions (higher is the major road)."""

DEFAULT_SPEED_KPH = 50.0
"""Free speed of an edge with no usable ``speed_kph`` or ``maxspeed`` (km/h, the urban default)."""


def _first(value: object) -> object:
    """The first of a merged way's values, or the value itself."""
    return value[0] if isinstance(value, list) else value


def edge_lanes(data: dict) -> int:
    """Lanes of an edge in its direction (at least 1; 1 when ``lanes`` is missing or unreadable)."""
    try:
        return max(1, int(float(_first(data.get("lanes", 1)))))
    except (TypeError, ValueError):
        return 1


def edge_speed_m_per_s(data: dict) -> float:
    """Free speed of an edge (m/s) from ``speed_kph``, else ``maxspeed``, else 50 km/h."""
    for key in ("speed_kph", "maxspeed"):
        try:
            speed_kph = float(_first(data.get(key)))
        except (TypeError, ValueError):
            continue
        if speed_kph > 0:
            return speed_kph / 3.6
    return DEFAULT_SPEED_KPH / 3.6


def road_rank(data: dict) -> int:
    """Priority of an edge's road class (:data:`HIGHWAY_RANK`; ``*_link`` as its road, else 2)."""
    highway = _first(data.get("highway", ""))
    return HIGHWAY_RANK.get(str(highway).removesuffix("_link"), 2)
