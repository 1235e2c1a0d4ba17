"""Regression check: every bundled scenario gives, for its seed, the KPIs recorded in the baseline.

Behaviour-preserving changes (a refactor, a faster kernel) must leave ``kpis.json`` of every
bundled scenario byte-identical. This script runs each ``scenarios/*.toml`` scenario (suites are
skipped: they only list the others) with ``twin run`` and compares its ``kpis.json`` with
``tests/regression/kpi_baseline/<file stem>.json``::

    python tests/regression/kpi_regression.py check            # exit 1 on any difference
    python tests/regression/kpi_regression.py record           # rewrite the baseline (say why in the commit)
    python tests/regression/kpi_regression.py check --only hotline_12345

A change that is meant to move a KPI records a new baseline in the same commit, and the commit
message says which KPIs moved and why.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
BASELINE = Path(__file__).resolve().parent / "kpi_baseline"


def bundled_scenarios(only: list[str] | None = None) -> list[Path]:
    """The bundled scenario files (not suites), optionally only those whose stem is in ``only``."""
    paths = []
    for path in sorted(SCENARIOS.glob("*.toml")):
        with path.open("rb") as handle:
            if "scenario" not in tomllib.load(handle):
                continue
        if only is None or path.stem in only:
            paths.append(path)
    return paths


def twin_command() -> list[str]:
    """The ``twin`` console script beside this interpreter (the project's venv)."""
    script = Path(sys.executable).with_name("twin")
    return [str(script)] if script.exists() else ["twin"]


def run_kpis(path: Path, work: Path) -> bytes:
    """Run ``path`` with ``twin run`` into ``work`` and return its ``kpis.json`` bytes."""
    out = work / path.stem
    env = dict(os.environ, TWIN_DATA_DIR=str(REPO / "gis_data"))
    env.pop("TWIN_CITY", None)
    proc = subprocess.run(
        [*twin_command(), "run", str(path), "--out", str(out), "--quiet"],
        capture_output=True, text=True, env=env, cwd=REPO,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{path.name}: twin run exited {proc.returncode}: {proc.stderr.strip()}")
    return (out / "kpis.json").read_bytes()


def differences(expected: dict, actual: dict) -> list[str]:
    """One line per KPI that differs, is missing or is new."""
    lines = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            lines.append(f"  - {name}: missing (baseline {expected[name]!r})")
        elif name not in expected:
            lines.append(f"  + {name}: new ({actual[name]!r})")
        elif expected[name] != actual[name]:
            lines.append(f"  ~ {name}: {expected[name]!r} -> {actual[name]!r}")
    return lines


def run_all(paths: list[Path], workers: int) -> dict[Path, bytes]:
    """``kpis.json`` of every scenario, run ``workers`` at a time in a temporary folder."""
    work = Path(tempfile.mkdtemp(prefix="kpi-regression-"))
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return dict(zip(paths, pool.map(lambda p: run_kpis(p, work), paths), strict=True))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["check", "record"])
    parser.add_argument("--only", nargs="*", help="scenario file stems to run (default: all)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    paths = bundled_scenarios(args.only)
    results = run_all(paths, args.workers)
    if args.action == "record":
        BASELINE.mkdir(exist_ok=True)
        for path, kpis in results.items():
            (BASELINE / f"{path.stem}.json").write_bytes(kpis)
            print(f"recorded {path.stem}")
        return 0
    failed = 0
    for path, kpis in results.items():
        baseline = BASELINE / f"{path.stem}.json"
        if not baseline.exists():
            print(f"{path.stem}: no baseline (run 'record')")
            failed += 1
        elif baseline.read_bytes() == kpis:
            print(f"{path.stem}: identical")
        else:
            failed += 1
            print(f"{path.stem}: differs")
            print("\n".join(differences(json.loads(baseline.read_bytes()), json.loads(kpis))))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
