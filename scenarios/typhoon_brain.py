"""``twin brain`` on a typhoon day: the 1-hour ensemble projection from a time, its p10/p50/p90
bands and the hindcast against what then happened (model: :mod:`twin.coupled.brain`).

Writes ``projection`` (member, time_s, system, kpi, value), ``bands`` (time_s, system, kpi, p10,
p50, p90, realised, perfect_model_truth) and ``coverage`` tables, a figure of the bands against
the realised day, and KPIs ``<kpi>_coverage_ratio`` and ``mean_coverage_ratio``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scenarios.kinds.typhoon_day import Prepared, TyphoonDayFile, prepare
from twin.coupled.brain import KPIS, bands, coverage, member_factors, read_pump_states, run_member
from twin.engine import Engine
from twin.errors import InputError
from twin.kpis import format_number
from twin.plot_style import in_both_languages
from twin.results import Answer, RunResult

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

TRUTH_STREAM = "brain_truth"
"""The seed stream of the perfect-model truth (no member draws from it)."""
MEMBER_SEED_OFFSET = 1000
"""Member m runs with seed ``scenario seed + MEMBER_SEED_OFFSET + m`` (its repair-time draw)."""


def parse_clock(text: str, duration_s: float, horizon_s: float) -> float:
    """``HH:MM`` as seconds after the (midnight) start; the horizon must end within the day."""
    try:
        hours, minutes = (int(part) for part in text.split(":"))
    except ValueError:
        raise InputError(f"--at {text!r}: expected a time of day HH:MM") from None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise InputError(f"--at {text!r}: expected a time of day HH:MM (00:00-23:59)")
    at_s = hours * 3600.0 + minutes * 60.0
    if at_s + horizon_s > duration_s:
        raise InputError(f"--at {text}: the {horizon_s / 3600:g} h horizon must end within the scenario's "
                         f"{duration_s / 3600:g} h")
    return at_s


def hindcast_starts(at_s: float, every_min: int | None, until: str | None, duration_s: float,
                    horizon_s: float) -> list[float]:
    """Hindcast start times: every ``every_min`` minutes from ``at_s`` to ``until`` (HH:MM), both given or neither."""
    if every_min is None and until is None:
        return []
    if every_min is None or until is None:
        raise InputError("--hindcast-every-min and --hindcast-until: give both (or neither)")
    if not 1 <= every_min <= 720:
        raise InputError(f"--hindcast-every-min {every_min}: expected 1 to 720 minutes")
    try:
        last_s = parse_clock(until, duration_s, horizon_s)
    except InputError as exc:
        raise InputError(str(exc).replace("--at", "--hindcast-until")) from None
    if last_s < at_s:
        raise InputError(f"--hindcast-until {until}: expected a time at or after --at")
    return [float(t) for t in np.arange(at_s, last_s + 1e-9, every_min * 60.0)]


def _ensemble(config: TyphoonDayFile, prepared: Prepared, engine: Engine, at_s: float, horizon_s: float,
              members: int, observed: dict[str, bool] | None) -> tuple[list, dict, dict, float]:
    """The members, the scenario's own day and the perfect-model truth from ``at_s`` (KPIs by time)."""
    header = config.scenario
    couplings = config.couplings.model_dump()
    factors = member_factors(members, engine.rng("brain_rain"))
    args = (at_s, horizon_s, config.flood.runoff_coefficient, prepared.drain_capacity_mm_per_h)

    def member(seed: int, factor: float) -> dict[str, np.ndarray]:
        return run_member(prepared.day, prepared.settings, couplings, seed, header.start, factor, *args,
                          observed_running=observed)

    runs = [member(header.seed + MEMBER_SEED_OFFSET + m, float(f)) for m, f in enumerate(factors)]
    realised = run_member(prepared.day, prepared.settings, couplings, header.seed, header.start, 1.0, *args)
    truth_rng = engine.rng(TRUTH_STREAM)
    truth_factor = float(member_factors(1, truth_rng)[0])
    return runs, realised, member(int(truth_rng.integers(2**31)), truth_factor), truth_factor


def hindcast(config: TyphoonDayFile, prepared: Prepared, engine: Engine, starts_s: list[float], horizon_s: float,
             members: int) -> pd.DataFrame:
    """Coverage of a projection started at each of ``starts_s`` (the skill through the day)."""
    # deferred: pandas is slow to import, and the command line imports this module on demand only
    import pandas as pd

    rows = []
    for start_s in starts_s:
        runs, realised, truth, _ = _ensemble(config, prepared, engine, start_s, horizon_s, members, None)
        stacked = {kpi: np.array([run[kpi] for run in runs]) for _, kpi in KPIS}
        own, perfect = coverage(stacked, realised), coverage(stacked, truth)
        rows += [{"start_s": start_s, "system": system, "kpi": kpi, "coverage_realised": own[kpi],
                  "coverage_perfect_model": perfect[kpi]} for system, kpi in KPIS]
    return pd.DataFrame(rows)


