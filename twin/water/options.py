"""Solver options and time settings, named after EPANET's ``[OPTIONS]`` and ``[TIMES]``.

Both are fields of a :class:`twin.water.network.CompiledNetwork`; :func:`twin.water.compile.compile_network`
fills them from the ``.inp`` file, and a scenario may change them on a copy of the network.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernels.hydraulics.codes import HAZEN_WILLIAMS
from twin.water.epanet_constants import FT_M


@dataclass
class HydraulicOptions:
    """Solver options, named after their EPANET ``[OPTIONS]`` counterparts.

    Attributes
    ----------
    formula
        Head-loss formula: ``HAZEN_WILLIAMS``, ``DARCY_WEISBACH`` or ``CHEZY_MANNING``.
    viscosity_m2_per_s
        Kinematic viscosity of water (EPANET default 1.1e-5 ft²/s = 1.022e-6 m²/s).
    trials
        Maximum Newton iterations (EPANET ``TRIALS``, default 200).
    accuracy
        Convergence threshold on ``sum|dq| / sum|q|`` (EPANET ``ACCURACY``, default 0.001).
    extra_trials
        Extra iterations without status changes when ``trials`` is exhausted (EPANET
        ``UNBALANCED CONTINUE n``; -1 for ``STOP``, 0 for ``CONTINUE``).
    checkfreq, maxcheck
        Status checks of pumps, check valves and tank links every ``checkfreq`` iterations up to
        iteration ``maxcheck`` (EPANET defaults 2 and 10).
    damplimit
        Accuracy below which flow changes are damped to 60% (0 = never, the default).
    head_error_m, flow_change_m3_per_s
        Optional extra convergence limits (0 = not used).
    pressure_driven
        Pressure-driven demand (Wagner) instead of demand-driven.
    pdd_exponent
        Exponent of Wagner's demand function (default 0.5).
    emitter_exponent
        Pressure exponent of emitters (default 0.5).
    """

    formula: int = HAZEN_WILLIAMS
    viscosity_m2_per_s: float = 1.1e-5 * FT_M**2
    trials: int = 200
    accuracy: float = 0.001
    extra_trials: int = -1
    checkfreq: int = 2
    maxcheck: int = 10
    damplimit: float = 0.0
    head_error_m: float = 0.0
    flow_change_m3_per_s: float = 0.0
    pressure_driven: bool = False
    pdd_exponent: float = 0.5
    emitter_exponent: float = 0.5

    @property
    def hexp(self) -> float:
        """Flow exponent of the friction formula (1.852 for Hazen-Williams, 2 otherwise)."""
        return 1.852 if self.formula == HAZEN_WILLIAMS else 2.0


@dataclass
class TimeSettings:
    """EPANET ``[TIMES]`` in whole seconds (EPANET keeps time as integers)."""

    duration_s: int = 0
    hydraulic_step_s: int = 3600
    pattern_step_s: int = 3600
    pattern_start_s: int = 0
    report_step_s: int = 3600
    report_start_s: int = 0
    start_clocktime_s: int = 0

