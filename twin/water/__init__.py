"""Water mains: the network as arrays, the Global Gradient Algorithm hydraulics, leaks and
bursts, valve isolation, criticality, service metrics, and EPANET ``.inp`` input and output.
"""
