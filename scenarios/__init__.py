"""What-if experiments: one module per scenario kind in ``kinds/``, the machinery that runs them
(registry, runner, suites, sweeps and their executors), and the bundled Changle ``*.toml`` files.

A kind registers itself with :func:`scenarios.registry.scenario_kind`; the registry discovers
every module of ``scenarios/kinds/``, so adding a kind means adding one module and nothing else.
"""
