"""``twin water quality``: water age, a chemical or a source trace on any EPANET file, as a run folder.

:func:`quality_inp` reads an ``.inp``, lets the command line override its quality parameter,
trace node, duration and quality step, simulates the hydraulics and routes the quality with our
solver (:mod:`twin.water.quality`), and writes ``quality.parquet`` (``node, time_s, value``:
hours for age, mg/L for a chemical, percent for trace; a CSV copy too), ``mass_balance.csv`` and a
few KPIs through :func:`twin.results.write_run` (temporary folder renamed into place; an existing
folder is refused unless ``force``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from kernels.hydraulics.codes import JUNCTION
from kernels.quality.codes import AGE, CHEMICAL, PARAMETER_NAMES
from twin.city.folder import load_city
from twin.errors import InputError
from twin.results import FolderHook, RunResult, claim, write_run
from twin.water.chlorine_standard import MAX_CHLORINE_MG_PER_L, MIN_END_CHLORINE_MG_PER_L, chlorine_check
from twin.water.compile import compile_network
from twin.water.epanet_io import read_inp
from twin.water.network import CompiledNetwork
from twin.water.places import inp_node_tags, junction_places
from twin.water.quality import HydraulicIntervals, QualityResults, hydraulic_intervals, route
from twin.water.quality_places import quality_by_place
from twin.water.quality_setup import chlorine_dosing, quality_setup
from twin.water.simulation import UnbalancedPolicy

SUMMARY_WINDOW_S = 24 * 3600
"""KPIs summarise the junctions over the run's last 24 h (all of it if shorter): by then the
initial conditions of a multi-day run have washed out of most of the network."""


def quality_inp(
    inp: Path, out: Path, parameter: str | None = None, trace_node: str | None = None,
    duration_h: float | None = None, quality_step_s: int | None = None,
    on_unbalanced: UnbalancedPolicy = "error", force: bool = False, finish: FolderHook | None = None,
    chlorine_dose_mg_per_l: float | None = None, bulk_per_day: float | None = None,
    wall_m_per_day: float | None = None,
) -> tuple[QualityResults, CompiledNetwork]:
    """Simulate an ``.inp``'s water quality and write the run folder ``out``.

    ``chlorine_dose_mg_per_l`` routes free chlorine dosed at every reservoir instead of the file's
    quality options (:func:`twin.water.quality_setup.chlorine_dosing`, with ``bulk_per_day`` and
    ``wall_m_per_day``)."""
    started = time.perf_counter()
    if parameter is not None and parameter.lower() not in PARAMETER_NAMES:
        raise InputError(f"--parameter {parameter}: expected age, chemical or trace")
    with claim(out, force):
        wn = read_inp(inp)
        net = compile_network(wn, str(inp))
        if chlorine_dose_mg_per_l is not None:
            if parameter not in (None, "chemical") or trace_node is not None:
                raise InputError("--chlorine-dose-mg-per-l: routes chlorine; give no other --parameter or --trace-node")
            setup = chlorine_dosing(net, chlorine_dose_mg_per_l, bulk_per_day, wall_m_per_day, quality_step_s)
        elif bulk_per_day is not None or wall_m_per_day is not None:
            raise InputError("--bulk-per-day and --wall-m-per-day go with --chlorine-dose-mg-per-l "
                             "(otherwise the .inp's [REACTIONS] apply)")
        else:
            # free chlorine only decays: a positive (growth) rate for it is an input error
            name = str(wn.options.quality.chemical_name or "")
            decays = (parameter or str(wn.options.quality.parameter)).lower() == "chemical" and is_chlorine(name)
            setup = quality_setup(wn, net, parameter, trace_node, quality_step_s, source=inp, forbid_growth=decays)
        hyd = hydraulic_intervals(net, _duration_s(duration_h), on_unbalanced)
        results = route(net, setup, hyd)
        manifest = {"command": "twin water quality", "inp": str(inp), "parameter": results.parameter,
                    "chlorine_dose_mg_per_l": chlorine_dose_mg_per_l, "bulk_per_day": bulk_per_day,
                    "wall_m_per_day": wall_m_per_day,
                    "trace_node": net.node_names[setup.trace_node] if setup.trace_node >= 0 else None,
                    "duration_h": duration_h, "quality_step_s": setup.quality_step_s, "units": results.units}
        chlorine = results.parameter == "chemical" and is_chlorine(setup.chemical_name)
        manifest["chemical"] = setup.chemical_name if results.parameter == "chemical" else None
        solution = quality_solution(results, net, hyd if chlorine else None, _places(inp, net))
        write_run(out, solution, manifest, time.perf_counter() - started, force=force, finish=finish)
    return results, net


def is_chlorine(chemical_name: str) -> bool:
    """Whether the ``.inp``'s chemical is (free) chlorine, which GB 5749-2022 sets limits for."""
    name = chemical_name.lower()
    return "chlor" in name or "氯" in name


