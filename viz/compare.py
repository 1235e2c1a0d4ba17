"""Comparing two runs: KPI deltas with a direction (better or worse), as a table and a plot.

Run B is compared with run A (the baseline): ``delta = B − A``. Whether a delta is *better* or
*worse* depends on the KPI, and is decided from its name by :data:`DIRECTION_RULES`: the first
rule whose words all appear, in order and next to each other, among the underscore-separated
words of the name wins. Waits, delays, queues and losses are better lower; throughput and
service level are better higher. A KPI that no rule matches (demand offered, utilisation,
pressure, which can be too high or too low) is reported as *changed*, not guessed at.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd

from twin.errors import InputError
from twin.kpis import format_number
from twin.results import atomic_dir, write_figure, write_table
from twin.units import unit_of

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

Direction = Literal["lower", "higher", "unknown"]

DIRECTION_RULES: tuple[tuple[str, Direction], ...] = (
    # lower is better: time lost, things that go wrong, resources burnt
    ("wait", "lower"), ("waiting", "lower"), ("delay", "lower"), ("queue", "lower"),
    ("travel_time", "lower"), ("journey_time", "lower"), ("late", "lower"), ("lateness", "lower"),
    ("loss", "lower"), ("losses", "lower"), ("lost", "lower"), ("leak", "lower"),
    ("leakage", "lower"), ("abandoned", "lower"), ("abandonment", "lower"),
    ("unserved", "lower"), ("unmet", "lower"), ("shortfall", "lower"), ("deficit", "lower"),
    ("backlog", "lower"), ("congestion", "lower"), ("spillback", "lower"), ("stops", "lower"),
    ("blocked", "lower"), ("blocking", "lower"), ("rejected", "lower"), ("dropped", "lower"),
    ("overflow", "lower"), ("outage", "lower"), ("violations", "lower"), ("crowding", "lower"),
    ("cost", "lower"), ("energy", "lower"), ("emissions", "lower"), ("pue", "lower"),
    # higher is better: work done, promises kept
    ("throughput", "higher"), ("service_level", "higher"), ("served", "higher"),
    ("answered", "higher"), ("completed", "higher"), ("delivered", "higher"),
    ("on_time", "higher"), ("reliability", "higher"), ("availability", "higher"),
    ("coverage", "higher"), ("satisfied", "higher"), ("speed", "higher"), ("goodput", "higher"),
)
"""``(words, direction)`` in priority order; see the module docstring and ``docs/reports.md``."""

Verdict = Literal["better", "worse", "same", "changed", "only in A", "only in B"]


def kpi_direction(name: str) -> Direction:
    """Whether a lower or a higher value of KPI ``name`` is better, or ``"unknown"``.

    >>> kpi_direction("p90_wait_s"), kpi_direction("service_level_pct"), kpi_direction("calls_offered_calls")
    ('lower', 'higher', 'unknown')
    """
    words = name.split("_")
    for phrase, direction in DIRECTION_RULES:
        target = phrase.split("_")
        if any(words[i:i + len(target)] == target for i in range(len(words) - len(target) + 1)):
            return direction
    return "unknown"


def verdict(direction: Direction, a: float | None, b: float | None) -> Verdict:
    """How B fares against A for a KPI with ``direction``."""
    if a is None and b is None:
        return "same"
    if a is None:
        return "only in B"
    if b is None:
        return "only in A"
    if a == b:
        return "same"
    if direction == "unknown":
        return "changed"
    improved = b < a if direction == "lower" else b > a
    return "better" if improved else "worse"


@dataclass(frozen=True)
class KpiDelta:
    """One KPI of a comparison."""

    kpi: str
    unit: str
    a: float | None
    b: float | None
    direction: Direction
    verdict: Verdict

    @property
    def delta(self) -> float | None:
        """``B − A``, or ``None`` if either is missing."""
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def delta_pct(self) -> float | None:
        """``(B − A) / |A|`` in percent; ``None`` when A is zero or missing."""
        if self.delta is None or not self.a:
            return None
        return 100.0 * self.delta / abs(self.a)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if isinstance(value, float) and not math.isfinite(value) else float(value)


def read_kpis(run_dir: Path) -> dict[str, Any]:
    """The ``kpis.json`` of a run folder; an :class:`InputError` if it is not one."""

    if not run_dir.is_dir():
        raise InputError("not found or not a folder", run_dir)
    path = run_dir / "kpis.json"
    if not path.exists():
        hint = " (it is a sweep folder: its summary.csv compares the settings)" if (
            run_dir / "sweep.json").exists() else ""
        raise InputError(f"not a run folder: no kpis.json{hint}", run_dir)
    try:
        kpis = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"kpis.json is not valid JSON ({exc.msg})", run_dir) from None
    if not isinstance(kpis, dict):
        raise InputError("kpis.json is not a name: number table", run_dir)
    return kpis


def compare_kpis(kpis_a: dict[str, Any], kpis_b: dict[str, Any]) -> list[KpiDelta]:
    """Every KPI of either run (A's order first, then B's new ones), with its verdict."""
    names = list(kpis_a) + [name for name in kpis_b if name not in kpis_a]
    rows = []
    for name in names:
        a, b = _number(kpis_a.get(name)), _number(kpis_b.get(name))
        direction = kpi_direction(name)
        rows.append(KpiDelta(name, unit_of(name), a, b, direction, verdict(direction, a, b)))
    return rows


def deltas_frame(deltas: list[KpiDelta]) -> pd.DataFrame:
    """The comparison as a table: kpi, unit, a, b, delta, delta_pct, direction, verdict."""

    return pd.DataFrame(
        [{"kpi": d.kpi, "unit": d.unit, "a": d.a, "b": d.b, "delta": d.delta,
          "delta_pct": d.delta_pct, "direction": d.direction, "verdict": d.verdict} for d in deltas],
        columns=["kpi", "unit", "a", "b", "delta", "delta_pct", "direction", "verdict"],
    ).astype({"a": float, "b": float, "delta": float, "delta_pct": float})


_COLOURS = {"better": "#1a7f37", "worse": "#c62828"}


def plot_side_by_side(deltas: list[KpiDelta], label_a: str, label_b: str) -> Figure:
    """One small panel per KPI with A and B as bars side by side; B coloured by its verdict."""

    matplotlib.use("Agg")

    ncols = min(4, max(1, len(deltas)))
    nrows = max(1, math.ceil(len(deltas) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows), squeeze=False)
    for ax, d in zip(axes.flat, deltas, strict=False):
        values = [d.a if d.a is not None else 0.0, d.b if d.b is not None else 0.0]
        colours = ["#9e9e9e", _COLOURS.get(d.verdict, "#1f77b4")]
        ax.bar([0, 1], values, color=colours, width=0.6)
        ax.set_xticks([0, 1], [label_a, label_b], fontsize=7)
        ax.set_title(f"{d.kpi}\n{d.verdict}", fontsize=8, color=_COLOURS.get(d.verdict, "black"))
        if d.unit:
            ax.set_ylabel(d.unit, fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(deltas):]:
        ax.set_visible(False)
    fig.suptitle(f"{label_b} against {label_a} (grey)", fontsize=10)
    fig.tight_layout()
    return fig


def markdown_table(deltas: list[KpiDelta], label_a: str, label_b: str) -> str:
    """The comparison as a Markdown document."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:+.1f}%"

    lines = [f"# {label_b} against {label_a}", "",
             "Delta is B − A. Verdicts follow the direction table in docs/reports.md; "
             "\"changed\" means the KPI has no agreed better direction.", "",
             f"| KPI | unit | A: {label_a} | B: {label_b} | Δ | Δ% | verdict |",
             "|---|---|---:|---:|---:|---:|---|"]
    for d in deltas:
        delta = "n/a" if d.delta is None else ("+" if d.delta > 0 else "") + format_number(d.delta)
        lines.append(f"| {d.kpi} | {d.unit} | {format_number(d.a)} | {format_number(d.b)} | "
                     f"{delta} | {pct(d.delta_pct)} | {d.verdict} |")
    counts = {v: sum(d.verdict == v for d in deltas) for v in ("better", "worse", "changed", "same")}
    lines += ["", ", ".join(f"{n} {v}" for v, n in counts.items()) + "."]
    return "\n".join(lines) + "\n"


def write_comparison(out_dir: Path, deltas: list[KpiDelta], label_a: str, label_b: str,
                     force: bool = False) -> Path:
    """Write ``comparison.{parquet,csv,md,png}`` into ``out_dir`` atomically."""

    with atomic_dir(out_dir, force) as tmp:
        write_table(tmp, "comparison", deltas_frame(deltas))
        (tmp / "comparison.md").write_text(markdown_table(deltas, label_a, label_b))
        write_figure(tmp, "comparison", plot_side_by_side(deltas, label_a, label_b))
    return out_dir
