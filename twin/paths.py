"""Where the project's files live: bundled data, bundled scenarios, caches and logs.

The project is installed in editable mode (``make`` does ``pip install -e``), so the bundled
``gis_data/`` and ``scenarios/`` folders are found next to the package. ``TWIN_DATA_DIR``
points the model at another dataset (for example one imported from real OSM/EPANET files).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT: Path = Path(__file__).resolve().parent.parent
"""The checkout's top folder (parent of ``twin/``)."""

SCENARIOS_DIR: Path = REPO_ROOT / "scenarios"
"""Bundled scenario files, ``scenarios/*.toml``."""


CITY_ENV = "TWIN_DATA_DIR"
"""The environment variable naming the city folder in use (``--city`` sets it)."""


def data_dir() -> Path:
    """The city folder in use: ``$TWIN_DATA_DIR`` (set by ``--city``), else the bundled ``gis_data/``."""
    return Path(os.environ.get(CITY_ENV, REPO_ROOT / "gis_data"))


def cache_dir() -> Path:
    """A writable cache folder for derived arrays and logs (``$XDG_CACHE_HOME/changle-twin``)."""
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    path = Path(base) / "changle-twin"
    path.mkdir(parents=True, exist_ok=True)
    return path
