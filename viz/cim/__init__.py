"""The 3D city information model (CIM) views: layers, meshes, cameras, scenes, off-screen PNG
renders and offline interactive HTML, drawn with PyVista over the city and a run's results.
"""