def project(config: TyphoonDayFile, at_s: float, horizon_s: float, members: int,
            observed_pumps: Path | None = None, hindcast_starts_s: list[float] | None = None) -> RunResult:
    """The ensemble from ``at_s`` over ``horizon_s``, its bands and the hindcast; ``observed_pumps``
    (CSV ``facility,running``) replaces the replay's facility states at ``at_s`` in the members;
    ``hindcast_starts_s`` adds the coverage of projections started at those times (no observation)."""
    # deferred: pandas is slow to import, and the command line imports this module on demand only
    import pandas as pd

    if not 1 <= members <= 200:
        raise InputError(f"--members {members}: expected 1 to 200")
    header = config.scenario
    prepared = prepare(config, movers=False)
    observed = read_pump_states(observed_pumps, [f.name for f in prepared.day.facilities]) \
        if observed_pumps is not None else None
    engine = Engine(header.seed, header.start, header.duration_s)
    runs, realised, truth, truth_factor = _ensemble(config, prepared, engine, at_s, horizon_s, members, observed)
    times = at_s + np.arange(len(realised[KPIS[0][1]])) * 300.0
    projection = pd.DataFrame([
        {"member": m, "time_s": t, "system": system, "kpi": kpi, "value": float(run[kpi][k])}
        for m, run in enumerate(runs) for system, kpi in KPIS for k, t in enumerate(times)])
    stacked = {kpi: np.array([run[kpi] for run in runs]) for _, kpi in KPIS}
    rows = []
    for system, kpi in KPIS:
        p10, p50, p90 = bands(stacked[kpi])
        rows += [{"time_s": t, "system": system, "kpi": kpi, "p10": p10[k], "p50": p50[k], "p90": p90[k],
                  "realised": realised[kpi][k], "perfect_model_truth": truth[kpi][k]} for k, t in enumerate(times)]
    band_table = pd.DataFrame(rows)
    own, perfect = coverage(stacked, realised), coverage(stacked, truth)
    cover = pd.DataFrame({"system": [s for s, _ in KPIS], "kpi": [k for _, k in KPIS],
                          "coverage_realised": [own[k] for _, k in KPIS],
                          "coverage_perfect_model": [perfect[k] for _, k in KPIS],
                          "no_spread_share": [float(np.mean(np.ptp(stacked[k], axis=0) == 0)) for _, k in KPIS]})
    kpis = {_coverage_name(kpi): own[kpi] for _, kpi in KPIS}
    kpis["mean_coverage_ratio"] = float(np.mean(list(own.values())))
    kpis["perfect_model_mean_coverage_ratio"] = float(np.mean(list(perfect.values())))
    kpis["members_count"] = float(members)
    kpis["horizon_s"] = horizon_s
    kpis["truth_rain_factor_ratio"] = truth_factor
    tables = {"projection": projection, "bands": band_table, "coverage": cover}
    if hindcast_starts_s:
        sweep = hindcast(config, prepared, engine, hindcast_starts_s, horizon_s, members)
        tables["hindcast"] = sweep
        kpis["hindcast_mean_coverage_ratio"] = float(sweep["coverage_realised"].mean())
        kpis["hindcast_perfect_model_mean_coverage_ratio"] = float(sweep["coverage_perfect_model"].mean())
        kpis["hindcast_starts_count"] = float(len(hindcast_starts_s))
    notes = [
        f"{members} members from {at_s / 3600:05.2f} h after the start over {horizon_s / 3600:g} h: each replays the "
        "day to then and differs only in the rain to come (× exp(0.3 z), assumption) and the burst's repair time.",
        "Coverage: share of the horizon's 5-minute points whose value lies in the members' p10-p90 band. The "
        "scenario's own day has the members' median rain, so its coverage is optimistic; the perfect-model truth "
        f"(rain × {truth_factor:.2f}, its own repair draw) is the fairer test. Traffic and demand uncertainty are "
        "not projected yet. A KPI whose members all agree (no_spread_share in the coverage table) is covered "
        "only if the realised value is that common value: a band of no width says the KPI is settled by then.",
    ]
    return RunResult(kpis=kpis, tables=tables,
                     figures=_figures(band_table, at_s), notes=notes, answer=_answer(band_table, at_s, horizon_s, kpis),
                     headline=["mean_coverage_ratio", "perfect_model_mean_coverage_ratio"])


