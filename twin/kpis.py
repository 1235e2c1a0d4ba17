"""The KPI catalogue: what each KPI is called (中文 and English), how it is shown, and which way is
better; and the one rule for formatting a number for people.

``kpis.json`` keeps raw SI values under names that end in their unit (``mean_wait_s``,
``water_lost_m3``). A report shows each as a label, a value in a display unit and a verdict's
direction, all from the ``twin/kpi_catalogue/*.toml`` files (one per system):

* ``[metrics.<name>]``: a KPI name without its qualifiers, e.g. ``pilot_delay_s_per_veh``, with
  ``zh``, ``en``, ``display`` (a display unit of :data:`DISPLAY_UNITS`, or the SI unit itself) and
  ``sense`` (``lower`` or ``higher`` is better, or ``neutral`` for sizes and counts of inputs);
* ``[qualifiers.<token>]``: what a prefix names (a strategy, a policy, a build phase, a year),
  so that ``actuated_pilot_delay_s_per_veh`` reads "感应控制 · 试点区平均控制延误".

A KPI is looked up by the longest metric its name ends with; what is left in front must be a
chain of known qualifiers.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

from twin.units import unit_suffix

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
Sense = Literal["lower", "higher", "neutral"]


@dataclass(frozen=True)
class DisplayUnit:
    """A unit people read, and how to get it from the SI unit of the KPI's name."""

    si: str
    factor: float
    zh: str
    en: str
    en_factor: float | None = None  # English readers count in thousands, not in 万

    def factor_for(self, lang: Lang) -> float:
        return self.en_factor if lang == "en" and self.en_factor is not None else self.factor


DISPLAY_UNITS: dict[str, DisplayUnit] = {
    "min": DisplayUnit("s", 1 / 60, "分钟", "min"),
    "h": DisplayUnit("s", 1 / 3600, "小时", "h"),
    "d": DisplayUnit("s", 1 / 86400, "天", "d"),
    "km": DisplayUnit("m", 1e-3, "km", "km"),
    "wan_cny": DisplayUnit("cny", 1e-4, "万元", "CNY", 1.0),
    "wan_cny_per_day": DisplayUnit("cny_per_day", 1e-4, "万元/日", "CNY/day", 1.0),
    "wan_person_h": DisplayUnit("person_h", 1e-4, "万人·时", "person-h", 1.0),
    "pct_of_ratio": DisplayUnit("ratio", 100.0, "%", "%"),
    "mm": DisplayUnit("m", 1e3, "毫米", "mm"),
    "mm_per_h": DisplayUnit("m_per_s", 3.6e6, "毫米/小时", "mm/h"),
}
"""Display units that differ from the SI unit in the name; any other ``display`` is shown as is."""

SI_UNIT_TEXT: dict[str, tuple[str, str]] = {
    "s": ("秒", "s"), "m": ("m", "m"), "m3": ("m³", "m³"), "km": ("km", "km"), "h": ("小时", "h"),
    "pct": ("%", "%"), "ratio": ("", ""), "count": ("个", ""), "veh": ("辆", "veh"),
    "veh_per_h": ("辆/小时", "veh/h"), "s_per_veh": ("秒/辆", "s/veh"), "pax": ("人次", "pax"),
    "calls": ("通", "calls"), "gpus": ("卡", "GPUs"), "pflops": ("P", "P"), "mw": ("MW", "MW"),
    "mwh": ("MWh", "MWh"), "cny": ("元", "CNY"), "cny_per_day": ("元/日", "CNY/day"),
    "person_h": ("人·时", "person-h"), "m_per_s": ("m/s", "m/s"), "m3_per_s": ("m³/s", "m³/s"),
    "jobs": ("个作业", "jobs"), "people": ("人", "people"), "mg_per_l": ("mg/L", "mg/L"),
}
"""How the SI unit of a name is written for people, in each language."""


