"""``twin water solve``: an extended-period simulation of any EPANET file, written as tables.

:func:`solve_inp` reads an ``.inp`` (any units), lets the command line override its duration,
time step and demand model, simulates it with our solver and writes the results folder through
:func:`twin.results.write_run` (manifest, KPIs and tables, written to a temporary folder and renamed
into place; an existing folder is refused unless ``force``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from twin.errors import InputError
from twin.results import RunResult, claim, write_run
from twin.water.compile import load_network
from twin.water.hydraulic_results import HydraulicResults
from twin.water.network import CompiledNetwork
from twin.water.simulation import ExtendedPeriodSimulation, UnbalancedPolicy


def solve_inp(
    inp: Path,
    out: Path,
    duration_h: float | None = None,
    step_s: int | None = None,
    demand_model: str | None = None,
    on_unbalanced: UnbalancedPolicy = "error",
    force: bool = False,
) -> tuple[HydraulicResults, CompiledNetwork]:
    """Simulate an ``.inp`` and write ``nodes``/``links`` tables to ``out``.

    Writes ``nodes.parquet`` (``time_s, node, head_m, pressure_m, demand_m3_per_s``),
    ``links.parquet`` (``time_s, link, flow_m3_per_s, velocity_m_per_s, headloss_m``), CSV copies,
    ``solver_log.csv`` (iterations and residual per solved time, fallbacks) and
    ``indeterminate_nodes.csv`` (junction heads the equations leave undetermined), all SI.

    ``step_s`` sets both the hydraulic and the reporting step; ``duration_h`` and
    ``demand_model`` (``dda``/``pdd``) override the file's options.
    """
    started = time.perf_counter()
    with claim(out, force):  # refuses an existing folder, and a second run into it, before any work
        net = load_network(inp)
        duration_s = _duration_s(duration_h)
        if step_s is not None and step_s <= 0:
            raise InputError(f"--step-s {step_s}: must be > 0")
        sim = ExtendedPeriodSimulation(net, duration_s=duration_s, hydraulic_step_s=step_s,
                                       report_step_s=step_s, on_unbalanced=on_unbalanced,
                                       pressure_driven=_pressure_driven(demand_model))
        results = sim.run()
        manifest = {"command": "twin water solve", "inp": str(inp), "duration_h": duration_h, "step_s": step_s,
                    "demand_model": demand_model, "on_unbalanced": on_unbalanced}
        write_run(out, solution(results), manifest, time.perf_counter() - started, force=force)
    return results, net


def solution(results: HydraulicResults) -> RunResult:
    """What ``twin water solve`` writes: nodes and links tables, a few summary KPIs, the solver's
    log and the junction-times whose heads the equations leave undetermined."""
    # deferred: pandas is slow to import, and only writing tables needs it
    import pandas as pd

    bad_t, bad_j = np.nonzero(~results.determinate)
    indeterminate = pd.DataFrame({"time_s": results.time_s[bad_t], "node": [results.node_names[j] for j in bad_j]})
    unbalanced = sum(1 for row in results.solver_log if not row.get("converged", True))
    pressure = results.pressure_m[:, : results.determinate.shape[1]]  # junctions come first
    kpis = {
        "reported_times_count": len(results.time_s),
        "min_pressure_m": float(np.min(pressure)) if pressure.size else float("nan"),
        "max_pressure_m": float(np.max(pressure)) if pressure.size else float("nan"),
        "unbalanced_steps_count": unbalanced,
        "indeterminate_junction_times_count": len(indeterminate),
    }
    files = {
        "solver_log.csv": pd.DataFrame(results.solver_log).to_csv(index=False).encode(),
        "indeterminate_nodes.csv": indeterminate.to_csv(index=False).encode(),
    }
    return RunResult(kpis=kpis, tables={"nodes": results.nodes_frame(), "links": results.links_frame()},
                     files=files)


def _duration_s(duration_h: float | None) -> int | None:
    """``--duration-h`` in whole seconds (``None``: the file's duration)."""
    if duration_h is None:
        return None
    if duration_h < 0:
        raise InputError(f"--duration-h {duration_h}: must be >= 0")
    return int(round(duration_h * 3600.0))


def _pressure_driven(demand_model: str | None) -> bool | None:
    """``--demand-model``: ``pdd`` is pressure-driven, ``dda`` demand-driven, ``None`` the file's."""
    if demand_model is None:
        return None
    if demand_model.lower() not in ("dda", "pdd"):
        raise InputError(f"--demand-model {demand_model!r}: expected dda or pdd")
    return demand_model.lower() == "pdd"
