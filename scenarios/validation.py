"""The validation pass that knows everything a run will need, shared by ``twin validate``,
``twin run``, ``twin suite`` and ``twin sweep``.

The pydantic file model checks types, ranges and finite numbers. A kind's ``check`` then resolves
what the model cannot see: places and layers of the city, files the scenario names, rules
across fields. Last, its ``estimate`` gives the memory and time a run needs, and a run that
cannot fit this machine is refused with the key that drives its size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.city.folder import City, load_city
from twin.errors import InputError

MEMORY_SHARE = 0.8
"""Share of this machine's physical memory a single run may plan to use."""
MAX_RUN_S = 24 * 3600.0
"""A run estimated to take longer than this is refused (use a sweep, or a smaller scenario)."""


@dataclass
class CheckContext:
    """What a kind's ``check`` may look at: the scenario file and, loaded on first use, the city."""

    source: Path | str
    city_dir: Path | None = None
    _city: City | None = field(default=None, repr=False)

    @property
    def city(self) -> City:
        """The city the scenario runs on (``--city``, else ``$TWIN_DATA_DIR``, else Changle)."""
        if self._city is None:
            self._city = load_city(self.city_dir)
        return self._city

    def fail(self, key: str, value: Any, expected: str) -> InputError:
        """An :class:`InputError` for ``[table] key = value: expected`` in this scenario file."""
        return InputError(f"{key} = {value!r}: {expected}", self.source)

    def file(self, key: str, value: str | Path) -> Path:
        """``value`` as a path relative to the scenario file's folder; an error if it is missing."""
        path = Path(value)
        if not path.is_absolute() and isinstance(self.source, Path):
            candidate = self.source.parent / path
            path = candidate if candidate.exists() or not path.exists() else path
        if not path.is_file():
            raise self.fail(key, str(value), "file not found")
        return path


@dataclass(frozen=True)
class SizeEstimate:
    """How big a run will be, and which key makes it so."""

    memory_bytes: float
    seconds: float
    driver: str


def machine_memory_bytes() -> float:
    """Physical memory of this machine (bytes)."""
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def check_size(estimate: SizeEstimate, source: Path | str) -> None:
    """Refuse a run that cannot fit this machine, saying how big it would be and why."""
    limit = MEMORY_SHARE * machine_memory_bytes()
    if estimate.memory_bytes > limit:
        raise InputError(
            f"{estimate.driver}: the run would need about {_gib(estimate.memory_bytes)} of memory, "
            f"more than this machine can give ({_gib(limit)})", source)
    if estimate.seconds > MAX_RUN_S:
        raise InputError(
            f"{estimate.driver}: the run would take about {estimate.seconds / 3600:,.0f} h "
            f"(at most {MAX_RUN_S / 3600:.0f} h); shorten it or split it into a sweep", source)


def _gib(size_bytes: float) -> str:
    return f"{size_bytes / 2**30:,.1f} GiB"
