"""The scenario registry: ``kind`` → (config model, runner).

A scenario module declares its file model (a :class:`twin.config.ScenarioFile` subclass) and a
runner ``run(config, engine) -> RunResult``, and registers them::

    @scenario_kind("hotline_queue", HotlineFile, "12345 hotline call-centre queue")
    def run(config: HotlineFile, engine: Engine) -> RunResult: ...

Kind modules live in ``scenarios/kinds/``; the registry imports every one of them to discover
kinds (which loads their models, numba included: a few tenths of a second for ``twin run`` and
``twin validate``; the command line's ``--help`` never discovers kinds).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.validation import CheckContext, SizeEstimate
from twin.city.folder import City
from twin.config import ScenarioFile
from twin.engine import Engine
from twin.errors import InputError
from twin.results import Answer, RunResult

KINDS_DIR = Path(__file__).resolve().parent / "kinds"
"""Where scenario kind modules live: one module per kind."""

Runner = Callable[[Any, Engine], RunResult]
Check = Callable[[Any, CheckContext], None]
Estimate = Callable[[Any], SizeEstimate]
Starter = Callable[[City], str]
"""``starter(city)``: the TOML text of a valid scenario of the kind, filled with the city's places."""
Answerer = Callable[[Any, dict[str, float], RunResult], Answer]
"""``answer(config, kpis, result)``: the answer worded from the KPIs (means over the replications)."""


@dataclass(frozen=True)
class ScenarioKind:
    """One registered kind: its name, file model, runner and a one-line summary.

    ``check`` (optional) finds what the pydantic model cannot: references to the city's places
    and files, cross-field rules; it raises :class:`~twin.errors.InputError` naming the key.
    ``estimate`` (optional) says how much memory and time a run will take, so that a run that
    cannot fit this machine is refused before it starts (see :mod:`scenarios.validation`).
    ``answer`` (optional) words the answer from the KPIs (the means over the replications) and
    the seeded run's result. ``replications`` is how many runs a report rests on when the file
    does not say (1 for a kind that draws no random numbers). ``starter`` (optional) writes a
    valid scenario of the kind for a city, filled with its places (``twin scenarios new``).
    """

    kind: str
    model: type[ScenarioFile]
    run: Runner
    summary: str
    check: Check | None = None
    estimate: Estimate | None = None
    answer: Answerer | None = None
    replications: int = 1
    starter: Starter | None = None


_KINDS: dict[str, ScenarioKind] = {}
_discovered = False


def scenario_kind(
    kind: str,
    model: type[ScenarioFile],
    summary: str,
    check: Check | None = None,
    estimate: Estimate | None = None,
    answer: Answerer | None = None,
    replications: int = 1,
    starter: Starter | None = None,
) -> Callable[[Runner], Runner]:
    """Decorator registering ``run`` as the runner of ``kind`` with file model ``model``."""

    def register(run: Runner) -> Runner:
        if kind in _KINDS and _KINDS[kind].run is not run:
            raise RuntimeError(f"scenario kind {kind!r} registered twice")
        _KINDS[kind] = ScenarioKind(kind, model, run, summary, check, estimate, answer, replications, starter)
        return run

    return register


def _discover() -> None:
    """Import every module of ``scenarios/kinds/`` once, so that kinds register.

    Kinds are plug-ins found by file name (not imported by name here), so the registry does not
    depend on the kinds that depend on it.
    """
    global _discovered
    if _discovered:
        return
    for module in pkgutil.iter_modules([str(KINDS_DIR)]):
        importlib.import_module(f"scenarios.kinds.{module.name}")
    _discovered = True


def all_kinds() -> dict[str, ScenarioKind]:
    """Every registered kind, by name."""
    _discover()
    return dict(sorted(_KINDS.items()))


def get_kind(kind: object, source: str) -> ScenarioKind:
    """The kind named ``kind``; an unknown or non-string kind is an :class:`InputError`."""
    kinds = all_kinds()
    if not isinstance(kind, str) or kind not in kinds:
        known = ", ".join(kinds) or "none"
        raise InputError(f"[scenario] kind = {kind!r}: unknown scenario kind (known: {known})", source)
    return kinds[kind]
