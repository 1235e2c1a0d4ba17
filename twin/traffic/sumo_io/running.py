"""Running SUMO's programs: ``sumo`` (micro or ``--mesosim``) for its trip information,
``randomTrips.py`` for demand and ``netgenerate`` for test grids (validation and benchmarks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd


def sumo_binary(name: str) -> str:
    """Path of a SUMO binary (``sumo``, ``netconvert``, ``netgenerate``) from eclipse-sumo."""
    found = shutil.which(name)
    if found:
        return found
    try:
        import sumo  # deferred: eclipse-sumo is heavy and only needed to find its binaries

        candidate = Path(sumo.SUMO_HOME) / "bin" / name
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    raise RuntimeError(f"SUMO binary {name!r} not found (install eclipse-sumo)")


def sumo_tools_dir() -> Path:
    """SUMO's ``tools`` folder (``randomTrips.py`` and friends)."""
    import sumo  # deferred: eclipse-sumo is heavy and only needed to find its tools

    return Path(sumo.SUMO_HOME) / "tools"


def run_sumo(
    net_file: Path,
    route_files: list[Path],
    out_dir: Path,
    begin_s: float = 0.0,
    end_s: float | None = None,
    mesosim: bool = False,
    additional_files: list[Path] | None = None,
    seed: int = 42,
    extra_args: list[str] | None = None,
) -> pd.DataFrame:
    """Run SUMO without teleporting and return its tripinfo as a table.

    Columns ``id, depart_s, arrival_s, duration_s, route_length_m, time_loss_s`` (the
    ``twin traffic run`` columns). ``--time-to-teleport -1`` keeps every vehicle on the road,
    as our model does. With ``mesosim`` the mesoscopic model runs with junction control, so it
    honours traffic lights and priorities.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    tripinfo = out_dir / ("tripinfo_meso.xml" if mesosim else "tripinfo_micro.xml")
    cmd = [
        sumo_binary("sumo"),
        "-n",
        str(net_file),
        "-r",
        ",".join(str(p) for p in route_files),
        "--tripinfo-output",
        str(tripinfo),
        "--no-step-log",
        "true",
        "--no-warnings",
        "true",
        "--time-to-teleport",
        "-1",
        "--seed",
        str(seed),
        "-b",
        f"{begin_s:g}",
        "--duration-log.disable",
        "true",
    ]
    if end_s is not None:
        cmd += ["-e", f"{end_s:g}"]
    if additional_files:
        cmd += ["-a", ",".join(str(p) for p in additional_files)]
    if mesosim:
        cmd += ["--mesosim", "true", "--meso-junction-control", "true"]
    cmd += list(extra_args or [])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"sumo failed: {done.stderr.strip()[-2000:]}")
    rows = [
        (
            e.get("id"),
            float(e.get("depart")),
            float(e.get("arrival")),
            float(e.get("duration")),
            float(e.get("routeLength")),
            float(e.get("timeLoss")),
        )
        for e in ET.parse(tripinfo).getroot().iter("tripinfo")
    ]
    return pd.DataFrame(
        rows, columns=["id", "depart_s", "arrival_s", "duration_s", "route_length_m", "time_loss_s"]
    )


def random_trips(
    net_file: Path,
    out_file: Path,
    begin_s: float,
    end_s: float,
    period_s: float,
    seed: int,
    extra_args: list[str] | None = None,
) -> Path:
    """Generate trips with SUMO's ``randomTrips.py`` (``--validate`` keeps only routable ones).

    It runs in ``out_file``'s folder, where the validation leaves its scratch files.
    """
    out_file = Path(out_file).resolve()
    cmd = [
        sys.executable,
        str(sumo_tools_dir() / "randomTrips.py"),
        "-n",
        str(Path(net_file).resolve()),
        "-o",
        str(out_file),
        "-b",
        f"{begin_s:g}",
        "-e",
        f"{end_s:g}",
        "-p",
        f"{period_s:g}",
        "--seed",
        str(seed),
        "--validate",
    ] + list(extra_args or [])
    env = dict(os.environ, SUMO_HOME=str(sumo_tools_dir().parent))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=out_file.parent)
    if done.returncode != 0:
        raise RuntimeError(f"randomTrips failed: {done.stderr.strip()[-2000:]}")
    return out_file


def netgenerate_grid(
    out_file: Path,
    number: int = 4,
    length_m: float = 200.0,
    lanes: int = 1,
    traffic_lights: bool = True,
    extra_args: list[str] | None = None,
) -> Path:
    """A ``netgenerate --grid`` network (signals at every inner junction when requested)."""
    cmd = [
        sumo_binary("netgenerate"),
        "--grid",
        "--grid.number",
        str(number),
        "--grid.length",
        f"{length_m:g}",
        "--default.lanenumber",
        str(lanes),
        "--no-turnarounds",
        "true",
        "-o",
        str(out_file),
    ]
    if traffic_lights:
        cmd += ["--tls.guess", "true"]
    cmd += list(extra_args or [])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"netgenerate failed: {done.stderr.strip()[-2000:]}")
    return out_file