@dataclass(frozen=True)
class KpiInfo:
    """Everything a report needs to show one KPI."""

    name: str
    label: dict[str, str]
    si_unit: str
    display: str
    sense: Sense
    known: bool

    def display_for(self, values: Iterable[float | None]) -> str:
        """The display unit for ``values`` shown together (``time`` picks s, min, h or d)."""
        if self.display != "time":
            return self.display
        return time_display(values)

    def unit_text(self, lang: Lang, display: str | None = None) -> str:
        """The display unit as written in ``lang`` (empty for plain ratios)."""
        display = display or self.display_for([])
        if display in DISPLAY_UNITS:
            return getattr(DISPLAY_UNITS[display], lang)
        return SI_UNIT_TEXT.get(display, (display, display))[0 if lang == "zh" else 1]

    def to_display(self, value: float, lang: Lang, display: str | None = None) -> float:
        """``value`` (SI, as in ``kpis.json``) in the display unit as ``lang`` readers count."""
        unit = DISPLAY_UNITS.get(display or self.display_for([value]))
        if unit is None or unit.si != self.si_unit:  # already in that unit (vehicle_hours_h)
            return value
        return value * unit.factor_for(lang)

    def format(self, value: float | None, lang: Lang, display: str | None = None) -> str:
        """The value with its unit, by :func:`format_number`; ``display`` fixes the unit (for a
        column of values shown together), else it is chosen for this value alone."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "—"
        display = time_display([value]) if display == "time" else display or self.display_for([value])
        unit = self.unit_text(lang, display)
        text = format_number(self.to_display(float(value), lang, display))
        if not unit:
            return text
        return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def time_display(values_s: Iterable[float | None]) -> str:
    """``s``, ``min``, ``h`` or ``d``: whichever reads best for durations shown together."""
    finite = [abs(float(v)) for v in values_s if v is not None and math.isfinite(float(v))]
    largest = max(finite, default=0.0)
    return "s" if largest < 120 else "min" if largest < 2 * 3600 else "h" if largest < 3 * 86400 else "d"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict]:
    """The ``metrics`` and ``qualifiers`` of every ``twin/kpi_catalogue/*.toml``, merged.

    One file per system keeps additions apart; a name defined in two files is a mistake.
    """
    merged: dict[str, dict] = {"metrics": {}, "qualifiers": {}}
    folder = resources.files("twin").joinpath("kpi_catalogue")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        for table, items in tomllib.loads(entry.read_text(encoding="utf-8")).items():
            known = merged.setdefault(table, {})
            twice = sorted(set(known) & set(items))
            if twice:
                raise ValueError(f"twin/kpi_catalogue/{entry.name}: {table} {twice} defined in another file too")
            known.update(items)
    return merged


def _split_qualifiers(prefix: str, qualifiers: dict[str, dict]) -> list[str] | None:
    """``prefix`` (``"phase1_2024_easy"``) as a chain of known qualifier tokens, or ``None``."""
    if not prefix:
        return []
    for size in range(len(prefix), 0, -1):
        head = prefix[:size]
        if head in qualifiers or re.fullmatch(r"\d{4}", head):
            rest = prefix[size:]
            if not rest:
                return [head]
            if rest.startswith("_"):
                tail = _split_qualifiers(rest[1:], qualifiers)
                if tail is not None:
                    return [head, *tail]
    return None


def _qualifier_label(token: str, qualifiers: dict[str, dict], lang: Lang) -> str:
    if re.fullmatch(r"\d{4}", token):
        return f"{token}年" if lang == "zh" else token
    return qualifiers[token][lang]


@lru_cache(maxsize=4096)
def kpi_info(name: str) -> KpiInfo:
    """Label, units and sense of KPI ``name``; unknown names get a readable fallback label."""
    metrics, qualifiers = catalogue()["metrics"], catalogue()["qualifiers"]
    parts = name.split("_")
    for start in range(len(parts)):
        metric = "_".join(parts[start:])
        if metric not in metrics:
            continue
        chain = _split_qualifiers("_".join(parts[:start]), qualifiers)
        if chain is None:
            continue
        entry = metrics[metric]
        label = {}
        for lang in LANGS:
            words = [_qualifier_label(t, qualifiers, lang) for t in chain] + [entry[lang]]
            label[lang] = " · ".join(words)
        si = unit_suffix(metric) or "ratio"  # a name without a unit is a plain ratio
        return KpiInfo(name, label, si, entry.get("display", si), entry.get("sense", "neutral"), True)
    si = unit_suffix(name)
    words = name[: -len(si) - 1] if si and name.endswith("_" + si) else name
    fallback = words.replace("_", " ")
    return KpiInfo(name, {"zh": fallback, "en": fallback}, si, si, "neutral", False)


def format_number(value: float) -> str:
    """The one rule for numbers people read: three significant figures (all the digits of
    larger whole numbers), thousands separated by commas; no scientific notation.

    >>> [format_number(v) for v in (17.43, 1234.6, 0.0421, 787934.0, 3.0)]
    ['17.4', '1,235', '0.0421', '787,934', '3']
    """
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, 2 - magnitude)
    rounded = round(value, decimals)
    if decimals == 0 or float(rounded).is_integer():
        return f"{round(rounded):,}"
    return f"{rounded:,.{decimals}f}".rstrip("0")
