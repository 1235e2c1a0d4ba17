"""PyVista CIM scenes and matplotlib 2D maps.

Visualisation reads model state and results; it never changes them.
"""
