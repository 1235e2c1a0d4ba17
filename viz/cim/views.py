"""Camera presets: the whole district, 滨海新城, and a run's focus.

A view is a box on the ground (local frame, m) that must fill the picture, and the direction it
is seen from: an oblique look from the south-south-east, high enough that streets between tall
buildings stay visible. The camera distance is solved so that the box fits the picture's aspect
ratio at the camera's view angle. Each view also sets how much thin things are widened (road
ribbons, pipes, routes) so that they stay a few pixels wide at its scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.errors import InputError

VIEW_NAMES = ("district", "binhai", "focus")
VIEW_ANGLE_DEG = 30.0


@dataclass(frozen=True)
class ViewPreset:
    """How one view looks at the scene.

    Attributes
    ----------
    name
        ``district``, ``binhai`` or ``focus``.
    elevation_deg
        Camera elevation above the horizon (90 = straight down).
    azimuth_deg
        Compass direction the camera looks from (180 = from the south).
    margin
        Extra room around the box, as a fraction of its size.
    line_scale
        Widening of roads, pipes and routes relative to their real width (1 = true width).
    label_font_size
        Label size (points at 1920 px wide; scaled with the picture).
    """

    name: str
    elevation_deg: float
    azimuth_deg: float
    margin: float
    line_scale: float
    label_font_size: int


PRESETS: dict[str, ViewPreset] = {
    "district": ViewPreset("district", 58.0, 165.0, 0.04, 3.0, 20),
    "binhai": ViewPreset("binhai", 45.0, 160.0, 0.06, 1.6, 20),
    "focus": ViewPreset("focus", 42.0, 160.0, 0.10, 1.0, 20),
}


def preset(name: str) -> ViewPreset:
    """The preset called ``name``; anything else is an :class:`InputError`."""
    if name not in PRESETS:
        raise InputError(f"--view {name!r}: unknown view; expected one of {', '.join(VIEW_NAMES)}")
    return PRESETS[name]


@dataclass(frozen=True)
class Camera:
    """A VTK camera: position, focal point, up vector (local frame, m) and view angle."""

    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    view_up: tuple[float, float, float]
    view_angle_deg: float = VIEW_ANGLE_DEG

    def apply(self, plotter) -> None:  # noqa: ANN001 - a pyvista Plotter
        """Set ``plotter``'s camera and keep the clipping range around the whole scene."""
        plotter.camera.position = self.position
        plotter.camera.focal_point = self.focal_point
        plotter.camera.up = self.view_up
        plotter.camera.view_angle = self.view_angle_deg
        plotter.renderer.ResetCameraClippingRange()


def fit_camera(
    box: tuple[float, float, float, float], ground_z_m: float, view: ViewPreset, aspect: float
) -> Camera:
    """A camera that shows the ground box ``(xmin, ymin, xmax, ymax)`` from ``view``'s direction.

    The box's extent across and along the line of sight is projected onto the picture plane
    (the depth axis foreshortened by ``sin(elevation)``), then the distance is chosen so that the
    larger of width/aspect and height fits the vertical view angle.
    """
    xmin, ymin, xmax, ymax = box
    width = (xmax - xmin) * (1 + 2 * view.margin)
    depth = (ymax - ymin) * (1 + 2 * view.margin)
    centre = np.array([(xmin + xmax) / 2, (ymin + ymax) / 2, ground_z_m])
    azimuth = math.radians(view.azimuth_deg)
    elevation = math.radians(view.elevation_deg)
    # Horizontal unit vector from the focal point towards the camera (compass azimuth).
    towards = np.array([math.sin(azimuth), math.cos(azimuth), 0.0])
    across = abs(width * math.cos(azimuth)) + abs(depth * math.sin(azimuth))
    along = abs(width * math.sin(azimuth)) + abs(depth * math.cos(azimuth))
    screen_h = along * math.sin(elevation)
    needed = max(across / aspect, screen_h)
    distance = needed / (2 * math.tan(math.radians(VIEW_ANGLE_DEG) / 2))
    direction = towards * math.cos(elevation) + np.array([0.0, 0.0, math.sin(elevation)])
    position = centre + distance * direction
    up = np.array([0.0, 0.0, 1.0]) - direction * math.sin(elevation)
    up /= np.linalg.norm(up)
    return Camera(tuple(position), tuple(centre), tuple(up))


def box_around(x: float, y: float, radius_m: float) -> tuple[float, float, float, float]:
    """The square ground box of half-side ``radius_m`` around ``(x, y)``."""
    return (x - radius_m, y - radius_m, x + radius_m, y + radius_m)
