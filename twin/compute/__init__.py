"""The AI computing centre: accelerators and capacity, workloads, the GPU cluster model,
scheduling policies, the capacity plan, and public cluster traces.
"""
