"""Adding layers to a city folder: what every importer shares.

An importer reads a file the planner holds, turns it into one or more of our layers, and hands
them to :func:`add_layers`, which

* creates the city folder (with a ``city.toml``) if it does not exist yet;
* refuses to replace a layer the city already has unless ``force`` is given;
* writes every new file into a hidden staging folder first, then moves the files in and writes
  the manifest last, so that an importer that fails leaves the city folder as it was.

Layer files are named by layer (``roads.gpkg``, ``buildings.gpkg``, ``water.inp``), never by city.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from twin.city.manifest import (
    LAYERS,
    MANIFEST_FILE,
    CityManifest,
    CityTable,
    LayerEntry,
    read_manifest,
    with_layers,
    write_manifest,
)
from twin.errors import InputError
from twin.results import claim

Writer = Callable[[Path], None]
"""Writes a layer's file at the path it is given."""


@dataclass(frozen=True)
class NewLayer:
    """A layer an importer made: its file name in the city folder, how to write it, and where it
    came from. Layers that share a file (the three transit layers) share one writer, called once."""

    file: str
    write: Writer
    source: str
    licence: str = ""
    gpkg_layer: str | None = None


def _base_manifest(out_dir: Path, city_name: str | None, lang: str) -> CityManifest:
    if (out_dir / MANIFEST_FILE).exists() or (out_dir.is_dir() and any(out_dir.iterdir())):
        return read_manifest(out_dir)
    return CityManifest(city=CityTable(name=city_name or out_dir.resolve().name, lang=lang))  # type: ignore[arg-type]


def add_layers(out_dir: Path, layers: dict[str, NewLayer], force: bool = False, city_name: str | None = None,
               lang: str = "zh") -> CityManifest:
    """Add ``layers`` to the city folder ``out_dir`` (created if needed); return its manifest."""
    unknown = sorted(set(layers) - set(LAYERS))
    if unknown:
        raise ValueError(f"unknown layers {unknown}")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("exists and is not a folder", out_dir)
    with claim(out_dir, force=True):  # the folder may exist: it is a city being built up
        manifest = _base_manifest(out_dir, city_name, lang)
        present = [name for name in layers if manifest.has(name)]
        if present and not force:
            raise InputError(f"the city already has {', '.join(present)} (layer{'s' if len(present) > 1 else ''} "
                             "this import brings); pass --force to replace them", out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".import.partial-", dir=out_dir))
        try:
            written: dict[str, Path] = {}
            for layer in layers.values():
                if layer.file not in written:  # layers sharing a file share its writer
                    written[layer.file] = staging / layer.file
                    layer.write(written[layer.file])
            for name, path in written.items():
                path.replace(out_dir / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        entries = {name: LayerEntry(file=layer.file, layer=layer.gpkg_layer, source=layer.source,
                                    licence=layer.licence) for name, layer in layers.items()}
        manifest = with_layers(manifest, entries)
        write_manifest(out_dir, manifest)
    return manifest
