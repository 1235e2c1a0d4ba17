"""Start-up and whole commands, as a user meets them: every ``--help``, and ``twin water solve`` on
a public network against EPANET 2.2 driven from Python through WNTR, each as a whole process.

Targets (issue 22): every ``--help`` under 0.3 s; a whole ``twin water solve`` at most as long as
EPANET from Python. Both sides start a fresh interpreter, import what they need, solve and write
their results, so imports, compilation caches and writing count as the user waits for them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TWIN = [str(Path(sys.executable).with_name("twin"))]
NETWORKS = Path(__import__("wntr").__file__).parent / "library" / "networks"
HELP_COMMANDS = ["", "run", "validate", "suite", "sweep", "report", "compare", "info", "map", "render",
                 "scenarios", "data", "data import-osm", "traffic", "traffic run", "transit", "water",
                 "water solve", "compute", "compute simulate"]


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True)


@pytest.mark.benchmark(group="startup")
@pytest.mark.parametrize("command", HELP_COMMANDS, ids=lambda c: c or "twin")
def test_help_of_every_command(benchmark, command):
    args = [*TWIN, *command.split(), "--help"]
    benchmark.pedantic(lambda: _run(args), rounds=5, warmup_rounds=1)
    benchmark.extra_info["target_s"] = 0.3


EPANET_SCRIPT = """
import sys, wntr
wn = wntr.network.WaterNetworkModel(sys.argv[1])
results = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=sys.argv[2])
results.node["pressure"].to_parquet(sys.argv[2] + "_pressure.parquet")
results.link["flowrate"].to_parquet(sys.argv[2] + "_flow.parquet")
"""


@pytest.mark.benchmark(group="whole command")
@pytest.mark.parametrize("network", ["ky10", "ky4"])
def test_water_solve_whole_process_vs_epanet(benchmark, peer_comparison, tmp_path, network):
    inp = NETWORKS / f"{network}.inp"
    out = tmp_path / "ours"
    benchmark.pedantic(lambda: _run([*TWIN, "water", "solve", str(inp), "--out", str(out), "--force", "-q"]),
                       rounds=3, warmup_rounds=1)
    peer_comparison(f"twin water solve {network}.inp, whole process", peer="EPANET 2.2 via WNTR, whole process",
                    peer_fn=lambda: _run([sys.executable, "-c", EPANET_SCRIPT, str(inp), str(tmp_path / "epanet")]),
                    rounds=3)
