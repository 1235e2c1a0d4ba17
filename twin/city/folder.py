"""The city: every layer of a city folder, loaded on first use and cached on disk.

``load_city(data_dir)`` returns a :class:`City` whose attributes are the layers of
``docs/data_model.md``, found through the folder's manifest ``city.toml``
(:mod:`twin.city.manifest`). Nothing is read until an attribute is used. Layers that take work to
derive (the road graph above all) are pickled under ``twin.paths.cache_dir()/city`` keyed by the
source file's path, size and modification time, so a second load is fast; a changed file gets a
new key and the stale entry is simply never read again.

A city need not have every layer: an OSM import has only roads. Missing layers are ``None``,
and :meth:`City.require` turns a missing layer into an error naming the command that adds it.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from twin.city.derive import connect_zones, derive_zones
from twin.city.manifest import LAYERS, CityManifest, read_manifest
from twin.city.roads import EDGE_LAYER, NODE_LAYER, read_graph
from twin.city.terrain import Terrain
from twin.errors import InputError
from twin.paths import cache_dir
from twin.paths import data_dir as default_dir

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx
    import pandas as pd

    from twin.city.terrain import Terrain

log = logging.getLogger(__name__)

BASE_FILE = "base.gpkg"
TRANSIT_FILE = "transit.gpkg"
WATER_FILE = "water.inp"
VALVES_FILE = "water_valves.csv"
TERRAIN_FILE = "terrain.npz"
BASE_LAYERS = ("boundary", "areas", "towns", "landmarks", "zones", "buildings", "compute_sites")
TRANSIT_LAYERS = ("bus_stops", "bus_lines", "bus_line_stops")
CACHE_VERSION = 1
"""Bump when the cached representation changes."""


def _cache_key(path: Path, what: str) -> str:
    stat = path.stat()
    text = f"{CACHE_VERSION}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{what}"
    return hashlib.sha1(text.encode()).hexdigest()


def cached(path: Path, what: str, build: Any, use_cache: bool = True) -> Any:
    """``build()``, memoised on disk by ``path``'s identity (path, size, mtime) and ``what``."""
    if not use_cache:
        return build()

    folder = cache_dir() / "city"
    folder.mkdir(parents=True, exist_ok=True)
    entry = folder / f"{_cache_key(path, what)}.pickle"
    if entry.exists():
        try:
            with entry.open("rb") as handle:
                return pickle.load(handle)
        except Exception as exc:  # noqa: BLE001 - a corrupt cache entry is rebuilt, never fatal
            log.info("ignoring unreadable cache entry %s: %s", entry, exc)
    value = build()
    partial = entry.with_suffix(f".partial-{id(value):x}")
    with partial.open("wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(entry)
    return value


def list_layers(path: Path) -> list[str]:
    """Layer names of a GeoPackage (empty if the file does not exist)."""
    if not path.exists():
        return []
    import pyogrio  # deferred: pyogrio is slow to import; cached layers skip it

    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # noqa: BLE001 - any GDAL failure means the file is not a GeoPackage
        raise InputError(f"cannot read GeoPackage: {exc}", path) from None


def read_layer(path: Path, layer: str) -> gpd.GeoDataFrame:
    """One GeoPackage layer as a GeoDataFrame (through pyogrio with Arrow)."""
    import pyogrio  # deferred: pyogrio is slow to import; cached layers skip it

    frame = pyogrio.read_dataframe(path, layer=layer, use_arrow=True)
    return frame.drop(columns="fid") if "fid" in frame.columns else frame


@dataclass
class City:
    """A city folder's layers (see ``docs/data_model.md``); each is read on first access."""

    data_dir: Path
    manifest: CityManifest
    use_cache: bool = True
    _loaded: dict[str, Any] = field(default_factory=dict, repr=False)

    # --- the city and its files ----------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.manifest.city.name

    @property
    def lang(self) -> str:
        """The language of the city's reports, unless a command says otherwise."""
        return self.manifest.city.lang

    def caveat(self, lang: str) -> str:
        """What reports must say about this city's data (empty for real data without one)."""
        return getattr(self.manifest.city, f"caveat_{lang}", "")

    def layer_file(self, layer: str) -> Path | None:
        """The file holding ``layer``, or ``None`` if the city lacks it."""
        entry = self.manifest.layers.get(layer)
        return self.data_dir / entry.file if entry is not None else None

    def require(self, layer: str, needed_by: str) -> None:
        """Raise an :class:`InputError` naming the missing layer and the import that adds it."""
        if getattr(self, layer) is None:
            raise InputError(
                f"{needed_by} needs the city's {layer} layer, which it lacks; add it with: {LAYERS[layer][1]}",
                self.data_dir)

    def _once(self, name: str, load: Any) -> Any:
        if name not in self._loaded:
            self._loaded[name] = load()
        return self._loaded[name]

    def _gpkg_layer(self, layer: str) -> Any:
        path = self.layer_file(layer)
        if path is None:
            return None
        entry = self.manifest.layers[layer]
        name = entry.layer or layer

        def load() -> Any:
            if name not in self._layer_names(path):
                return None
            return cached(path, f"layer:{name}", lambda: read_layer(path, name), self.use_cache)

        return self._once(f"{path.name}:{name}", load)

    def _layer_names(self, path: Path) -> list[str]:
        return self._once(f"{path.name}:layers", lambda: list_layers(path))

    def layer_names(self) -> dict[str, list[str]]:
        """The GeoPackage layers present, by file name."""
        files = sorted({self.data_dir / e.file for e in self.manifest.layers.values() if e.file.endswith(".gpkg")})
        return {p.name: self._layer_names(p) for p in files if p.exists()}

    # --- base layers ---------------------------------------------------------------------------
    @property
    def boundary(self) -> gpd.GeoDataFrame | None:
        return self._gpkg_layer("boundary")

    @property
    def areas(self) -> gpd.GeoDataFrame | None:
        return self._gpkg_layer("areas")

    @property
    def towns(self) -> gpd.GeoDataFrame | None:
        return self._gpkg_layer("towns")

    @property
    def landmarks(self) -> gpd.GeoDataFrame | None:
        return self._gpkg_layer("landmarks")

    @property
    def zones(self) -> gpd.GeoDataFrame | None:
        """The zones with residents and jobs, each with its centroid connector ``node``; derived
        from the buildings when the city has no zones layer (:mod:`twin.city.derive`)."""

        def load() -> Any:
            given = self._gpkg_layer("zones")
            if given is not None:
                return connect_zones(given, self.roads)
            return derive_zones(self.areas, self.buildings, self.roads,
                                self.manifest.city.residential_m2_per_person)

        return self._once("zones:connected", load)

    @property
    def buildings(self) -> gpd.GeoDataFrame | None:
        return self._gpkg_layer("buildings")

    @property
    def compute_sites(self) -> gpd.GeoDataFrame | None:
        return self._gpkg_layer("compute_sites")

    @property
    def roads(self) -> nx.MultiDiGraph | None:
        """The road graph (OSMnx schema, EPSG:4490); ``None`` if the dataset has no roads."""

        path = self.layer_file("roads")

        def load() -> Any:
            if path is None:
                return None
            names = self._layer_names(path)
            if NODE_LAYER not in names or EDGE_LAYER not in names:
                return None
            return cached(path, "roads", lambda: read_graph(path), self.use_cache)

        return self._once("roads", load)

    @property
    def terrain(self) -> Terrain | None:
        path = self.layer_file("terrain")

        def load() -> Any:
            return Terrain.load(path) if path is not None else None

        return self._once("terrain", load)

    # --- other domains' layers ----------------------------------------------------------------
    @property
    def bus_stops(self) -> gpd.GeoDataFrame | None:
        return self._gpkg_layer("bus_stops")

    @property
    def bus_lines(self) -> gpd.GeoDataFrame | None:
        return self._gpkg_layer("bus_lines")

    @property
    def bus_line_stops(self) -> pd.DataFrame | None:
        return self._gpkg_layer("bus_line_stops")

    @property
    def water_inp(self) -> Path | None:
        """The EPANET ``.inp`` of the water network, if the city has one."""
        return self.layer_file("water")

    def water(self) -> Any:
        """A fresh ``wntr.network.WaterNetworkModel`` read from :attr:`water_inp` (or ``None``)."""
        if self.water_inp is None:
            return None
        import wntr  # deferred: wntr takes ~2 s to import; only the water layer needs it

        return wntr.network.WaterNetworkModel(str(self.water_inp))

    @property
    def water_valves(self) -> pd.DataFrame | None:
        path = self.layer_file("water_valves")

        def load() -> Any:
            if path is None:
                return None
            return pd.read_csv(path, dtype={"valve_id": str, "link": str, "node": str})

        return self._once("water_valves", load)

    def load_all(self) -> City:
        """Read every layer now (for benchmarks and the CLI); returns ``self``."""
        for name in BASE_LAYERS + TRANSIT_LAYERS + ("roads", "terrain", "water_valves"):
            getattr(self, name)
        return self


def load_city(data_dir: Path | str | None = None, use_cache: bool = True) -> City:
    """The city of ``data_dir`` (default: ``twin.paths.data_dir()``, i.e. the bundled Changle).

    Raises
    ------
    InputError
        If the folder does not exist, its ``city.toml`` is malformed, or it holds no layer at all.
    """
    folder = Path(data_dir) if data_dir is not None else default_dir()
    if not folder.is_dir():
        raise InputError("city folder not found", folder)
    manifest = read_manifest(folder)
    if not manifest.layers:
        known = sorted({file for file, _ in LAYERS.values()})
        raise InputError(f"no city here: expected city.toml or one of {', '.join(known)}", folder)
    return City(folder, manifest, use_cache=use_cache)
