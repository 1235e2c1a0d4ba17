"""Options commands share: ``--city DIR`` picks the city folder a command works on; ``--coords``
says which lon/lat a file to import uses."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from twin.paths import CITY_ENV


def with_city(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` with a ``--city DIR`` option that sets the city for everything it runs.

    The choice goes into the environment (``TWIN_DATA_DIR``), so that the worker processes of a
    sweep or of a run's replications use the same city.
    """
    signature = inspect.signature(command)
    option = inspect.Parameter(
        "city", inspect.Parameter.KEYWORD_ONLY, annotation=Path | None,
        default=typer.Option(None, "--city", help="City folder (city.toml and its layers) "
                             f"[default: ${CITY_ENV}, else the bundled Changle].", show_default=False),
    )

    @functools.wraps(command)
    def wrapper(*args: Any, city: Path | None = None, **kwargs: Any) -> Any:
        if city is None:
            return command(*args, **kwargs)
        previous = os.environ.get(CITY_ENV)
        os.environ[CITY_ENV] = str(city.resolve())
        try:
            return command(*args, **kwargs)
        finally:  # an in-process caller (a test, a notebook) keeps its own city afterwards
            if previous is None:
                os.environ.pop(CITY_ENV, None)
            else:
                os.environ[CITY_ENV] = previous

    wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), option])
    return wrapper


class Coords(StrEnum):
    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"


COORDS_OPTION = typer.Option(
    Coords.wgs84, "--coords", case_sensitive=False,
    help="Lon/lat the file uses: wgs84 (OSM, GPS; = CGCS2000), gcj02 (AMap/高德, Tencent) or bd09 (Baidu). "
    "Web-map coordinates are converted only when you say so.")
