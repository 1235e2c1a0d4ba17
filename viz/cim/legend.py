"""The legend panel: coloured swatches with dark, CJK-capable text.

VTK's ``vtkLegendBoxActor`` paints each entry's text in the entry's own colour, which makes
pale entries (sea, residential) unreadable on a light panel. This legend draws the swatches as
one 2D polygon actor and the texts as separate text actors in one dark colour, with the CJK
font, in the lower-left corner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import vtk

from viz.cim.labels import cjk_font_file

if TYPE_CHECKING:
    import pyvista as pv


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))


def add_legend(plotter: pv.Plotter, entries: list[tuple[str, str]], scale: float) -> None:
    """Draw ``(label, colour)`` entries as a panel in the lower-left corner (``scale`` 1 = 1920 px)."""

    if not entries:
        return
    font_size = max(6, int(11 * scale))
    # VTK text at font size f is about 1.6 f pixels tall including descenders (FreeType at 72 dpi).
    row_px = int(font_size * 2.3)
    pad = int(10 * scale) + 2
    swatch = int(font_size * 1.1)
    left, bottom = pad, pad
    width = int(max(len(label) for label, _ in entries) * font_size * 0.8) + swatch + 3 * pad
    height = row_px * len(entries) + 2 * pad
    points, polys, colours = [], [], []

    def quad(x0: float, y0: float, x1: float, y1: float, rgb: tuple[int, int, int]) -> None:
        base = len(points)
        points.extend([(x0, y0, 0), (x1, y0, 0), (x1, y1, 0), (x0, y1, 0)])
        polys.append([4, base, base + 1, base + 2, base + 3])
        colours.append(rgb)

    quad(left, bottom, left + width, bottom + height, (255, 255, 255))
    font = str(cjk_font_file())
    for row, (_label, colour) in enumerate(entries):
        y = bottom + height - pad - (row + 1) * row_px + (row_px - swatch) // 2
        quad(left + pad, y, left + pad + swatch, y + swatch, _hex_rgb(colour))
    poly = vtk.vtkPolyData()
    vtk_points = vtk.vtkPoints()
    for p in points:
        vtk_points.InsertNextPoint(*p)
    cells = vtk.vtkCellArray()
    for cell in polys:
        cells.InsertNextCell(cell[0], cell[1:])
    poly.SetPoints(vtk_points)
    poly.SetPolys(cells)
    scalars = vtk.vtkUnsignedCharArray()
    scalars.SetNumberOfComponents(3)
    for rgb in np.asarray(colours, dtype=np.uint8):
        scalars.InsertNextTuple3(*rgb)
    poly.GetCellData().SetScalars(scalars)
    mapper = vtk.vtkPolyDataMapper2D()
    mapper.SetInputData(poly)
    mapper.SetColorModeToDirectScalars()
    actor = vtk.vtkActor2D()
    actor.SetMapper(mapper)
    actor.GetProperty().SetOpacity(0.88)
    plotter.renderer.AddViewProp(actor)  # the panel first, so that the texts draw over it
    for row, (label, _colour) in enumerate(entries):
        y = bottom + height - pad - (row + 1) * row_px + (row_px - swatch) // 2
        plotter.add_text(label, position=(left + 2 * pad + swatch, y - int(0.2 * swatch)),
                         font_size=font_size, color="#1a1a1a", font_file=font, name=f"legend_{row}")
