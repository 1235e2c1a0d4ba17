"""Road traffic: the network of links and movements, demand, signal control, the mesoscopic
model, its metrics, and SUMO input and output.
"""
