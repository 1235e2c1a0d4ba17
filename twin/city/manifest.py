"""A city folder's manifest, ``city.toml``: the city's name and language, and each layer's file,
source and licence.

A folder without ``city.toml`` (an older import, a test's hand-made folder) gets a manifest
inferred from the conventional file names, with the folder's name as the city's.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field

from twin.config import StrictModel, validate
from twin.errors import InputError

MANIFEST_FILE = "city.toml"

LAYERS: dict[str, tuple[str, str]] = {
    # layer: (conventional file, the command that adds it)
    "boundary": ("base.gpkg", "twin data import-osm FILE.osm.pbf --out DIR (admin boundaries)"),
    "areas": ("base.gpkg", "twin data import-osm FILE.osm.pbf --out DIR (admin areas of the extract)"),
    "towns": ("base.gpkg", "twin data import-osm FILE.osm.pbf --out DIR"),
    "landmarks": ("base.gpkg", "(a landmarks layer: named points of interest)"),
    "roads": ("base.gpkg", "twin data import-osm FILE.osm.pbf --out DIR (or import-sumo NET.net.xml)"),
    "zones": ("base.gpkg", "twin data import-zones FILE --population-column COL --out DIR"),
    "buildings": ("base.gpkg", "twin data import-buildings FILE --out DIR"),
    "compute_sites": ("base.gpkg", "(a compute_sites layer in the city's GeoPackage)"),
    "terrain": ("terrain.npz", "(an elevation grid, terrain.npz)"),
    "bus_stops": ("transit.gpkg", "twin data import-gtfs FEED.zip --out DIR"),
    "bus_lines": ("transit.gpkg", "twin data import-gtfs FEED.zip --out DIR"),
    "bus_line_stops": ("transit.gpkg", "twin data import-gtfs FEED.zip --out DIR"),
    "water": ("water.inp", "twin data import-inp NET.inp --out DIR"),
    "water_valves": ("water_valves.csv", "(a valve layer CSV: valve_id, link, node)"),
}
"""Every layer a city may have, its conventional file, and how a user adds it."""


class LayerEntry(StrictModel):
    """One ``[layers.<name>]`` table."""

    file: str = Field(min_length=1, description="File in the city folder holding the layer.")
    layer: str | None = Field(default=None, description="Layer name inside a GeoPackage (default: the layer's).")
    source: str = Field(default="", description="Where the data comes from.")
    licence: str = Field(default="", description="Its licence.")


class CityTable(StrictModel):
    """The ``[city]`` table."""

    name: str = Field(min_length=1, description="The city's name, as reports show it.")
    name_en: str = Field(default="", description="Its English name.")
    crs: Literal["EPSG:4490"] = Field(default="EPSG:4490", description="CRS of every stored layer.")
    lang: Literal["zh", "en"] = Field(default="zh", description="Reports' default language.")
    reference_twin: bool = Field(default=False, description="True for generated data: reports say so.")
    caveat_zh: str = Field(default="", description="What reports must say about the data (中文).")
    caveat_en: str = Field(default="", description="What reports must say about the data (English).")
    residential_m2_per_person: float = Field(
        default=40.0, gt=0, le=500,
        description="Residential floor area per resident (m²), to derive population from buildings when "
        "the city has no zones; default: about China's urban figure in the 2020 census.",
    )


class CityManifest(StrictModel):
    """A whole ``city.toml``."""

    city: CityTable
    layers: dict[str, LayerEntry] = Field(default_factory=dict)

    def has(self, layer: str) -> bool:
        return layer in self.layers


def read_manifest(folder: Path) -> CityManifest:
    """The manifest of ``folder``: its ``city.toml``, else one inferred from the files present."""
    path = folder / MANIFEST_FILE
    if not path.exists():
        return infer_manifest(folder)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"TOML syntax error: {exc}", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc.reason}", path) from None
    manifest = validate(CityManifest, data, path)
    unknown = sorted(set(manifest.layers) - set(LAYERS))
    if unknown:
        raise InputError(f"[layers.{unknown[0]}]: unknown layer (known: {', '.join(LAYERS)})", path)
    missing = sorted(name for name, entry in manifest.layers.items() if not (folder / entry.file).exists())
    if missing:
        entry = manifest.layers[missing[0]]
        raise InputError(f"[layers.{missing[0]}] file = {entry.file!r}: file not found in the city folder", path)
    return manifest


def infer_manifest(folder: Path) -> CityManifest:
    """A manifest for a folder without ``city.toml``: every conventional file found is a layer."""
    layers = {name: LayerEntry(file=file) for name, (file, _) in LAYERS.items() if (folder / file).exists()}
    return CityManifest(city=CityTable(name=folder.resolve().name), layers=layers)


def write_manifest(folder: Path, manifest: CityManifest) -> None:
    """Write ``city.toml`` (whole, through a temporary file) into ``folder``."""
    lines = ["# A Changle Twin city folder: its name and each layer's file, source and licence.", "", "[city]"]
    for key, value in manifest.city.model_dump().items():
        lines.append(f"{key} = {_toml_value(value)}")
    for name, entry in manifest.layers.items():
        lines += ["", f"[layers.{name}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in entry.model_dump().items() if value is not None]
    tmp = folder / f".{MANIFEST_FILE}.partial"
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(folder / MANIFEST_FILE)


def with_layers(manifest: CityManifest, layers: dict[str, LayerEntry]) -> CityManifest:
    """A copy of ``manifest`` with ``layers`` added (or replaced)."""
    return manifest.model_copy(update={"layers": {**manifest.layers, **layers}})


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
