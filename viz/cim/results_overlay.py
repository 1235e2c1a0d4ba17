"""What a run's results folder says about the map: the ``cim_*`` tables convention.

A scenario that wants its results drawn on the CIM writes some of these tables (through
``RunResult.tables``, so each is Parquet + CSV in the run folder). All are optional; a render
uses whichever are present. Columns not listed are ignored.

``cim_road_links``
    ``u``, ``v``, ``key`` (a directed edge of ``city.roads``) and one or more metrics, used in this
    order of preference: ``tti`` (travel-time index, ratio ≥ 1), ``speed_m_per_s``, ``queue_veh``,
    ``flow_veh_per_h``.
``cim_water_nodes``
    ``node`` (EPANET junction name) and ``pressure_m`` (pressure head, m); optional boolean
    ``cut_off`` (inside the isolated segment: links with both ends cut off are drawn isolated).
``cim_water_links``
    ``link`` (EPANET link name), and optional booleans ``burst`` (the burst pipe) and ``isolated``
    (closed off by the isolation plan).
``cim_buildings``
    ``building_id`` and one numeric value column (its name carries its unit, e.g. ``pressure_m``,
    ``unserved_ratio``); buildings are coloured by it.
``cim_routes``
    ``route_id``, ``seq``, ``node`` (road nodes in travel order), optional ``autonomous`` (bool):
    routes to draw above the roads (the driverless line, a detour, ...).
``cim_focus``
    One row: ``lon``, ``lat`` (EPSG:4490), ``radius_m`` and ``label``: where the ``focus`` view
    looks and what its title says. Without it the focus is derived from the other tables.

Runs of kinds that predate this convention are read through adapters of their own tables (only
when the run wrote no ``cim_*`` table): ``signal_timing`` (``link_times_best``: time-mean speed
and queue per road link) and ``pipe_burst`` (``junction_service``: minimum pressure during the
event and the cut-off junctions; the burst pipe from the ``timeline``'s burst event).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from twin.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

ROAD_METRICS: dict[str, dict[str, Any]] = {
    "tti": {"title": "Travel-time index TTI (ratio)", "cmap": "RdYlGn_r", "clim": (1.0, 2.5), "scale": 1.0},
    "speed_m_per_s": {"title": "Speed (km/h)", "cmap": "RdYlGn", "clim": (0.0, 80.0), "scale": 3.6},
    "queue_veh": {"title": "Queue (veh)", "cmap": "YlOrRd", "clim": None, "scale": 1.0},
    "flow_veh_per_h": {"title": "Flow (veh/h)", "cmap": "viridis", "clim": None, "scale": 1.0},
}
"""Road metrics in order of preference, with how each is drawn (``scale`` converts to the shown unit)."""

TABLES = ("cim_road_links", "cim_water_nodes", "cim_water_links", "cim_buildings", "cim_routes", "cim_focus")

_REQUIRED = {
    "cim_road_links": ("u", "v", "key"),
    "cim_water_nodes": ("node", "pressure_m"),
    "cim_water_links": ("link",),
    "cim_buildings": ("building_id",),
    "cim_routes": ("route_id", "seq", "node"),
    "cim_focus": ("lon", "lat", "radius_m", "label"),
}


@dataclass(frozen=True)
class Focus:
    """Where the focus view looks: a point (EPSG:4490) and a radius (m) around it."""

    lon: float
    lat: float
    radius_m: float
    label: str


@dataclass
class Overlay:
    """A run's map-relevant outputs."""

    run_dir: Path
    scenario_name: str
    kind: str
    tables: dict[str, pd.DataFrame]

    def table(self, name: str) -> pd.DataFrame | None:
        """The ``cim_*`` table ``name``, or ``None`` if the run did not write it."""
        return self.tables.get(name)

    @property
    def road_metric(self) -> str | None:
        """The road metric to colour by (first of :data:`ROAD_METRICS` present), if any."""
        links = self.table("cim_road_links")
        if links is None:
            return None
        return next((m for m in ROAD_METRICS if m in links.columns), None)

    @property
    def building_metric(self) -> str | None:
        """The value column of ``cim_buildings``, if any."""
        table = self.table("cim_buildings")
        if table is None:
            return None
        return next(c for c in table.columns if c != "building_id")

    @property
    def focus(self) -> Focus | None:
        """The run's own ``cim_focus`` row, if it wrote one."""
        table = self.table("cim_focus")
        if table is None:
            return None
        row = table.iloc[0]
        return Focus(float(row["lon"]), float(row["lat"]), float(row["radius_m"]), str(row["label"]))

    @property
    def is_empty(self) -> bool:
        """Whether the run wrote none of the ``cim_*`` tables."""
        return not self.tables


