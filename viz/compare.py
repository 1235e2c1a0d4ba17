"""Comparing two runs: what changed in the inputs, then every KPI's delta B − A with a verdict.

The direction of *better* is each KPI's declared sense in the KPI catalogue (:mod:`twin.kpis`):
waits, delays and losses lower, service and pressure higher; sizes of the inputs are *changed*,
never guessed at. When both runs have replications with the same seeds (common random numbers),
the verdict rests on the paired differences: *better* or *worse* only when the 90 % interval of
the difference excludes zero, else *within noise*.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from twin.errors import InputError
from twin.intervals import difference_interval
from twin.kpis import Lang, Sense, kpi_info
from twin.plot_style import use_cjk_fonts
from twin.results import atomic_dir, write_figure, write_table

Verdict = Literal["better", "worse", "same", "changed", "within noise", "only in A", "only in B"]


def verdict(sense: Sense, a: float | None, b: float | None) -> Verdict:
    """How B fares against A for a KPI whose ``sense`` is lower/higher (is better) or neutral."""
    if a is None and b is None:
        return "same"
    if a is None:
        return "only in B"
    if b is None:
        return "only in A"
    if a == b:
        return "same"
    if sense == "neutral":
        return "changed"
    improved = b < a if sense == "lower" else b > a
    return "better" if improved else "worse"


@dataclass(frozen=True)
class KpiDelta:
    """One KPI of a comparison, with the paired-difference interval when there is one."""

    kpi: str
    a: float | None
    b: float | None
    sense: Sense
    verdict: Verdict
    low: float | None = None
    high: float | None = None

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


def _read_json(run_dir: Path, name: str) -> Any:
    try:
        return json.loads((run_dir / name).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{name} is not valid JSON ({exc.msg})", run_dir) from None


def read_kpis(run_dir: Path) -> dict[str, Any]:
    """The ``kpis.json`` of a run folder; an :class:`InputError` if it is not one."""
    if not run_dir.is_dir():
        raise InputError("not found or not a folder", run_dir)
    if not (run_dir / "kpis.json").exists():
        hint = " (it is a sweep folder: its summary.csv compares the settings)" if (
            run_dir / "sweep.json").exists() else ""
        raise InputError(f"not a run folder: no kpis.json{hint}", run_dir)
    kpis = _read_json(run_dir, "kpis.json")
    if not isinstance(kpis, dict):
        raise InputError("kpis.json is not a name: number table", run_dir)
    return kpis


def read_scenario(run_dir: Path) -> dict[str, Any]:
    """The validated scenario a run recorded in its manifest (``{}`` if it has none)."""
    if not (run_dir / "manifest.json").exists():
        return {}
    return _read_json(run_dir, "manifest.json").get("scenario") or {}


def check_comparable(run_a: Path, run_b: Path) -> None:
    """Two runs of different scenario kinds have no KPIs in common to compare."""
    kind_a = read_scenario(run_a).get("scenario", {}).get("kind")
    kind_b = read_scenario(run_b).get("scenario", {}).get("kind")
    if kind_a and kind_b and kind_a != kind_b:
        raise InputError(f"runs of different kinds ({kind_a} and {kind_b}) cannot be compared; "
                         "compare two runs of the same kind", run_b)


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def changed_inputs(run_a: Path, run_b: Path) -> list[tuple[str, Any, Any]]:
    """``(key, value in A, value in B)`` for every scenario input that differs (dotted keys)."""
    a, b = _flatten(read_scenario(run_a)), _flatten(read_scenario(run_b))
    keys = sorted(set(a) | set(b))
    return [(key, a.get(key), b.get(key)) for key in keys if a.get(key) != b.get(key)]


def _replications(run_dir: Path) -> pd.DataFrame | None:
    path = run_dir / "replications.parquet"
    return pd.read_parquet(path) if path.exists() else None


def _paired(reps_a: pd.DataFrame | None, reps_b: pd.DataFrame | None, name: str) -> tuple[float, float] | None:
    """The 90 % interval of B − A over replications that share seeds, if both runs have them."""
    if reps_a is None or reps_b is None:
        return None
    a = reps_a[reps_a["kpi"] == name].set_index("seed")["value"]
    b = reps_b[reps_b["kpi"] == name].set_index("seed")["value"]
    common = a.index.intersection(b.index)
    if len(common) < 2:
        return None
    interval = difference_interval(a.loc[common].to_numpy(), b.loc[common].to_numpy())
    return interval.low, interval.high


def compare_runs(run_a: Path, run_b: Path) -> list[KpiDelta]:
    """Every KPI of either run (A's order first, then B's new ones), with its verdict."""
    check_comparable(run_a, run_b)
    kpis_a, kpis_b = read_kpis(run_a), read_kpis(run_b)
    reps_a, reps_b = _replications(run_a), _replications(run_b)
    return compare_kpis(kpis_a, kpis_b, lambda name: _paired(reps_a, reps_b, name))


def compare_kpis(kpis_a: dict[str, Any], kpis_b: dict[str, Any], paired=None) -> list[KpiDelta]:  # noqa: ANN001
    """Deltas of two KPI tables; ``paired(name)`` may give the interval of the difference."""
    rows = []
    for name in list(kpis_a) + [n for n in kpis_b if n not in kpis_a]:
        a, b = _number(kpis_a.get(name)), _number(kpis_b.get(name))
        sense = kpi_info(name).sense
        judged = verdict(sense, a, b)
        interval = paired(name) if paired is not None and a is not None and b is not None else None
        low, high = interval if interval is not None else (None, None)
        if interval is not None and judged in ("better", "worse") and low <= 0 <= high:
            judged = "within noise"
        rows.append(KpiDelta(name, a, b, sense, judged, low, high))
    return rows


def deltas_frame(deltas: list[KpiDelta], lang: Lang = "en") -> pd.DataFrame:
    """The comparison as a table: kpi, label, a, b, delta, delta_pct, interval, sense, verdict."""
    return pd.DataFrame(
        [{"kpi": d.kpi, "label": kpi_info(d.kpi).label[lang], "a": d.a, "b": d.b, "delta": d.delta,
          "delta_pct": d.delta_pct, "delta_low": d.low, "delta_high": d.high, "sense": d.sense,
          "verdict": d.verdict} for d in deltas],
        columns=["kpi", "label", "a", "b", "delta", "delta_pct", "delta_low", "delta_high", "sense", "verdict"],
    ).astype({"a": float, "b": float, "delta": float, "delta_pct": float, "delta_low": float, "delta_high": float})


_COLOURS = {"better": "#1a7f37", "worse": "#c62828"}
VERDICT_TEXT = {
    "better": {"zh": "改善", "en": "better"}, "worse": {"zh": "变差", "en": "worse"},
    "same": {"zh": "相同", "en": "same"}, "changed": {"zh": "变化", "en": "changed"},
    "within noise": {"zh": "在随机波动内", "en": "within noise"},
    "only in A": {"zh": "仅A有", "en": "only in A"}, "only in B": {"zh": "仅B有", "en": "only in B"},
}


def plot_side_by_side(deltas: list[KpiDelta], label_a: str, label_b: str, lang: Lang = "en") -> Figure:
    """One small panel per KPI with A and B as bars side by side; B coloured by its verdict."""
    matplotlib.use("Agg")
    use_cjk_fonts()
    shown = [d for d in deltas if d.a is not None or d.b is not None][:24]
    ncols = min(4, max(1, len(shown)))
    nrows = max(1, math.ceil(len(shown) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows), squeeze=False)
    for ax, d in zip(axes.flat, shown, strict=False):
        info = kpi_info(d.kpi)
        display = info.display_for([d.a, d.b])
        values = [info.to_display(v, lang, display) if v is not None else 0.0 for v in (d.a, d.b)]
        ax.bar([0, 1], values, color=["#9e9e9e", _COLOURS.get(d.verdict, "#1f77b4")], width=0.6)
        ax.set_xticks([0, 1], [label_a, label_b], fontsize=7)
        ax.set_title(f"{info.label[lang]}\n{VERDICT_TEXT[d.verdict][lang]}", fontsize=8,
                     color=_COLOURS.get(d.verdict, "black"))
        ax.set_ylabel(info.unit_text(lang, display), fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def markdown_table(deltas: list[KpiDelta], inputs: list[tuple[str, Any, Any]], label_a: str, label_b: str,
                   lang: Lang = "en") -> str:
    """The comparison as a Markdown document: the changed inputs first, then every KPI."""
    lines = [f"# {label_b} vs {label_a}", ""]
    lines += ["## " + ("改变的输入" if lang == "zh" else "Inputs that differ"), ""]
    lines += [f"- `{key}`: {a!r} → {b!r}" for key, a, b in inputs] or ["- (none)"]
    lines += ["", "## " + ("指标对比（Δ = B − A）" if lang == "zh" else "KPIs (Δ = B − A)"), "",
              f"| KPI | A: {label_a} | B: {label_b} | Δ | Δ% | 90% | verdict |", "|---|---:|---:|---:|---:|---|---|"]
    for d in deltas:
        info = kpi_info(d.kpi)
        display = info.display_for([d.a, d.b])
        delta = "—" if d.delta is None else ("+" if d.delta > 0 else "") + info.format(d.delta, lang, display)
        pct = "—" if d.delta_pct is None else f"{d.delta_pct:+.1f}%"
        band = "" if d.low is None else f"{info.format(d.low, lang, display)} – {info.format(d.high, lang, display)}"
        lines.append(f"| {info.label[lang]} | {info.format(d.a, lang, display)} | {info.format(d.b, lang, display)} "
                     f"| {delta} | {pct} | {band} | {VERDICT_TEXT[d.verdict][lang]} |")
    counts = {v: sum(d.verdict == v for d in deltas) for v in ("better", "worse", "within noise", "changed", "same")}
    lines += ["", ", ".join(f"{n} {VERDICT_TEXT[v][lang]}" for v, n in counts.items()) + "."]
    return "\n".join(lines) + "\n"


def write_comparison(out_dir: Path, deltas: list[KpiDelta], inputs: list[tuple[str, Any, Any]], label_a: str,
                     label_b: str, force: bool = False, lang: Lang = "en") -> Path:
    """Write ``comparison.{parquet,csv,md,png}`` and ``changed_inputs.csv`` into ``out_dir`` atomically."""
    with atomic_dir(out_dir, force) as tmp:
        write_table(tmp, "comparison", deltas_frame(deltas, lang))
        write_table(tmp, "changed_inputs", pd.DataFrame(
            [(k, repr(a), repr(b)) for k, a, b in inputs], columns=["key", "a", "b"]))
        (tmp / "comparison.md").write_text(markdown_table(deltas, inputs, label_a, label_b, lang), encoding="utf-8")
        write_figure(tmp, "comparison", plot_side_by_side(deltas, label_a, label_b, lang))
    return out_dir


def format_delta(d: KpiDelta, lang: Lang) -> str:
    """``+1.2 min`` for the console."""
    if d.delta is None:
        return "—"
    info = kpi_info(d.kpi)
    return ("+" if d.delta > 0 else "") + info.format(d.delta, lang, info.display_for([d.a, d.b]))

