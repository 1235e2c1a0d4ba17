"""SUMO configuration files (``.sumocfg``): the net, route and additional files, begin and end."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from twin.errors import InputError
from twin.traffic.sumo_io.routes import parse_seconds


@dataclass(frozen=True)
class SumoConfig:
    """What we use of a ``.sumocfg``."""

    path: Path
    net_file: Path
    route_files: tuple[Path, ...]
    additional_files: tuple[Path, ...]
    begin_s: float
    end_s: float | None
    ignore_route_errors: bool = False  # SUMO's --ignore-route-errors: drop bad routes, do not stop


def read_sumocfg(path: str | Path) -> SumoConfig:
    """Read the net, route and additional files and the begin/end times of a ``.sumocfg``."""
    path = Path(path)
    if not path.exists():
        raise InputError("SUMO configuration not found", path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputError(f"not valid XML: {exc}", path) from None

    def value(tag: str) -> str | None:
        element = root.find(f".//{tag}")
        return element.get("value") if element is not None else None

    net = value("net-file")
    if not net:
        raise InputError("no <net-file value=...> in <input>", path)
    routes = [p for p in (value("route-files") or "").replace(",", " ").split() if p]
    additional = [p for p in (value("additional-files") or "").replace(",", " ").split() if p]
    begin = value("begin")
    end = value("end")
    folder = path.parent
    return SumoConfig(
        path=path,
        net_file=(folder / net).resolve(),
        route_files=tuple((folder / p).resolve() for p in routes),
        additional_files=tuple((folder / p).resolve() for p in additional),
        begin_s=parse_seconds(begin, "<begin>", path) if begin else 0.0,
        end_s=parse_seconds(end, "<end>", path) if end else None,
        ignore_route_errors=(value("ignore-route-errors") or "false").lower() in ("true", "1", "yes", "on"),
    )


def write_sumocfg(
    out_path: str | Path,
    net_file: Path,
    route_files: list[Path],
    additional_files: list[Path] | None = None,
    begin_s: float = 0.0,
    end_s: float | None = None,
) -> Path:
    """Write a ``.sumocfg`` referencing files relative to its own folder."""
    out_path = Path(out_path)
    folder = out_path.parent.resolve()

    def rel(p: Path) -> str:
        return os.path.relpath(Path(p).resolve(), folder)

    root = ET.Element("configuration")
    inputs = ET.SubElement(root, "input")
    ET.SubElement(inputs, "net-file", value=rel(net_file))
    ET.SubElement(inputs, "route-files", value=",".join(rel(p) for p in route_files))
    if additional_files:
        ET.SubElement(inputs, "additional-files", value=",".join(rel(p) for p in additional_files))
    time = ET.SubElement(root, "time")
    ET.SubElement(time, "begin", value=f"{begin_s:g}")
    if end_s is not None:
        ET.SubElement(time, "end", value=f"{end_s:g}")
    ET.indent(root)
    ET.ElementTree(root).write(out_path, encoding="utf-8", xml_declaration=True)
    return out_path
