"""The house style of every plot: fonts that have Chinese glyphs, so labels never show tofu boxes.

Whatever draws a figure calls :func:`use_cjk_fonts` before it creates any text (matplotlib fixes
a text's font families when the text is made), which puts an installed CJK font (Debian's
``fonts-noto-cjk``, which ``make`` installs) behind DejaVu Sans: Latin text keeps its usual
look and Chinese falls back to the CJK font.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CJK_FONT_NAMES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "Source Han Sans SC",
                  "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "AR PL UMing CN")


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of an installed font with Chinese glyphs, or ``None``."""
    from matplotlib import font_manager  # deferred: matplotlib is heavy; runs without plots skip it

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONT_NAMES if name in installed), None)


def use_cjk_fonts() -> str | None:
    """Make matplotlib fall back to the CJK font for glyphs DejaVu Sans lacks; return its name."""
    import matplotlib  # deferred: matplotlib is heavy; runs without plots skip it

    font = cjk_font()
    if font is not None:
        matplotlib.rcParams["font.family"] = ["DejaVu Sans", font]
        matplotlib.rcParams["axes.unicode_minus"] = False
    return font


def in_both_languages(name: str, draw: Callable[[str], Figure]) -> dict[str, Figure]:
    """``{"<name>.zh": draw("zh"), "<name>.en": draw("en")}``: a plot in each report language.

    The report shows the one in its language (``viz.report``), so ``twin report --lang en`` of a
    Chinese run needs no rerun.
    """
    use_cjk_fonts()
    return {f"{name}.{lang}": draw(lang) for lang in ("zh", "en")}
