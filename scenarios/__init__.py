"""What-if experiments: one module per scenario kind, plus the bundled Changle ``*.toml`` files.

A kind registers itself with :func:`scenarios.registry.scenario_kind`; the registry discovers
every module of this package, so adding a kind means adding one module and nothing else.
"""
