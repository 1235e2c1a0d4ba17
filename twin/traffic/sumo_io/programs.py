"""SUMO traffic-light programmes (``tlLogic``): what a network or an additional file holds, and
writing ours as an additional file that replaces the network's own."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from twin.errors import InputError


@dataclass(frozen=True)
class SumoPhase:
    """One phase of a programme: its duration, one state letter per link index, and the minimum
    and maximum durations of an actuated phase (``None`` when not given)."""

    duration_s: float
    state: str
    min_dur_s: float | None = None
    max_dur_s: float | None = None


@dataclass(frozen=True)
class SumoProgram:
    """One ``tlLogic``: the light's id, the programme's id and type, its offset and phases."""

    tl_id: str
    program_id: str
    kind: str  # static, actuated, ...
    offset_s: float
    phases: tuple[SumoPhase, ...]
    source: str = ""  # the file it was read from (the network or an additional file)


def optional_float(value: object) -> float | None:
    """A number from sumolib or XML (str, float, ``None`` or -1 for unset); ``None`` if unset."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def read_programs(path: str | Path) -> dict[str, SumoProgram]:
    """``tlLogic`` programmes of an additional file (or a network), by traffic-light id.

    When a file holds several programmes for one light, the last wins, as in SUMO.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("additional file not found", path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputError(f"not valid XML: {exc}", path) from None
    programs = {}
    for element in root.iter("tlLogic"):
        phases = tuple(
            SumoPhase(
                float(p.get("duration")),
                p.get("state"),
                optional_float(p.get("minDur")),
                optional_float(p.get("maxDur")),
            )
            for p in element.iter("phase")
        )
        if not phases:
            continue
        programs[element.get("id")] = SumoProgram(
            element.get("id"),
            element.get("programID", "0"),
            element.get("type", "static"),
            float(element.get("offset", "0")),
            phases,
            str(path),
        )
    return programs


def write_programs(programs: list[SumoProgram], out_path: str | Path) -> Path:
    """Write traffic-light programmes as a SUMO additional file (loaded with ``-a``).

    SUMO switches each traffic light to the last programme loaded for it, so these replace the
    network's own programmes.
    """
    root = ET.Element("additional")
    for program in programs:
        element = ET.SubElement(
            root,
            "tlLogic",
            id=program.tl_id,
            type=program.kind,
            programID=program.program_id,
            offset=f"{program.offset_s:g}",
        )
        for phase in program.phases:
            attrs = {"duration": f"{phase.duration_s:g}", "state": phase.state}
            if phase.min_dur_s is not None:
                attrs["minDur"] = f"{phase.min_dur_s:g}"
            if phase.max_dur_s is not None:
                attrs["maxDur"] = f"{phase.max_dur_s:g}"
            ET.SubElement(element, "phase", **attrs)
    out_path = Path(out_path)
    ET.indent(root)
    ET.ElementTree(root).write(out_path, encoding="utf-8", xml_declaration=True)
    return out_path
