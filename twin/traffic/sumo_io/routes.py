"""SUMO route files: vehicles, trips and flows in (expanded as SUMO does), vehicles with explicit
routes out."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.errors import InputError


@dataclass(frozen=True)
class SumoTrip:
    """One vehicle of a route file: an explicit route, or an origin/destination to route."""

    id: str
    depart_s: float
    edges: tuple[str, ...] | None = None  # explicit route
    from_edge: str | None = None
    to_edge: str | None = None
    via: tuple[str, ...] = ()
    vtype: str | None = None  # the vehicle's type= (None: SUMO's default type)


def parse_seconds(value: str | None, where: str, source: Path) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{where}: depart = {value!r}: expected a number of seconds", source) from None


def read_routes(path: str | Path, seed: int = 0) -> list[SumoTrip]:
    """Vehicles of a ``.rou.xml`` (``<vehicle>``, ``<trip>``, ``<flow>``), sorted by departure.

    Flows expand as SUMO does: ``period`` (or ``vehsPerHour``, or ``number`` spread evenly over
    [begin, end)) gives evenly spaced vehicles ``<flow id>.<i>``; ``probability`` draws one
    vehicle per second with that probability (seeded by ``seed``). A vehicle or flow whose
    ``route`` names a ``routeDistribution`` draws each vehicle's route by the members'
    probabilities. Additional files may hold vehicles too (SUMO reads them from either).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("route file not found", path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputError(f"not valid XML: {exc}", path) from None
    named = _named_routes(root)
    rng = np.random.default_rng(seed)
    trips: list[SumoTrip] = []
    for element in root:
        tag = element.tag
        if tag == "vehicle":
            vid = element.get("id", "?")
            depart = parse_seconds(element.get("depart"), f"<vehicle id={vid!r}>", path)
            edges = _route_of(element, named, rng)
            if edges is None:
                raise InputError(f"<vehicle id={vid!r}>: no <route> and no known route id", path)
            trips.append(SumoTrip(vid, depart, edges=edges, vtype=element.get("type")))
        elif tag == "trip":
            vid = element.get("id", "?")
            depart = parse_seconds(element.get("depart"), f"<trip id={vid!r}>", path)
            if not element.get("from") or not element.get("to"):
                raise InputError(f"<trip id={vid!r}>: needs from= and to= edges", path)
            via = tuple((element.get("via") or "").split())
            trips.append(
                SumoTrip(
                    vid, depart, from_edge=element.get("from"), to_edge=element.get("to"), via=via,
                    vtype=element.get("type"),
                )
            )
        elif tag == "flow":
            trips += _expand_flow(element, named, rng, path)
    trips.sort(key=lambda trip: trip.depart_s)
    return trips


RouteChoice = tuple[str, ...] | list[tuple[tuple[str, ...], float]]
"""A named route's edges, or a ``routeDistribution``'s routes with their probabilities."""


def _named_routes(root: ET.Element) -> dict[str, RouteChoice]:
    """Routes by id, and each ``routeDistribution`` as its member routes and probabilities."""
    named: dict[str, RouteChoice] = {}
    for element in root.iter("route"):
        if element.get("id") and element.get("edges"):
            named[element.get("id")] = tuple(element.get("edges").split())
    for dist in root.iter("routeDistribution"):
        members = []
        for route in dist.iter("route"):
            edges = tuple(route.get("edges").split()) if route.get("edges") else named.get(route.get("refId"))
            if isinstance(edges, tuple):
                members.append((edges, float(route.get("probability", "1"))))
        if dist.get("id") and members:
            named[dist.get("id")] = members
    return named


def _route_of(element: ET.Element, named: dict[str, RouteChoice], rng: np.random.Generator) -> tuple[str, ...] | None:
    """The edges a vehicle or flow drives: its own ``<route>``, a named route, or one draw from a
    named ``routeDistribution`` (by its probabilities, as SUMO draws); ``None`` if none."""
    inner = element.find("route")
    if inner is not None and inner.get("edges"):
        return tuple(inner.get("edges").split())
    choice = named.get(element.get("route"))
    if choice is None or isinstance(choice, tuple):
        return choice
    weights = np.array([w for _, w in choice], float)
    pick = int(rng.choice(len(choice), p=weights / weights.sum())) if weights.sum() > 0 else 0
    return choice[pick][0]


SUMO_DEFAULT_TYPES = frozenset(
    {"DEFAULT_VEHTYPE", "DEFAULT_PEDTYPE", "DEFAULT_BIKETYPE", "DEFAULT_TAXITYPE", "DEFAULT_RAILTYPE",
     "DEFAULT_CONTAINERTYPE"}
)
"""Vehicle types SUMO defines without a ``<vType>``."""


def vtype_ids(path: str | Path) -> set[str]:
    """Ids of the ``<vType>`` and ``<vTypeDistribution>`` elements a route or additional file defines."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputError(f"not valid XML: {exc}", path) from None
    return {e.get("id") for tag in ("vType", "vTypeDistribution") for e in root.iter(tag) if e.get("id")}


def unknown_edges(trips: list[SumoTrip], known: set[str]) -> tuple[str, str] | None:
    """The first ``(vehicle id, edge id)`` whose route, origin, via or destination is no edge of
    the network, or ``None``."""
    for trip in trips:
        for edge in (*(trip.edges or ()), *(e for e in (trip.from_edge, trip.to_edge) if e), *trip.via):
            if edge not in known:
                return trip.id, edge
    return None


def _expand_flow(element, named, rng, path: Path) -> list[SumoTrip]:  # noqa: ANN001
    fid = element.get("id", "?")
    where = f"<flow id={fid!r}>"
    begin = parse_seconds(element.get("begin", "0"), where, path)
    end = parse_seconds(element.get("end", "3600"), where, path)
    distribution = isinstance(named.get(element.get("route")), list)
    edges = None if distribution else _route_of(element, named, rng)
    if edges is None and not distribution and not (element.get("from") and element.get("to")):
        raise InputError(f"{where}: needs a route or from= and to=", path)
    period_text = element.get("period")
    if element.get("probability") is not None:
        p = float(element.get("probability"))
        seconds = np.arange(math.ceil(begin), math.ceil(end))
        times = seconds[rng.random(len(seconds)) < p].astype(float)
    elif period_text is not None and period_text.startswith("exp("):
        rate_per_s = float(period_text[4:-1])  # Poisson arrivals with this rate
        gaps = rng.exponential(1.0 / rate_per_s, size=int((end - begin) * rate_per_s * 2 + 20))
        times = begin + np.cumsum(gaps)
        times = times[times < end]
    else:
        if period_text is not None:
            period = float(period_text)
        elif element.get("vehsPerHour") is not None:
            period = 3600.0 / float(element.get("vehsPerHour"))
        elif element.get("number") is not None:
            period = (end - begin) / max(int(element.get("number")), 1)
        else:
            raise InputError(f"{where}: needs period, vehsPerHour, number or probability", path)
        times = np.arange(begin, end - 1e-9, period)
        if element.get("number") is not None:
            times = times[: int(element.get("number"))]
    via = tuple((element.get("via") or "").split())
    # On a route distribution each vehicle draws its own route.
    drawn = [_route_of(element, named, rng) for _ in times] if distribution else [edges] * len(times)
    return [
        SumoTrip(
            f"{fid}.{i}",
            float(t),
            edges=drawn[i],
            from_edge=None if drawn[i] else element.get("from"),
            to_edge=None if drawn[i] else element.get("to"),
            via=via,
            vtype=element.get("type"),
        )
        for i, t in enumerate(times)
    ]


def write_routes(
    trips: list[tuple[str, float, list[str]]], out_path: str | Path, depart_speed: str = "0"
) -> Path:
    """Write vehicles ``(id, depart_s, [edge ids])`` with explicit routes, sorted by departure."""
    root = ET.Element("routes")
    for vid, depart, edges in sorted(trips, key=lambda t: (t[1], str(t[0]))):
        vehicle = ET.SubElement(
            root, "vehicle", id=str(vid), depart=f"{depart:.2f}", departSpeed=depart_speed
        )
        ET.SubElement(vehicle, "route", edges=" ".join(edges))
    out_path = Path(out_path)
    ET.indent(root)
    ET.ElementTree(root).write(out_path, encoding="utf-8", xml_declaration=True)
    return out_path