def _check_columns(name: str, table: pd.DataFrame, path: Path) -> None:
    missing = [c for c in _REQUIRED[name] if c not in table.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}; expected {list(_REQUIRED[name])} and values", path)
    if name == "cim_road_links" and not any(m in table.columns for m in ROAD_METRICS):
        raise InputError(f"no metric column; expected one of {list(ROAD_METRICS)}", path)
    if name == "cim_buildings":
        values = [c for c in table.columns if c != "building_id"]
        if not values or not all(table[c].dtype.kind in "biuf" for c in values[:1]):
            raise InputError("expected one numeric value column beside building_id", path)
    if name == "cim_focus" and len(table) != 1:
        raise InputError(f"{len(table)} rows; expected exactly one", path)


def _signal_timing_tables(run_dir: Path) -> dict[str, pd.DataFrame]:
    """``link_times_best`` (per link and time bin) → ``cim_road_links`` with time-mean metrics."""

    path = run_dir / "link_times_best.parquet"
    if not path.exists():
        return {}
    bins = pd.read_parquet(path)
    grouped = bins.groupby(["u", "v", "key"], sort=True)
    links = pd.DataFrame({
        "speed_m_per_s": grouped["mean_speed_m_per_s"].mean(),
        "queue_veh": grouped["mean_queue_veh"].mean(),
    }).reset_index()
    links["u"] = links["u"].astype("int64")
    links["v"] = links["v"].astype("int64")
    return {"cim_road_links": links}


def _pipe_burst_tables(run_dir: Path) -> dict[str, pd.DataFrame]:
    """``junction_service`` and ``timeline`` → ``cim_water_nodes`` and ``cim_water_links``."""

    path = run_dir / "junction_service.parquet"
    if not path.exists():
        return {}
    junctions = pd.read_parquet(path)
    tables = {"cim_water_nodes": pd.DataFrame({"node": junctions["junction"].astype(str),
                                               "pressure_m": junctions["min_pressure_m"].astype(float)})}
    if "cut_off" in junctions.columns:
        tables["cim_water_nodes"]["cut_off"] = junctions["cut_off"].astype(bool).to_numpy()
    burst = None
    timeline_path = run_dir / "timeline.parquet"
    if timeline_path.exists():
        timeline = pd.read_parquet(timeline_path)
        details = timeline.loc[timeline["event"] == "burst", "detail"].astype(str)
        match = re.search(r"pipe (\S+)", details.iloc[0]) if len(details) else None
        burst = match.group(1) if match else None
    if burst is not None:
        tables["cim_water_links"] = pd.DataFrame({"link": [burst], "burst": [True]})
    return tables


_ADAPTERS = {"signal_timing": _signal_timing_tables, "pipe_burst": _pipe_burst_tables}
"""Readers of the known tables of kinds that write no ``cim_*`` tables themselves."""


def load_overlay(run_dir: Path) -> Overlay:
    """Read a results folder's ``cim_*`` tables and its manifest.

    Raises
    ------
    InputError
        If ``run_dir`` is not a results folder (no ``manifest.json``) or a table lacks columns.
    """

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError("results folder not found; expected a folder written by 'twin run'", run_dir)
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.exists():
        raise InputError("not a results folder (no manifest.json); expected a folder written by 'twin run'",
                         run_dir)
    manifest = json.loads(manifest_path.read_text())
    header = manifest.get("scenario", {}).get("scenario", {})
    tables = {}
    for name in TABLES:
        path = run_dir / f"{name}.parquet"
        if path.exists():
            table = pd.read_parquet(path)
            _check_columns(name, table, path)
            tables[name] = table
    kind = str(header.get("kind", ""))
    if not tables and kind in _ADAPTERS:
        tables = _ADAPTERS[kind](run_dir)
    return Overlay(run_dir, str(header.get("name", run_dir.name)), str(header.get("kind", "")), tables)
