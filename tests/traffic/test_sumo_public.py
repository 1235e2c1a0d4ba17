"""Public SUMO scenarios shipped with eclipse-sumo (``sumo/tools/game``), read as SUMO reads them.

* A10KW (an OSM motorway interchange) has a joined junction cluster whose programme gives
  conflicting movements green together, which SUMO runs: we run it too.
* square keeps its demand in an additional file, as flows over ``routeDistribution`` s.
* Programmes and routes that SUMO itself refuses are bad input (exit 2, one line).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import sumo

from twin.traffic.signals.checks import plan_problems
from twin.traffic.signals.plan import Phase, SignalPlan
from twin.traffic.sumo_io.routes import read_routes

GAME = Path(sumo.__file__).parent / "tools" / "game"


def test_joined_clusters_with_conflicting_greens_run(twin_cli, tmp_path):
    """A10KW's clusters give conflicting movements ``G`` together; every loaded vehicle is
    accounted for: arrived, or reported unfinished at the configuration's end."""
    out = tmp_path / "a10kw"
    result = twin_cli("traffic", "run", "--sumocfg", GAME / "A10KW.sumocfg", "--out", out, "-q")
    assert result.exit_code == 0, result.stderr
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["end_s"] == 1800.0
    assert kpis["teleports"] == 0
    assert kpis["throughput_veh"] > 0
    assert kpis["throughput_veh"] + kpis["unfinished_veh"] == kpis["loaded_veh"] - kpis["skipped_veh"]


def test_conflicting_greens_are_an_error_only_in_our_own_plans():
    movements = [0, 1]
    plan = SignalPlan.from_phases("c", movements, [Phase("GG", 30.0, 3.0, 2.0, 5.0, 60.0)])
    conflicts = np.array([[False, True], [True, False]])
    assert any("both protected green" in p for p in plan_problems(plan, conflicts))
    assert plan_problems(plan, conflicts, conflicting_greens_allowed=True) == []


def test_demand_in_additional_files_with_route_distributions(twin_cli, tmp_path):
    out = tmp_path / "square"
    result = twin_cli("traffic", "run", "--sumocfg", GAME / "square.sumocfg", "--out", out, "-q")
    assert result.exit_code == 0, result.stderr
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["throughput_veh"] > 0 and kpis["end_s"] == 180.0


def test_route_distribution_draws_follow_the_probabilities(tmp_path):
    routes = tmp_path / "d.rou.xml"
    routes.write_text(
        '<routes><routeDistribution id="d">'
        '<route id="a" edges="e1 e2" probability="3"/><route id="b" edges="e1 e3" probability="1"/>'
        '</routeDistribution><flow id="f" route="d" begin="0" end="4000" period="1"/></routes>'
    )
    trips = read_routes(routes, seed=3)
    share_a = np.mean([t.edges == ("e1", "e2") for t in trips])
    assert len(trips) == 4000
    assert share_a == pytest.approx(0.75, abs=0.03)  # binomial SE 0.007


@pytest.fixture
def cross_case(tmp_path):
    """A copy of the public 'cross' scenario that a test may break."""
    folder = tmp_path / "game"
    shutil.copytree(GAME / "cross", folder / "cross")
    shutil.copy(GAME / "cross.sumocfg", folder / "cross.sumocfg")
    text = (folder / "cross.sumocfg").read_text()
    (folder / "cross.sumocfg").write_text(re.sub(r'<additional-files value="[^"]*"/>', "", text))
    return folder


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _run(twin_cli, folder: Path):  # noqa: ANN202 - the CLI outcome
    return twin_cli("traffic", "run", "--sumocfg", folder / "cross.sumocfg", "--out", folder / "out", "-q")


def test_short_signal_state_exits_2(twin_cli, cross_case):
    _replace(cross_case / "cross" / "cross.net.xml", 'state="GGgrrrGGgrrr"', 'state="GGgrrr"')
    result = _run(twin_cli, cross_case)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "cross.net.xml" in result.stderr and "tlLogic id='0'" in result.stderr and "6 letters" in result.stderr
    assert not (cross_case / "out").exists()


def test_unknown_signal_letter_exits_2(twin_cli, cross_case):
    _replace(cross_case / "cross" / "cross.net.xml", 'state="GGgrrrGGgrrr"', 'state="GGgrrrGGgrrX"')
    result = _run(twin_cli, cross_case)
    assert result.exit_code == 2 and "'X' is not a SUMO signal state" in result.stderr


def _route_file(folder: Path) -> Path:
    return next((folder / "cross").glob("*.rou.xml"))


def test_route_through_a_missing_edge_exits_2_unless_route_errors_are_ignored(twin_cli, cross_case):
    routes = _route_file(cross_case)
    text = routes.read_text()
    edge = re.search(r'edges="([^" ]+)', text).group(1)
    routes.write_text(text.replace(f'edges="{edge}', 'edges="no_such_edge', 1))
    result = _run(twin_cli, cross_case)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "'no_such_edge'" in result.stderr and routes.name in result.stderr
    # SUMO's --ignore-route-errors drops such a vehicle and goes on; so do we.
    ignore = '</input><processing><ignore-route-errors value="true"/></processing>'
    _replace(cross_case / "cross.sumocfg", "</input>", ignore)
    again = _run(twin_cli, cross_case)
    assert again.exit_code == 0, again.stderr
    assert json.loads((cross_case / "out" / "kpis.json").read_text())["skipped_veh"] >= 1


@pytest.mark.parametrize("content", ["", "<routes/>"], ids=["empty-file", "no-vehicles"])
def test_empty_route_file_exits_2(twin_cli, cross_case, content):
    _route_file(cross_case).write_text(content)
    result = _run(twin_cli, cross_case)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "cross" in result.stderr


def test_route_with_unconnected_edges_exits_2(twin_cli, cross_case):
    """Two real edges that no connection joins (a route jumping across the junction)."""
    routes = _route_file(cross_case)
    text = routes.read_text()
    first = re.search(r'edges="([^"]+)"', text)
    edges = first.group(1).split()
    routes.write_text(text.replace(first.group(0), f'edges="{edges[0]} {edges[0]}"', 1))
    result = _run(twin_cli, cross_case)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert f"no connection from edge {edges[0]!r} to edge {edges[0]!r}" in result.stderr
    assert routes.name in result.stderr


def test_undefined_vehicle_type_exits_2(twin_cli, cross_case):
    routes = _route_file(cross_case)
    text = routes.read_text()
    routes.write_text(re.sub(r"<flow ", '<flow type="no_such_type" ', text, count=1))
    result = _run(twin_cli, cross_case)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "type 'no_such_type' is not defined" in result.stderr and routes.name in result.stderr
