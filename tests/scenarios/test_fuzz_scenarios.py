"""Fuzzing the bundled scenarios: every mutation of every field either fails validation with one
clear line (exit 2) or validates; a quick kind's mutated run then exits 0 or 2. Never exit 1.

Hypothesis draws a leaf of the scenario file (a key of a table, an item of a list) and a mutation
of it: a wrong type, NaN, ±inf, a negative, zero, a huge value, the key removed, or a reference to
nothing. The ``ci`` profile keeps the examples bounded and derandomised.
"""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.paths import SCENARIOS_DIR

BUNDLED = sorted(p for p in SCENARIOS_DIR.glob("*.toml") if "scenario" in tomllib.loads(p.read_text()))
QUICK_KINDS = {"hotline_queue"}
"""Kinds whose bundled run takes a second or two, so that a mutated file can also be run."""
MUTATIONS = ("wrong_type", "nan", "inf", "minus_inf", "negative", "zero", "huge", "missing", "nothing")


def leaves(tree: Any, path: tuple = ()) -> list[tuple]:
    """Every path to a scalar in the parsed TOML (tables by key, lists by index)."""
    if isinstance(tree, dict):
        return [leaf for key, value in tree.items() for leaf in leaves(value, (*path, key))]
    if isinstance(tree, list) and tree:
        return [leaf for i, value in enumerate(tree) for leaf in leaves(value, (*path, i))]
    return [path]


def mutate(value: Any, how: str) -> Any:
    """The mutated value (``missing`` is handled by the caller)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if how == "wrong_type":
        return "not a number" if number or isinstance(value, bool) else 42
    if how == "nothing":
        return "NO-SUCH-THING" if isinstance(value, str) else [value]
    constants = {"nan": math.nan, "inf": math.inf, "minus_inf": -math.inf, "zero": 0, "huge": 1e12}
    if how in constants:
        return constants[how]
    return -abs(value) - 1 if number else -1  # negative


def apply(data: dict, path: tuple, how: str) -> dict:
    mutated = copy.deepcopy(data)
    parent = mutated
    for part in path[:-1]:
        parent = parent[part]
    if how == "missing":
        if isinstance(parent, list):
            parent.pop(path[-1])
        else:
            parent.pop(path[-1])
    else:
        parent[path[-1]] = mutate(parent[path[-1]], how)
    return mutated


def one_clean_line(outcome) -> bool:  # noqa: ANN001 - tests.conftest.CliOutcome
    lines = outcome.stderr.strip().splitlines()
    return len(lines) == 1 and "Traceback" not in outcome.stderr and lines[0].startswith("error:")


@pytest.mark.parametrize("scenario", BUNDLED, ids=lambda p: p.stem)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_mutation_validates_or_fails_with_one_line(scenario: Path, data, tmp_path, twin_cli):
    original = tomllib.loads(scenario.read_text(encoding="utf-8"))
    path = data.draw(st.sampled_from(leaves(original)), label="field")
    how = data.draw(st.sampled_from(MUTATIONS), label="mutation")
    mutated = apply(original, path, how)
    target = tmp_path / scenario.name
    target.write_text(tomli_w.dumps(mutated), encoding="utf-8")
    outcome = twin_cli("validate", target)
    assert outcome.exit_code in (0, 2), (path, how, outcome.stderr)
    if outcome.exit_code == 2:
        assert one_clean_line(outcome), (path, how, outcome.stderr)
        return
    if original["scenario"]["kind"] in QUICK_KINDS:
        out = tmp_path / "run"
        run = twin_cli("run", target, "--out", out, "--quiet", "--force", "--replications", "1")
        assert run.exit_code in (0, 2), (path, how, run.stderr)
        if run.exit_code == 2:
            assert one_clean_line(run) and not out.exists(), (path, how, run.stderr)
