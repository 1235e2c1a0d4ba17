"""Placement: which nodes a gang takes.

A job of ``g = k·gpn + r`` devices takes ``k`` whole free nodes (the lowest-indexed) plus, if
``r > 0``, ``r`` devices on one more node: the fullest that fits (``consolidated``, best fit) or
the emptiest (``spread``, worst fit); ties go to the lowest index.
"""

from __future__ import annotations

from kernels.scheduler.layout import PLACEMENT_CODES
from twin.errors import InputError


class Placement:
    """Node choice for a gang: ``consolidated`` (best fit) or ``spread`` (worst fit)."""

    def __init__(self, mode: str = "consolidated") -> None:
        if mode not in PLACEMENT_CODES:
            raise InputError(f"placement {mode!r}: expected one of {', '.join(PLACEMENT_CODES)}")
        self.mode = mode
        self.code = PLACEMENT_CODES[mode]
