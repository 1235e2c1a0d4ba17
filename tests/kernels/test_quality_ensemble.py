"""The injection-ensemble kernel against the single-run kernel, scenario by scenario.

With ``ctol = 0`` no release ever joins an existing segment, so sharing segments between the
scenarios changes nothing: each scenario's peaks and first arrivals must be what
:func:`kernels.quality.transport.route_quality` gives it alone (which in turn equals its
plain-Python twin, see ``test_quality_kernel.py``).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_quality_kernel import random_case

from kernels.quality.codes import CHEMICAL, MASS, MIX1, NO_SOURCE
from kernels.quality.ensemble import route_injections_kernel
from kernels.quality.transport import route_quality


def _single(args: dict, node: int, rate: float, on: np.ndarray) -> np.ndarray:
    stype = np.full(len(args["node_kind"]), NO_SOURCE, dtype=np.int64)
    stype[node] = MASS
    strength = np.zeros_like(args["source_strength"])
    strength[:, node] = rate * on
    quality, _, status = route_quality(**{**args, "source_type": stype, "source_strength": strength})
    assert status == 0
    return quality


@settings(max_examples=30)
@given(st.integers(0, 10_000), st.integers(3, 12), st.integers(1, 6), st.integers(1, 5))
def test_ensemble_equals_each_scenario_alone(seed, n_junctions, n_intervals, n_scenarios):
    args = random_case(seed, n_junctions, n_intervals, CHEMICAL, MIX1, False, react=False)
    args.update(ctol=0.0, c0=np.zeros(len(args["node_kind"])), capacity=20_000)
    rng = np.random.default_rng(seed + 1)
    nodes = rng.integers(0, len(args["node_kind"]), n_scenarios).astype(np.int64)
    rates = rng.uniform(0.1, 5.0, n_scenarios)
    on = rng.random((n_intervals, n_scenarios)) < 0.6
    reported = rng.random(n_intervals + 1) < 0.7
    threshold = 0.05
    peak, first, status = route_injections_kernel(
        args["qstep_s"], 0.0, threshold, args["node_kind"], args["start"], args["end"], args["link_kind"],
        args["volume_m3"], args["adj_ptr"], args["adj_link"], args["tank_node"], args["tank_v0_m3"],
        args["interval_s"], reported, args["flow_m3_per_s"], args["demand_m3_per_s"], nodes, rates, on, 20_000)
    assert status == 0
    times = np.concatenate([[0], np.cumsum(args["interval_s"])])
    for i in range(n_scenarios):
        alone = _single(args, int(nodes[i]), float(rates[i]), on[:, i])
        shown = alone[1:][reported[1:]]
        expected_peak = np.maximum(shown.max(axis=0), 0.0) if len(shown) else np.zeros(alone.shape[1])
        np.testing.assert_allclose(peak[i], expected_peak, rtol=1e-9, atol=1e-12)
        above = shown >= threshold
        expected_first = np.where(above.any(axis=0), times[1:][reported[1:]][above.argmax(axis=0)]
                                  if len(shown) else -1.0, -1.0)
        np.testing.assert_array_equal(first[i], expected_first)
