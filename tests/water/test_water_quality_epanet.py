"""Our water-quality solver against EPANET 2.2 (through WNTR's EpanetSimulator).

The issue's tolerance: over the last 24 h of a 72 h run, every junction within 1 % of EPANET's
value or 0.05 h of age, 0.005 mg/L of chemical, 0.5 % of trace, whichever is larger. Tanks are held
to the same tolerance. Both solvers read the same model: WNTR writes it to an ``.inp`` for EPANET,
and we write it with :func:`twin.water.epanet_io.write_inp` and read that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twin.water.epanet_io import read_inp, write_inp
from twin.water.quality import simulate_quality

NETWORKS = Path(__import__("wntr").__file__).parent / "library" / "networks"
ABS_TOL = {"age": 0.05, "chemical": 0.005, "trace": 0.5}
TO_OUR_UNITS = {"age": 1 / 3600.0, "chemical": 1000.0, "trace": 1.0}  # WNTR: s, kg/m³, %
HOURS = 72


def _epanet_quality(wn, workdir: Path):
    """EPANET's reported times (s) and node quality (WNTR units); its files go to ``workdir``
    (WNTR's default prefix is the working folder, shared by parallel test workers)."""
    import wntr

    results = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(workdir / "epanet"))
    q = results.node["quality"]
    return q.index.to_numpy(), q


def compare(wn, tmp_path: Path, parameter: str, trace_node: str | None = None) -> dict:
    """Run both solvers for 72 h and return the worst excess over the tolerance and the errors."""
    wn.options.time.duration = HOURS * 3600
    inp = write_inp(wn, tmp_path / "model.inp")
    ours, net = simulate_quality(inp, parameter=parameter, trace_node=trace_node)
    wn.options.quality.parameter = parameter.upper()
    if trace_node is not None:
        wn.options.quality.trace_node = trace_node
    times, q = _epanet_quality(wn, tmp_path)
    assert np.array_equal(ours.time_s, times)
    theirs = q[ours.node_names].to_numpy() * TO_OUR_UNITS[parameter]
    last_day = ours.time_s >= (HOURS - 24) * 3600
    error = np.abs(ours.value - theirs)[last_day]
    allowed = np.maximum(0.01 * np.abs(theirs[last_day]), ABS_TOL[parameter])
    return {"excess": float((error / allowed).max()), "max_error": float(error.max()),
            "names": ours.node_names, "net": net, "balance": ours.balance}


def _zero_initial(wn) -> None:
    for name in wn.node_name_list:
        wn.get_node(name).initial_quality = 0.0


@pytest.mark.slow
def test_net1_chlorine_with_bulk_and_wall_decay(tmp_path):
    """Net1: chlorine 1 mg/L from the source, bulk -0.5/day, wall -1 ft/day (mass-transfer limited)."""
    result = compare(read_inp(NETWORKS / "Net1.inp"), tmp_path, "chemical")
    assert result["excess"] <= 1.0, result["max_error"]
    assert result["max_error"] < 1e-4  # in fact about 2e-6 mg/L


@pytest.mark.slow
@pytest.mark.parametrize("network", ["Net1", "Net3"])
def test_water_age(tmp_path, network):
    wn = read_inp(NETWORKS / f"{network}.inp")
    _zero_initial(wn)
    result = compare(wn, tmp_path, "age")
    assert result["excess"] <= 1.0, result["max_error"]


@pytest.mark.slow
def test_net3_trace_from_the_lake(tmp_path):
    wn = read_inp(NETWORKS / "Net3.inp")
    _zero_initial(wn)
    result = compare(wn, tmp_path, "trace", trace_node="Lake")
    assert result["excess"] <= 1.0, result["max_error"]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["MIXED", "2COMP", "FIFO", "LIFO"])
def test_tank_mixing_models(tmp_path, model):
    """Net1's tank under each mixing model, with decaying chlorine (tank bulk rate -0.5/day)."""
    import wntr

    wn = read_inp(NETWORKS / "Net1.inp")
    tank = wn.get_node("2")
    tank.mixing_model = {"MIXED": wntr.epanet.util.MixType.Mixed, "2COMP": wntr.epanet.util.MixType.Mix2,
                         "FIFO": wntr.epanet.util.MixType.FIFO, "LIFO": wntr.epanet.util.MixType.LIFO}[model]
    tank.mixing_fraction = 0.3 if model == "2COMP" else None
    result = compare(wn, tmp_path, "chemical")
    assert result["excess"] <= 1.0, result["max_error"]


@pytest.mark.slow
@pytest.mark.parametrize("source_type", ["CONCEN", "MASS", "SETPOINT", "FLOWPACED"])
def test_booster_sources_with_a_pattern(tmp_path, source_type):
    """A booster at Net1's junction 12 (and a concentration source at the river), patterned."""
    wn = read_inp(NETWORKS / "Net1.inp")
    wn.add_pattern("boost", [1.0, 0.0, 2.0, 0.5])
    node = "9" if source_type == "CONCEN" else "12"
    strength = 1.0 / 60.0 * 1e-6 * 500 if source_type == "MASS" else 1.5e-3  # 500 mg/min, 1.5 mg/L
    wn.add_source("boost", node, source_type, strength, "boost")
    result = compare(wn, tmp_path, "chemical")
    assert result["excess"] <= 1.0, result["max_error"]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["MIXED", "2COMP", "FIFO", "LIFO"])
@pytest.mark.parametrize(("parameter", "trace_node"), [("age", None), ("trace", "Lake")])
def test_net3_tanks_under_each_mixing_model(tmp_path, model, parameter, trace_node):
    """Net3's three tanks all under one mixing model: age and the lake's share, tanks included."""
    import wntr

    wn = read_inp(NETWORKS / "Net3.inp")
    _zero_initial(wn)
    mix = {"MIXED": wntr.epanet.util.MixType.Mixed, "2COMP": wntr.epanet.util.MixType.Mix2,
           "FIFO": wntr.epanet.util.MixType.FIFO, "LIFO": wntr.epanet.util.MixType.LIFO}[model]
    for name in wn.tank_name_list:
        wn.get_node(name).mixing_model = mix
        wn.get_node(name).mixing_fraction = 0.3 if model == "2COMP" else None
    result = compare(wn, tmp_path, parameter, trace_node=trace_node)
    assert result["excess"] <= 1.0, result["max_error"]
