"""Scenario kinds: one module per kind, each registering itself with
:func:`scenarios.registry.scenario_kind`. A new kind is one new module here.
"""