def _places(inp: Path, net: CompiledNetwork) -> list[str] | None:
    """Each junction's town or 街道 when the ``.inp`` tags its nodes (the bundled network does),
    with the city's names; ``None`` for an untagged network."""
    tags = inp_node_tags(Path(inp))
    if not tags:
        return None
    return junction_places(net, [tags.get(name) for name in net.node_names[: net.n_junctions]], load_city())


def quality_solution(results: QualityResults, net: CompiledNetwork,
                     chlorine_hyd: HydraulicIntervals | None = None, places: list[str] | None = None) -> RunResult:
    """The quality table, the mass balance and KPIs over the junctions' last 24 h; for chlorine
    (given its run's hydraulics), the GB 5749-2022 check of every junction
    (:func:`twin.water.chlorine_standard.chlorine_check`)."""
    # deferred: pandas is slow to import, and only writing tables needs it
    import pandas as pd

    junctions = net.node_kind == JUNCTION
    window = results.time_s >= results.time_s[-1] - SUMMARY_WINDOW_S
    values = results.value[window][:, junctions]
    b = results.balance
    supplied = b["initial"] + b["inflow"] + max(-b["reacted"], 0.0)
    accounted = b["outflow"] + b["final"] + max(b["reacted"], 0.0)
    kpis: dict[str, float] = {"reported_times_count": len(results.time_s),
                              "mass_balance_ratio": accounted / supplied if supplied > 0 else 1.0}
    stat_names = {AGE: ("max_water_age_h", "mean_water_age_h"),
                  CHEMICAL: ("max_chemical_mg_per_l", "mean_chemical_mg_per_l")}
    biggest, mean = stat_names.get(PARAMETER_NAMES.index(results.parameter), ("max_trace_pct", "mean_trace_pct"))
    kpis[biggest] = float(values.max()) if values.size else float("nan")
    kpis[mean] = float(values.mean()) if values.size else float("nan")
    if results.parameter == "chemical":
        kpis["min_chemical_mg_per_l"] = float(values.min()) if values.size else float("nan")
    balance = pd.DataFrame({"term": list(b), "value": list(b.values())})
    balance["units"] = f"{results.units}·m³"
    notes = [f"Quality is {results.parameter} in {results.units}; KPIs cover the junctions over the last "
             f"{min(SUMMARY_WINDOW_S, int(results.time_s[-1])) / 3600:g} h of the run."]
    tables = {"quality": results.frame()}
    if chlorine_hyd is not None:
        tables["chlorine_check"], check = chlorine_check(results, net, window_s=SUMMARY_WINDOW_S, hyd=chlorine_hyd)
        kpis.update(check)
        notes.append(f"GB 5749-2022: {check['ends_below_min_chlorine_count']} of {check['network_ends_count']} "
                     f"network ends below {MIN_END_CHLORINE_MG_PER_L} mg/L free chlorine, "
                     f"{check['junctions_above_max_chlorine_count']} junctions above {MAX_CHLORINE_MG_PER_L} mg/L "
                     "(ends: junctions with demand at dead ends or where all flow ends; lowest and highest value "
                     "over the window).")
    if places is not None:
        tables["quality_by_place"] = quality_by_place(results, net, places, SUMMARY_WINDOW_S,
                                                      tables.get("chlorine_check"))
        if chlorine_hyd is not None:
            kpis["places_with_ends_below_min_chlorine_count"] = int(
                (tables["quality_by_place"].ends_below_min_count > 0).sum())
    return RunResult(kpis=kpis, tables=tables, notes=notes,
                     files={"mass_balance.csv": balance.to_csv(index=False).encode("utf-8-sig")})


def _duration_s(duration_h: float | None) -> int | None:
    """``--duration-h`` in whole seconds (``None``: the file's duration)."""
    if duration_h is None:
        return None
    if not np.isfinite(duration_h) or duration_h < 0:
        raise InputError(f"--duration-h {duration_h}: must be >= 0")
    return int(round(duration_h * 3600.0))