def _answer(band_table: pd.DataFrame, at_s: float, horizon_s: float, kpis: dict[str, float]) -> Answer:
    """The next hour at its end, p50 (p10–p90) per KPI, and the coverage measured."""
    end = band_table[band_table["time_s"] == band_table["time_s"].max()].set_index("kpi")
    clock = f"{int(at_s // 3600):02d}:{int(at_s % 3600 // 60):02d}"
    text = {}
    for lang in ("zh", "en"):
        parts = [f"{LABELS[kpi][lang]} {_number(end.loc[kpi, 'p50'])} "
                 f"({_number(end.loc[kpi, 'p10'])}–{_number(end.loc[kpi, 'p90'])})" for _, kpi in KPIS]
        cover = (kpis["mean_coverage_ratio"], kpis["perfect_model_mean_coverage_ratio"])
        text[lang] = (f"{clock}起{horizon_s / 3600:g}小时推演，期末中位数（p10–p90）：{'；'.join(parts)}。回算覆盖率："
                      f"情景实际{cover[0]:.0%}，完美模型真值{cover[1]:.0%}。" if lang == "zh" else
                      f"Projection from {clock} over {horizon_s / 3600:g} h, at its end p50 (p10–p90): "
                      f"{'; '.join(parts)}. Hindcast coverage: {cover[0]:.0%} of the scenario's day, "
                      f"{cover[1]:.0%} of a perfect-model truth.")
    question = {"zh": "城市大脑：下一小时会怎样，推演可信吗？", "en": "City brain: what will the next hour bring, and "
                "can the projection be trusted?"}
    return Answer(text=text, question=question)


def _number(value: float) -> str:
    """A value for people; the solver's round-off around zero (|x| < 1e-6) reads 0."""
    return format_number(0.0 if abs(value) < 1e-6 else float(value))


def _coverage_name(kpi: str) -> str:
    """``closed_links_count`` → ``closed_links_coverage_ratio`` (the unit of the KPI is dropped)."""
    for unit in ("_count", "_gpus", "_m3_per_s"):
        if kpi.endswith(unit):
            return kpi.removesuffix(unit) + "_coverage_ratio"
    return kpi + "_coverage_ratio"


def _figures(band_table: pd.DataFrame, at_s: float) -> dict[str, Figure]:
    return in_both_languages("brain_hindcast", lambda lang: _hindcast_figure(lang, band_table, at_s))


LABELS = {
    "closed_links_count": {"zh": "积水封闭路段", "en": "links closed"},
    "people_below_service_count": {"zh": "水压不足人口", "en": "people below service"},
    "burst_leak_m3_per_s": {"zh": "爆管漏水 (m³/s)", "en": "burst leak (m³/s)"},
    "gpus_in_service_gpus": {"zh": "在役GPU", "en": "GPUs in service"},
    "band": {"zh": "成员 p10–p90", "en": "members p10–p90"},
    "realised": {"zh": "实际 (情景)", "en": "realised (scenario)"},
    "truth": {"zh": "完美模型真值", "en": "perfect-model truth"},
    "minutes": {"zh": "推演开始后分钟", "en": "minutes after the projection starts"},
}


def _hindcast_figure(lang: str, band_table: pd.DataFrame, at_s: float) -> Figure:
    """Each KPI's band, median and the two realised days over the horizon."""
    import matplotlib  # deferred: heavy, and only the figure needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred, after choosing the backend

    fig, axes = plt.subplots(len(KPIS), 1, figsize=(9, 2.2 * len(KPIS)), sharex=True)
    for ax, (_, kpi) in zip(axes, KPIS, strict=True):
        rows = band_table[band_table["kpi"] == kpi]
        minutes = (rows["time_s"].to_numpy() - at_s) / 60.0
        ax.fill_between(minutes, rows["p10"], rows["p90"], step="post", alpha=0.3, label=LABELS["band"][lang])
        ax.step(minutes, rows["p50"], where="post", lw=1.0)
        ax.step(minutes, rows["realised"], where="post", color="k", lw=1.2, label=LABELS["realised"][lang])
        ax.step(minutes, rows["perfect_model_truth"], where="post", color="tab:red", ls="--", lw=1.0,
                label=LABELS["truth"][lang])
        ax.set_ylabel(LABELS[kpi][lang])
    axes[0].legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel(LABELS["minutes"][lang])
    fig.tight_layout()
    return fig
