"""Reading results folders back: a run (``manifest.json``), a sweep (``sweep.json``) or a suite
(``index.json``), everything a report shows, from the folder alone."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from twin.errors import InputError
from twin.kpis import LANGS

REPORT_FILES = ("report.md", "report.html")
INDEX_JSON = "index.json"
HEADLINE_FALLBACK = 6
"""KPIs shown for a run that names no headline KPIs (the first, alphabetically)."""
OPTIONS_TABLE = "options"
"""The table of options a scenario compared: ``option``, ``label_zh``, ``label_en``, then metrics."""
PEOPLE_TABLE = "affected_population"
"""People affected by place: ``place`` (a town or 街道 name), ``people`` and what affected them."""


def read_json(path: Path) -> Any:
    """A JSON file of a results folder; a missing or broken one is an :class:`InputError`."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"missing {path.name}", path.parent) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path.name} is not valid JSON ({exc.msg}, line {exc.lineno})", path.parent) from None


def folder_kind(folder: Path) -> str:
    """``"run"``, ``"sweep"`` or ``"suite"``; anything else is an :class:`InputError`."""
    if not folder.is_dir():
        raise InputError("not found or not a folder", folder)
    if (folder / "sweep.json").exists():
        return "sweep"
    if (folder / "manifest.json").exists():
        return "run"
    if (folder / INDEX_JSON).exists():
        return "suite"
    raise InputError("not a results folder (expected manifest.json from twin run, sweep.json from twin sweep "
                     "or index.json from twin suite)", folder)


@dataclass
class RunFolder:
    """What a run folder holds, as a report needs it."""

    path: Path
    manifest: dict[str, Any]
    kpis: dict[str, Any]
    intervals: dict[str, dict[str, Any]] = field(default_factory=dict)
    answer: dict[str, Any] | None = None
    notes: str = ""
    scenario_text: str = ""

    @property
    def header(self) -> dict[str, Any]:
        return self.manifest["scenario"]["scenario"]

    @property
    def kind(self) -> str:
        return self.header["kind"]

    @property
    def city(self) -> dict[str, Any]:
        return self.manifest.get("city") or {}

    def headline(self) -> list[str]:
        """The run's headline KPIs: those it named, else the first few alphabetically."""
        named = [name for name in self.manifest.get("headline") or [] if name in self.kpis]
        return named or sorted(self.kpis)[:HEADLINE_FALLBACK]

    def table(self, name: str) -> pd.DataFrame | None:
        path = self.path / f"{name}.parquet"
        return pd.read_parquet(path) if path.exists() else None

    def tables(self) -> list[str]:
        return sorted(p.stem for p in self.path.glob("*.parquet"))

    def figures(self, lang: str | None = None) -> list[str]:
        """The scenario's plots in its order (PNG names in the folder); a plot drawn in both
        languages (``<name>.zh.png``, ``<name>.en.png``) is given in ``lang``."""
        names = self.manifest.get("figures", [])
        chosen = []
        for name in names:
            stem, _, suffix = name.rpartition(".")
            if suffix in LANGS and stem:
                if suffix == lang or (lang not in LANGS and suffix == "zh"):
                    chosen.append(name)
            else:
                chosen.append(name)
        return [f"{n}.png" for n in chosen if (self.path / f"{n}.png").exists()]

    def renders(self) -> list[str]:
        """Every other PNG in the folder (or one level down): maps, 3D CIM renders, extra images."""
        listed = {f"{n}.png" for n in self.manifest.get("figures", [])}
        found = sorted(p.relative_to(self.path).as_posix() for p in self.path.glob("*.png"))
        found += sorted(p.relative_to(self.path).as_posix() for p in self.path.glob("*/*.png"))
        return [name for name in found if name not in listed]

    def pages(self) -> list[str]:
        """Interactive pages written beside the report (e.g. a 3D scene exported to HTML)."""
        found = sorted(p.relative_to(self.path).as_posix() for p in self.path.glob("*.html"))
        found += sorted(p.relative_to(self.path).as_posix() for p in self.path.glob("*/*.html"))
        return [name for name in found if Path(name).name not in REPORT_FILES]


def load_run(path: Path) -> RunFolder:
    """Read a run folder (see :class:`RunFolder`)."""
    intervals = path / "kpi_intervals.json"
    answer = path / "answer.json"
    notes = path / "notes.md"
    scenario = path / "scenario.toml"
    return RunFolder(
        path=path,
        manifest=read_json(path / "manifest.json"),
        kpis=read_json(path / "kpis.json"),
        intervals=read_json(intervals) if intervals.exists() else {},
        answer=read_json(answer) if answer.exists() else None,
        notes=notes.read_text(encoding="utf-8") if notes.exists() else "",
        scenario_text=scenario.read_text(encoding="utf-8") if scenario.exists() else "",
    )
