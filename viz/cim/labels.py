"""Text in the 3D scene: a CJK font file, point labels, the title.

VTK's built-in fonts (Arial, Courier, Times) have no CJK glyphs and draw 长乐 as boxes, so
every text actor here is given a font file through FreeType. The Makefile installs Debian's
``fonts-noto-cjk``; :func:`cjk_font_file` finds it (or another CJK font ``fc-list`` knows) and
refuses to fall back silently, because a render full of boxes is worse than an error.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyvista as pv

KNOWN_CJK_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
)
"""Where Debian puts CJK fonts (fonts-noto-cjk first)."""


@lru_cache(maxsize=1)
def cjk_font_file() -> Path:
    """A font file with CJK glyphs: Noto Sans CJK, else the first one ``fc-list :lang=zh`` names.

    Raises
    ------
    RuntimeError
        If no CJK font is installed (run ``make setup``, which installs ``fonts-noto-cjk``).
    """
    for path in KNOWN_CJK_FONTS:
        if path.exists():
            return path
    if shutil.which("fc-list"):
        listing = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=20)
        for line in listing.stdout.splitlines():
            path = Path(line.split(":")[0].strip())
            if path.suffix.lower() in {".ttf", ".ttc", ".otf"} and path.exists():
                return path
    raise RuntimeError("no CJK font found; install Debian's fonts-noto-cjk (make setup does)")


@dataclass
class LabelSet:
    """Labels at 3D points (local frame, m), drawn the same size on screen whatever the zoom."""

    points: np.ndarray
    texts: list[str]
    text_color: str = "#1a1a1a"
    font_size: int = 18
    background: str = "white"
    priority: int = 5
    """Where labels overlap on screen, the lower priority number keeps its place."""


def add_labels(plotter: pv.Plotter, labels: LabelSet, name: str) -> None:
    """Draw ``labels`` with the CJK font on a translucent plate, always on top of the scene."""
    if len(labels.texts) == 0:
        return
    plotter.add_point_labels(
        np.asarray(labels.points, dtype=float), list(labels.texts), name=name,
        font_size=labels.font_size, text_color=labels.text_color, font_file=str(cjk_font_file()),
        shape="rounded_rect", shape_color=labels.background, shape_opacity=0.75, margin=4,
        show_points=True, point_color=labels.text_color, point_size=6, always_visible=True,
        render_points_as_spheres=False, justification_vertical="bottom",
    )


def _display_xy(plotter: pv.Plotter, points: np.ndarray) -> np.ndarray:
    """Screen pixel positions of world points under the plotter's current camera."""
    renderer = plotter.renderer
    out = np.empty((len(points), 2))
    for i, (x, y, z) in enumerate(np.asarray(points, dtype=float)):
        renderer.SetWorldPoint(x, y, z, 1.0)
        renderer.WorldToDisplay()
        out[i] = renderer.GetDisplayPoint()[:2]
    return out


def declutter(plotter: pv.Plotter, label_sets: list[LabelSet]) -> list[LabelSet]:
    """Drop labels whose plates would overlap an earlier one on screen (lower ``priority`` wins).

    Each label's plate is estimated as one em per character (CJK glyphs are square; Latin ones
    narrower, so this errs on the side of space) by 1.5 em, above its anchor point.
    """
    kept_boxes: list[tuple[float, float, float, float]] = []
    result = []
    for labels in sorted(label_sets, key=lambda item: item.priority):
        if len(labels.texts) == 0:
            continue
        screen = _display_xy(plotter, labels.points)
        em = 1.05 * labels.font_size  # measured: a CJK glyph of VTK font size f is ~1.05 f px
        keep = []
        for i, text in enumerate(labels.texts):
            half_w = 0.5 * em * sum(1.0 if ord(ch) > 0x2E80 else 0.55 for ch in text) + 4
            box = (screen[i, 0] - half_w, screen[i, 1], screen[i, 0] + half_w, screen[i, 1] + 1.5 * em)
            clash = any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                        for b in kept_boxes)
            if not clash:
                kept_boxes.append(box)
                keep.append(i)
        if keep:
            result.append(LabelSet(np.asarray(labels.points)[keep], [labels.texts[i] for i in keep],
                                   labels.text_color, labels.font_size, labels.background, labels.priority))
    return result


def add_title(plotter: pv.Plotter, title: str, subtitle: str, font_size: int) -> None:
    """Title and subtitle in the top-left corner, in the CJK font (pixel-positioned text actors)."""
    font = str(cjk_font_file())
    width, height = plotter.window_size
    left = max(4, int(0.006 * width))
    top = height - int(2.3 * font_size) - 6
    actor = plotter.add_text(title, position=(left, top), font_size=font_size, color="#111111",
                             font_file=font, name="title")
    _plate(actor)
    if subtitle:
        small = max(6, int(font_size * 0.65))
        actor = plotter.add_text(subtitle, position=(left, top - int(1.8 * small) - 2), font_size=small,
                                 color="#333333", font_file=font, name="subtitle")
        _plate(actor)


def _plate(actor) -> None:  # noqa: ANN001 - a vtkTextActor
    """A translucent white plate behind a text actor, so that it reads over busy streets."""
    prop = actor.GetTextProperty()
    prop.SetBackgroundColor(1.0, 1.0, 1.0)
    prop.SetBackgroundOpacity(0.7)
