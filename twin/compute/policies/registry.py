"""The registry of scheduling policies: name -> class, filled by the policy modules themselves.

Every module of this package is imported once, on first use, so that its policy classes register
(found by file name, not imported by name here: the registry does not depend on the policies that
depend on it). A new policy is therefore one new module with a class decorated by
:func:`register_policy`.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import TypeVar

from twin.compute.policies.base import PolicySettings, SchedulingPolicy
from twin.errors import InputError

P = TypeVar("P", bound=type[SchedulingPolicy])

_POLICIES: dict[str, type[SchedulingPolicy]] = {}
_discovered = False


def register_policy(cls: P) -> P:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    known = _POLICIES.get(cls.name)
    if known is not None and known is not cls:
        raise RuntimeError(f"scheduling policy {cls.name!r} registered twice ({known.__name__}, {cls.__name__})")
    _POLICIES[cls.name] = cls
    return cls


def _discover() -> None:
    """Import every module of this package once, so that its policies register."""
    global _discovered
    if _discovered:
        return
    for module in pkgutil.iter_modules([str(Path(__file__).resolve().parent)]):
        importlib.import_module(f"{__package__}.{module.name}")
    _discovered = True


def policy_names() -> tuple[str, ...]:
    """Registered policy names in listing order."""
    _discover()
    return tuple(sorted(_POLICIES, key=lambda name: (_POLICIES[name].listed, name)))


def policy_class(name: str) -> type[SchedulingPolicy]:
    """The class registered as ``name``; an unknown name is an :class:`InputError`."""
    _discover()
    if name not in _POLICIES:
        raise InputError(f"scheduling policy {name!r}: expected one of {', '.join(policy_names())}")
    return _POLICIES[name]


def make_policy(settings: PolicySettings) -> SchedulingPolicy:
    """The policy that ``settings.policy`` names, configured by ``settings``."""
    return policy_class(settings.policy).from_settings(settings)
