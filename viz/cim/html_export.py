"""Interactive offline HTML: the scene serialised for vtk.js, in one self-contained file.

PyVista 0.49 moved ``export_html`` into the ``trame-pyvista`` plug-in, which starts a trame web
server (and wants ``nest_asyncio2``) only to ask it for the scene. The serialisation itself is
``trame-vtk``'s: its serializers turn the render window into vtk.js JSON plus data arrays, and its
``static_viewer.html`` (vtk.js bundled inline, ~1 MB, no network) loads that JSON from a base64
string. This module calls the two directly, with no server, and adds the title and legend as an
HTML overlay (vtk.js does not draw VTK's 2D text actors). The result opens offline, from a
``file://`` URL, in any WebGL browser.
"""

from __future__ import annotations

import html
import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from trame_vtk.modules.vtk.serializers import (
    SynchronizationContext,
    extract_array_hash,
    initialize_serializers,
    reference_id,
    serialize,
)
from trame_vtk.tools.vtksz2html import write_html

if TYPE_CHECKING:
    import pyvista as pv

    from viz.cim.scene import Scene


def scene_archive(plotter: pv.Plotter) -> bytes:
    """The plotter's render window as a vtk.js OfflineLocalView archive (zip of ``index.json``)."""

    initialize_serializers()
    context = SynchronizationContext()
    render_window = plotter.render_window
    camera = plotter.renderer.GetActiveCamera()
    view = serialize(None, render_window, reference_id(render_window), context, 1)
    view["extra"] = {
        "vtkRefId": reference_id(render_window),
        "centerOfRotation": camera.GetFocalPoint(),
        "camera": reference_id(camera),
    }
    arrays = {}
    for entry in extract_array_hash(view):
        data_hash = entry["hash"]
        arrays[data_hash] = dict(**entry, content=context.get_cached_data_array(data_hash, False))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.json", json.dumps({"hashes": arrays, "scene": view}),
                         compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def overlay_html(scene: Scene) -> str:
    """Title, subtitle and legend as a fixed HTML panel over the 3D view."""
    esc = html.escape
    entries = []
    seen = set()
    for layer in scene.layers:
        for label, colour in layer.legend:
            if label not in seen:
                seen.add(label)
                entries.append(f"<div><span style='display:inline-block;width:14px;height:10px;"
                               f"background:{esc(colour)};margin-right:6px'></span>{esc(label)}</div>")
        for drawable in layer.drawables:
            if drawable.bar_title:
                low, high = drawable.clim or (0, 1)
                entries.append(f"<div>{esc(drawable.bar_title)}: {esc(drawable.cmap or '')} "
                               f"{low:.3g} … {high:.3g}</div>")
    return (
        "<div id='cim-overlay' style=\"position:fixed;left:12px;top:10px;z-index:1000;"
        "font-family:'Noto Sans CJK SC','Noto Sans CJK JP',system-ui,sans-serif;color:#111;"
        "background:rgba(255,255,255,.78);padding:8px 12px;border-radius:6px;font-size:13px;"
        "max-width:40%;pointer-events:none\">"
        f"<div style='font-size:18px;font-weight:600'>{esc(scene.title)}</div>"
        f"<div style='margin-bottom:6px'>{esc(scene.subtitle)}</div>{''.join(entries)}"
        "<div style='margin-top:6px;color:#555'>drag to rotate · scroll to zoom · right-drag to pan</div>"
        "</div>"
    )


def export_html(plotter: pv.Plotter, scene: Scene, out: Path) -> Path:
    """Write the interactive scene to ``out`` as one offline HTML file."""

    buffer = io.StringIO()
    write_html(scene_archive(plotter), buffer)
    page = buffer.getvalue()
    title = html.escape(scene.title)
    page = page.replace("<title>", f"<title>{title} — ", 1) if "<title>" in page else page
    # The viewer empties its container (the body) when it loads the scene, so the overlay is
    # added by a script once the page has loaded, above the full-screen canvas.
    panel = json.dumps(overlay_html(scene)).replace("</", "<\\/")
    script = (
        "<script>window.addEventListener('load', function () { setTimeout(function () {"
        f" var box = document.createElement('div'); box.innerHTML = {panel};"
        " document.body.appendChild(box.firstChild); }, 0); });</script>"
    )
    marker = page.rfind("</body>")
    page = page[:marker] + script + "\n" + page[marker:]
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(out)
    return out
