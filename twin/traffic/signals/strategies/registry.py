"""The registry of signal strategies: name -> class, filled by the strategy modules themselves.

Every module of this package is imported once, on first use, so that its strategy classes
register (found by file name, not imported by name here: the registry does not depend on the
strategies that depend on it). A new strategy is therefore one new module with a class decorated
by :func:`register_strategy`.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import TypeVar

from twin.errors import InputError
from twin.traffic.signals.plan import SignalPlan
from twin.traffic.signals.strategies.base import SignalStrategy
from twin.traffic.signals.timing import TimingParams

S = TypeVar("S", bound=type[SignalStrategy])

_STRATEGIES: dict[str, type[SignalStrategy]] = {}
_discovered = False


def register_strategy(cls: S) -> S:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    known = _STRATEGIES.get(cls.name)
    if known is not None and known is not cls:
        raise RuntimeError(f"signal strategy {cls.name!r} registered twice ({known.__name__}, {cls.__name__})")
    _STRATEGIES[cls.name] = cls
    return cls


def _discover() -> None:
    """Import every module of this package once, so that its strategies register."""
    global _discovered
    if _discovered:
        return
    for module in pkgutil.iter_modules([str(Path(__file__).resolve().parent)]):
        importlib.import_module(f"{__package__}.{module.name}")
    _discovered = True


def strategy_names() -> tuple[str, ...]:
    """Registered strategy names in listing order."""
    _discover()
    return tuple(sorted(_STRATEGIES, key=lambda name: (_STRATEGIES[name].listed, name)))


def strategy_class(name: str) -> type[SignalStrategy]:
    """The class registered as ``name``; an unknown name is an :class:`InputError`."""
    _discover()
    if name not in _STRATEGIES:
        raise InputError(f"signal strategy {name!r}: expected one of {', '.join(strategy_names())}")
    return _STRATEGIES[name]


def make_strategy(name: str) -> SignalStrategy:
    """A new instance of the strategy registered as ``name``."""
    return strategy_class(name)()


def holds_minimum_green(name: str) -> bool:
    """Whether plans run by ``name`` must keep their greens at or above the minimum (an unknown
    name holds nothing: it is reported when the plan is run)."""
    _discover()
    return name in _STRATEGIES and _STRATEGIES[name].holds_minimum_green


def with_strategy(plan: SignalPlan, strategy: str, timing: TimingParams) -> SignalPlan:
    """``plan`` run by ``strategy`` (min/max greens and detector settings for the family)."""
    return make_strategy(strategy).adopt(plan, timing)
