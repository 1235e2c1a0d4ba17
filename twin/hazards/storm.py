"""Rain over a day: a Chicago design storm from a storm-intensity formula, or a measured series.

A rain event is a :class:`RainSeries`: bin edges (s since the scenario start, sorted) and the
depth that falls in each bin (mm, ≥ 0). It comes from either

* :func:`chicago_storm`: the Chicago hyetograph of Keifer and Chu (1957), built on a Chinese
  storm-intensity formula (暴雨强度公式, GB 50014 form)

      q = 167 · A1 (1 + C lg P) / (t + b)^n   L/(s·ha),   i = q / 166.7 mm/min,

  with return period ``P`` (years) and duration ``t`` (min); or
* :func:`read_rain_csv`: a gauge series ``time_s, depth_mm`` (the depth that fell in the interval
  ending at ``time_s``), checked: times strictly increasing, depths finite and ≥ 0.

The default parameters are those quoted for Fuzhou (福州) in the city tables of the 给水排水设计手册
(5th volume, storm-intensity formulae of Chinese cities), ``q = 2136.312 (1 + 0.700 lg P) /
(t + 7.576)^0.711`` L/(s·ha). We could not check them against the official Fujian standard
DBJ13-52-2003 (福建省城市及部分县城暴雨强度公式) or its later revision here, so they are a published
form, not the official text; a scenario can give its own ``q_a``, ``c``, ``b_min``, ``n``.

The Chicago storm keeps the formula's depth for *every* duration around the peak: the rain in
any window of length τ holding the peak, split r : (1 − r) before and after it, equals
``H(τ) = i(τ) · τ``. Bins are therefore integrated exactly from ``H`` (no sampling error), and
the storm's total is ``H(duration)``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twin.errors import InputError

L_PER_S_HA_PER_MM_PER_MIN = 166.7
"""1 mm/min of rain over a hectare is 166.7 L/s (10 m³/min / 60 s)."""


@dataclass(frozen=True)
class StormFormula:
    """A storm-intensity formula q = q_a (1 + c lg P) / (t + b_min)^n, q in L/(s·ha), t in min.

    Defaults: the Fuzhou form quoted in the 给水排水设计手册 city tables (see the module docstring).
    """

    q_a: float = 2136.312
    c: float = 0.700
    b_min: float = 7.576
    n: float = 0.711

    def intensity_mm_per_min(self, duration_min: float | np.ndarray, return_period_y: float) -> np.ndarray:
        """Mean intensity (mm/min) over a storm of ``duration_min`` minutes of return period P (years)."""
        a = self.q_a * (1.0 + self.c * math.log10(return_period_y)) / L_PER_S_HA_PER_MM_PER_MIN
        return a / (np.asarray(duration_min, dtype=float) + self.b_min) ** self.n

    def depth_mm(self, duration_min: float | np.ndarray, return_period_y: float) -> np.ndarray:
        """Depth (mm) of the storm of ``duration_min`` minutes: H(t) = i(t) · t."""
        t = np.asarray(duration_min, dtype=float)
        return self.intensity_mm_per_min(t, return_period_y) * t


@dataclass(frozen=True)
class RainSeries:
    """Rain as depths per bin: ``edges_s`` (n + 1 sorted times, s) and ``depth_mm`` (n bins, mm)."""

    edges_s: np.ndarray
    depth_mm: np.ndarray

    @property
    def total_mm(self) -> float:
        """Depth over the whole series (mm)."""
        return float(self.depth_mm.sum())

    def intensity_mm_per_h(self) -> np.ndarray:
        """Mean intensity of each bin (mm/h)."""
        return self.depth_mm / np.diff(self.edges_s) * 3600.0

    def depth_between_mm(self, t0_s: float, t1_s: float) -> float:
        """Rain between ``t0_s`` and ``t1_s`` (mm), uniform within each bin."""
        cum = np.concatenate([[0.0], np.cumsum(self.depth_mm)])
        at = np.interp([t0_s, t1_s], self.edges_s, cum)
        return float(at[1] - at[0])

    def scaled(self, factor: float) -> RainSeries:
        """The same series with every depth times ``factor`` (≥ 0): the ensemble's rain uncertainty."""
        return RainSeries(self.edges_s, self.depth_mm * float(factor))


def chicago_storm(
    formula: StormFormula,
    return_period_y: float,
    duration_min: float,
    peak_ratio: float,
    start_s: float = 0.0,
    step_s: float = 300.0,
) -> RainSeries:
    """The Chicago hyetograph: rain per ``step_s`` bin from ``start_s`` over ``duration_min``.

    ``peak_ratio`` r (0 < r < 1) places the peak at ``r · duration`` (0.4 is usual for south-east
    China). Cumulative depth at time t: before the peak (s = t_peak − t) the rain still to come
    before the peak is r·H(s/r); after it (s = t − t_peak) the rain since the peak is (1−r)·H(s/(1−r)).
    """
    if not (return_period_y >= 1.0 and duration_min > 0 and 0.0 < peak_ratio < 1.0 and step_s > 0):
        raise ValueError("chicago_storm: need P ≥ 1 y, duration > 0, 0 < peak_ratio < 1, step > 0")
    duration_s = duration_min * 60.0
    n_bins = int(math.ceil(duration_s / step_s - 1e-9))
    edges = np.minimum(np.arange(n_bins + 1) * step_s, duration_s)
    peak_s = peak_ratio * duration_s
    before = np.clip(peak_s - edges, 0.0, None) / 60.0  # minutes to the peak
    after = np.clip(edges - peak_s, 0.0, None) / 60.0  # minutes since the peak
    r = peak_ratio
    cumulative = (
        r * formula.depth_mm(before.max() / r, return_period_y)
        - r * formula.depth_mm(before / r, return_period_y)
        + (1.0 - r) * formula.depth_mm(after / (1.0 - r), return_period_y)
    )
    return RainSeries(edges + start_s, np.maximum(np.diff(cumulative), 0.0))


def read_rain_csv(path: Path) -> RainSeries:
    """A gauge series from CSV ``time_s,depth_mm`` (rain in the interval ending at ``time_s``).

    The first row's interval starts at 0 (or at its time if that is negative, which is refused).
    Bad input (missing columns, non-numbers, unsorted or repeated times, negative or non-finite
    depths) is an :class:`InputError` naming the file, row and value.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise InputError("rain series file not found", path) from None
    if not rows or not {"time_s", "depth_mm"} <= set(rows[0]):
        raise InputError("expected a CSV with columns time_s,depth_mm and at least one row", path)
    times, depths = [], []
    for k, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            time_s, depth = float(row["time_s"]), float(row["depth_mm"])
        except (TypeError, ValueError):
            raise InputError(f"row {k}: time_s = {row['time_s']!r}, depth_mm = {row['depth_mm']!r}: expected numbers",
                             path) from None
        if not (math.isfinite(time_s) and math.isfinite(depth)):
            raise InputError(f"row {k}: time_s = {time_s}, depth_mm = {depth}: expected finite numbers", path)
        if depth < 0:
            raise InputError(f"row {k}: depth_mm = {depth}: expected a depth ≥ 0 mm", path)
        previous = times[-1] if times else 0.0
        if time_s <= previous:
            raise InputError(f"row {k}: time_s = {time_s}: expected times increasing from 0 (previous {previous})",
                             path)
        times.append(time_s)
        depths.append(depth)
    return RainSeries(np.array([0.0, *times]), np.array(depths))
