"""A scene: layers, a camera, a title; drawn off-screen to a PNG or exported to offline HTML.

The plotter is always off-screen (VTK's EGL/OSMesa context), so no display is needed. Each
:class:`~viz.layers.Drawable` is one actor; a scene of the whole district is about a dozen
actors however many buildings it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyvista as pv

from viz.cim.labels import add_labels, add_title, declutter
from viz.cim.layers import Layer
from viz.cim.legend import add_legend
from viz.cim.views import Camera

if TYPE_CHECKING:
    import pyvista as pv

BACKGROUND_BOTTOM = "#f7f7f4"
BACKGROUND_TOP = "#d6e4f0"


@dataclass
class Scene:
    """Everything one picture shows."""

    layers: list[Layer]
    camera: Camera
    title: str
    subtitle: str
    size: tuple[int, int]

    @property
    def triangles(self) -> int:
        """Triangles in all meshes (the benchmark reports it)."""
        return sum(d.mesh.n_cells for layer in self.layers for d in layer.drawables)

    @property
    def font_scale(self) -> float:
        """Text scale: 1 at 1920 px wide."""
        return self.size[0] / 1920.0


def _scalar_bar_args(title: str, index: int, scale: float) -> dict:
    return {
        "title": title, "vertical": False, "width": 0.22, "height": 0.05,
        "position_x": 0.76 - 0.25 * index, "position_y": 0.03, "n_labels": 5, "fmt": "%.3g",
        "title_font_size": max(8, int(18 * scale)), "label_font_size": max(7, int(15 * scale)),
        "color": "#1a1a1a", "font_family": "arial",
    }


def build_plotter(scene: Scene) -> pv.Plotter:
    """An off-screen plotter with every layer, the labels, legend, scalar bars and title."""

    pv.OFF_SCREEN = True
    plotter = pv.Plotter(off_screen=True, window_size=list(scene.size), lighting="light_kit")
    plotter.set_background(BACKGROUND_BOTTOM, top=BACKGROUND_TOP)
    scale = scene.font_scale
    bars = 0
    legend: list[tuple[str, str]] = []
    for layer in scene.layers:
        for drawable in layer.drawables:
            if drawable.mesh.n_points == 0:
                continue
            kwargs = {
                "name": drawable.name, "opacity": drawable.opacity, "lighting": drawable.lighting,
                "smooth_shading": drawable.smooth, "show_scalar_bar": False,
            }
            if drawable.scalars is not None and drawable.rgb:
                kwargs.update(scalars=drawable.scalars, rgb=True)
            elif drawable.scalars is not None:
                kwargs.update(scalars=drawable.scalars, cmap=drawable.cmap, clim=drawable.clim,
                              nan_color=drawable.nan_color, show_scalar_bar=drawable.bar_title is not None)
                if drawable.bar_title is not None:
                    kwargs["scalar_bar_args"] = _scalar_bar_args(drawable.bar_title, bars, scale)
                    bars += 1
            else:
                kwargs["color"] = drawable.color
            plotter.add_mesh(drawable.mesh, **kwargs)
        legend += [entry for entry in layer.legend if entry not in legend]
    scene.camera.apply(plotter)
    # Labels last, once the camera is set, so that overlapping ones can be dropped on screen.
    label_sets = [labels for layer in scene.layers for labels in layer.labels]
    for labels in label_sets:
        labels.font_size = max(8, int(labels.font_size * scale))
    for k, labels in enumerate(declutter(plotter, label_sets)):
        add_labels(plotter, labels, name=f"labels_{k}")
    add_legend(plotter, legend, scale)
    add_title(plotter, scene.title, scene.subtitle, max(8, int(20 * scale)))
    return plotter


def render_png(scene: Scene, out: Path) -> Path:
    """Draw ``scene`` off-screen and save it as ``out`` (PNG)."""
    plotter = build_plotter(scene)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        plotter.screenshot(str(out), return_img=False)
    finally:
        plotter.close()
    return out
