"""``twin water sensors``: place N contamination sensors on an EPANET network and write the
trade-off curve of sensors against people exposed (see :mod:`twin.water.sensor_placement`).

The injection ensemble: a conservative contaminant at every ``every``-th junction, starting at
each of ``start_hours``, at ``rate_g_per_s`` for ``duration_h``, routed over one hydraulic solution
with the ensemble kernel. Candidate sensor sites are the junctions.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from twin.errors import InputError
from twin.results import RunResult, claim, write_run
from twin.water.compile import compile_network
from twin.water.epanet_io import read_inp
from twin.water.injection import Injection, route_injections
from twin.water.quality import hydraulic_intervals
from twin.water.sensor_placement import exposure_if_detected_by, greedy_sensors, people_from_demand


def injection_ensemble(node_names: list[str], every: int, start_hours: list[int], duration_s: int,
                       rate_g_per_s: float) -> list[Injection]:
    """Injections at every ``every``-th of ``node_names`` at each start hour."""
    if every < 1:
        raise InputError(f"--every {every}: expected a whole number >= 1")
    if not start_hours or any(h < 0 for h in start_hours):
        raise InputError(f"--start-hours {start_hours}: expected hours >= 0")
    return [Injection(node, h * 3600, duration_s, rate_g_per_s) for node in node_names[::every] for h in start_hours]


def sensors_inp(inp: Path, out: Path, n_sensors: int, every: int = 1, start_hours: tuple[int, ...] = (0, 6, 12, 18),
                duration_h: float = 2.0, rate_g_per_s: float = 10.0, threshold_mg_per_l: float = 0.01,
                delay_min: float = 30.0, hours: float = 24.0, quality_step_s: int = 300,
                force: bool = False) -> pd.DataFrame:
    """Place ``n_sensors`` on ``inp``; write the curve and the chosen nodes into ``out``."""
    started = time.perf_counter()
    for name, value in (("--duration-h", duration_h), ("--hours", hours), ("--delay-min", delay_min)):
        if not np.isfinite(value) or value < 0:
            raise InputError(f"{name} {value}: expected a number >= 0")
    with claim(out, force):
        net = compile_network(read_inp(inp), str(inp))
        junctions = list(net.node_names[: net.n_junctions])
        injections = injection_ensemble(junctions, every, list(start_hours), int(round(duration_h * 3600)),
                                        rate_g_per_s)
        hyd = hydraulic_intervals(net, int(round(hours * 3600)))
        impacts = route_injections(net, hyd, injections, quality_step_s, threshold_mg_per_l)
        people = np.zeros(net.n_nodes)
        people[: net.n_junctions] = people_from_demand(hyd.demand_m3_per_s.mean(axis=0)[: net.n_junctions])
        exposure = exposure_if_detected_by(impacts, people, delay_min * 60.0)
        plan = greedy_sensors(exposure, n_sensors, impacts.node_names, candidates=np.arange(net.n_junctions))
        curve = pd.DataFrame({
            "sensors": np.arange(n_sensors + 1),
            "node": [""] + plan.nodes,
            "mean_exposed_people": plan.mean_exposed_people,
            "detected_pct": [100.0 * s for s in plan.detected_share],
        })
        kpis = {
            "injections_simulated_count": float(len(injections)),
            "sensors_placed_count": float(n_sensors),
            "exposed_without_sensors_people_count": plan.mean_exposed_people[0],
            "exposed_with_sensors_people_count": plan.mean_exposed_people[-1],
            "injections_detected_pct": 100.0 * plan.detected_share[-1],
        }
        manifest = {"command": "twin water sensors", "inp": str(inp), "sensors": n_sensors, "every": every,
                    "start_hours": list(start_hours), "duration_h": duration_h, "rate_g_per_s": rate_g_per_s,
                    "threshold_mg_per_l": threshold_mg_per_l, "delay_min": delay_min, "hours": hours}
        write_run(out, RunResult(kpis=kpis, tables={"sensor_curve": curve}), manifest,
                  time.perf_counter() - started, force=force)
    return curve
