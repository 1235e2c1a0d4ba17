"""Write ``benchmarks/results/summary.md`` from the JSON of a ``make bench`` run.

Usage::

    python benchmarks/summary.py [benchmarks/results/latest.json] [benchmarks/results/summary.md]

The summary has

* one table of the peer comparisons: for each, our median time, the peer's median time measured
  in the same run, and the ratio ours / peer (below 1 we are faster);
* one table of every benchmark (median, min, max, rounds);
* the machine the numbers come from: CPU model, cores, RAM, OS, Python, package versions.

Comparisons are the benchmarks whose ``extra_info`` holds ``peer``, ``ours_time_s``,
``peer_time_s`` and ``ratio`` (see ``benchmarks/conftest.py`` and ``docs/benchmarks.md``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE / "results" / "latest.json"
DEFAULT_SUMMARY = HERE / "results" / "summary.md"
COMPARISON_KEYS = ("peer", "ours_time_s", "peer_time_s", "ratio")


def format_seconds(value: float) -> str:
    """A duration with a readable unit (ns, µs, ms or s) and four significant digits."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if abs(value) >= scale or unit == "ns":
            return f"{value / scale:.4g} {unit}"
    return f"{value:.4g} s"


def describe_ratio(ratio: float) -> str:
    """``ours / peer`` in words: ``2.5× faster`` or ``1.3× slower``."""
    if ratio <= 0:
        return "n/a"
    if ratio == 1:
        return "same"
    factor = 1 / ratio if ratio < 1 else ratio
    shown = f"{factor:.0f}" if factor >= 10 else f"{factor:.2g}"
    return f"{shown}× {'faster' if ratio < 1 else 'slower'}"


def comparisons(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The benchmarks that recorded a peer comparison, in run order."""
    rows = []
    for bench in report.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        if all(key in info for key in COMPARISON_KEYS):
            rows.append({"test": bench["fullname"], **info})
    return rows


def _md_table(header: list[str], rows: list[list[str]], align: list[str]) -> list[str]:
    cells = [[str(c).replace("|", "\\|") for c in row] for row in rows]
    return [f"| {' | '.join(header)} |", f"|{'|'.join(align)}|"] + [f"| {' | '.join(r)} |" for r in cells]


def render(report: dict[str, Any]) -> str:
    """The summary as Markdown."""
    machine = report.get("machine_info", {})
    ours = machine.get("changle_twin", {})
    commit = ours.get("git_commit") or report.get("commit_info", {}).get("id", "unknown")
    lines = ["# Benchmark summary", "",
             f"Run {report.get('datetime', 'unknown')}, commit `{commit}`"
             f", pytest-benchmark {report.get('version', '?')}. Times are medians of wall time "
             "(`time.perf_counter`); each comparison's two sides were measured in the same run, one "
             "after the other, on the machine below.", ""]

    rows = comparisons(report)
    lines += ["## Peer comparisons", ""]
    if rows:
        lines += _md_table(
            ["comparison", "ours", "peer", "peer time", "ratio (ours / peer)", "verdict", "benchmark"],
            [[r["comparison"], format_seconds(r["ours_time_s"]), r["peer"], format_seconds(r["peer_time_s"]),
              f"{r['ratio']:.3f}", describe_ratio(r["ratio"]), f"`{r['test']}`"] for r in rows],
            ["---", "---:", "---", "---:", "---:", "---", "---"],
        )
    else:
        lines.append("No benchmark recorded a peer comparison in this run.")

    lines += ["", "## All benchmarks", ""]
    benches = report.get("benchmarks", [])
    lines += _md_table(
        ["benchmark", "group", "median", "min", "max", "rounds"],
        [[f"`{b['fullname']}`", b.get("group") or "", format_seconds(b["stats"]["median"]),
          format_seconds(b["stats"]["min"]), format_seconds(b["stats"]["max"]), str(b["stats"]["rounds"])]
         for b in benches],
        ["---", "---", "---:", "---:", "---:", "---:"],
    )

    cpu = ours.get("cpu_model") or (machine.get("cpu") or {}).get("brand_raw", "unknown")
    lines += ["", "## Machine", "",
              f"- CPU: {cpu}",
              f"- cores: {ours.get('physical_cores', '?')} physical, "
              f"{ours.get('logical_cpus', '?')} logical, "
              f"{ours.get('usable_cpus', '?')} usable by this process",
              f"- RAM: {ours.get('ram_gib', '?')} GiB",
              f"- load average (1 min) when the run started: {ours.get('load_average_1min', '?')}",
              f"- OS: {ours.get('os') or machine.get('system', '?')}",
              f"- Python: {ours.get('python') or machine.get('python_version', '?')} "
              f"({machine.get('python_implementation', '')})"]
    packages = ours.get("packages") or {}
    if packages:
        lines.append("- packages: " + ", ".join(f"{name} {version}" for name, version in packages.items()))
    return "\n".join(lines) + "\n"


def write_summary(json_path: Path, summary_path: Path) -> Path:
    """Read ``json_path`` and write ``summary_path`` atomically; return it."""
    report = json.loads(json_path.read_text())
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = summary_path.with_name(f".{summary_path.name}.tmp-{os.getpid()}")
    tmp.write_text(render(report))
    tmp.replace(summary_path)
    return summary_path


def main(argv: list[str]) -> int:
    json_path = Path(argv[0]) if argv else DEFAULT_JSON
    summary_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_SUMMARY
    if not json_path.exists():
        print(f"error: {json_path}: not found; run `make bench` first", file=sys.stderr)
        return 2
    print(f"wrote {write_summary(json_path, summary_path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
