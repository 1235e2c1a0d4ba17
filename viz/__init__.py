"""PyVista CIM scenes and matplotlib 2D maps.

Visualisation reads model state and results; it never changes them.
"""

import os as _os

if not _os.environ.get("DISPLAY"):
    # No screen: VTK would try X first and print "bad X server connection" on every render
    # before falling back to EGL. Ask for EGL (headless OpenGL) directly; a user's choice wins.
    _os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
