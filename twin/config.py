"""Scenario files: TOML read with :mod:`tomllib`, validated by pydantic models.

Every scenario file has a ``[scenario]`` table (:class:`ScenarioHeader`) and one or more tables of
its own kind. A kind's file model subclasses :class:`ScenarioFile`. Models are strict:

* unknown keys are errors (with a "did you mean" hint), so a misspelt or unit-less key such as
  ``duration = 60`` never silently falls back to a default;
* types are not coerced: ``seed = "7"`` or ``duration_s = "60"`` are errors;
* ranges are declared with ``Field(gt=..., le=...)`` and reported with the offending value.

Validation failures become one-line :class:`~twin.errors.InputError` messages naming the file,
the key and what was expected.
"""

from __future__ import annotations

import difflib
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from twin.errors import InputError

DEFAULT_START = datetime(2025, 6, 3, 7, 0, 0)
"""Default simulated start: a Tuesday 07:00 local time (Asia/Shanghai), the AM peak."""


class StrictModel(BaseModel):
    """Base for every configuration model: unknown keys forbidden, no type coercion, and only
    finite numbers (``inf`` and ``nan`` are never a physical quantity in a scenario file)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


NAME_PATTERN = r"^[^\x00-\x1f/\\:*?\"<>|.][^\x00-\x1f/\\:*?\"<>|]*$"
"""A scenario or suite name: any script (热线, Helsinki), usable as a folder name on every system:
no control or path characters, not hidden (no leading dot), at most 120 characters."""


class ScenarioHeader(StrictModel):
    """The ``[scenario]`` table common to every scenario file."""

    kind: str = Field(description="Scenario kind, a key of the scenario registry (see `twin scenarios`).")
    name: str = Field(
        pattern=NAME_PATTERN,
        min_length=1,
        max_length=120,
        description="Short name in any script; the default results folder is results/<name>.",
    )
    description: str = Field(default="", description="One or two sentences for the report.")
    seed: int = Field(default=1, ge=0, description="Root seed of the run's SeedSequence.")
    start: datetime = Field(
        default=DEFAULT_START, description="Simulated start, local time (Asia/Shanghai)."
    )
    duration_s: float = Field(
        default=3600.0, gt=0, le=10 * 366 * 86400.0, description="Simulated duration in seconds (at most ten years)."
    )
    replications: int | None = Field(
        default=None, ge=1, le=200,
        description="Independent runs (child seeds of `seed`) the report's intervals rest on; default: the kind's.",
    )


class ScenarioFile(StrictModel):
    """Base for a whole scenario file; each kind adds its own tables as fields."""

    scenario: ScenarioHeader


M = TypeVar("M", bound=BaseModel)


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning a missing file or a syntax error into an :class:`InputError`."""
    if not path.exists():
        raise InputError("file not found", path)
    if path.is_dir():
        raise InputError("is a directory, expected a .toml file", path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already carries "(at line L, column C)".
        raise InputError(f"TOML syntax error: {exc}", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc.reason}", path) from None


def validate(model: type[M], data: dict[str, Any], source: Path | str) -> M:
    """Validate ``data`` against ``model``; the first problem becomes a one-line InputError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc, model), source) from None


def describe_validation_error(exc: ValidationError, model: type[BaseModel]) -> str:
    """One line for the first error: ``[table] key = value: problem (expected ...)``."""
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    where = _location(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        hint = difflib.get_close_matches(loc[-1], allowed, n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        return f"unknown key {where}{suggestion} (allowed: {', '.join(sorted(allowed))})"
    if kind == "missing":
        return f"missing required key {where}"
    value = error.get("input")
    if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == NAME_PATTERN:
        return (f"{where} = {value!r}: not usable as a folder name (expected any script, without "
                "control characters, / \\ : * ? \" < > | or a leading dot)")
    return f"{where} = {value!r}: {error['msg']}"


def _location(loc: list[str]) -> str:
    """Render a pydantic location as ``[table.sub] key``, or ``[table]`` for a whole table."""
    if not loc or loc == [""]:
        return "(top level)"  # a model-level validator's error has no location
    if len(loc) == 1:
        return f"[{loc[0]}]"
    return f"[{'.'.join(loc[:-1])}] {loc[-1]}"


def _allowed_keys(model: type[BaseModel], path: list[str]) -> list[str]:
    """Field names accepted at ``path`` inside ``model`` (best effort for nested models)."""
    current: Any = model
    for part in path:
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            if part.isdigit():  # an index into a list of models
                continue
            return []
        current = _model_in_annotation(fields[part].annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", {})
    return list(fields)


def _model_in_annotation(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``Foo``, ``list[Foo]`` or ``Foo | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in_annotation(arg)
        if found is not None:
            return found
    return None
