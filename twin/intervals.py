"""Intervals from replications: how sure a KPI is, and whether two options really differ.

Replications of a scenario are independent runs with child seeds of the scenario's seed. An
unbounded KPI gets a Student-t interval of its mean. A share (``_pct`` in 0–100, or a plain ratio
shown as a percentage, such as utilisation in 0–1) gets a bootstrap percentile interval of its
mean, which stays inside the range the share can take. A difference between two options uses
the replications' paired differences (they share random numbers), so the noise common to both
cancels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from twin.kpis import kpi_info

DEFAULT_LEVEL = 0.90
"""Reports state 90 % intervals: a planner's "very likely between" rather than a 95 % test."""
BOOTSTRAP_RESAMPLES = 4000


@dataclass(frozen=True)
class Interval:
    """Mean of ``n`` replications and an interval at ``level`` around it (``nan`` if ``n < 2``)."""

    mean: float
    low: float
    high: float
    n: int
    level: float
    method: str

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly on one side of zero (a difference larger than noise)."""
        return self.n >= 2 and (self.low > 0 or self.high < 0)

    def as_dict(self) -> dict[str, float | int | str | None]:
        def clean(x: float) -> float | None:
            return None if not math.isfinite(x) else float(x)

        return {"mean": clean(self.mean), "low": clean(self.low), "high": clean(self.high), "n": self.n,
                "level": self.level, "method": self.method}


def t_interval(values: np.ndarray, level: float = DEFAULT_LEVEL) -> Interval:
    """Mean and Student-t interval of independent replications; ``nan`` bounds for ``n < 2``."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, level, "t")
    mean = float(values.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n, level, "t")
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n, level, "t")


def bounded_interval(values: np.ndarray, lower: float, upper: float, level: float = DEFAULT_LEVEL) -> Interval:
    """Mean and bootstrap percentile interval of a share that lives in ``[lower, upper]``.

    The resampling is seeded from nothing but the data, so the same replications give the same
    interval every time.
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, level, "bootstrap")
    mean = float(np.clip(values.mean(), lower, upper))
    if n < 2:
        return Interval(mean, math.nan, math.nan, n, level, "bootstrap")
    rng = np.random.default_rng(np.frombuffer(np.ascontiguousarray(values).tobytes(), dtype=np.uint32))
    means = rng.choice(values, size=(BOOTSTRAP_RESAMPLES, n), replace=True).mean(axis=1)
    low, high = np.quantile(means, [0.5 - level / 2, 0.5 + level / 2])
    return Interval(mean, float(np.clip(low, lower, upper)), float(np.clip(high, lower, upper)), n, level,
                    "bootstrap")


def share_bounds(name: str) -> tuple[float, float] | None:
    """``(0, 100)`` for a percentage KPI, ``(0, 1)`` for a share shown as one, else ``None``."""
    info = kpi_info(name)
    if name.endswith("_pct") and "change" not in name and "saving" not in name and "reduction" not in name:
        return 0.0, 100.0
    if info.display == "pct_of_ratio":
        return 0.0, 1.0
    return None


def kpi_interval(name: str, values: np.ndarray, level: float = DEFAULT_LEVEL) -> Interval:
    """The interval of KPI ``name`` over replications: bounded for shares, Student-t otherwise."""
    bounds = share_bounds(name)
    if bounds is not None:
        return bounded_interval(values, *bounds, level=level)
    return t_interval(values, level)


def difference_interval(a: np.ndarray, b: np.ndarray, level: float = DEFAULT_LEVEL) -> Interval:
    """Interval of the mean paired difference ``b − a`` over replications (common random numbers)."""
    return t_interval(np.asarray(b, dtype=float) - np.asarray(a, dtype=float), level)
